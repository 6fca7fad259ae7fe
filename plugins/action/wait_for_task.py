# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for_task: block on the controller until DMS background tasks end.

Thin: validate options, run the waiter, show its progress, shape the result. Runs outside AnsibleModule,
so it removes secret values from the result itself, as no_log would.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import REQUESTS_IMPORT_ERROR
from ansible_collections.hwcloud.dms.plugins.module_utils.options import argument_spec, connection_settings, required_text, time_option
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import BAD_STATUSES, FINAL_STATUSES
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import TaskWaiter, WaitListener

display = Display()

ARGUMENT_SPEC = argument_spec(
    instance_id=dict(type="str", required=True),
    task_id=dict(type="list", elements="str"),
    name=dict(type="str"),
    created_after=dict(type="str"),
    timeout=dict(type="int", default=1800),
    delay=dict(type="int", default=0),
    sleep=dict(type="int", default=10),
    fail_on_status=dict(type="list", elements="str", choices=list(FINAL_STATUSES), default=list(BAD_STATUSES)),
)
MUTUALLY_EXCLUSIVE = [["task_id", "name"]]
REQUIRED_BY = {"created_after": "name"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_by=REQUIRED_BY)
        validated = validation.validate(self._task.args)
        secrets = validated._no_log_values  # pylint: disable=protected-access  # the documented no_log set
        try:
            result = self._run(validated, (task_vars or {}).get("inventory_hostname", "localhost"))
        except ConfigurationError as error:
            result = {"failed": True, "msg": str(error)}
        result["changed"] = False
        return remove_values(result, secrets)

    def _run(self, validated, host):
        if validated.error_messages:
            return {"failed": True, "msg": "Invalid options for hwcloud.dms.wait_for_task: %s" % "; ".join(validated.error_messages)}
        if REQUESTS_IMPORT_ERROR is not None:
            return {"failed": True, "msg": "hwcloud.dms.wait_for_task needs the Python library requests on the controller: %s" % REQUESTS_IMPORT_ERROR}
        waiter = self._waiter(validated.validated_parameters, host)
        outcome = waiter.check() if self._task.check_mode else waiter.wait()
        result = outcome.as_result()
        if self._task.check_mode and not outcome.failed:
            result["msg"] = "Check mode: would wait for %s on instance %s" % (waiter.describe_target(), validated.validated_parameters["instance_id"])
        return result

    def _waiter(self, params, host):
        instance_id = required_text("instance_id", params["instance_id"])
        if params["timeout"] < 1:
            raise ConfigurationError("timeout must be 1 second or more, got %s" % params["timeout"])
        if not 0 <= params["delay"] < params["timeout"]:
            raise ConfigurationError("delay must be 0 or more and less than timeout (%s), got %s" % (params["timeout"], params["delay"]))
        if params["sleep"] < 1:
            raise ConfigurationError("sleep must be 1 second or more, got %s" % params["sleep"])
        name = required_text("name", params["name"]) if params["name"] is not None else None
        listener = WaitListener() if self._task.no_log else DisplayListener("wait_for_task [%s]" % host)
        return TaskWaiter(
            DmsClient(connection_settings(params)), instance_id,
            task_ids=[required_text("task_id", task_id) for task_id in params["task_id"] or []],
            name=name, created_after=time_option("created_after", params["created_after"]),
            timeout=float(params["timeout"]), delay=float(params["delay"]), max_pause=float(params["sleep"]),
            fail_on_status=params["fail_on_status"], listener=listener,
        )


class DisplayListener(WaitListener):
    """Progress lines at default verbosity, so that a long wait in AWX is never a silent screen."""

    def __init__(self, label):
        self._label = label

    def status_changed(self, task, previous, elapsed, progress):
        change = "%s -> %s" % (previous, task["status"]) if previous else task["status"]
        self._say("%s (ID %s) %s%s" % (task["name"], task["id"], change, _progress_text(progress)), elapsed)

    def still_waiting(self, tasks, elapsed, progress_by_id):
        states = ["%s (ID %s) %s%s" % (task["name"], task["id"], task["status"], _progress_text(progress_by_id.get(task["id"])))
                  for task in tasks if task["status"] not in FINAL_STATUSES]
        self._say("still waiting: %s" % ("; ".join(states) or "no task seen yet"), elapsed)

    def poll_failed(self, error, elapsed):
        self._say("poll failed, will try again: %s" % error, elapsed)

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
