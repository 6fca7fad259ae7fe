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
    ``untried`` ones, left after a failure every further delete would meet too; ``unchanged`` ones, which DMS no
    longer had when asked to delete them, or still lists as DELETED after the delete (no change, no error); and
    ``unconfirmed`` ones (each with ``msg``), whose delete may or may not have been applied: its answer was lost and
    reading the task back failed too."""

    def __init__(self, deleted=None):
        self.deleted = list(deleted or [])
        self.failed = []
        self.untried = []
        self.unchanged = []
        self.unconfirmed = []

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
        except UnsafeToRetryError as error:
            settle_lost_delete(client, instance_id, task, error, outcome)
        except DmsError as error:
            outcome.failed.append(failed_entry(task, error))
            if not concerns_one_task(error):
                outcome.untried = list(tasks[position + 1:])
                break
    return outcome


def settle_lost_delete(client, instance_id, task, error, outcome):
    """Put a task whose delete may have been applied (its answer was lost) where reading it back says it belongs.

    The delete is not sent again: a second one would meet "no such task" and report no change for a task this run
    deleted. The read is safe to retry. DMS no longer having the task, or listing it as DELETED when it was not before,
    means the delete was applied; the task as it was means it was not (or not yet); a failed read leaves it open.
    """
    try:
        current = client.get_task(instance_id, task["id"])
    except DmsError as read_error:
        outcome.unconfirmed.append(dict(task, msg="the delete may or may not have been applied: %s; reading the task back"
                                                  " failed too: %s" % (error.error, read_error)))
        return
    if current is None or (current["status"] == "DELETED" and task["status"] != "DELETED"):
        outcome.deleted.append(task)
    else:
        outcome.failed.append(failed_entry(task, error, "the task is still there (%s) after a delete that may or may not have been"
                                                        " applied: %s" % (current["status"], error)))


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
    """Whether a failed delete leaves the next one worth trying: the API refused this task. Authentication failures, a
    missing instance or API, persistent throttling and TLS failures would only repeat, and repeated authentication
    failures lock the key. (A delete whose outcome is unknown is settle_lost_delete's.)"""
    if isinstance(error, MalformedIdError):
        return error.option == "task_id"
    if isinstance(error, (AuthenticationError, InstanceNotFoundError, EndpointNotFoundError)):
        return False
    return isinstance(error, ApiError)


def failed_entry(task, error, message=None):
    """The task with why its delete failed: ``msg`` (the error's, unless given), and ``error`` with the API's answer when there was one."""
    entry = dict(task, msg=message or str(error))
    details = failure_details(error)
    if details:
        entry["error"] = details
    return entry


def deletion_diff(instance_id, selected, outcome, kept):
    """Ansible's diff of the selected tasks: one line per task (ID, name, status) before, and the ones still there after.

    ``selected`` gives the order; ``outcome.unchanged`` tasks were no change and appear on neither side;
    ``outcome.unconfirmed`` ones appear on both, marked after as not known to be gone.
    """
    remaining = set(task["id"] for task in outcome.failed + outcome.untried + kept)
    unconfirmed = set(task["id"] for task in outcome.unconfirmed)
    before = remaining | unconfirmed | set(task["id"] for task in outcome.deleted)
    return {
        "before_header": "tasks of instance %s" % instance_id,
        "after_header": "tasks of instance %s" % instance_id,
        "before": _task_lines(task for task in selected if task["id"] in before),
        "after": _task_lines((task for task in selected if task["id"] in remaining | unconfirmed), unconfirmed),
    }


def _task_lines(tasks, unconfirmed=()):
    return "".join("%s %s %s%s\n" % (task["id"], task["name"], task["status"], " (delete unconfirmed)" if task["id"] in unconfirmed else "")
                   for task in tasks)
