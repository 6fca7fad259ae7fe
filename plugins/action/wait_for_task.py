# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for_task: block on the controller until DMS background tasks end.

Thin: validate options, run the waiter, show its progress, shape the result.
"""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.change_record import wait_record
from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import (
    deadline_option, number_option, path_segment_option, required_text, time_option,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import TaskWaiter, WaitLimits, WaitListener, make_tracker
from ansible_collections.hwcloud.dms.plugins.modules.wait_for_task import DOCUMENTATION
from ansible_collections.hwcloud.dms.plugins.plugin_utils.action_base import DmsAction
from ansible_collections.hwcloud.dms.plugins.plugin_utils.doc_spec import argument_spec_from_doc
from ansible_collections.hwcloud.dms.plugins.plugin_utils.live_lines import DisplayListener

MAX_TIMEOUT = 7 * 24 * 3600
MAX_SLEEP = 3600


class ActionModule(DmsAction):
    NAME = "hwcloud.dms.wait_for_task"
    ARGUMENT_SPEC = argument_spec_from_doc(DOCUMENTATION)
    REQUIRED_BY = {"created_after": "name"}
    ALWAYS_RETURNED = {"msg": "", "tasks": [], "history": [], "elapsed": 0.0, "polls": 0, "api_calls": 0, "timed_out": False, "change": None}

    def check_raw_args(self, args):
        # Before the conversion, which refuses a null member in its own words, or takes it for the string "None".
        missing_id = _empty_task_id(args)
        if missing_id:
            raise ConfigurationError(missing_id)

    def act(self, params, host):
        _wait_target_options(params)
        timeout = number_option("timeout", params["timeout"], 1, MAX_TIMEOUT, integer=True, unit="seconds")
        until_deadline = deadline_option("deadline", params["deadline"], SYSTEM_CLOCK.wall())
        budget = self.wait_budget()
        wait_seconds = min(limit for limit in (timeout, budget, until_deadline) if limit is not None)
        instance_id = path_segment_option("instance_id", params["instance_id"])
        waiter = self._waiter(params, instance_id, timeout, wait_seconds, host)
        outcome = waiter.check() if self._task.check_mode else waiter.wait()
        result = outcome.as_result()
        if not self._task.check_mode:
            result["change"] = wait_record(instance_id, outcome)
        if outcome.timed_out and wait_seconds == until_deadline and until_deadline < timeout:
            result["msg"] += " (the deadline %s)" % params["deadline"]
        elif outcome.timed_out and wait_seconds < timeout:
            result["msg"] += " (ended early to report before the task keyword timeout of %d s)" % self._task.timeout
        if self._task.check_mode and not outcome.failed:
            result["msg"] = "Check mode: would wait for %s on instance %s" % (waiter.describe_target(), instance_id)
        return result

    def _waiter(self, params, instance_id, timeout, wait_seconds, host):
        delay = number_option("delay", params["delay"], 0, timeout, integer=True, exclusive_maximum=True, unit="seconds", maximum_name="timeout")
        max_pause = number_option("sleep", params["sleep"], 1, MAX_SLEEP, integer=True, unit="seconds")
        name = required_text("name", params["name"]) if params["name"] is not None else None
        listener = WaitListener() if self._task.no_log else DisplayListener("wait_for_task [%s]" % host)
        client = DmsClient(connection_settings(params), on_retry=listener.retrying)
        tracker = make_tracker(client, instance_id, task_ids=[path_segment_option("task_id", task_id) for task_id in params["task_id"] or []],
                               name=name, created_after=time_option("created_after", params["created_after"], SYSTEM_CLOCK.wall()), idle=bool(params["idle"]))
        return TaskWaiter(client, tracker, WaitLimits(float(wait_seconds), float(delay), float(max_pause)),
                          fail_on_status=params["fail_on_status"], listener=listener)


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
