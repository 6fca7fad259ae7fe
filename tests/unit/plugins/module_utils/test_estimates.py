# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End estimates and the polls they place, on a fake clock: remain_time, past durations of a name, the window schedule."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.estimates import (
    MIN_PAST_TASKS, RECENT_TASKS, EndWindow, history_window, last_end, past_durations, progress_window,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import EXTRA_POLLS_IN_WINDOW, MIN_PAUSE, PollSchedule
from ansible_collections.hwcloud.dms.tests.unit.fakes import FakeClock, FakeDms, FakeTask, api_time, waiter_for

WALL = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def finished(name, seconds, status="SUCCESS", ago=3600):
    created = WALL - timedelta(seconds=ago)
    return {"id": "%s-%s-%s" % (name, seconds, ago), "name": name, "status": status,
            "created_at": api_time(created), "updated_at": api_time(created + timedelta(seconds=seconds))}


def test_past_durations_are_those_of_successes_newest_first_and_bounded():
    tasks = [finished("resize", 30 + n, ago=1000 - n) for n in range(RECENT_TASKS + 5)] + [finished("resize", 999, "FAILED"), finished("restart", 7)]
    durations = past_durations(tasks)
    assert durations["resize"] == [30.0 + n for n in range(RECENT_TASKS)] and durations["restart"] == [7.0]
    assert past_durations([dict(finished("resize", 5), updated_at="")]) == {}


def test_a_history_window_needs_enough_past_tasks_and_runs_from_the_shortest_to_the_longest():
    running = {"created_at": api_time(WALL - timedelta(seconds=10))}
    assert history_window(running, [30.0] * (MIN_PAST_TASKS - 1), 100.0, WALL) is None
    assert history_window(running, [30.0, 34.0, 31.0], 100.0, WALL) == EndWindow(120.0, 124.0)  # created at 90 on the monotonic clock
    assert history_window({"created_at": ""}, [30.0] * 5, 100.0, WALL) is None


@pytest.mark.parametrize("progress, window", [
    ({"remain_time": 12}, EndWindow(61.0, 63.0)),
    ({"remain_time": 0}, None), ({"remain_time": "12"}, None), ({"remain_time": True}, None), ({}, None), (None, None),
])
def test_a_progress_window_is_remain_time_give_or_take_a_second(progress, window):
    assert progress_window(progress, 50.0) == window


def test_the_last_end_of_several_needs_each():
    assert last_end([EndWindow(10, 12), EndWindow(5, 20)]) == EndWindow(10, 20)
    assert last_end([EndWindow(10, 12), None]) is None and last_end([]) is None


def test_a_window_schedule_lands_on_its_start_is_dense_in_it_and_backs_off_after():
    schedule = PollSchedule(10.0, rng=lambda: 0.5)
    window = EndWindow(33.0, 37.0)
    assert schedule.next_pause(0.0, window) == 10.0  # never longer than the cap
    assert schedule.next_pause(30.0, window) == pytest.approx(3.0)  # lands on the start
    dense = max(MIN_PAUSE, 4.0 / (4.0 / 10.0 + EXTRA_POLLS_IN_WINDOW))
    assert schedule.next_pause(33.0, window) == pytest.approx(dense)
    assert schedule.next_pause(36.5, window) == pytest.approx(MIN_PAUSE)  # not past the end by more than the smallest pause
    assert [schedule.next_pause(37.0 + n, window) for n in range(5)] == pytest.approx([min(10.0, dense * 2 ** n) for n in range(5)])


def test_a_wide_window_spends_no_more_than_its_extra_polls():
    schedule = PollSchedule(10.0, rng=lambda: 0.5)
    window = EndWindow(100.0, 200.0)
    now, polls = 100.0, 0
    while now < 200.0:
        now += schedule.next_pause(now, window)
        polls += 1
    assert polls <= 100.0 / 10.0 + EXTRA_POLLS_IN_WINDOW + 1


def wait_with(clock, tasks, **options):
    dms = FakeDms(clock, tasks, progress=options.pop("progress", None))
    return dms, waiter_for(dms, clock, **options).wait()


def test_remain_time_places_a_poll_just_after_the_end():
    clock = FakeClock()
    task = FakeTask("t1", "resize", [(0, "CREATED"), (1, "EXECUTING"), (97.3, "SUCCESS")])
    dms, outcome = wait_with(clock, [task], task_ids=["t1"], progress={"t1": lambda t: {"remain_time": int(97.3 - t) + 1}})
    assert outcome.as_result()["status"] == "SUCCESS" and 0 <= outcome.elapsed - 97.3 <= 1.0
    until_loop = math.ceil(97.3 / 10) + 1  # an until: loop with delay 10: a try at once, then one every 10 s
    assert len(dms.reads()) <= until_loop + EXTRA_POLLS_IN_WINDOW, "no more polls than the loop, plus the extra ones in the window"
    assert dms.calls == len(dms.reads()) + 2, "and the progress call, with the read of the instance that tells its engine has one"


@pytest.mark.parametrize("options", [{"name": "resize"}, {"idle": True}])
def test_past_durations_of_the_name_place_polls_around_the_expected_end(options):
    """The waits that read the history anyway (by name, the gate) learn from it how long the tasks of a name take."""
    clock = FakeClock()
    past = [FakeTask("p%d" % n, "resize", [(-1000 * (n + 1), "EXECUTING"), (-1000 * (n + 1) + 60 + n, "SUCCESS")]) for n in range(3)]
    task = FakeTask("t1", "resize", [(0, "EXECUTING"), (61.5, "SUCCESS")])
    dms, outcome = wait_with(clock, past + [task], **options)
    assert [task["status"] for task in outcome.tasks] == ["SUCCESS"] and 0 <= outcome.elapsed - 61.5 <= 1.0


def test_without_estimates_the_schedule_is_the_ramp():
    clock = FakeClock()
    dms, outcome = wait_with(clock, [FakeTask("t1", "resize", [(0, "EXECUTING"), (61.5, "SUCCESS")])], task_ids=["t1"])
    assert dms.poll_times()[:6] == pytest.approx([0.0, 2.0, 6.0, 14.0, 24.0, 34.0])
