# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The polling engine of wait_for_task on a fake clock and a fake DMS: schedule, deadline, stop rules, cost.

Nothing here sleeps for real: the fake clock's sleep() moves fake time on and records the pause, and the
fake client's tasks follow timelines in that fake time (status by time, appearing late, vanishing).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, EndpointNotFoundError, IncompleteListingError, MalformedAnswerError, MalformedIdError, RetriesExhausted,
    TransportError,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import (
    FINAL_POLL_GRACE, HEARTBEAT, NOT_FOUND_GRACE, PROGRESS_QUIET_BEFORE_DEADLINE, PollSchedule, WaitListener,
)
from ansible_collections.hwcloud.dms.tests.unit.fakes import EPS, INSTANCE, NEUTRAL, FakeClock, FakeDms, FakeTask, old_tasks, waiter_for


# ---------------------------------------------------------------------------------------------------------
# A recording listener, the errors of a poll, the fixtures


class Recorder(WaitListener):
    """Keeps every listener event: (event, fake t, details...)."""

    def __init__(self, clock):
        self.clock = clock
        self.events = []

    def status_changed(self, task, previous, elapsed, progress):
        self.events.append(("changed", self.clock.t, task["id"], previous, task["status"], elapsed, progress))

    def still_waiting(self, tasks, elapsed, seconds_left):
        self.events.append(("still", self.clock.t, [task["id"] for task in tasks], elapsed, seconds_left))

    def poll_failed(self, error, elapsed):
        self.events.append(("failed", self.clock.t, error, elapsed))

    def polled(self, tasks, elapsed, calls):
        self.events.append(("polled", self.clock.t, len(tasks), elapsed, calls))

    def progress_failed(self, error, elapsed):
        self.events.append(("progress_failed", self.clock.t, error, elapsed))

    def instance_changed(self, status, previous, elapsed):
        self.events.append(("instance", self.clock.t, previous, status, elapsed))

    def of(self, event):
        return [item for item in self.events if item[0] == event]


def transient(message="Backend unavailable."):
    """A poll whose retries all got an answer, and none a usable one: the endpoint is right, the service is not well."""
    return RetriesExhausted(ApiError(503, "APIG.0202", message, "req-503", "GET", "/v2/p/instances/i/tasks"), 3)


def unreachable(reason="ConnectionError (Connection refused)"):
    """A poll whose retries never got an HTTP answer."""
    return RetriesExhausted(TransportError(reason, "GET", "http://127.0.0.1:9/v2/p/instances/i/tasks"), 6)


def auth_error():
    return AuthenticationError(401, "APIG.0301", "Incorrect IAM authentication information", "req-1", "GET", "/v2/p/instances/i/tasks")


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch):
    def forbidden(seconds):
        raise AssertionError("real time.sleep(%r) called" % seconds)
    monkeypatch.setattr(time, "sleep", forbidden)


@pytest.fixture
def clock():
    return FakeClock()


def make(clock, tasks=(), rng=NEUTRAL, progress=None, fail_cost=0.0, **options):
    """A fake DMS, a recording listener and a waiter on the fake clock. ``rng``: a value or a callable."""
    dms = FakeDms(clock, tasks, progress=progress, fail_cost=fail_cost)
    listener = Recorder(clock)
    clock.random = rng if callable(rng) else (lambda: rng)
    return dms, listener, waiter_for(dms, clock, listener, **options)


def nominal_pauses(count, max_pause=10.0):
    pauses, pause = [], 2.0
    for step in range(count):
        pauses.append(min(max_pause, pause))
        pause *= 2
    return pauses


# ---------------------------------------------------------------------------------------------------------
# Schedule


def test_schedule_starts_at_two_seconds_doubles_and_caps():
    schedule = PollSchedule(10.0, rng=lambda: NEUTRAL)
    pauses = [schedule.next_pause() for step in range(8)]
    assert pauses == pytest.approx([2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 10.0])


@pytest.mark.parametrize("value, factor", [(0.0, 0.9), (0.25, 0.95), (0.75, 1.05), (0.999999, 1.1)])
def test_schedule_jitters_the_ramp_only(value, factor):
    asked = []

    def rng():
        asked.append(1)
        return value

    schedule = PollSchedule(10.0, rng=rng)
    pauses = [schedule.next_pause() for step in range(12)]
    assert len(asked) == 3
    # At the cap every pause is exactly max_pause: jitter there could only shorten pauses and add requests.
    assert pauses[:3] == pytest.approx([2.0 * factor, 4.0 * factor, 8.0 * factor], rel=1e-5)
    assert pauses[3:] == [10.0] * 9


@pytest.mark.parametrize("max_pause", [10.0, 3.0, 2.0, 1.0])
@pytest.mark.parametrize("value", [0.0, 0.5, 0.999999])
def test_schedule_stays_within_jitter_and_never_exceeds_max_pause(max_pause, value):
    schedule = PollSchedule(max_pause, rng=lambda: value)
    for nominal in nominal_pauses(15, max_pause):
        pause = schedule.next_pause()
        assert nominal * 0.9 - EPS <= pause <= nominal * 1.1 + EPS
        assert pause <= max_pause + EPS  # "sleep: the longest pause between polls"


@pytest.mark.parametrize("max_pause", [1.0, 0.4])
def test_schedule_with_max_pause_below_the_first_pause_is_exact(max_pause):
    schedule = PollSchedule(max_pause, rng=lambda: 0.0)
    assert [schedule.next_pause() for step in range(5)] == [max_pause] * 5


def test_schedule_reaches_the_cap_and_stays_there_over_a_long_wait():
    schedule = PollSchedule(3600.0, rng=lambda: NEUTRAL)
    pauses = [schedule.next_pause() for step in range(2000)]
    assert pauses[:11] == pytest.approx(nominal_pauses(11, 3600.0))
    assert pauses[11:] == [3600.0] * 1989


def test_wait_sleeps_follow_the_schedule(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (200, "SUCCESS")])], task_ids=["t1"])
    outcome = waiter.wait()
    assert not outcome.failed
    assert clock.sleeps[:9] == pytest.approx(nominal_pauses(9))
    assert max(clock.sleeps) == pytest.approx(10.0)
    assert dms.poll_times()[:6] == pytest.approx([0.0, 2.0, 6.0, 14.0, 24.0, 34.0])


def test_wait_jitters_each_pause_with_the_rng(clock):
    values = iter([0.0, 0.999999] * 50)
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (60, "SUCCESS")])], task_ids=["t1"],
                                 rng=lambda: next(values))
    waiter.wait()
    nominal = nominal_pauses(len(clock.sleeps))
    assert clock.sleeps[:3] == pytest.approx([2.0 * 0.9, 4.0 * 1.1, 8.0 * 0.9], rel=1e-5)
    assert clock.sleeps[3:] == [10.0] * (len(clock.sleeps) - 3)
    for pause, expected in zip(clock.sleeps, nominal):
        assert expected * 0.9 - EPS <= pause <= expected * 1.1 + EPS


def test_wait_with_max_pause_below_one_second(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (3, "SUCCESS")])], task_ids=["t1"], max_pause=0.25)
    outcome = waiter.wait()
    assert set(round(pause, 6) for pause in clock.sleeps) == {0.25}
    assert outcome.elapsed == pytest.approx(3.0)


@pytest.mark.parametrize("value", [0.0, 0.5, 0.999999])
def test_task_ending_four_seconds_in_is_reported_within_about_two_seconds(clock, value):
    dms = FakeDms(clock, [FakeTask("job-1", "kafkaInstanceResize", [(-20, "CREATED"), (-10, "EXECUTING"), (4, "SUCCESS")])])
    # Default options: only the clock (time, sleep and random numbers) is injected.
    clock.random = lambda: value
    waiter = waiter_for(dms, clock, task_ids=["job-1"])
    outcome = waiter.wait()
    assert outcome.as_result()["status"] == "SUCCESS"
    assert not outcome.failed and not outcome.timed_out
    lag = outcome.elapsed - 4.0
    assert 0 <= lag <= (2.0 if value == NEUTRAL else 2.6 + EPS)  # 1.1 x (2 + 4) = 6.6 at the most
    assert dms.reads() == ["get"] * 3


# ---------------------------------------------------------------------------------------------------------
# Deadline


@pytest.mark.parametrize("timeout", [1.0, 7.0, 45.0, 100.0])
@pytest.mark.parametrize("value", [0.0, 0.5, 0.999999])
def test_timeout_ends_the_wait_at_the_deadline_without_sleeping_past_it(clock, timeout, value):
    dms, listener, waiter = make(clock, [FakeTask("t1", "kafkaInstanceResize", [(-5, "EXECUTING")])], task_ids=["t1"], timeout=timeout, rng=value)
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.failed
    assert sum(clock.sleeps) <= timeout + EPS
    assert outcome.elapsed == pytest.approx(timeout)
    assert dms.poll_times()[-1] == pytest.approx(timeout)  # the last poll is at the deadline, not before it
    assert "t1" in outcome.message and "kafkaInstanceResize" in outcome.message
    assert "EXECUTING" in outcome.message and "%.0f s" % timeout in outcome.message and INSTANCE in outcome.message
    result = outcome.as_result()
    assert result["timed_out"] is True and result["status"] == "EXECUTING"


def test_delay_is_slept_before_the_first_poll(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (30, "SUCCESS")])], task_ids=["t1"], delay=5.0)
    outcome = waiter.wait()
    assert clock.sleeps[0] == 5.0
    assert dms.poll_times()[0] == pytest.approx(5.0)
    assert clock.sleeps[1:5] == pytest.approx([2.0, 4.0, 8.0, 10.0])
    assert not outcome.failed and outcome.elapsed >= 30


def test_delay_and_pauses_together_stay_within_the_timeout(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], task_ids=["t1"], delay=8.0, timeout=20.0)
    outcome = waiter.wait()
    assert outcome.timed_out
    assert clock.sleeps[0] == 8.0
    assert sum(clock.sleeps) <= 20.0 + EPS
    assert dms.poll_times()[-1] == pytest.approx(20.0)


def test_delay_beyond_the_timeout_is_cut_to_it(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], task_ids=["t1"], delay=100.0, timeout=10.0)
    outcome = waiter.wait()
    assert clock.sleeps == [10.0]
    assert dms.poll_times() == [10.0]
    assert outcome.timed_out


def test_every_call_gets_the_deadline_plus_the_final_poll_grace(clock):
    clock.advance(50)  # the wait does not start at t=0 of the clock
    tasks = [FakeTask("a", "x", [(0, "EXECUTING"), (55, "SUCCESS")]), FakeTask("b", "y", [(1, "EXECUTING"), (70, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"], timeout=60.0)
    waiter.wait()
    assert dms.deadlines and set(dms.deadlines) == {1050.0 + 60.0 + FINAL_POLL_GRACE}


def test_timeout_by_name_says_what_it_waited_for(clock):
    after = clock.wall_at(0)
    dms, listener, waiter = make(clock, [], name="kafkaConfigModify", created_after=after, timeout=30.0)
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.failed
    assert "kafkaConfigModify" in outcome.message and after.isoformat() in outcome.message
    assert "no such task seen" in outcome.message and "30 s" in outcome.message


def test_timeout_of_the_gate_names_the_running_tasks(clock):
    tasks = [FakeTask("a", "resize", [(-3, "EXECUTING")]), FakeTask("b", "bindEip", [(-2, "CREATED")])]
    dms, listener, waiter = make(clock, tasks, timeout=12.0, idle=True)
    outcome = waiter.wait()
    assert outcome.timed_out
    assert "every CREATED or EXECUTING task" in outcome.message
    assert "resize (ID a) EXECUTING" in outcome.message and "bindEip (ID b) CREATED" in outcome.message


# ---------------------------------------------------------------------------------------------------------
# Stop rules


def test_success_ends_the_wait(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "CREATED"), (2, "EXECUTING"), (9, "SUCCESS")])], task_ids=["t1"])
    outcome = waiter.wait()
    assert not outcome.failed and not outcome.timed_out
    assert "resize (ID t1) SUCCESS" in outcome.message
    assert outcome.as_result()["status"] == "SUCCESS"
    assert outcome.elapsed == pytest.approx(dms.poll_times()[-1])
    assert dms.poll_times()[-2] < 9 <= dms.poll_times()[-1]  # stopped at the first poll that saw it


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED", "DELETED"])
def test_each_bad_status_fails_with_name_id_status_and_elapsed(clock, status):
    dms, listener, waiter = make(clock, [FakeTask("job-7", "kafkaInstanceResize", [(0, "EXECUTING"), (5, status)])], task_ids=["job-7"])
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out
    assert outcome.elapsed == pytest.approx(6.0)
    for part in ("kafkaInstanceResize", "job-7", status, "6.0 s"):
        assert part in outcome.message
    assert outcome.as_result()["status"] == status


STEPS = [{"name": "Check", "statue": "COMPLETED"}, {"name": "Restart the brokers", "statue": "failed"}, {"name": "Verify", "statue": "WAITING"}]


def test_a_failed_task_names_the_step_its_progress_says_failed(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (5, "FAILED")])], task_ids=["t1"],
                                 progress={"t1": {"progress_percentage": 60, "step_list": STEPS}})
    outcome = waiter.wait()
    assert outcome.message.endswith("ended FAILED after 6.0 s at step Restart the brokers")
    assert outcome.as_result()["failed_step"] == STEPS[1]
    assert dms.kinds().count("progress") == 2, "once as it started, once as it failed"


@pytest.mark.parametrize("progress", [None, {"step_list": [{"name": "Check", "statue": "COMPLETED"}]}, {"step_list": [{"statue": "FAILED"}]},
                                      ApiError(400, "DMS.00400001", "No.", "r")],
                         ids=["none", "no failed step", "failed step without a name", "refused"])
def test_a_failed_task_without_a_failed_step_fails_as_before(clock, progress):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "CREATED"), (5, "FAILED")])], task_ids=["t1"], progress={"t1": progress})
    outcome = waiter.wait()
    assert outcome.failed and outcome.message.endswith("ended FAILED after 6.0 s") and "failed_step" not in outcome.as_result()


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED", "DELETED", "SUCCESS"])
def test_empty_fail_on_status_never_fails_on_status(clock, status):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (5, status)])], task_ids=["t1"], fail_on_status=[])
    outcome = waiter.wait()
    assert not outcome.failed and not outcome.timed_out
    assert outcome.as_result()["status"] == status


def test_fail_on_status_is_honoured_as_given(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (5, "CANCELLED")])], task_ids=["t1"], fail_on_status=["FAILED"])
    assert not waiter.wait().failed


def test_one_failing_task_of_several_stops_the_wait_at_once(clock):
    tasks = [FakeTask("a", "resize", [(0, "EXECUTING"), (500, "SUCCESS")]), FakeTask("b", "bindEip", [(0, "EXECUTING"), (3, "FAILED")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"])
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out
    assert outcome.elapsed == pytest.approx(6.0)
    assert "bindEip" in outcome.message and "(ID b)" in outcome.message and "FAILED" in outcome.message
    assert {task["id"]: task["status"] for task in outcome.tasks} == {"a": "EXECUTING", "b": "FAILED"}
    assert len(dms.polls()) == 3


def test_several_tasks_all_successful(clock):
    tasks = [FakeTask("a", "resize", [(0, "EXECUTING"), (12, "SUCCESS")]), FakeTask("b", "bindEip", [(0, "EXECUTING"), (3, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"])
    outcome = waiter.wait()
    assert not outcome.failed
    assert outcome.elapsed >= 12
    assert [task["status"] for task in outcome.tasks] == ["SUCCESS", "SUCCESS"]


def test_single_task_seen_then_gone_counts_as_deleted_and_fails(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (6, None)])], task_ids=["t1"])
    outcome = waiter.wait()
    assert outcome.failed
    assert outcome.as_result()["status"] == "DELETED"
    assert "DELETED" in outcome.message and "resize" in outcome.message and "t1" in outcome.message
    assert [entry["status"] for entry in outcome.history] == ["EXECUTING", "DELETED"]
    assert [event[3:5] for event in listener.of("changed")] == [(None, "EXECUTING"), ("EXECUTING", "DELETED")]
    assert set(dms.reads()) == {"get"}


def test_several_tasks_one_gone_counts_as_deleted(clock):
    tasks = old_tasks(30) + [FakeTask("a", "resize", [(0, "EXECUTING"), (40, "SUCCESS")]), FakeTask("b", "bindEip", [(0, "EXECUTING"), (4, None)])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"])
    outcome = waiter.wait()
    assert outcome.failed
    assert {task["id"]: task["status"] for task in outcome.tasks} == {"a": "EXECUTING", "b": "DELETED"}


def test_finished_task_that_vanishes_keeps_its_final_status(clock):
    tasks = [FakeTask("a", "resize", [(0, "EXECUTING"), (2, "SUCCESS"), (3, None)]), FakeTask("b", "bindEip", [(0, "EXECUTING"), (8, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"])
    outcome = waiter.wait()
    assert not outcome.failed
    assert {task["id"]: task["status"] for task in outcome.tasks} == {"a": "SUCCESS", "b": "SUCCESS"}


def test_check_asks_no_progress(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(-5, "EXECUTING")])], task_ids=["t1"], progress={"t1": {"progress_percentage": 10}})
    waiter.check()
    assert dms.calls == 1 and dms.asked("progress") == []


def test_gone_task_with_empty_fail_on_status_ends_as_deleted(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (6, None)])], task_ids=["t1"], fail_on_status=[])
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "DELETED"


@pytest.mark.parametrize("task_ids", [["typo"], ["typo", "a"]])
def test_id_never_seen_fails_after_the_grace_not_before(clock, task_ids):
    dms, listener, waiter = make(clock, [FakeTask("a", "resize", [(0, "EXECUTING")])], task_ids=task_ids)
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out
    assert "typo" in outcome.message and INSTANCE in outcome.message
    assert NOT_FOUND_GRACE == 30.0
    assert 30.0 <= outcome.elapsed < 30.0 + 10.0
    assert dms.poll_times()[-2] < 30.0  # polls before the grace did not end it


def test_id_never_seen_with_a_timeout_below_the_grace_ends_at_the_timeout(clock):
    dms, listener, waiter = make(clock, [], task_ids=["typo"], timeout=10.0)
    outcome = waiter.wait()
    assert outcome.failed and outcome.timed_out and "typo" in outcome.message and "Timed out" in outcome.message
    assert outcome.elapsed == pytest.approx(10.0) and sum(clock.sleeps) <= 10.0 + EPS
    assert dms.poll_times()[-1] == pytest.approx(10.0)


def test_id_appearing_within_the_grace_is_waited_for(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(25, "EXECUTING"), (90, "SUCCESS")])], task_ids=["t1"])
    outcome = waiter.wait()
    assert not outcome.failed and outcome.elapsed >= 90
    assert outcome.history[0]["status"] == "EXECUTING"


def test_task_already_final_at_start_takes_one_poll(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(-60, "SUCCESS")])], task_ids=["t1"])
    outcome = waiter.wait()
    assert dms.calls == 1 and clock.sleeps == [] and outcome.api_calls == 1
    assert not outcome.failed and outcome.elapsed == 0


def test_several_tasks_already_final_take_one_show_each(clock):
    dms, listener, waiter = make(clock, old_tasks(250) + [FakeTask("a", "x", [(-9, "SUCCESS")]), FakeTask("b", "y", [(-8, "SUCCESS")])],
                                 task_ids=["a", "b"])
    outcome = waiter.wait()
    assert dms.log == [("get", "a", 0.0), ("get", "b", 0.0)] and clock.sleeps == []
    assert not outcome.failed and outcome.polls == 1


# ---------------------------------------------------------------------------------------------------------
# Transient and fatal errors


def test_transient_errors_are_reported_and_the_wait_goes_on(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "CREATED"), (30, "SUCCESS")])], task_ids=["t1"])
    errors = {2: transient("HTTP 503"), 3: transient("connection reset"), 5: transient("HTTP 429")}
    dms.faults.update(errors)
    outcome = waiter.wait()
    assert not outcome.failed and not outcome.timed_out
    assert outcome.as_result()["status"] == "SUCCESS"
    assert [event[2] for event in listener.of("failed")] == [errors[2], errors[3], errors[5]]
    assert outcome.api_calls == dms.calls  # failed polls cost calls too


def test_transient_errors_until_past_the_grace_do_not_fail_a_known_id(clock):
    # The API is down for the first 40 s: the task was never seen, but it was never looked for either.
    tasks = [FakeTask("t1", "resize", [(-5, "EXECUTING"), (60, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], fail_cost=2.0)
    dms.fault_when = lambda kind, number, t: transient() if t < 40 else None
    outcome = waiter.wait()
    assert listener.of("failed")
    assert not outcome.failed, outcome.message
    assert outcome.as_result()["status"] == "SUCCESS"


def test_transient_error_on_the_first_gate_scan_does_not_pass_the_gate(clock):
    dms, listener, waiter = make(clock, [FakeTask("a", "resize", [(-5, "EXECUTING"), (20, "SUCCESS")])], idle=True)
    dms.faults[1] = transient()
    outcome = waiter.wait()
    assert len(listener.of("failed")) == 1
    assert [task["id"] for task in outcome.tasks] == ["a"]
    assert outcome.elapsed >= 20 and not outcome.failed


def test_transient_error_mid_listing_is_retried_at_the_next_poll(clock):
    tasks = old_tasks(150) + [FakeTask("a", "x", [(0, "EXECUTING"), (6, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True)
    dms.faults[2] = transient()  # page 2 of the first gate scan
    outcome = waiter.wait()
    assert len(listener.of("failed")) == 1
    assert not outcome.failed and [task["status"] for task in outcome.tasks] == ["SUCCESS"]
    assert [calls for t, calls in dms.polls()][:2] == [[("list", 1), ("list", 2)], [("list", 1), ("list", 2), ("since", 1)]]


def test_transient_errors_up_to_the_timeout_end_as_a_timeout(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], task_ids=["t1"], timeout=60.0)
    dms.fault_when = lambda kind, number, t: transient()
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.failed
    assert outcome.elapsed == pytest.approx(60.0)
    assert len(listener.of("failed")) == dms.calls


@pytest.mark.parametrize("options", [{"task_ids": ["t1"]}, {"idle": True}, {"name": "resize"}])
def test_an_endpoint_that_never_answered_ends_the_wait_after_the_clients_retries(clock, options):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], fail_cost=20.0, timeout=1800.0, **options)
    dms.fault_when = lambda kind, number, t: unreachable()
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out and dms.calls == 1 and clock.sleeps == []
    assert outcome.message == "Could not read the tasks of instance %s: %s" % (INSTANCE, unreachable())
    assert "Connection refused" in outcome.message and outcome.elapsed == pytest.approx(20.0)


def test_an_endpoint_that_answered_once_is_retried_within_the_timeout_and_the_timeout_names_the_last_error(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], task_ids=["t1"], timeout=120.0)
    dms.fault_when = lambda kind, number, t: unreachable("ReadTimeout (read timeout=30)") if number > 1 else None
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.failed and dms.calls > 5
    last_failed_at = listener.of("failed")[-1][3]
    assert outcome.message.endswith("last seen: resize (ID t1) EXECUTING; the last error, at %.1f s: %s"
                                    % (last_failed_at, unreachable("ReadTimeout (read timeout=30)")))


@pytest.mark.parametrize("answer", [transient(), RetriesExhausted(MalformedAnswerError("HTTP 200 with an answer of an unexpected shape"), 6)],
                         ids=["server error", "malformed answer"])
def test_an_endpoint_that_answers_badly_from_the_start_is_retried_within_the_timeout(clock, answer):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (50, "SUCCESS")])], task_ids=["t1"], timeout=600.0)
    dms.fault_when = lambda kind, number, t: answer if t < 30 else None
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS" and len(listener.of("failed")) >= 2


@pytest.mark.parametrize("options", [{"task_ids": ["t1"]}, {"task_ids": ["t1", "t2"]}, {"idle": True}, {"name": "resize"}])
def test_authentication_error_ends_the_wait_at_once(clock, options):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")]), FakeTask("t2", "x", [(0, "EXECUTING")])], **options)
    dms.fault_when = lambda kind, number, t: auth_error()
    outcome = waiter.wait()
    assert isinstance(outcome.error, AuthenticationError)
    assert outcome.failed and not outcome.timed_out and "APIG.0301" in outcome.message and INSTANCE in outcome.message
    assert dms.calls == 1 and clock.sleeps == [] and not listener.of("failed")
    result = outcome.as_result()
    assert result["error"]["http_status"] == 401 and result["error"]["error_code"] == "APIG.0301"
    assert result["polls"] == 1 and result["tasks"] == [] and result["history"] == []


def test_authentication_error_later_in_the_wait_keeps_what_was_seen(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], task_ids=["t1"])
    dms.faults[4] = auth_error()  # calls 2 and 3 read the instance's engine and ask for progress
    outcome = waiter.wait()
    assert outcome.failed and isinstance(outcome.error, AuthenticationError)
    assert dms.calls == 4
    assert [entry["status"] for entry in outcome.history] == ["EXECUTING"] and outcome.as_result()["status"] == "EXECUTING"


def endpoint_not_found():
    return EndpointNotFoundError(404, "APIG.0101", "The API does not exist", "req-2", "GET", "https://dms.example/v2/p/instances/i/tasks/t1")


def test_no_such_api_on_the_first_poll_is_a_configuration_error_at_once(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING")])], task_ids=["t1"])
    dms.fault_when = lambda kind, number, t: endpoint_not_found()
    outcome = waiter.wait()
    assert outcome.failed and isinstance(outcome.error, EndpointNotFoundError) and not outcome.timed_out
    assert "check endpoint and region" in outcome.message and dms.calls == 1 and clock.sleeps == []


def test_no_such_api_after_good_polls_is_a_gateway_hiccup_not_a_gone_task(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (12, "SUCCESS")])], task_ids=["t1"])
    dms.faults.update({4: endpoint_not_found(), 5: endpoint_not_found()})  # calls 2 and 3 read the engine and ask for progress
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS"
    assert [type(event[2]) for event in listener.of("failed")] == [EndpointNotFoundError, EndpointNotFoundError]
    assert [entry["status"] for entry in outcome.history] == ["EXECUTING", "SUCCESS"]


def test_an_id_the_api_calls_malformed_ends_the_wait_at_once_naming_it(clock):
    error = MalformedIdError(400, "DMS.00400070", "Invalid task ID format.", "req-3", "GET", "/v2/p/instances/i/tasks/x").about("not-an-id")
    dms, listener, waiter = make(clock, [], task_ids=["not-an-id"])
    dms.fault_when = lambda kind, number, t: error
    outcome = waiter.wait()
    assert outcome.failed and outcome.elapsed == 0 and dms.calls == 1
    assert "task_id 'not-an-id' is malformed according to the API" in outcome.message
    assert outcome.as_result()["error"]["error_code"] == "DMS.00400070"


@pytest.mark.parametrize("options", [{}, {"task_ids": []}, {"task_ids": ["a"], "idle": True}, {"name": "x", "task_ids": ["a"]}])
def test_a_wait_must_say_exactly_what_it_waits_for(clock, options):
    with pytest.raises(ValueError, match="exactly one"):
        make(clock, [], **options)


# ---------------------------------------------------------------------------------------------------------
# Cost


def test_one_id_uses_get_task_only(clock):
    dms, listener, waiter = make(clock, old_tasks(300) + [FakeTask("t1", "resize", [(0, "EXECUTING"), (40, "SUCCESS")])], task_ids=["t1"])
    outcome = waiter.wait()
    assert set(dms.reads()) == {"get"} and dms.asked("progress") == ["t1"]
    assert all(calls == [("get", "t1")] for t, calls in dms.polls())
    # Besides the polls: one read of the instance, to know its engine has progress, and the progress call.
    assert outcome.api_calls == dms.calls == len(dms.polls()) + 2 and dms.instance_reads() == [0.0]


def test_several_ids_cost_one_show_per_unfinished_task_per_poll(clock):
    ids = ["n%d" % i for i in range(8)]
    ends = dict((task_id, 20 + 5 * i) for i, task_id in enumerate(ids))
    tasks = old_tasks(250) + [FakeTask(task_id, "job", [(-50 + i, "EXECUTING"), (ends[task_id], "SUCCESS")]) for i, task_id in enumerate(ids)]
    dms, listener, waiter = make(clock, tasks, task_ids=ids)
    outcome = waiter.wait()
    assert not outcome.failed and outcome.elapsed >= 55
    seen_final = set()
    for t, calls in dms.polls():
        assert calls == [("get", task_id) for task_id in ids if task_id not in seen_final]
        seen_final.update(task_id for task_id in ids if ends[task_id] <= t + EPS)
    assert outcome.polls == len(dms.polls())


def test_two_ids_with_one_mistyped_cost_two_shows_per_poll_until_the_grace(clock):
    dms, listener, waiter = make(clock, old_tasks(1000) + [FakeTask("a", "x", [(0, "EXECUTING")])], task_ids=["a", "typo"])
    outcome = waiter.wait()
    assert outcome.failed and "typo" in outcome.message
    assert all(calls == [("get", "a"), ("get", "typo")] for t, calls in dms.polls())


def test_deleted_task_among_several_is_read_until_confirmed_then_never_again(clock):
    tasks = old_tasks(450) + [FakeTask("a", "x", [(0, "EXECUTING"), (60, "SUCCESS")]), FakeTask("b", "y", [(0, "EXECUTING"), (3, None)])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"], fail_on_status=[])
    outcome = waiter.wait()
    assert not outcome.failed
    assert {task["id"]: task["status"] for task in outcome.tasks} == {"a": "SUCCESS", "b": "DELETED"}
    reads_of_b = [t for t, calls in dms.polls() if ("get", "b") in calls]
    gone_reads = [t for t in reads_of_b if t >= 3 - EPS]
    assert len(gone_reads) == 2  # one "not found" is not proof: the next poll confirms it, then b is done
    assert [entry["status"] for entry in outcome.history if entry["id"] == "b"] == ["EXECUTING", "DELETED"]
    assert {"list", "since"}.isdisjoint(dms.kinds())


def test_one_not_found_answer_is_not_gone(clock):
    tasks = [FakeTask("t1", "resize", [(0, "EXECUTING"), (2, None), (2.4, "EXECUTING"), (9, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"])
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS"
    assert "DELETED" not in [entry["status"] for entry in outcome.history]


def test_gate_reads_every_page_first_then_one_page_of_recent_tasks(clock):
    tasks = old_tasks(250) + [FakeTask("a", "resize", [(-30, "EXECUTING"), (12, "SUCCESS")]),
                              FakeTask("b", "bindEip", [(-20, "CREATED"), (3, "EXECUTING"), (25, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True)
    outcome = waiter.wait()
    assert not outcome.failed
    polls = dms.polls()
    assert polls[0][1] == [("list", 1), ("list", 2), ("list", 3), ("since", 1)]
    assert all(calls == [("since", 1)] for t, calls in polls[1:])
    assert {task["id"]: task["status"] for task in outcome.tasks} == {"a": "SUCCESS", "b": "SUCCESS"}
    assert outcome.elapsed >= 25


def test_gate_over_a_thousand_tasks_reads_them_once(clock):
    tasks = old_tasks(1000) + [FakeTask("a", "resize", [(-30, "EXECUTING"), (40, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True)
    outcome = waiter.wait()
    assert not outcome.failed and outcome.elapsed >= 40
    polls = dms.polls()
    assert len(polls[0][1]) == 12  # ten full pages, the one with the last task, and the tasks created since the wait began
    assert all(len(calls) == 1 for t, calls in polls[1:])


def test_gate_reads_an_old_active_task_by_id_after_the_first_poll(clock):
    tasks = old_tasks(120, first_created=-1000) + [FakeTask("stuck", "restart", [(-5000, "EXECUTING"), (14, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True)
    outcome = waiter.wait()
    assert [task["id"] for task in outcome.tasks] == ["stuck"]
    assert outcome.elapsed >= 14
    polls = dms.polls()
    assert polls[0][1] == [("list", 1), ("list", 2), ("since", 1)]
    assert all(calls == [("since", 1), ("get", "stuck")] for t, calls in polls[1:])


def test_gate_tracks_a_new_active_task_appearing_at_the_head(clock):
    tasks = old_tasks(150) + [FakeTask("a", "resize", [(-30, "EXECUTING"), (12, "SUCCESS")]),
                              FakeTask("late", "bindEip", [(8, "CREATED"), (10, "EXECUTING"), (40, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True)
    outcome = waiter.wait()
    assert not outcome.failed
    assert {task["id"]: task["status"] for task in outcome.tasks} == {"a": "SUCCESS", "late": "SUCCESS"}
    assert outcome.elapsed >= 40
    assert all(calls == [("since", 1)] for t, calls in dms.polls()[1:])


def test_gate_reads_the_whole_history_once_and_says_so(clock):
    tasks = old_tasks(250) + [FakeTask("a", "resize", [(-30, "EXECUTING"), (12, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True)
    assert not waiter.wait().failed
    read_all = [listed.read_all for listed in dms.listings]
    assert read_all[0] is True  # its pages may then be fetched a few at a time
    assert not any(read_all[1:])  # "created since" listings stop early: no read-ahead


def test_gate_on_a_truncated_history_is_not_idle(clock):
    dms, listener, waiter = make(clock, old_tasks(250), idle=True, timeout=30.0)
    dms.truncate_after = 2
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.failed and "idle" not in outcome.message
    assert listener.of("failed") and isinstance(listener.of("failed")[0][2], IncompleteListingError)
    assert all(calls[0] == ("list", 1) for t, calls in dms.polls())  # every poll tries the whole history again


def test_gate_passes_once_a_truncated_history_reads_whole(clock):
    dms, listener, waiter = make(clock, old_tasks(250), idle=True)
    dms.truncate_after = 2
    dms.fault_when = lambda kind, number, t: setattr(dms, "truncate_after", 0) if t >= 5 else None
    outcome = waiter.wait()
    assert not outcome.failed and "is idle" in outcome.message and outcome.elapsed >= 5


def test_gate_fails_when_a_tracked_task_fails(clock):
    dms, listener, waiter = make(clock, [FakeTask("a", "resize", [(-30, "EXECUTING"), (6, "FAILED")])], idle=True)
    outcome = waiter.wait()
    assert outcome.failed and "resize" in outcome.message and "FAILED" in outcome.message


def test_gate_ignores_tasks_that_already_ended(clock):
    dms, listener, waiter = make(clock, [FakeTask("old-bad", "resize", [(-300, "FAILED")]), FakeTask("a", "x", [(-10, "EXECUTING"), (5, "SUCCESS")])],
                                 idle=True)
    outcome = waiter.wait()
    assert not outcome.failed
    assert [task["id"] for task in outcome.tasks] == ["a"]


def test_gate_on_an_idle_instance_returns_after_one_scan(clock):
    dms, listener, waiter = make(clock, old_tasks(250) + [FakeTask("bad", "resize", [(-50, "FAILED")])], idle=True)
    outcome = waiter.wait()
    assert not outcome.failed and not outcome.timed_out
    assert dms.log == [("list", 1, 0.0), ("list", 2, 0.0), ("list", 3, 0.0), ("since", 1, 0.0), ("instance", None, 0.0)]
    assert clock.sleeps == [] and outcome.tasks == [] and outcome.api_calls == 5
    assert outcome.as_result()["instance_status"] == "RUNNING" and "RUNNING" in outcome.message


def test_gate_never_passes_on_a_first_poll_that_a_task_created_while_paging_escaped(clock):
    """The new task sits on page 1, read already; the history listing leaves it out, the tasks created since do not."""
    dms, listener, waiter = make(clock, old_tasks(250), idle=True)

    def create_while_paging(kind, number, t):
        if (kind, number) == ("list", 2):
            dms.tasks.append(FakeTask("new", "resize", [(t, "EXECUTING"), (t + 20, "SUCCESS")]))
    dms.fault_when = create_while_paging
    outcome = waiter.wait()
    assert not outcome.failed and [(task["id"], task["status"]) for task in outcome.tasks] == [("new", "SUCCESS")]
    assert outcome.elapsed >= 20 and outcome.polls > 1
    assert dms.polls()[0][1] == [("list", 1), ("list", 2), ("list", 3), ("since", 1)]


# ---------------------------------------------------------------------------------------------------------
# The gate and the instance's status


def test_gate_waits_through_a_restart_that_runs_no_task(clock):
    """RESTARTING with no task CREATED or EXECUTING: the tasks alone would say idle at once."""
    dms, listener, waiter = make(clock, old_tasks(3), idle=True)
    dms.instance_status = [(0, "RESTARTING"), (95, "RUNNING")]
    outcome = waiter.wait()
    assert not outcome.failed and 95 <= clock.t <= 95 + 10
    assert outcome.as_result()["instance_status"] == "RUNNING"
    assert [(event[2], event[3]) for event in listener.of("instance")] == [(None, "RESTARTING"), ("RESTARTING", "RUNNING")]
    # One read of the instance a poll, as each poll found no task running.
    assert dms.instance_reads() == dms.poll_times()


def test_gate_reads_the_instance_only_on_polls_that_find_no_task_running(clock):
    dms, listener, waiter = make(clock, [FakeTask("a", "resize", [(-10, "EXECUTING"), (41, "SUCCESS")])], idle=True)
    dms.instance_status = [(0, "EXTENDING"), (50, "RUNNING")]
    outcome = waiter.wait()
    assert not outcome.failed and 50 <= clock.t <= 60
    running_polls = [t for t in dms.poll_times() if t < 41]
    # The progress call reads the instance once (its engine), at the first poll; then none until the task has ended.
    assert [t for t in dms.instance_reads() if t < 41] == running_polls[:1]
    assert all(t >= 41 for t in dms.instance_reads()[1:])
    # What that read for the engine saw is no news of the gate's: the status is told once no task runs.
    assert [(event[1] >= 41, event[3]) for event in listener.of("instance")] == [(True, "EXTENDING"), (True, "RUNNING")]
    told = [(event[0], event[-3] if event[0] == "instance" else event[4]) for event in listener.events if event[0] in ("changed", "instance")]
    assert told.index(("changed", "SUCCESS")) < told.index(("instance", "EXTENDING")), "the task's end, then the instance it left"


@pytest.mark.parametrize("status", ["FROZEN", "ERROR", "CREATEFAILED", "EXTENDEDFAILED"])
def test_gate_fails_at_once_on_a_status_no_wait_ends(clock, status):
    dms, listener, waiter = make(clock, old_tasks(2), idle=True)
    dms.instance_status = status
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out and clock.sleeps == []
    assert outcome.message.startswith("Instance %s is %s: " % (INSTANCE, status)) and "failed at once" in outcome.message
    assert outcome.as_result()["instance_status"] == status


def test_gate_on_a_status_the_cloud_does_not_document_waits_and_names_it(clock):
    dms, listener, waiter = make(clock, [], idle=True, timeout=60.0)
    dms.instance_status = "HIBERNATING"
    outcome = waiter.wait()
    assert outcome.timed_out and "the instance HIBERNATING" in outcome.message
    assert "every CREATED or EXECUTING task to end and the instance to be RUNNING" in outcome.message


def test_gate_takes_an_instance_answer_it_cannot_read_as_a_failed_poll_never_as_running(clock):
    dms, listener, waiter = make(clock, [], idle=True)
    broken = RetriesExhausted(MalformedAnswerError("HTTP 200 with an answer of an unexpected shape: the instance has no 'status'",
                                                   "GET", "http://127.0.0.1/v2/p/instances/i"), 3)
    dms.fault_when = lambda kind, number, t: broken if kind == "instance" and t < 20 else None
    outcome = waiter.wait()
    assert not outcome.failed and clock.t >= 20
    assert all(isinstance(event[2], RetriesExhausted) for event in listener.of("failed")) and listener.of("failed")


def test_waits_for_tasks_never_read_the_instance_status(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (12, "SUCCESS")])], task_ids=["t1"])
    dms.instance_status = "FROZEN"  # a task wait is about its task: the status is the gate's business
    outcome = waiter.wait()
    assert not outcome.failed and "instance_status" not in outcome.as_result()


def test_no_progress_is_asked_on_a_rabbitmq_instance(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "rabbitmqPluginModify", [(0, "EXECUTING"), (12, "SUCCESS")])], task_ids=["t1"])
    dms.engine = "rabbitmq"
    outcome = waiter.wait()
    assert not outcome.failed and dms.asked("progress") == [] and dms.instance_reads() == [0.0]


# ---------------------------------------------------------------------------------------------------------
# By name


def test_by_name_waits_for_a_task_that_appears_late(clock):
    tasks = old_tasks(20) + [FakeTask("cfg", "kafkaConfigModify", [(12, "CREATED"), (14, "EXECUTING"), (20, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, name="kafkaConfigModify", created_after=clock.wall_at(0))
    outcome = waiter.wait()
    assert not outcome.failed
    assert outcome.as_result()["task"]["id"] == "cfg"
    assert outcome.elapsed >= 20
    first_found = next(i for i, (t, calls) in enumerate(dms.polls()) if t >= 12)
    assert all(calls == [("since", 1)] for t, calls in dms.polls()[:first_found + 1])
    assert all(calls == [("get", "cfg")] for t, calls in dms.polls()[first_found + 1:])


def test_by_name_picks_the_newest_task_of_that_name(clock):
    tasks = [FakeTask("older", "kafkaConfigModify", [(-100, "FAILED")]), FakeTask("other", "resize", [(-10, "EXECUTING")]),
             FakeTask("newer", "kafkaConfigModify", [(-50, "EXECUTING"), (10, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, name="kafkaConfigModify")
    outcome = waiter.wait()
    assert not outcome.failed
    assert outcome.as_result()["task"]["id"] == "newer"
    assert outcome.elapsed >= 10
    assert dms.reads()[0] == "list" and set(dms.reads()[1:]) == {"get"}


def test_by_name_ignores_an_older_task_of_that_name_and_stops_paging_there(clock):
    tasks = old_tasks(300) + [FakeTask("before", "kafkaConfigModify", [(-5, "FAILED")]),
                              FakeTask("after", "kafkaConfigModify", [(9, "EXECUTING"), (15, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, name="kafkaConfigModify", created_after=clock.wall_at(0))
    outcome = waiter.wait()
    assert not outcome.failed
    assert outcome.as_result()["task"]["id"] == "after"
    assert [entry["id"] for entry in outcome.history] == ["after", "after"]
    list_polls = [calls for t, calls in dms.polls() if calls[0][0] != "get"]
    assert list_polls and all(calls == [("since", 1)] for calls in list_polls)


def test_by_name_not_found_is_waited_for_until_the_timeout(clock):
    dms, listener, waiter = make(clock, old_tasks(40), name="kafkaConfigModify", timeout=90.0)
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.elapsed == pytest.approx(90.0)
    assert outcome.tasks == [] and "task" not in outcome.as_result()
    polls = dms.polls()
    assert polls[0][1] == [("list", 1)]  # the whole history once
    assert all(calls == [("since", 1)] for t, calls in polls[1:])  # then only what is newer


def test_by_name_found_task_that_vanishes_counts_as_deleted(clock):
    dms, listener, waiter = make(clock, [FakeTask("cfg", "kafkaConfigModify", [(0, "EXECUTING"), (7, None)])], name="kafkaConfigModify")
    outcome = waiter.wait()
    assert outcome.failed and outcome.as_result()["status"] == "DELETED"


# ---------------------------------------------------------------------------------------------------------
# History and result


def test_history_has_the_first_status_then_one_entry_per_change(clock):
    clock.advance(3)
    tasks = [FakeTask("a", "resize", [(-1, "CREATED"), (5, "EXECUTING"), (40, "SUCCESS")]),
             FakeTask("b", "bindEip", [(0, "EXECUTING"), (9, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"])
    outcome = waiter.wait()
    polls = dms.poll_times()
    assert len(polls) > 5  # several polls saw no change

    def first_poll_at_or_after(t):
        return next(p for p in polls if p >= t - EPS)

    # Within one poll, in the order asked for.
    expected = [("a", "CREATED", 3), ("b", "EXECUTING", 3), ("a", "EXECUTING", 5), ("b", "SUCCESS", 9), ("a", "SUCCESS", 40)]
    assert [(entry["id"], entry["status"]) for entry in outcome.history] == [(task_id, status) for task_id, status, t in expected]
    assert [entry["seen_at"] for entry in outcome.history] == [clock.wall_at(first_poll_at_or_after(t)).isoformat() for task_id, status, t in expected]
    assert set(outcome.history[0]) == {"id", "status", "seen_at"}
    assert len(listener.of("changed")) == len(expected)
    assert len(listener.of("polled")) == len(polls)


def test_result_of_one_task(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "CREATED"), (4, "SUCCESS")])], task_ids=["t1"])
    result = waiter.wait().as_result()
    assert set(result) == {"tasks", "history", "polls", "api_calls", "elapsed", "timed_out", "failed", "msg", "task", "status"}
    assert result["polls"] == result["api_calls"] == dms.calls == 3
    assert result["elapsed"] == pytest.approx(6.0) and isinstance(result["elapsed"], float)
    assert result["timed_out"] is False
    assert result["task"] == result["tasks"][0] and result["task"]["id"] == "t1" and result["status"] == "SUCCESS"
    assert set(result["task"]) >= {"id", "name", "status", "created_at", "updated_at", "params"}


def test_result_of_several_tasks_has_no_single_task_keys(clock):
    tasks = [FakeTask("a", "x", [(0, "EXECUTING"), (2, "SUCCESS")]), FakeTask("b", "y", [(0, "EXECUTING"), (2, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["b", "a"])
    result = waiter.wait().as_result()
    assert set(result) == {"tasks", "history", "polls", "api_calls", "elapsed", "timed_out", "failed", "msg"}
    assert [task["id"] for task in result["tasks"]] == ["b", "a"]  # in the order asked for
    assert result["api_calls"] == dms.calls and result["polls"] == len(dms.polls())


@pytest.mark.parametrize("options", [{"idle": True}, {"task_ids": ["a", "missing"]}], ids=["gate", "two-ids"])
def test_one_known_task_of_a_wait_for_several_has_no_single_task_keys(clock, options):
    dms, listener, waiter = make(clock, [FakeTask("a", "x", [(0, "EXECUTING"), (2, "SUCCESS")])], **options)
    result = waiter.wait().as_result()
    assert len(result["tasks"]) == 1 and "task" not in result and "status" not in result


def test_polls_count_only_the_calls_of_this_wait(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (2, "SUCCESS")])], task_ids=["t1"])
    dms.get_task(INSTANCE, "t1")  # a call made before the wait, e.g. by another part of the plugin
    outcome = waiter.wait()
    assert outcome.api_calls == dms.calls - 1


# ---------------------------------------------------------------------------------------------------------
# Progress and heartbeat


def test_progress_is_asked_when_a_task_becomes_executing_and_passed_on(clock):
    progress = {"progress_percentage": "40", "remain_time": "120"}
    tasks = [FakeTask("t1", "resize", [(0, "CREATED"), (3, "EXECUTING"), (9, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], progress={"t1": progress})
    outcome = waiter.wait()
    assert not outcome.failed
    assert dms.asked("progress") == ["t1"]
    changes = [(event[4], event[6]) for event in listener.of("changed")]
    assert changes == [("CREATED", None), ("EXECUTING", progress), ("SUCCESS", None)]


def test_missing_progress_is_no_failure(clock):
    tasks = [FakeTask("t1", "resize", [(0, "EXECUTING"), (200, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], progress={"t1": None})
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS"
    assert dms.kinds().count("progress") == 1
    assert listener.of("changed")[0][6] is None
    assert listener.of("progress_failed") == []


@pytest.mark.parametrize("answer", [transient(), ApiError(500, "DMS.500", "boom"), auth_error()])
def test_failing_progress_is_told_apart_and_never_fails_the_wait(clock, answer):
    tasks = [FakeTask("t1", "resize", [(0, "EXECUTING"), (200, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], progress={"t1": answer})
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS"
    assert not listener.of("failed")  # a failed progress call is not a failed poll
    assert listener.of("still")
    assert dms.kinds().count("progress") == 1  # when the task became EXECUTING, never again on heartbeats
    assert [event[2] for event in listener.of("progress_failed")] == [answer]


def test_progress_is_asked_at_most_once_per_poll(clock):
    tasks = [FakeTask(task_id, "job", [(0, "CREATED"), (2, "EXECUTING"), (30, "SUCCESS")]) for task_id in ("a", "b", "c")]
    progress = dict((task_id, {"progress_percentage": 5}) for task_id in ("a", "b", "c"))
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b", "c"], progress=progress)
    waiter.wait()
    progress_times = [t for kind, detail, t in dms.log if kind == "progress"]
    assert len(progress_times) == 1 and len(set(progress_times)) == len(progress_times)


def test_progress_is_not_asked_just_before_the_deadline(clock):
    tasks = [FakeTask("t1", "resize", [(0, "CREATED"), (57, "EXECUTING")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], timeout=60.0, progress={"t1": {"progress_percentage": 5}})
    outcome = waiter.wait()
    assert outcome.timed_out and outcome.as_result()["status"] == "EXECUTING"
    assert dms.asked("progress") == []
    assert PROGRESS_QUIET_BEFORE_DEADLINE == 5.0


def test_progress_is_asked_per_task_that_becomes_executing(clock):
    tasks = [FakeTask("a", "x", [(0, "EXECUTING"), (5, "SUCCESS")]), FakeTask("b", "y", [(0, "CREATED"), (3, "EXECUTING"), (8, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["a", "b"], progress={"a": {"progress_percentage": 1}, "b": {"progress_percentage": 2}})
    waiter.wait()
    assert dms.asked("progress") == ["a", "b"]


def test_heartbeat_after_a_minute_without_change_asks_for_no_progress(clock):
    progress = {"progress_percentage": "70"}
    tasks = [FakeTask("t1", "resize", [(0, "EXECUTING"), (200, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], progress={"t1": lambda t: progress})
    outcome = waiter.wait()
    assert not outcome.failed
    beats = [event[1] for event in listener.of("still")]
    assert len(beats) == 3
    assert HEARTBEAT <= beats[0] < HEARTBEAT + 10.0 + EPS
    assert all(later - earlier >= HEARTBEAT - EPS for earlier, later in zip(beats, beats[1:]))
    assert listener.of("still")[0][2] == ["t1"]
    assert dms.kinds().count("progress") == 1


def test_heartbeat_says_what_the_last_progress_answer_leaves_without_asking_again(clock):
    tasks = [FakeTask("t1", "resize", [(0, "EXECUTING"), (300, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], progress={"t1": {"progress_percentage": 1, "remain_time": 300}})
    waiter.wait()
    [first, *_later] = listener.of("still")
    assert first[4]["t1"] == pytest.approx(300 - first[1], abs=1.0)
    assert dms.kinds().count("progress") == 1


def test_status_change_resets_the_heartbeat(clock):
    tasks = [FakeTask("t1", "resize", [(0, "CREATED"), (50, "EXECUTING"), (150, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"])
    waiter.wait()
    beats = [event[1] for event in listener.of("still")]
    # Polls at 0, 2, 6, 14, 24, ... 54 (the change), then every 10 s: the first beat is a minute after the change.
    assert beats[0] == pytest.approx(54.0 + HEARTBEAT)


def test_no_heartbeat_in_a_short_wait(clock):
    dms, listener, waiter = make(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (50, "SUCCESS")])], task_ids=["t1"])
    waiter.wait()
    assert listener.of("still") == []


# ---------------------------------------------------------------------------------------------------------
# Check mode


@pytest.mark.parametrize("options", [{"task_ids": ["t1"]}, {"task_ids": ["t1", "t2"]}, {"idle": True}, {"name": "resize"}])
def test_check_reads_once_never_sleeps_never_fails(clock, options):
    tasks = [FakeTask("t1", "resize", [(-50, "EXECUTING"), (-1, "FAILED")]), FakeTask("t2", "x", [(-40, "CREATED")])]
    dms, listener, waiter = make(clock, tasks, delay=30.0, **options)
    outcome = waiter.check()
    expected = {"t1": [("get", "t1", 0.0)], "t1,t2": [("get", "t1", 0.0), ("get", "t2", 0.0)]}
    default = [("list", 1, 0.0), ("since", 1, 0.0)] if options.get("idle") else [("list", 1, 0.0)]
    assert dms.log == expected.get(",".join(options.get("task_ids", [])), default)
    assert outcome.polls == 1
    assert clock.sleeps == [] and clock.t == 0
    assert not outcome.failed and not outcome.timed_out and outcome.message == ""
    if options.get("task_ids") == ["t1"] or "name" in options:
        assert outcome.as_result()["status"] == "FAILED"


def test_check_on_a_missing_task_does_not_fail(clock):
    dms, listener, waiter = make(clock, [], task_ids=["nope"])
    outcome = waiter.check()
    assert dms.calls == 1 and not outcome.failed and outcome.tasks == []


# ---------------------------------------------------------------------------------------------------------
# A task whose progress says it ends after the wait does


def test_a_task_whose_remain_time_outlasts_the_timeout_fails_the_wait_at_once(clock):
    tasks = [FakeTask("t1", "resizeInstance", [(0, "CREATED"), (3, "EXECUTING"), (200, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], timeout=60.0, progress={"t1": {"progress_percentage": 40, "remain_time": 148}})
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out
    assert outcome.elapsed < 10  # the poll that saw it EXECUTING, not the timeout
    assert outcome.message.startswith("Task resizeInstance (ID t1) cannot end in time: its progress says about 147 s left")
    assert "the wait ends in 5" in outcome.message
    assert outcome.as_result()["predicted_end"] == (clock.wall() + timedelta(seconds=147)).isoformat()


def test_the_gate_fails_at_once_behind_a_task_that_outlasts_it(clock):
    tasks = [FakeTask("t1", "resizeInstance", [(0, "EXECUTING"), (500, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, idle=True, timeout=10.0, progress={"t1": {"remain_time": 148}})
    outcome = waiter.wait()
    assert outcome.failed and not outcome.timed_out and outcome.elapsed == 0
    assert "cannot end in time" in outcome.message and "predicted_end" in outcome.as_result()


@pytest.mark.parametrize("remain_time", [40, None, "148"])
def test_a_task_that_may_end_in_time_or_says_nothing_usable_is_waited_for(clock, remain_time):
    tasks = [FakeTask("t1", "resizeInstance", [(0, "EXECUTING"), (45, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, task_ids=["t1"], timeout=60.0, progress={"t1": {"remain_time": remain_time}})
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS"
    assert "predicted_end" not in outcome.as_result()


def test_a_guess_from_past_tasks_never_fails_a_wait(clock):
    history = [FakeTask("old%d" % n, "resizeInstance", [(-9000 + 1000 * n, "EXECUTING"), (-8500 + 1000 * n, "SUCCESS")]) for n in range(4)]
    tasks = history + [FakeTask("t1", "resizeInstance", [(0, "EXECUTING"), (50, "SUCCESS")])]
    dms, listener, waiter = make(clock, tasks, name="resizeInstance", timeout=60.0)
    outcome = waiter.wait()
    assert not outcome.failed and outcome.as_result()["status"] == "SUCCESS"
