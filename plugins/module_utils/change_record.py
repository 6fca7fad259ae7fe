# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``change`` a write or a wait returns: one flat summary of what was asked, when, behind what, and how it ended,
shaped for ``set_stats`` and a ticket. Plain Python, no Ansible imports.
"""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import FINAL_STATUSES

# What a change that has no task status of its own came to.
NOT_SENT = "NOT_SENT"  # never sent: a deadline already past, a read before it that failed, a call that never left
REFUSED = "REFUSED"  # DMS answered, and did not take it (the last answer, where it was sent again and never taken)
ACCEPTED = "ACCEPTED"  # DMS took it; its task was not waited for, or had not ended
UNKNOWN = "UNKNOWN"  # it may or may not have been applied (a timeout, a dropped connection or a 5xx after it left)

RECORD_KEYS = ("instance_id", "method", "path", "parameters", "job_id", "task_name", "user", "request_ids", "queued_at", "sent_at",
               "ended_at", "queued_seconds", "duration", "status", "blocked_by", "failed_step")


def change_record(instance_id, what, outcome, status=None):
    """The summary of a change (changes.ChangeOutcome) on ``instance_id``; ``what`` has method, path and parameters.

    ``status``: NOT_SENT or UNKNOWN where the outcome cannot say it. Otherwise the task's final status where it was waited
    for until it ended, ACCEPTED where DMS took the change, REFUSED where it answered without taking it. ``user`` is the
    IAM user the task names (the cloud names the one of the signing key); ``ended_at`` is the task's own last update once
    it ended; ``duration`` the seconds from the call DMS took to the end of the wait for its task.
    """
    task = _waited_task(outcome.task_wait)
    record = dict.fromkeys(RECORD_KEYS)
    record.update(what, instance_id=instance_id, request_ids=list(outcome.request_ids), queued_at=outcome.first_call_at,
                  sent_at=outcome.sent_at, queued_seconds=round(outcome.queued, 3), blocked_by=_blocked_by(outcome))
    record["job_id"] = task["id"] if task else outcome.job_id()
    if task:
        record.update(task_name=task["name"], user=task.get("user_name") or None, duration=round(outcome.task_wait.elapsed, 3))
        if task["status"] in FINAL_STATUSES:
            record["ended_at"] = task.get("updated_at")
        record["failed_step"] = (outcome.task_wait.failed_step or {}).get("name")
    record["status"] = status or _status(outcome, task)
    return record


def wait_record(instance_id, wait):
    """The summary of a wait for one task (a waiter's WaitOutcome), as change_record shapes it; None for other waits."""
    task = _waited_task(wait)
    if task is None:
        return None
    record = dict.fromkeys(RECORD_KEYS)
    record.update(instance_id=instance_id, job_id=task["id"], task_name=task["name"], user=task.get("user_name") or None,
                  request_ids=[], duration=round(wait.elapsed, 3), status=task["status"], blocked_by=[],
                  failed_step=(wait.failed_step or {}).get("name"))
    if task["status"] in FINAL_STATUSES:
        record["ended_at"] = task.get("updated_at")
    return record


def _waited_task(wait):
    if wait is None or not wait.single_task or not wait.tasks:
        return None
    return wait.tasks[0]


def _blocked_by(outcome):
    held = ["%s (ID %s)" % (task["name"], task["id"]) for task in outcome.waited_behind.values()]
    return held + ["the instance %s" % status for status in outcome.instance_statuses]


def _status(outcome, task):
    if task is not None and task["status"] in FINAL_STATUSES:
        return task["status"]
    if outcome.changed:
        return ACCEPTED
    return REFUSED if outcome.answer is not None else NOT_SENT
