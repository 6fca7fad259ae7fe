# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A change in one step on the fake clock and fake DMS of the waiter's tests: sent again once idle, then waited for."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.changes import BUSY_CODE, ChangeOutcome, ChangeRunner, answer_job_id, refused_as_busy
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ApiError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpAnswer
from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.test_waiter import INSTANCE, FakeClock, FakeDms, FakeTask

BUSY = HttpAnswer(400, "req-busy", {"error_code": BUSY_CODE, "error_msg": "The job task is still running."},
                  ApiError(400, BUSY_CODE, "The job task is still running.", "req-busy"))


def accepted(job_id="j-1"):
    return HttpAnswer(200, "req-ok", {"job_id": job_id} if job_id else {"results": []}, None)


class Calls:
    """The change call: answers in turn, each sent at a fake time."""

    def __init__(self, clock, answers):
        self.clock = clock
        self.answers = list(answers)
        self.sent_at = []

    def __call__(self):
        self.sent_at.append(self.clock.t)
        return self.answers.pop(0)


class ChangeOfDms(Calls):
    """The change call as DMS answers it: refused while a task of the fake instance runs. ``racing`` tasks start just
    before the call of that number (another job's change that won the race after the instance became idle)."""

    def __init__(self, clock, dms, racing=None):
        super().__init__(clock, [])
        self.dms = dms
        self.racing = dict(racing or {})

    def __call__(self):
        self.sent_at.append(self.clock.t)
        if len(self.sent_at) in self.racing:
            self.dms.tasks.append(self.racing[len(self.sent_at)](self.clock.t))
        active = [task for task in self.dms.tasks if task.status_at(self.clock.t) in ("CREATED", "EXECUTING")]
        return BUSY if active else accepted()


@pytest.fixture(name="clock")
def clock_fixture():
    return FakeClock()


def runner(clock, tasks, timeout=600.0):
    dms = FakeDms(clock, tasks)
    return dms, ChangeRunner(dms, INSTANCE, timeout, clock=clock.monotonic, wall=clock.wall, sleep=clock.sleep, rng=lambda: 0.5)


def test_a_busy_refusal_and_its_answers():
    assert refused_as_busy(BUSY) and not refused_as_busy(accepted())
    other_refusal = HttpAnswer(400, "r", {}, ApiError(400, "DMS.00400071", "no"))
    assert not refused_as_busy(other_refusal)
    assert answer_job_id({"job_id": " "}) is None and answer_job_id({"job_id": "j"}) == "j" and answer_job_id(None) is None


def test_refused_as_busy_it_waits_for_idle_and_sends_again_until_accepted(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING"), (20, "SUCCESS")])])
    # Once the instance is idle, another job's change gets in first and runs for 30 s.
    calls = ChangeOfDms(clock, dms, racing={2: lambda now: FakeTask("race", "restartInstance", [(now, "EXECUTING"), (now + 30, "SUCCESS")])})
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.answer.status == 200 and outcome.busy_refusals == 2 and outcome.message is None
    # Sent again only once the instance was idle: after the first task ended, then after the racing one did.
    assert calls.sent_at[0] == 0 and calls.sent_at[1] >= 20 and calls.sent_at[2] >= calls.sent_at[1] + 30


def test_refused_as_busy_without_waiting_returns_the_refusal(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING")])])
    calls = Calls(clock, [BUSY])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=False)
    assert outcome.answer is BUSY and outcome.busy_refusals == 1 and dms.calls == 0 and outcome.idle_wait is None


def test_an_instance_that_stays_busy_ends_the_change_at_the_deadline(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING")])], timeout=60.0)
    calls = Calls(clock, [BUSY])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.idle_wait.timed_out and clock.t == pytest.approx(60.0)
    assert outcome.message.startswith("Refused 1 time as busy (DMS.00400017), and the instance did not become idle: Timed out after 60 s")
    assert len(calls.sent_at) == 1


def test_the_task_of_the_job_id_is_waited_for_within_what_is_left_of_the_deadline(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING"), (20, "SUCCESS")])], timeout=100.0)
    outcome = ChangeOutcome()
    sent_at = change.send(ChangeOfDms(clock, dms), outcome, wait_when_busy=True)
    assert outcome.answer.status == 200 and clock.t >= 20
    dms.tasks.append(FakeTask("j-1", "kafkaConfigModify", [(clock.t, "EXECUTING"), (300, "SUCCESS")]))
    change.wait_for_task(outcome, sent_at)
    assert outcome.task_wait.timed_out and clock.t == pytest.approx(100.0), "one deadline for both waits"
    assert outcome.message == outcome.task_wait.message and "j-1" in outcome.message


def test_a_task_that_ends_badly_fails_the_change(clock):
    dms, change = runner(clock, [FakeTask("j-1", "kafkaConfigModify", [(0, "EXECUTING"), (8, "FAILED")])])
    outcome = ChangeOutcome()
    sent_at = change.send(Calls(clock, [accepted("j-1")]), outcome, wait_when_busy=False)
    change.wait_for_task(outcome, sent_at)
    assert outcome.task_wait.as_result()["status"] == "FAILED" and outcome.message.startswith("Task kafkaConfigModify (ID j-1) ended FAILED")


def test_without_a_job_id_the_newest_task_of_the_name_created_since_the_call_is_waited_for(clock):
    older = FakeTask("r-old", "restartInstance", [(-600, "SUCCESS")])
    mine = FakeTask("r-new", "restartInstance", [(3, "EXECUTING"), (9, "SUCCESS")])
    clock.advance(1)
    dms, change = runner(clock, [older, mine])
    outcome = ChangeOutcome()
    sent_at = change.send(Calls(clock, [accepted(None)]), outcome, wait_when_busy=False)
    change.wait_for_task(outcome, sent_at, task_name="restartInstance")
    result = outcome.task_wait.as_result()
    assert outcome.message is None and result["task"]["id"] == "r-new" and result["status"] == "SUCCESS"


def test_without_a_job_id_or_a_name_nothing_is_waited_for_and_the_answer_is_shown(clock):
    dms, change = runner(clock, [])
    outcome = ChangeOutcome()
    sent_at = change.send(Calls(clock, [accepted(None)]), outcome, wait_when_busy=False)
    change.wait_for_task(outcome, sent_at)
    assert outcome.task_wait is None and dms.calls == 0
    assert outcome.message == ("wait: the answer (HTTP 200) has no job_id to wait for; its body: {'results': []}. Give wait_for_name"
                               " to wait for the newest task of that name created since the call")
