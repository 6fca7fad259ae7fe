# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One call of the DMS API as dms_api makes it: its options checked, the call sent (again once the instance is free, when
it was refused for now), the task it started waited for, and the result shaped.

Plain Python: the action plugin gives it the options, the client and a listener for the live lines; a failure is a
result with ``failed``, never an exception, so that it keeps what is known of the answer.
"""

from __future__ import annotations

import json

from ansible_collections.hwcloud.dms.plugins.module_utils.api_path import api_path, query_pairs
from ansible_collections.hwcloud.dms.plugins.module_utils.change_record import UNKNOWN, change_record
from ansible_collections.hwcloud.dms.plugins.module_utils.changes import ChangeOutcome, ChangeRunner, answer_job_id, is_batch_action
from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ConfigurationError, DmsError, EndpointNotFoundError, NotSentError, UnsafeToRetryError, error_result,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.refusals import PRECONDITIONS, refusal_of
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import deadline_option, number_option, path_segment_option, required_text

METHODS = ("GET", "POST", "PUT", "DELETE")
MAX_WAIT_TIMEOUT = 7 * 24 * 3600
LOWEST_STATUS = 100
HIGHEST_STATUS = 599
# What a result holds before any answer came.
NO_ANSWER = {"changed": False, "status": None, "json": None, "job_id": None, "request_id": None, "busy_refusals": 0, "busy_wait": None,
             "waited": None, "instance_status": None, "change": None}


def body_option(body):
    """The ``body`` option, checked to be a dict or a list that JSON can carry (no NaN or infinity)."""
    if body is None:
        return None
    if not isinstance(body, (dict, list)):
        raise ConfigurationError("body must be a dict or a list (it is sent as JSON), got %s" % type(body).__name__)
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as problem:
        raise ConfigurationError("body cannot be sent as JSON: %s" % problem) from None
    return body


def status_code_option(statuses):
    """The ``status_code`` option as a set of statuses, or None for any 2xx."""
    if statuses is None:
        return None
    if not statuses:
        raise ConfigurationError("status_code must list at least one HTTP status, or be left out for any 2xx")
    return set(number_option("status_code", status, LOWEST_STATUS, HIGHEST_STATUS, integer=True) for status in statuses)


def instance_option(params, path, body, batch):
    """The instance the call is about: the instance_id option, else the one the path names, else the one instance a batch
    action's body names; None when none is known."""
    if params["instance_id"] is not None:
        return path_segment_option("instance_id", params["instance_id"])
    if path.instance_id is not None:
        return path.instance_id
    named = body.get("instances") if batch and isinstance(body, dict) else None
    if isinstance(named, list) and len(named) == 1 and isinstance(named[0], str) and named[0].strip():
        return path_segment_option("the instance of the body", named[0])
    return None


def waiting_options(params, instance_id, write):
    """(whether to wait when busy, seconds for all waiting) from the options, checked; the seconds are None when nothing
    is waited for."""
    wait_when_busy = params["when_busy"] == "wait"
    if not (params["wait"] or wait_when_busy):
        if params["wait_for_name"] is not None:
            raise ConfigurationError("wait_for_name is used only with wait: true")
        return False, None
    asked = "wait: true" if params["wait"] else "when_busy: wait"
    if not write:
        raise ConfigurationError("%s applies to writes (method POST, PUT or DELETE), not to a GET" % asked)
    if params["wait_for_name"] is not None and not params["wait"]:
        raise ConfigurationError("wait_for_name is used only with wait: true")
    if instance_id is None:
        raise ConfigurationError("%s needs instance_id: the path names no instance (no segment after 'instances' with one after it)" % asked)
    timeout = number_option("wait_timeout", params["wait_timeout"], 1, MAX_WAIT_TIMEOUT, integer=True, unit="seconds")
    return wait_when_busy, timeout


def failure_message(method, error, accepted, outcome=None):
    if isinstance(error, UnsafeToRetryError):
        return "The %s may or may not have been applied: %s" % (method, error)
    status = getattr(error, "status", None)
    if status is not None and 200 <= status < 300:
        return "The DMS API answered HTTP %d, which is not in status_code (%s): %s" % (status, ", ".join(map(str, sorted(accepted))), error)
    text = "The DMS API call failed: %s" % error
    if isinstance(error, EndpointNotFoundError):
        text += "; or check path"
    if outcome is not None and outcome.refusal:
        text += ". Refused for now, nothing applied: %s. when_busy: wait sends it again once the instance is RUNNING with no task" \
                " running" % outcome.explain_refusal()
    precondition = refusal_of(error, PRECONDITIONS)
    if precondition:
        text += ". %s: a wait for the instance does not lift this" % precondition.describe()
    return text


def check_mode_result(result, runner, instance_id, body, wait_when_busy):
    """What a write would meet if it were sent now (nothing is written): read the instance and its running tasks."""
    result.update(changed=True, body=body)
    sending = "Check mode: %s %s not sent" % (result["method"], result["url"])
    if instance_id is None:
        result["msg"] = "%s; no instance_id, so whether DMS would refuse it now was not checked" % sending
        return result
    preview = runner.preview()
    obstacles = preview.obstacles()
    result.update(instance_status=preview.instance_status, running_tasks=preview.running_tasks, would_wait=False)
    if not obstacles:
        result["msg"] = "%s; the instance is RUNNING and no task runs, so it would be sent now" % sending
    elif preview.broken():
        result.update(changed=False, msg="%s; DMS would refuse it now and no wait ends that: the instance is %s" % (sending, preview.broken()))
    elif wait_when_busy:
        result.update(would_wait=True, msg="%s; it would wait until the instance is free (%s), then be sent" % (sending, "; ".join(obstacles)))
    else:
        result.update(changed=False, msg="%s; DMS would refuse it now (%s); when_busy: wait would send it once the instance is free"
                      % (sending, "; ".join(obstacles)))
    return result


def call(params, client, check_mode=False, listener=None, wait_budget=None):
    """The result of the call the options describe; a failure is a result with ``failed`` and what is known of its answer.

    Bad input raises ConfigurationError before any request; a DmsError raised came before the call (the project ID could
    not be looked up). ``listener`` (a WaitListener) hears the waits; ``wait_budget`` cuts the seconds of all waiting
    short (the task keyword's timeout). A write that was not a check returns its ``change`` (change_record.py)."""
    method = params["method"]
    path = api_path(params["path"])
    query = query_pairs(params["query"])
    body = body_option(params["body"])
    accepted = status_code_option(params["status_code"])
    write = method != "GET"
    batch = is_batch_action(method, path.segments)
    instance_id = instance_option(params, path, body, batch)
    until_deadline = deadline_option("deadline", params["deadline"], SYSTEM_CLOCK.wall())
    wait_when_busy, timeout = waiting_options(params, instance_id, write)
    cut_short = ""
    if timeout is not None:
        cut_short = why_cut_short(params, timeout, until_deadline, wait_budget)
        timeout = min(limit for limit in (timeout, until_deadline, wait_budget) if limit is not None)
    wait_for_name = required_text("wait_for_name", params["wait_for_name"]) if params["wait_for_name"] is not None else None
    result = dict(NO_ANSWER, method=method, url=client.call_url(path, query))
    runner = ChangeRunner(client, instance_id, timeout or 0, batch=batch, listener=listener)
    if write and check_mode:
        return check_mode_result(result, runner, instance_id, body, wait_when_busy)
    outcome = ChangeOutcome()
    unsure = False
    try:
        sent_at = runner.send(lambda: client.call(method, path, query, body, write=write, accepted=accepted), outcome, wait_when_busy,
                              task_name=wait_for_name if params["wait"] else None)
    except NotSentError as error:
        message = "The %s was not sent%s; reading the tasks before it failed: %s" % (method, "" if outcome.answer is None else " again", error)
        result = failed(result, message, busy_refusals=outcome.refusals, busy_wait=outcome.busy_wait(), **error_result(error))
    except DmsError as error:
        unsure = isinstance(error, UnsafeToRetryError)
        result = failed(result, failure_message(method, error, accepted), busy_refusals=outcome.refusals, busy_wait=outcome.busy_wait(),
                        **error_result(error))
    else:
        result = judged(result, outcome, method, accepted, cut_short)
        if params["wait"] and result["changed"] and not result.get("failed"):
            result = waited_for(result, runner, outcome, sent_at, wait_for_name, method, cut_short)
    if write:
        what = {"method": method, "path": params["path"], "parameters": body}
        result["change"] = change_record(instance_id, what, outcome, status=UNKNOWN if unsure else None)
    return result


def judged(result, outcome, method, accepted, cut_short):
    """The result of a call DMS answered: failed when it did not take the change (nor will, for now)."""
    answer = outcome.answer
    result = dict(result, status=answer.status, json=answer.body, job_id=answer_job_id(answer.body), request_id=answer.request_id,
                  busy_refusals=outcome.refusals, busy_wait=outcome.busy_wait(), instance_status=outcome.instance_status,
                  changed=method != "GET" and outcome.changed)
    if outcome.idle_wait is not None:
        note = cut_short if outcome.idle_wait.timed_out else ""
        return failed(result, "The %s was not sent again: %s%s" % (method, outcome.message, note), waited=outcome.idle_wait.as_result(),
                      **error_result(answer.error))
    if answer.error is not None:
        return failed(result, failure_message(method, answer.error, accepted, outcome), **error_result(answer.error))
    if outcome.message:
        return failed(result, "The %s failed: %s" % (method, outcome.message))
    return result


def waited_for(result, runner, outcome, sent_at, wait_for_name, method, cut_short):
    """The result once the task of an accepted change was waited for: failed when it did not end SUCCESS in time."""
    runner.wait_for_task(outcome, sent_at, wait_for_name)
    if outcome.task_wait is not None:
        result = dict(result, waited=outcome.task_wait.as_result())
    if outcome.message:
        note = cut_short if outcome.task_wait is not None and outcome.task_wait.timed_out else ""
        return failed(result, "The %s was accepted; %s%s" % (method, outcome.message, note))
    return result


def failed(result, message, **details):
    return dict(result, failed=True, msg=message, **details)


def why_cut_short(params, wait_timeout, until_deadline, wait_budget):
    """What ends the waits before wait_timeout, as the end of a timeout's message; empty when nothing does."""
    if until_deadline is not None and until_deadline < wait_timeout and (wait_budget is None or until_deadline <= wait_budget):
        return " (the deadline %s)" % params["deadline"]
    if wait_budget is not None and wait_budget < wait_timeout:
        return " (ended early to report before the task keyword timeout)"
    return ""
