# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for background tasks: what to poll, how often, and when to stop.

Plain Python on an injected clock (clock.py), so the schedule, the deadline and the stop rules are tested without
sleeping. What a poll reads is the tracker's (trackers.py); the client is any object with the DmsClient calls.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import timedelta

from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import DmsError, failure_details, no_answer, worth_another_poll
from ansible_collections.hwcloud.dms.plugins.module_utils.estimates import EndEstimate
from ansible_collections.hwcloud.dms.plugins.module_utils.instance import InstanceView
from ansible_collections.hwcloud.dms.plugins.module_utils.progress import ProgressReader
from ansible_collections.hwcloud.dms.plugins.module_utils.refusals import broken_reason, instance_ready
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import BAD_STATUSES, FINAL_STATUSES
from ansible_collections.hwcloud.dms.plugins.module_utils.trackers import IdleTracker, IdTracker, NameTracker

FIRST_PAUSE = 2.0
PAUSE_GROWTH = 2.0
PAUSE_JITTER = 0.1
# Where the end is expected, a wait may spend this many requests more than polling every ``sleep`` seconds would,
# and polls no closer than MIN_PAUSE.
EXTRA_POLLS_IN_WINDOW = 2
MIN_PAUSE = 1.0
# A task ID that never shows up is most likely a typo; fail after this long instead of at the timeout.
NOT_FOUND_GRACE = 30.0
# Without status changes, say something this often so that a long wait is never a silent screen.
HEARTBEAT = 60.0
# The poll that lands on the deadline may run this far past it, so that it still reads a final status.
FINAL_POLL_GRACE = 1.0
# Progress only decorates the output: at most this many progress calls per poll, and none this close to the
# deadline, so that asking for it never delays noticing the end.
PROGRESS_CALLS_PER_POLL = 1
PROGRESS_QUIET_BEFORE_DEADLINE = 5.0


class WaitLimits(namedtuple("WaitLimits", ["timeout", "delay", "max_pause"], defaults=(0.0, 10.0))):
    """How long a wait may take, how long before its first poll, and its longest pause between polls (seconds)."""
    __slots__ = ()


class PollSchedule:
    """Pauses between polls: about FIRST_PAUSE, doubling up to ``max_pause``, then exactly ``max_pause``; and, once
    the end is expected in a window (estimates.py), polls placed around it.

    Short pauses first catch quick tasks soon after they end. At the cap a wait reads once every ``max_pause``
    seconds, as an ``until:`` loop with that delay would, so a long wait costs no more requests than the loop.
    Jitter on the short pauses only: it spreads playbooks started together, and the spread lasts at the cap,
    where jitter could only shorten pauses (``max_pause`` is the longest pause) and so add requests.

    With a window: pauses of ``max_pause`` (never longer) until the last one lands on its start, then within it as
    dense as EXTRA_POLLS_IN_WINDOW polls more than the cap would make allow (never under MIN_PAUSE), and past its end
    pauses that double from there back to the cap.
    """

    def __init__(self, max_pause, rng):
        self._max_pause = max_pause
        self._rng = rng
        self._next = FIRST_PAUSE
        self._overdue = 0

    def next_pause(self, now=0.0, window=None):
        if window is None:
            return self._ramp()
        if now < window.earliest:
            return min(self._max_pause, window.earliest - now)
        width = window.latest - window.earliest
        dense = min(self._max_pause, max(MIN_PAUSE, width / (width / self._max_pause + EXTRA_POLLS_IN_WINDOW)))
        if now < window.latest:
            return min(dense, max(MIN_PAUSE, window.latest - now))
        self._overdue += 1
        return min(self._max_pause, dense * PAUSE_GROWTH ** (self._overdue - 1))

    def _ramp(self):
        nominal = self._next
        self._next = min(self._max_pause, nominal * PAUSE_GROWTH)
        if nominal >= self._max_pause:
            return self._max_pause
        return min(self._max_pause, nominal * (1 + PAUSE_JITTER * (2 * self._rng() - 1)))


class WaitPhase:
    """Which wait of a change a listener hears (changes.py): queued behind what holds the instance, or its own task."""

    QUEUED = "queued"
    OWN_TASK = "own task"


class WaitListener:
    """What the waiter tells as it goes. The action plugins display it; the default says nothing."""

    def phase(self, phase, offset):
        """The listener for one wait of a change (a WaitPhase) that began ``offset`` seconds into the run."""
        return self

    def retrying(self, note):
        """A request failed and is about to be sent again (the client's ``on_retry``): ``note`` says which and why."""

    def refused_for_now(self, refusal, times, waiting, elapsed):
        """DMS refused a change for now (``times`` so far); ``waiting``: it is sent again once the instance is free."""

    def status_changed(self, task, previous, elapsed, progress):
        """A task was first seen (previous None) or changed status; progress is the API's dict or None."""

    def instance_changed(self, status, previous, elapsed):
        """The gate read the instance's status for the first time (previous None), or it changed."""

    def still_waiting(self, tasks, elapsed, seconds_left):
        """A heartbeat during a long wait with no status change; ``seconds_left``: task ID -> the seconds its last progress
        answer leaves (for the tasks that had one).

        It asks for no progress: a call a minute would make the requests of a long wait grow without bound.
        """

    def poll_failed(self, error, elapsed):
        """A poll failed with a transient error; the wait goes on."""

    def progress_failed(self, error, elapsed):
        """A progress call failed; it only decorates the output, so this is detail."""

    def polled(self, tasks, elapsed, calls):
        """A poll completed."""


class WaitOutcome:
    """Where a wait ended: the tasks in their last seen state, the history, and why it stopped."""

    def __init__(self, single_task):
        self.single_task = single_task  # one task ID, or a name: the result then has ``task`` and ``status``
        self.tasks = []
        self.history = []
        self.polls = 0
        self.api_calls = 0
        self.elapsed = 0.0
        self.timed_out = False
        self.failed = False
        self.message = ""
        self.error = None  # the DmsError that ended the wait, if one did
        self.instance_status = None  # the gate's last read of the instance's status; None for other waits
        self.waited_for_instance = False  # whether the gate read a status other than RUNNING
        self.predicted_end = None  # when a task's progress said it would end, if that was past the wait's end
        self.instance_statuses = []  # every status the gate read the instance in, in order
        self.failed_step = None  # the step the progress of a task that ended FAILED names as failed

    def as_result(self):
        result = {
            "tasks": self.tasks, "history": self.history, "polls": self.polls, "api_calls": self.api_calls,
            "elapsed": round(self.elapsed, 3), "timed_out": self.timed_out, "failed": self.failed, "msg": self.message,
        }
        details = failure_details(self.error) if self.error is not None else {}
        if details:
            result["error"] = details
        if self.single_task and self.tasks:
            result["task"] = self.tasks[0]
            result["status"] = self.tasks[0]["status"]
        if self.instance_status is not None:
            result["instance_status"] = self.instance_status
        if self.predicted_end is not None:
            result["predicted_end"] = self.predicted_end
        if self.failed_step is not None:
            result["failed_step"] = self.failed_step
        return result


def make_tracker(client, instance_id, clock=SYSTEM_CLOCK, task_ids=None, name=None, created_after=None, idle=False, ignored_ids=()):
    """The tracker of a wait on an instance: for given IDs, for the newest task of a name (never one of ``ignored_ids``),
    or the idle gate; exactly one is asked for.

    The gate is never a fallback: a wait whose IDs turned out empty must not pass as "idle".
    """
    if [bool(task_ids), bool(name), bool(idle)].count(True) != 1:
        raise ValueError("wait for exactly one of: task IDs, a name, or idle")
    instance = InstanceView(client, instance_id)
    if task_ids:
        return IdTracker(client, instance, list(dict.fromkeys(task_ids)))
    if name:
        return NameTracker(client, instance, name, created_after, clock.wall, ignored_ids)
    return IdleTracker(client, instance, clock.wall)


class TaskWaiter:
    """Waits for what a tracker (see make_tracker) follows, within WaitLimits: the schedule, the deadline and the stop
    rules; the tracker does the reading."""

    def __init__(self, client, tracker, limits, fail_on_status=BAD_STATUSES, listener=None, clock=SYSTEM_CLOCK):
        self._client = client
        self._tracker = tracker
        self._instance_id = tracker.instance.instance_id
        self._limits = limits
        self._fail_on_status = tuple(fail_on_status)
        self._listener = listener or WaitListener()
        self._clock = clock
        self._progress_reader = ProgressReader(client, tracker.instance)
        self._estimate = EndEstimate()
        self._reported_instance_status = None
        self._reported = {}  # task ID -> the status last reported to the listener and the history
        self._progress_wanted = True
        self._progress_calls_left = 0
        # Whether the last poll read everything it meant to: after a failed one, nothing new is known to stop on.
        self._read_ok = False
        self._good_polls = 0
        # Whether any poll got an HTTP answer, a refusal included: until one has, the endpoint may be wrong.
        self._answered = False
        self._last_error = None  # (elapsed seconds, the error) of the last failed poll
        self._outcome = WaitOutcome(single_task=self._tracker.single_task)
        self._start = None
        self._deadline = None
        self._call_deadline = None
        self._calls_before = 0

    def describe_target(self):
        return self._tracker.describe()

    def check(self):
        """One poll, no waiting, no progress calls and no failing on state: what a wait would start from (check mode)."""
        self._progress_wanted = False
        return self._run(self._poll)

    def wait(self):
        """Poll until the tasks end, one ends in ``fail_on_status``, or the timeout passes.

        An error that retrying cannot mend (authentication, a missing instance, bad input) ends the wait at once;
        the outcome still tells what was seen until then.
        """
        return self._run(self._wait)

    def _run(self, body):
        self._begin()
        try:
            body()
        except DmsError as error:
            self._end_on_error(error)
        return self._finish()

    def _wait(self):
        if self._limits.delay:
            self._clock.sleep(min(self._limits.delay, self._remaining()))
        schedule = PollSchedule(self._limits.max_pause, self._clock.random)
        last_heartbeat = self._clock.monotonic()
        while True:
            changed = self._poll()
            if self._stop_reason() or self._cannot_end_in_time():
                return
            if changed:
                last_heartbeat = self._clock.monotonic()
            elif self._clock.monotonic() - last_heartbeat >= HEARTBEAT:
                last_heartbeat = self._clock.monotonic()
                unfinished = [task for task in self._tracker.known() if task["status"] not in FINAL_STATUSES]
                self._listener.still_waiting(self._tracker.known(), self._elapsed(), self._estimate.seconds_left(unfinished, self._clock.monotonic()))
            remaining = self._remaining()
            if remaining <= 0:
                self._outcome.timed_out = True
                self._outcome.failed = True
                self._outcome.message = self._timeout_message()
                return
            self._clock.sleep(min(schedule.next_pause(self._clock.monotonic(), self._end_window()), remaining))

    def _end_on_error(self, error):
        self._outcome.failed = True
        self._outcome.error = error
        self._outcome.message = "Could not read the tasks of instance %s: %s" % (self._instance_id, error)

    def _begin(self):
        self._start = self._clock.monotonic()
        self._deadline = self._start + self._limits.timeout
        self._call_deadline = self._deadline + FINAL_POLL_GRACE
        self._calls_before = self._client.calls

    def _finish(self):
        self._outcome.tasks = self._tracker.known()
        self._outcome.api_calls = self._client.calls - self._calls_before
        self._outcome.elapsed = self._elapsed()
        return self._outcome

    def _elapsed(self):
        return self._clock.monotonic() - self._start

    def _remaining(self):
        return max(0.0, self._deadline - self._clock.monotonic())

    def _poll(self):
        """Read once. Returns whether any status changed. Transient failures are reported, not raised."""
        self._outcome.polls += 1
        self._progress_calls_left = PROGRESS_CALLS_PER_POLL
        try:
            self._tracker.poll(self._call_deadline)
            self._read_ok = True
            self._good_polls += 1
            self._answered = True
        except DmsError as error:
            self._read_ok = False
            self._answered = self._answered or not no_answer(error)
            self._last_error = (self._elapsed(), error)
            # Not while no poll has ever had an HTTP answer: an unreachable host, a wrong port or a name that does not
            # resolve would otherwise be retried until the timeout; the client's own retries already gave it a chance.
            if not worth_another_poll(error, self._good_polls, self._answered):
                self._report_changes()
                raise
            self._listener.poll_failed(error, self._elapsed())
        changed = self._report_changes()
        if self._read_ok:
            self._listener.polled(self._tracker.known(), self._elapsed(), self._client.calls - self._calls_before)
        return changed

    def _report_changes(self):
        changed = False
        for task in self._tracker.known():
            previous = self._reported.get(task["id"])
            if previous != task["status"]:
                changed = True
                self._reported[task["id"]] = task["status"]
                self._outcome.history.append({"id": task["id"], "status": task["status"], "seen_at": self._clock.wall().isoformat()})
                progress = self._progress(task) if task["status"] == "EXECUTING" else None
                self._listener.status_changed(task, previous, self._elapsed(), progress)
        return self._report_instance() or changed

    def _report_instance(self):
        """Tell a new status of the instance, as the gate read it on a poll that found no task running (a read for the
        engine while a task runs says nothing about whether the gate can pass); whether there was one."""
        if not self._tracker.reads_instance or any(task["status"] not in FINAL_STATUSES for task in self._tracker.known()):
            return False
        status = self._tracker.instance.status
        previous = self._reported_instance_status
        if status is None or status == previous:
            return False
        self._reported_instance_status = self._outcome.instance_status = status
        self._outcome.instance_statuses.append(status)
        self._outcome.waited_for_instance = self._outcome.waited_for_instance or not instance_ready(status)
        self._listener.instance_changed(status, previous, self._elapsed())
        return True

    def _stop_reason(self):
        """Set the outcome and return True when the wait is over (other than by timeout)."""
        if not self._read_ok:
            return False  # a failed poll learned nothing: no "not found", no "gate passed"
        known = self._tracker.known()
        for task in known:
            if task["status"] in self._fail_on_status:
                # The step first: the message's time is then the wait's whole time, as the result's elapsed is.
                step = self._failed_step(task) if task["status"] == "FAILED" else None
                self._outcome.failed = True
                self._outcome.message = "Task %s (ID %s) ended %s after %.1f s" % (task["name"], task["id"], task["status"], self._elapsed())
                if step is not None:
                    self._outcome.failed_step = step
                    self._outcome.message += " at step %s" % step.get("name")
                return True
        missing = self._tracker.missing()
        if missing and self._elapsed() >= NOT_FOUND_GRACE:
            self._outcome.failed = True
            self._outcome.message = "No task with ID %s on instance %s (looked for %.0f s)" % (", ".join(missing), self._instance_id, self._elapsed())
            return True
        if missing or not self._tracker.sighted() or not all(task["status"] in FINAL_STATUSES for task in known):
            return False
        if self._tracker.reads_instance:
            status = self._tracker.instance.status
            broken = broken_reason(status)
            if broken:
                self._outcome.failed = True
                self._outcome.message = "Instance %s is %s; no wait ends that, so the gate failed at once (after %.1f s)" % (
                    self._instance_id, broken, self._elapsed())
                return True
            if not instance_ready(status):
                return False
        self._outcome.message = self._done_message(known)
        return True

    def _cannot_end_in_time(self):
        """Fail at once (True) when a task's progress says it ends after the wait does: waiting out the rest tells nothing
        more. The wait's end is its timeout, or the deadline the plugin turned into one."""
        unfinished = [task for task in self._tracker.known() if task["status"] not in FINAL_STATUSES]
        late = self._estimate.ending_after(unfinished, self._deadline)
        if not late:
            return False
        task, window = max(late, key=lambda late_task: late_task[1].earliest)
        now = self._clock.monotonic()
        predicted = self._clock.wall() + timedelta(seconds=window.earliest - now)
        self._outcome.failed = True
        self._outcome.predicted_end = predicted.isoformat()
        self._outcome.message = ("Task %s (ID %s) cannot end in time: its progress says about %.0f s left (ending about %s), and the"
                                 " wait ends in %.0f s; failed at once after %.1f s" % (
                                     task["name"], task["id"], window.earliest - now, predicted.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     self._remaining(), self._elapsed()))
        return True

    def _done_message(self, known):
        if self._tracker.reads_instance:
            return "Instance %s is idle: RUNNING, and no task is CREATED or EXECUTING (after %.1f s)" % (self._instance_id, self._elapsed())
        ended = ", ".join("%s (ID %s) %s" % (task["name"], task["id"], task["status"]) for task in known)
        return "Ended after %.1f s: %s" % (self._elapsed(), ended)

    def _timeout_message(self):
        known = self._tracker.known()
        shown = [task for task in known if task["status"] not in FINAL_STATUSES] or known
        seen = ["%s (ID %s) %s" % (task["name"], task["id"], task["status"]) for task in shown]
        if self._tracker.reads_instance and self._tracker.instance.status is not None:
            seen.append("the instance %s" % self._tracker.instance.status)
        last = "last seen: %s" % "; ".join(seen) if seen else "no such task seen"
        message = "Timed out after %.0f s waiting for %s on instance %s: %s" % (self._limits.timeout, self.describe_target(), self._instance_id, last)
        if self._last_error is not None:
            message += "; the last error, at %.1f s: %s" % self._last_error
        return message

    def _end_window(self):
        """When the last unfinished task is expected to end (see estimates.py); None when that is not known for each."""
        if self._tracker.missing() or not self._tracker.sighted():
            return None
        unfinished = [task for task in self._tracker.known() if task["status"] not in FINAL_STATUSES]
        return self._estimate.window(unfinished, self._tracker.durations, self._clock.monotonic(), self._clock.wall())

    def _failed_step(self, task):
        """Ask the progress of a task that ended FAILED once, for the step it names as failed; None without one. The cloud
        documents neither progress after the end nor the values of a step's ``statue``: a step whose ``statue`` is FAILED
        (any case) is taken as the failed one."""
        try:
            progress = self._progress_reader.read(task["id"], deadline=self._call_deadline)
        except DmsError as error:
            self._listener.progress_failed(error, self._elapsed())
            return None
        steps = (progress or {}).get("step_list") or []
        return next((step for step in steps if _named_failed_step(step)), None)

    def _progress(self, task):
        """The task's progress, when this poll may still spend its progress call and the deadline is not near."""
        may_ask = self._progress_wanted and self._progress_calls_left > 0
        if not may_ask or self._remaining() < PROGRESS_QUIET_BEFORE_DEADLINE:
            return None
        self._progress_calls_left -= 1
        try:
            progress = self._progress_reader.read(task["id"], deadline=self._call_deadline)
        except DmsError as error:
            self._listener.progress_failed(error, self._elapsed())
            return None
        self._estimate.learn_progress(task["id"], progress, self._clock.monotonic())
        return progress


def _named_failed_step(step):
    """Whether a step of a progress answer failed and has a name (one without names nothing: "at step None")."""
    named = isinstance(step, dict) and isinstance(step.get("name"), str) and bool(step["name"].strip())
    return named and str(step.get("statue", "")).upper() == "FAILED"
