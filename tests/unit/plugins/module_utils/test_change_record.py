# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change record: one flat summary of a change, whatever became of it."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.change_record import (
    ACCEPTED, NOT_SENT, RECORD_KEYS, REFUSED, UNKNOWN, change_record, wait_record,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.changes import ChangeOutcome
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ApiError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpAnswer
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import WaitOutcome

WHAT = {"method": "PUT", "path": "/v2/{project_id}/instances/i-1/configs", "parameters": {"kafka_configs": []}}
TASK = {"id": "j-1", "name": "kafkaConfigModify", "status": "SUCCESS", "user_name": "ops", "updated_at": "2024-05-01T08:00:46.020Z"}


def outcome_of(answer=None, changed=False, task=None, failed_step=None):
    outcome = ChangeOutcome()
    outcome.answer, outcome.changed = answer, changed
    if answer is not None:
        outcome.request_ids.append(answer.request_id)
        outcome.first_call_at = outcome.sent_at = "2024-05-01T08:00:00+00:00"
    if task is not None:
        outcome.task_wait = WaitOutcome(single_task=True)
        outcome.task_wait.tasks, outcome.task_wait.elapsed, outcome.task_wait.failed_step = [task], 46.0, failed_step
    return outcome


def test_a_change_waited_for_until_it_ended_is_summed_up_whole():
    outcome = outcome_of(HttpAnswer(200, "req-2", {"job_id": "j-1"}, None), changed=True, task=TASK)
    outcome.request_ids.insert(0, "req-1")
    outcome.queued = 20.4
    outcome.waited_behind["r-1"] = {"id": "r-1", "name": "resizeInstance", "status": "SUCCESS"}
    outcome.instance_statuses.append("EXTENDING")
    record = change_record("i-1", WHAT, outcome)
    assert set(record) == set(RECORD_KEYS)
    assert record == dict(WHAT, instance_id="i-1", job_id="j-1", task_name="kafkaConfigModify", user="ops", request_ids=["req-1", "req-2"],
                          queued_at="2024-05-01T08:00:00+00:00", sent_at="2024-05-01T08:00:00+00:00", ended_at=TASK["updated_at"],
                          queued_seconds=20.4, duration=46.0, status="SUCCESS", failed_step=None,
                          blocked_by=["resizeInstance (ID r-1)", "the instance EXTENDING"])


@pytest.mark.parametrize("answer, changed, status, expected", [
    (None, False, None, NOT_SENT),
    (HttpAnswer(400, "req-1", {}, ApiError(400, "DMS.00400017", "Busy.", "req-1")), False, None, REFUSED),
    (HttpAnswer(200, "req-1", {"job_id": "j-1"}, None), True, None, ACCEPTED),
    (None, False, UNKNOWN, UNKNOWN),
], ids=["not sent", "refused", "accepted, not waited for", "may have been applied"])
def test_a_change_without_an_ended_task_says_what_became_of_it(answer, changed, status, expected):
    record = change_record("i-1", WHAT, outcome_of(answer, changed), status=status)
    assert record["status"] == expected and record["ended_at"] is None and record["task_name"] is None
    assert record["job_id"] == ("j-1" if changed else None)


def test_a_task_still_running_when_the_wait_ended_is_accepted_not_ended():
    running = dict(TASK, status="EXECUTING")
    record = change_record("i-1", WHAT, outcome_of(HttpAnswer(200, "req-1", {"job_id": "j-1"}, None), True, running))
    assert (record["status"], record["ended_at"], record["duration"]) == (ACCEPTED, None, 46.0)


def test_a_failed_task_names_its_failed_step():
    failed = dict(TASK, status="FAILED")
    outcome = outcome_of(HttpAnswer(200, "req-1", {"job_id": "j-1"}, None), True, failed, failed_step={"name": "Restart", "statue": "FAILED"})
    assert change_record("i-1", WHAT, outcome)["failed_step"] == "Restart"


def test_a_wait_for_one_task_is_summed_up_and_other_waits_are_not():
    wait = WaitOutcome(single_task=True)
    wait.tasks, wait.elapsed = [TASK], 7.3
    record = wait_record("i-1", wait)
    assert set(record) == set(RECORD_KEYS) and record["method"] is None and record["parameters"] is None
    assert (record["job_id"], record["user"], record["status"], record["duration"]) == ("j-1", "ops", "SUCCESS", 7.3)
    gate = WaitOutcome(single_task=False)
    gate.tasks = [TASK]
    assert wait_record("i-1", gate) is None and wait_record("i-1", WaitOutcome(single_task=True)) is None
