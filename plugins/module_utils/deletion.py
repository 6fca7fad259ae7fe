# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deleting selected tasks: which of them may go, deleting them one by one, and what became of each.

Plain Python, no Ansible imports. The selection itself is selection.py's.
"""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, DmsError, EndpointNotFoundError, InstanceNotFoundError, MalformedIdError, UnsafeToRetryError,
    failure_details,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import is_active


class DeletionOutcome:
    """What deleting became: ``deleted`` tasks; ``failed`` ones (each with ``msg``, and ``error`` when the API answered);
    ``untried`` ones, left after a failure every further delete would meet too; and ``unchanged`` ones, which DMS no
    longer had when asked to delete them, or still lists as DELETED after the delete (no change, no error)."""

    def __init__(self, deleted=None):
        self.deleted = list(deleted or [])
        self.failed = []
        self.untried = []
        self.unchanged = []

    @property
    def not_deleted(self):
        """The failed tasks, then the untried ones, each with a ``msg`` that says why it is still there."""
        if not self.untried:
            return list(self.failed)
        reason = "not tried: the delete of task %s failed in a way every further delete would too" % self.failed[-1]["id"]
        return self.failed + [dict(task, msg=reason) for task in self.untried]


def split_active(tasks):
    """(the tasks that may be deleted, the CREATED or EXECUTING ones, each with the ``reason`` it is kept), in order."""
    deletable, kept = [], []
    for task in tasks:
        if is_active(task):
            kept.append(dict(task, reason="%s: a task that has not finished is never deleted" % task["status"]))
        else:
            deletable.append(task)
    return deletable, kept


def delete_tasks(client, instance_id, tasks):
    """Delete the tasks one by one, going on after a failure that concerns one task only; a DeletionOutcome.

    After a failure that every further delete would meet too, the tasks left are not tried.
    """
    outcome = DeletionOutcome()
    for position, task in enumerate(tasks):
        try:
            if not client.delete_task(instance_id, task["id"]) or still_listed_as_deleted(client, instance_id, task):
                outcome.unchanged.append(task)
            else:
                outcome.deleted.append(task)
        except DmsError as error:
            outcome.failed.append(failed_entry(task, error))
            if not concerns_one_task(error):
                outcome.untried = list(tasks[position + 1:])
                break
    return outcome


def still_listed_as_deleted(client, instance_id, task):
    """Whether a task that was DELETED before its delete is still there: DMS may keep deleted tasks listed with that
    status (undocumented), and deleting one again changes nothing. Asked only for such tasks, so that a second run
    reports no change whichever way DMS behaves."""
    if task["status"] != "DELETED":
        return False
    try:
        return client.get_task(instance_id, task["id"]) is not None
    except DmsError:
        return False  # the delete was accepted; this read only decides whether to report it as a change


def concerns_one_task(error):
    """Whether a failed delete leaves the next one worth trying: the API refused this task, or only this delete's
    outcome is unknown (a server error, a dropped connection). Authentication failures, a missing instance or API,
    persistent throttling and TLS failures would only repeat, and repeated authentication failures lock the key."""
    if isinstance(error, MalformedIdError):
        return error.option == "task_id"
    if isinstance(error, (AuthenticationError, InstanceNotFoundError, EndpointNotFoundError)):
        return False
    return isinstance(error, (ApiError, UnsafeToRetryError))


def failed_entry(task, error):
    """The task with why its delete failed: ``msg``, and ``error`` with the API's answer when there was one."""
    entry = dict(task, msg=str(error))
    details = failure_details(error)
    if details:
        entry["error"] = details
    return entry


def deletion_diff(instance_id, selected, outcome, kept):
    """Ansible's diff of the selected tasks: one line per task (ID, name, status) before, and the ones still there after.

    ``selected`` gives the order; ``outcome.unchanged`` tasks were no change and appear on neither side.
    """
    remaining = set(task["id"] for task in outcome.failed + outcome.untried + kept)
    before = remaining | set(task["id"] for task in outcome.deleted)
    return {
        "before_header": "tasks of instance %s" % instance_id,
        "after_header": "tasks of instance %s" % instance_id,
        "before": _task_lines(task for task in selected if task["id"] in before),
        "after": _task_lines(task for task in selected if task["id"] in remaining),
    }


def _task_lines(tasks):
    return "".join("%s %s %s\n" % (task["id"], task["name"], task["status"]) for task in tasks)
