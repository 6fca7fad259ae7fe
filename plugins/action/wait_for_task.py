# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for_task: block on the controller until DMS background tasks end.

Thin: validate options, run the waiter, show its progress, shape the result. Runs outside AnsibleModule,
so it removes secret values from the result itself, as no_log would.
"""

from __future__ import annotations

import math
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import REQUESTS_IMPORT_ERROR
from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS, connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.redaction import redact, secret_forms
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import FINAL_STATUSES
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import (
    deadline_option, number_option, path_segment_option, required_text, time_option,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import TaskWaiter, WaitLimits, WaitListener, make_tracker
from ansible_collections.hwcloud.dms.plugins.modules.wait_for_task import DOCUMENTATION
from ansible_collections.hwcloud.dms.plugins.plugin_utils.doc_spec import argument_spec_from_doc

display = Display()

ARGUMENT_SPEC = argument_spec_from_doc(DOCUMENTATION)
REQUIRED_BY = {"created_after": "name"}
MAX_TIMEOUT = 7 * 24 * 3600
MAX_SLEEP = 3600
# With the task keyword timeout, ansible-core kills the action when it expires and the result is lost: the wait
# ends itself this long before (or half the budget, for very short ones) and reports what it saw.
TASK_TIMEOUT_MARGIN = 3.0
# Every key the documentation says is returned always, with its value before anything was read.
ALWAYS_RETURNED = {"msg": "", "tasks": [], "history": [], "elapsed": 0.0, "polls": 0, "api_calls": 0, "timed_out": False}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        secrets = _secret_values(self._task.args)
        try:
            waited = self._run((task_vars or {}).get("inventory_hostname", "localhost"))
        except ConfigurationError as error:
            waited = {"failed": True, "msg": str(error)}
        result.update(ALWAYS_RETURNED, **waited)
        result["changed"] = False
        return redact(remove_values(result, secrets), secret_forms(secrets))

    def _run(self, host):
        missing_id = _empty_task_id(self._task.args)
        if missing_id:
            raise ConfigurationError(missing_id)
        try:
            _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_by=REQUIRED_BY)
        except AnsibleActionFail as error:
            return {"failed": True, "msg": "Invalid options for hwcloud.dms.wait_for_task: %s" % error.message}
        except OverflowError:
            # ansible-core's type conversion overflows on an infinite integer or an integer beyond any float.
            names = [name for name, spec in ARGUMENT_SPEC.items() if spec["type"] in ("int", "float") and _unconvertible(self._task.args.get(name))]
            return {"failed": True, "msg": "%s must be a number within its documented range" % " and ".join(names or ["a numeric option"])}
        _wait_target_options(params)
        if REQUESTS_IMPORT_ERROR is not None:
            return {"failed": True, "msg": "hwcloud.dms.wait_for_task needs the Python library requests on the controller: %s" % REQUESTS_IMPORT_ERROR}
        timeout = number_option("timeout", params["timeout"], 1, MAX_TIMEOUT, integer=True, unit="seconds")
        until_deadline = deadline_option("deadline", params["deadline"], SYSTEM_CLOCK.wall())
        budget = self._task.timeout or 0
        wait_seconds = min(_within_budget(timeout, budget), until_deadline or timeout)
        waiter = self._waiter(params, timeout, wait_seconds, host)
        outcome = waiter.check() if self._task.check_mode else waiter.wait()
        result = outcome.as_result()
        if outcome.timed_out and wait_seconds == until_deadline and until_deadline < timeout:
            result["msg"] += " (the deadline %s)" % params["deadline"]
        elif outcome.timed_out and wait_seconds < timeout:
            result["msg"] += " (ended early to report before the task keyword timeout of %d s)" % budget
        if self._task.check_mode and not outcome.failed:
            result["msg"] = "Check mode: would wait for %s on instance %s" % (waiter.describe_target(), params["instance_id"])
        return result

    def _waiter(self, params, timeout, wait_seconds, host):
        instance_id = path_segment_option("instance_id", params["instance_id"])
        delay = number_option("delay", params["delay"], 0, timeout, integer=True, exclusive_maximum=True, unit="seconds", maximum_name="timeout")
        max_pause = number_option("sleep", params["sleep"], 1, MAX_SLEEP, integer=True, unit="seconds")
        name = required_text("name", params["name"]) if params["name"] is not None else None
        listener = WaitListener() if self._task.no_log else DisplayListener("wait_for_task [%s]" % host)
        client = DmsClient(connection_settings(params))
        tracker = make_tracker(client, instance_id, task_ids=[path_segment_option("task_id", task_id) for task_id in params["task_id"] or []],
                               name=name, created_after=time_option("created_after", params["created_after"], SYSTEM_CLOCK.wall()), idle=bool(params["idle"]))
        return TaskWaiter(client, tracker, WaitLimits(float(wait_seconds), float(delay), float(max_pause)),
                          fail_on_status=params["fail_on_status"], listener=listener)


def _within_budget(timeout, budget):
    """The seconds the wait may take: ``timeout``, cut short to end before the task keyword's budget (0: none)."""
    if not budget:
        return timeout
    return min(timeout, budget - min(TASK_TIMEOUT_MARGIN, budget / 2.0))


def _unconvertible(value):
    """Whether a number cannot be converted between int and float: infinite, NaN, or beyond the largest float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return not math.isfinite(float(value))
    except OverflowError:
        return True


def _empty_task_id(args):
    """Why a task_id given as null, empty, or with an empty member cannot be waited for; None when it can."""
    if "task_id" not in args:
        return None
    value = args["task_id"]
    members = value if isinstance(value, (list, tuple)) else [value]
    if members and all(member is not None and str(member).strip() for member in members):
        return None
    return ("task_id is empty (%r): the change that should have returned it may have answered no job ID. "
            "Nothing was waited for; to wait until no task runs, use idle: true instead of task_id" % (value,))


def _wait_target_options(params):
    """Exactly one of task_id, name and idle: true says what to wait for."""
    given = [name for name in ("task_id", "name") if params[name] is not None]
    if params["idle"] is not None:
        if not params["idle"]:
            raise ConfigurationError("idle: false asks for nothing: give task_id or name, or idle: true to wait until no task runs")
        given.append("idle")
    if not given:
        raise ConfigurationError(
            "nothing to wait for: give task_id (for example the job_id a change returned; a change that answered"
            " none leaves it out), name (the newest task of that name), or idle: true (until no task runs)")
    if len(given) > 1:
        raise ConfigurationError("%s are mutually exclusive: give exactly one of task_id, name and idle: true" % " and ".join(given))


def _secret_values(args):
    """The secret values this task may send: given as options, or from the environment variables they fall back to."""
    spec = dict((name, entry) for name, entry in COMMON_OPTIONS.items() if entry.get("no_log"))
    values = set()
    for name, entry in spec.items():
        for key in [name] + entry.get("aliases", []):
            if isinstance(args.get(key), str) and args[key]:
                values.add(args[key])
        for variable in entry.get("env", []):
            values.add(os.environ.get(variable) or "")
    values.discard("")
    return sorted(values)


class DisplayListener(WaitListener):
    """Progress lines at default verbosity, so that a long wait in AWX is never a silent screen."""

    def __init__(self, label):
        self._label = label

    def status_changed(self, task, previous, elapsed, progress):
        change = "%s -> %s" % (previous, task["status"]) if previous else task["status"]
        self._say("%s (ID %s) %s%s" % (task["name"], task["id"], change, _progress_text(progress)), elapsed)

    def instance_changed(self, status, previous, elapsed):
        self._say("instance %s" % ("%s -> %s" % (previous, status) if previous else status), elapsed)

    def still_waiting(self, tasks, elapsed):
        states = ["%s (ID %s) %s" % (task["name"], task["id"], task["status"]) for task in tasks if task["status"] not in FINAL_STATUSES]
        self._say("still waiting: %s" % ("; ".join(states) or "no task seen yet"), elapsed)

    def poll_failed(self, error, elapsed):
        self._say("poll failed, will try again: %s" % error, elapsed)

    def progress_failed(self, error, elapsed):
        display.v("%s: progress not available: %s [%.1f s]" % (self._label, error, elapsed))

    def polled(self, tasks, elapsed, calls):
        display.v("%s: polled %d task(s), %d API call(s) so far [%.1f s]" % (self._label, len(tasks), calls, elapsed))

    def _say(self, text, elapsed):
        display.display("%s: %s [%.1f s]" % (self._label, text, elapsed))


def _progress_text(progress):
    if not progress:
        return ""
    text = ""
    if progress.get("progress_percentage") is not None:
        text += " %s%%" % progress["progress_percentage"]
    if progress.get("remain_time") is not None:
        text += ", about %s s left" % progress["remain_time"]
    return text
