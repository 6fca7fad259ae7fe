# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A change in one step on the fake clock and fake DMS (tests/unit/fakes.py): sent again once the instance is free, then
waited for; its answer read as DMS documents it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.changes import (
    RESEND_MAX_PAUSE, ChangeOutcome, ChangeRunner, answer_job_id, batch_results, is_batch_action,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ApiError, NotSentError, RetriesExhausted, TransportError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpAnswer
from ansible_collections.hwcloud.dms.plugins.module_utils.refusals import NOT_NOW, PRECONDITIONS, refusal_of
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import WaitListener, WaitPhase
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeClock, FakeDms, FakeTask

BUSY_CODE = "DMS.00400017"


def refused(code, status=400):
    return HttpAnswer(status, "req-%s" % code, {"error_code": code, "error_msg": "Refused."}, ApiError(status, code, "Refused.", "req-%s" % code))


BUSY = refused(BUSY_CODE)


def accepted(job_id="j-1"):
    return HttpAnswer(200, "req-ok", {"job_id": job_id} if job_id else {"results": []}, None)


def batch(*results):
    """The batch action's answer: (instance, result) pairs."""
    return HttpAnswer(200, "req-batch", {"results": [{"instance": ident, "result": result} for ident, result in results]}, None)


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


def runner(clock, tasks, timeout=600.0, batch_action=False, **instance):
    dms = FakeDms(clock, tasks, **instance)
    return dms, ChangeRunner(dms, INSTANCE, timeout, batch=batch_action, clock=clock)


def test_the_refusals_for_now_and_the_preconditions_are_told_apart():
    for code in ("DMS.00400017", "DMS.00400026", "DMS.00400108", "CBC.99003651"):
        assert refusal_of(refused(code).error, NOT_NOW).code == code and refusal_of(refused(code).error, PRECONDITIONS) is None
    for code in ("DMS.00400052", "DMS.00400099"):
        assert refusal_of(refused(code).error, NOT_NOW) is None and refusal_of(refused(code).error, PRECONDITIONS).code == code
    assert refusal_of(refused("DMS.00400071").error, NOT_NOW) is None
    assert refusal_of(refused(BUSY_CODE, status=403).error, NOT_NOW) is None, "only a 400 of that code is a refusal for now"
    assert refusal_of(None, NOT_NOW) is None
    assert answer_job_id({"job_id": " "}) is None and answer_job_id({"job_id": "j"}) == "j" and answer_job_id(None) is None


def test_the_batch_action_and_its_documented_answer():
    assert is_batch_action("POST", ["v2", "{project_id}", "instances", "action"])
    assert not is_batch_action("PUT", ["v2", "{project_id}", "instances", "action"])
    assert not is_batch_action("POST", ["v2", "{project_id}", "instances", "i-1", "action"])
    assert batch_results({"results": [{"instance": "a", "result": "success"}, {"instance": "b", "result": "failed"}]}) == (["a"], ["b"])
    for body in (None, {}, {"results": []}, {"results": "x"}, {"results": [{"instance": "a", "result": "ok"}]}, {"results": [{"result": "success"}]}):
        with pytest.raises(ValueError):
            batch_results(body)


def test_refused_as_busy_it_waits_for_idle_and_sends_again_until_accepted(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING"), (20, "SUCCESS")])])
    # Once the instance is idle, another job's change gets in first and runs for 30 s.
    calls = ChangeOfDms(clock, dms, racing={2: lambda now: FakeTask("race", "restartInstance", [(now, "EXECUTING"), (now + 30, "SUCCESS")])})
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.answer.status == 200 and outcome.refusals == 2 and outcome.message is None
    # Sent again only once the instance was idle: after the first task ended, then after the racing one did.
    assert calls.sent_at[0] == 0 and calls.sent_at[1] >= 20 and calls.sent_at[2] >= calls.sent_at[1] + 30


class PhaseRecorder(WaitListener):
    """Which phase each wait of a change was heard in, and from when; and the refusals."""

    def __init__(self, heard=None, phase=None):
        self.heard = [] if heard is None else heard
        self._phase = phase

    def phase(self, phase, offset):
        self.heard.append(("wait", phase, offset))
        return PhaseRecorder(self.heard, phase)

    def refused_for_now(self, refusal, times, waiting, elapsed):
        self.heard.append(("refused", times, waiting, elapsed))

    def status_changed(self, task, previous, elapsed, progress):
        self.heard.append((self._phase, task["id"], task["status"]))


def test_the_listener_hears_the_refusal_the_queue_and_the_own_task_in_turn(clock):
    dms = FakeDms(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING"), (20, "SUCCESS")])])
    listener = PhaseRecorder()
    change = ChangeRunner(dms, INSTANCE, 600.0, listener=listener, clock=clock)
    calls = ChangeOfDms(clock, dms)
    outcome = ChangeOutcome()
    sent_at = change.send(calls, outcome, wait_when_busy=True)
    dms.tasks.append(FakeTask("j-1", "kafkaConfigModify", [(clock.t, "EXECUTING"), (clock.t + 5, "SUCCESS")]))
    change.wait_for_task(outcome, sent_at)
    heard = listener.heard
    assert heard[0] == ("refused", 1, True, 0.0) and heard[1] == ("wait", WaitPhase.QUEUED, 0.0)
    assert (WaitPhase.QUEUED, "other", "EXECUTING") in heard and (WaitPhase.QUEUED, "other", "SUCCESS") in heard
    own = heard.index(next(entry for entry in heard if entry[:2] == ("wait", WaitPhase.OWN_TASK)))
    assert heard[own][2] == pytest.approx(calls.sent_at[1]), "the own task's wait began when the change was taken"
    assert heard[own + 1:] == [(WaitPhase.OWN_TASK, "j-1", "EXECUTING"), (WaitPhase.OWN_TASK, "j-1", "SUCCESS")]
    busy_wait = outcome.busy_wait()
    assert busy_wait["elapsed"] == pytest.approx(calls.sent_at[1]) and busy_wait["instance_statuses"] == []
    assert [(task["id"], task["status"]) for task in busy_wait["tasks"]] == [("other", "SUCCESS")]


def test_a_change_that_never_queued_has_no_busy_wait(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING")])])
    outcome = ChangeOutcome()
    change.send(Calls(clock, [accepted()]), outcome, wait_when_busy=True)
    assert outcome.busy_wait() is None
    refused_once = ChangeOutcome()
    change.send(Calls(clock, [BUSY]), refused_once, wait_when_busy=False)
    assert refused_once.refusals == 1 and refused_once.busy_wait() is None, "refused without waiting: nothing was waited behind"


def test_refused_as_busy_without_waiting_returns_the_refusal(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING")])])
    calls = Calls(clock, [BUSY])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=False)
    assert outcome.answer is BUSY and outcome.refusals == 1 and outcome.idle_wait is None
    assert dms.kinds() == ["instance"], "one read of the instance's status, to explain the refusal"


def test_an_instance_that_stays_busy_ends_the_change_at_the_deadline(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING")])], timeout=60.0)
    calls = Calls(clock, [BUSY])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.idle_wait.timed_out and clock.t == pytest.approx(60.0)
    assert outcome.message.startswith("Refused 1 time for now (DMS.00400017 (another task of the instance is still running)), and the"
                                      " instance did not become free: Timed out after 60 s")
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
    sent_at = change.send(Calls(clock, [accepted(None)]), outcome, wait_when_busy=False, task_name="restartInstance")
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


@pytest.mark.parametrize("code", sorted(NOT_NOW))
def test_every_refusal_for_now_is_waited_out_and_sent_again(clock, code):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING"), (30, "SUCCESS")])])
    calls = Calls(clock, [refused(code), accepted()])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.changed and outcome.refusals == 1 and outcome.message is None and 30 <= calls.sent_at[1] <= 40


def test_a_status_refusal_waits_until_the_instance_is_running_again_though_no_task_runs(clock):
    dms, change = runner(clock, [], instance_status=[(0, "RESTARTING"), (200, "RUNNING")])
    calls = Calls(clock, [refused("DMS.00400026"), accepted()])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.changed and 200 <= calls.sent_at[1] <= 210 and outcome.instance_status == "RUNNING"
    assert outcome.busy_wait() == {"elapsed": calls.sent_at[1], "tasks": [], "instance_statuses": ["RESTARTING"]}


def test_a_refusal_with_nothing_visible_behind_it_is_sent_again_after_growing_pauses(clock):
    """An order in billing holds the instance where neither its tasks nor its status show it."""
    dms, change = runner(clock, [])
    calls = Calls(clock, [refused("CBC.99003651")] * 5 + [accepted()])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.changed and outcome.refusals == 5
    gaps = [later - earlier for earlier, later in zip(calls.sent_at, calls.sent_at[1:])]
    assert gaps == pytest.approx([2.0, 4.0, 8.0, RESEND_MAX_PAUSE, RESEND_MAX_PAUSE])


def test_a_refusal_that_outlasts_the_deadline_ends_the_change_there(clock):
    dms, change = runner(clock, [], timeout=30.0)
    calls = Calls(clock, [refused("DMS.00400108")] * 10)
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert not outcome.changed and clock.t <= 30.0 and outcome.idle_wait is not None
    assert "until wait_timeout" in outcome.message and "DMS.00400108" in outcome.message


@pytest.mark.parametrize("status", ["FROZEN", "ERROR"])
def test_a_refusal_on_an_instance_no_wait_frees_ends_at_once(clock, status):
    dms, change = runner(clock, [], instance_status=status)
    calls = Calls(clock, [refused("DMS.00400026")])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert len(calls.sent_at) == 1 and clock.sleeps == [] and status in outcome.message and "failed at once" in outcome.message


@pytest.mark.parametrize("code", sorted(PRECONDITIONS))
def test_a_precondition_is_never_waited_on(clock, code):
    dms, change = runner(clock, [], instance_status="RESTARTING")
    outcome = ChangeOutcome()
    change.send(Calls(clock, [refused(code)]), outcome, wait_when_busy=True)
    assert outcome.refusals == 0 and outcome.refusal is None and dms.calls == 0 and not outcome.changed


def test_without_waiting_a_refusal_is_explained_with_the_instance_status(clock):
    dms, change = runner(clock, [], instance_status="RESTARTING")
    outcome = ChangeOutcome()
    change.send(Calls(clock, [refused("DMS.00400026")]), outcome, wait_when_busy=False)
    assert outcome.refusals == 1 and dms.kinds() == ["instance"] and not outcome.changed
    assert outcome.explain_refusal() == ("DMS.00400026 (the instance's status does not allow the operation now (restarting, resizing, ...));"
                                         " the instance is RESTARTING")


def test_a_status_read_that_fails_leaves_the_refusal_unexplained_not_failed(clock):
    dms, change = runner(clock, [])
    dms.fault_when = lambda kind, number, t: RetriesExhausted(TransportError("refused", "GET", "http://127.0.0.1:9/"), 3)
    outcome = ChangeOutcome()
    change.send(Calls(clock, [refused("DMS.00400026")]), outcome, wait_when_busy=False)
    assert outcome.instance_status is None and outcome.explain_refusal().startswith("DMS.00400026")


def test_a_batch_action_refused_for_the_busy_instance_is_sent_again_once_it_is_free(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING"), (30, "SUCCESS")])], batch_action=True)
    calls = Calls(clock, [batch((INSTANCE, "failed")), batch((INSTANCE, "success"))])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.changed and outcome.refusals == 1 and outcome.message is None and calls.sent_at[1] >= 30


def test_a_batch_action_refused_though_nothing_holds_the_instance_fails_instead_of_looping(clock):
    dms, change = runner(clock, [], batch_action=True)
    calls = Calls(clock, [batch((INSTANCE, "failed"))])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert not outcome.changed and len(calls.sent_at) == 1
    assert outcome.message == "DMS refused it for %s (result failed), though nothing visible holds the instance: it is RUNNING and no task" \
                              " runs" % INSTANCE


def test_a_batch_action_refused_without_waiting_says_so_with_the_status(clock):
    dms, change = runner(clock, [], batch_action=True, instance_status="RESTARTING")
    outcome = ChangeOutcome()
    change.send(Calls(clock, [batch((INSTANCE, "failed"))]), outcome, wait_when_busy=False)
    assert not outcome.changed and outcome.message == "DMS refused it for %s (result failed); the instance is RESTARTING" % INSTANCE


def test_a_batch_action_taken_for_some_instances_is_changed_and_never_sent_again(clock):
    dms, change = runner(clock, [], batch_action=True)
    calls = Calls(clock, [batch(("other-instance", "success"), (INSTANCE, "failed"))])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert outcome.changed and len(calls.sent_at) == 1 and dms.calls == 0
    assert outcome.message == "DMS refused it for %s (result failed); it took it for other-instance, so it is not sent again" % INSTANCE


def test_a_batch_action_of_several_instances_is_not_sent_again(clock):
    dms, change = runner(clock, [], batch_action=True)
    calls = Calls(clock, [batch(("other-instance", "failed"), (INSTANCE, "failed"))])
    outcome = ChangeOutcome()
    change.send(calls, outcome, wait_when_busy=True)
    assert not outcome.changed and len(calls.sent_at) == 1 and "names one instance" in outcome.message


@pytest.mark.parametrize("body", [{}, {"results": []}, {"job_id": "j-1"}, {"results": [{"instance": INSTANCE, "result": "pending"}]}])
def test_a_batch_answer_dms_does_not_document_is_no_success(clock, body):
    dms, change = runner(clock, [], batch_action=True)
    outcome = ChangeOutcome()
    change.send(Calls(clock, [HttpAnswer(200, "r", body, None)]), outcome, wait_when_busy=True)
    assert not outcome.changed and outcome.refusals == 0
    assert outcome.message.startswith("the batch action answered HTTP 200 with a body it does not document")
    assert "whether DMS took the change is not known" in outcome.message


def test_a_controller_clock_ahead_of_the_cloud_still_finds_the_task_the_change_started(clock):
    """The cloud dates the task five minutes before what the controller calls the moment of sending."""
    mine = FakeTask("r-new", "restartInstance", [(2, "EXECUTING"), (9, "SUCCESS")])
    dms, change = runner(clock, [mine])
    clock.skew = timedelta(minutes=5)
    outcome = ChangeOutcome()
    sent_at = change.send(Calls(clock, [accepted(None)]), outcome, wait_when_busy=False, task_name="restartInstance")
    change.wait_for_task(outcome, sent_at, task_name="restartInstance")
    assert outcome.message is None and outcome.task_wait.as_result()["task"]["id"] == "r-new"


def test_a_task_of_the_name_that_was_there_before_the_call_is_never_taken_for_its_task(clock):
    """Within the clock skew allowance, but read before the call: the change's own task is the one that comes after."""
    earlier = FakeTask("r-earlier", "restartInstance", [(-120, "EXECUTING"), (-60, "SUCCESS")])
    mine = FakeTask("r-new", "restartInstance", [(20, "EXECUTING"), (29, "SUCCESS")])
    dms, change = runner(clock, [earlier, mine])
    outcome = ChangeOutcome()
    sent_at = change.send(Calls(clock, [accepted(None)]), outcome, wait_when_busy=False, task_name="restartInstance")
    change.wait_for_task(outcome, sent_at, task_name="restartInstance")
    assert outcome.message is None and outcome.task_wait.as_result()["task"]["id"] == "r-new" and clock.t >= 29


def test_a_failed_read_before_the_call_means_nothing_was_sent(clock):
    dms, change = runner(clock, [])
    dms.fault_when = lambda kind, number, t: RetriesExhausted(TransportError("refused", "GET", "http://127.0.0.1:9/"), 3)
    calls = Calls(clock, [accepted(None)])
    with pytest.raises(NotSentError):
        change.send(calls, ChangeOutcome(), wait_when_busy=False, task_name="restartInstance")
    assert calls.sent_at == []


def test_the_preview_names_what_would_refuse_the_change_now(clock):
    dms, change = runner(clock, [FakeTask("other", "resizeInstance", [(-5, "EXECUTING")])], instance_status="EXTENDING")
    preview = change.preview()
    assert preview.instance_status == "EXTENDING" and [task["id"] for task in preview.running_tasks] == ["other"]
    assert preview.obstacles() == ["resizeInstance (ID other) EXECUTING", "the instance is EXTENDING"] and preview.broken() is None
    dms, change = runner(clock, [], instance_status="FROZEN")
    assert change.preview().broken().startswith("FROZEN: ")
    dms, change = runner(clock, [FakeTask("done", "resizeInstance", [(-50, "SUCCESS")])])
    assert change.preview().obstacles() == [] and "progress" not in dms.kinds()
