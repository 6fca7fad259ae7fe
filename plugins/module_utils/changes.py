# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A change in one step: send it (again once the instance can take it, when it was refused for now), then wait for the
task it started. What dms_api does with ``when_busy: wait`` and ``wait: true``.

Plain Python on an injected clock (clock.py); the waiting is waiter.py's, the
sending the client's, the meaning of refusals refusals.py's. One deadline covers every phase: the waits for the
instance to become free and the wait for the change.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import DmsError, NotSentError
from ansible_collections.hwcloud.dms.plugins.module_utils.instance import InstanceView
from ansible_collections.hwcloud.dms.plugins.module_utils.refusals import NOT_NOW, broken_reason, instance_ready, refusal_of
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import CLOCK_SKEW_ALLOWANCE, is_active
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import PollSchedule, TaskWaiter, WaitLimits, WaitListener, WaitPhase, make_tracker

# A refusal for now that nothing visible explains (no task running, the instance RUNNING: an order in billing, say) is
# sent again after pauses that grow to this, so that it is not sent again at once, again and again.
RESEND_MAX_PAUSE = 10.0
BATCH_RESULTS = ("success", "failed")


def answer_job_id(body):
    """The ``job_id`` of an answer, as the DMS change calls name the task they start; None when it has none."""
    job_id = body.get("job_id") if isinstance(body, dict) else None
    return job_id if isinstance(job_id, str) and job_id.strip() else None


def is_batch_action(method, segments):
    """Whether a call is the batch action on instances (``POST /v2/{project_id}/instances/action``: restart or delete),
    which answers 200 with a result per instance, the refused ones included."""
    return method == "POST" and len(segments) == 4 and segments[0] == "v2" and segments[2:] == ["instances", "action"]


class BatchResults(namedtuple("BatchResults", ["succeeded", "failed"])):
    """The instances a batch action took and refused, from the ``results`` of its answer."""
    __slots__ = ()


def batch_results(body):
    """The BatchResults of a batch action's answer; ValueError saying what is off when it is not the documented answer."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not results:
        raise ValueError("no non-empty 'results' list")
    succeeded, failed = [], []
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("instance"), str) or item.get("result") not in BATCH_RESULTS:
            raise ValueError("a result that is not an instance with 'success' or 'failed': %s" % shown(item))
        (succeeded if item["result"] == "success" else failed).append(item["instance"])
    return BatchResults(succeeded, failed)


class ChangeOutcome:
    """What became of a change.

    ``answer``: the last HttpAnswer. ``changed``: whether the cloud took the change. ``refusals``: how often it was refused
    for now (nothing applied). ``refusal``: what the last refusal was, as a sentence, when the change was not taken.
    ``batch``: the BatchResults of a batch action's answer. ``instance_status``: the instance's status as last read.
    ``idle_wait``: the WaitOutcome of a wait for the instance that did not end with it free. ``task_wait``: the
    WaitOutcome of the wait for the task it started. ``message``: why it failed, other than by its answer's error.
    ``queued``: seconds from the first call to the last, while it was refused for now and waited. ``waited_behind``:
    the tasks those waits saw running, in their last seen state; ``instance_statuses``: the statuses other than RUNNING
    they saw the instance in. ``request_ids``: the request ID of every answer, in order. ``first_call_at`` and ``sent_at``:
    the wall times (ISO-8601) of the first call and the last.
    """

    def __init__(self):
        self.answer = None
        self.changed = False
        self.refusals = 0
        self.refusal = None
        self.batch = None
        self.instance_status = None
        self.idle_wait = None
        self.task_wait = None
        self.message = None
        self.queued = 0.0
        self.waited_behind = {}
        self.instance_statuses = []
        self.request_ids = []
        self.first_call_at = None
        self.sent_at = None

    def job_id(self):
        """The job_id of the last answer; None without one."""
        return None if self.answer is None else answer_job_id(self.answer.body)

    def busy_wait(self):
        """What the change queued behind, as the result's ``busy_wait``; None when it never waited for the instance."""
        if not self.refusals or not (self.waited_behind or self.instance_statuses or self.queued):
            return None
        return {"elapsed": round(self.queued, 3), "tasks": list(self.waited_behind.values()), "instance_statuses": self.instance_statuses}

    def learn_gate(self, gate):
        """Note what a wait for the instance to become free saw."""
        self.instance_status = gate.instance_status
        for task in gate.tasks:
            self.waited_behind[task["id"]] = task
        for status in gate.instance_statuses:
            if not instance_ready(status) and status not in self.instance_statuses:
                self.instance_statuses.append(status)

    def explain_refusal(self):
        """The last refusal for now as a sentence: what it means and, where it was read, the instance's status."""
        if self.instance_status is None:
            return self.refusal
        return "%s; the instance is %s" % (self.refusal, self.instance_status)


class Preview(namedtuple("Preview", ["instance_status", "running_tasks"])):
    """What a change would meet if it were sent now: the instance's status and its CREATED or EXECUTING tasks."""
    __slots__ = ()

    def obstacles(self):
        """What would make DMS refuse the change now, as phrases; empty when it would go through."""
        held = ["%s (ID %s) %s" % (task["name"], task["id"], task["status"]) for task in self.running_tasks]
        if not instance_ready(self.instance_status):
            held.append("the instance is %s" % self.instance_status)
        return held

    def broken(self):
        """Why no wait would let the change through (see refusals.broken_reason); None when one can."""
        return broken_reason(self.instance_status)


class ChangeRunner:
    """Sends one call and waits on one instance, all within ``timeout`` seconds from when it was made.

    ``batch``: the call is the batch action (see is_batch_action), whose answer is read instance by instance.
    ``listener``: a WaitListener that hears every wait, told which phase (queued behind the instance, or the change's own
    task) and how far into the run each began.
    """

    def __init__(self, client, instance_id, timeout, batch=False, listener=None, clock=SYSTEM_CLOCK):
        self._client = client
        self._instance_id = instance_id
        self._batch = batch
        self._listener = listener or WaitListener()
        self._clock = clock
        self._start = clock.monotonic()
        self._deadline = self._start + timeout
        self._earlier_tasks = ()

    def send(self, send_call, outcome, wait_when_busy, task_name=None):
        """Call ``send_call()`` (it returns an HttpAnswer) and judge its answer. While the change is refused for now and
        ``wait_when_busy``, wait until the instance is RUNNING with no task running, and call it again. With
        ``task_name``, first note the tasks of that name that exist, so that none of them is taken for the change's.
        Returns the wall time of the last call, just before it; raises NotSentError when that read fails."""
        pauses = PollSchedule(RESEND_MAX_PAUSE, self._clock.random)
        first_call = None
        while True:
            if task_name is not None:
                self._earlier_tasks = self._tasks_named(task_name)
            sent_at = self._clock.wall()
            first_call = self._clock.monotonic() if first_call is None else first_call
            outcome.queued = self._clock.monotonic() - first_call
            outcome.first_call_at = outcome.first_call_at or sent_at.isoformat()
            outcome.sent_at = sent_at.isoformat()
            outcome.answer = send_call()
            if outcome.answer.request_id:
                outcome.request_ids.append(outcome.answer.request_id)
            if not self._refused_for_now(outcome):
                return sent_at
            outcome.refusals += 1
            self._listener.refused_for_now(outcome.refusal, outcome.refusals, wait_when_busy, self._clock.monotonic() - self._start)
            if not wait_when_busy:
                self._read_status(outcome)
                if outcome.batch is not None:
                    outcome.message = outcome.explain_refusal()
                return sent_at
            if not self._wait_until_free(outcome, pauses):
                return sent_at

    def preview(self):
        """A Preview of the change (check mode): the instance and its running tasks, read once, without waiting. Raises the
        client's errors."""
        tracker = make_tracker(self._client, self._instance_id, self._clock, idle=True)
        tracker.poll(None)
        if tracker.instance.status is None:  # the tracker reads it only when no task runs
            tracker.instance.read()
        return Preview(tracker.instance.status, [task for task in tracker.known() if is_active(task)])

    def wait_for_task(self, outcome, sent_at, task_name=None):
        """Wait for the task the accepted answer names (its job_id) or, without one, the newest task named ``task_name``
        created since ``sent_at`` (less the clock skew the cloud allows) that was not there before the call. Without
        either, the outcome says what came back instead."""
        job_id = outcome.job_id()
        if job_id is not None:
            outcome.task_wait = self._waiter(WaitPhase.OWN_TASK, task_ids=[job_id]).wait()
        elif task_name is not None:
            outcome.task_wait = self._waiter(WaitPhase.OWN_TASK, name=task_name, created_after=sent_at - CLOCK_SKEW_ALLOWANCE,
                                             ignored_ids=self._earlier_tasks).wait()
        else:
            outcome.message = ("wait: the answer (HTTP %s) has no job_id to wait for; its body: %s. Give wait_for_name to wait for"
                               " the newest task of that name created since the call" % (outcome.answer.status, shown(outcome.answer.body)))
            return
        if outcome.task_wait.failed:
            outcome.message = outcome.task_wait.message

    def _refused_for_now(self, outcome):
        """Judge the answer: set ``changed``, ``refusal``, ``batch`` and ``message``; True when it refused the change for now."""
        answer = outcome.answer
        outcome.changed, outcome.refusal, outcome.batch, outcome.message = False, None, None, None
        if answer.error is not None:
            refusal = refusal_of(answer.error, NOT_NOW)
            outcome.refusal = refusal.describe() if refusal else None
            return refusal is not None
        accepted = 200 <= answer.status < 300  # a refusal the user accepts (status_code: [200, 400]) changed nothing
        if not (self._batch and accepted):
            outcome.changed = accepted
            return False
        try:
            outcome.batch = batch_results(answer.body)
        except ValueError as problem:
            outcome.message = ("the batch action answered HTTP %s with a body it does not document (%s), so whether DMS took the change"
                               " is not known; its body: %s" % (answer.status, problem, shown(answer.body)))
            return False
        outcome.changed = bool(outcome.batch.succeeded)
        if not outcome.batch.failed:
            return False
        outcome.refusal = "DMS refused it for %s (result failed)" % ", ".join(outcome.batch.failed)
        if outcome.changed:
            outcome.message = "%s; it took it for %s, so it is not sent again" % (outcome.refusal, ", ".join(outcome.batch.succeeded))
            return False
        if outcome.batch.failed != [self._instance_id]:
            outcome.message = outcome.refusal + (
                "; when_busy: wait sends a batch action again only when it names one instance, the one waited on" if self._instance_id else "")
            return False
        return True

    def _wait_until_free(self, outcome, pauses):
        """Wait until the instance is RUNNING with no task running; then, when nothing visible held the change back, pause
        before it is sent again. False (the outcome says why) when it cannot be sent again."""
        gate = self._waiter(WaitPhase.QUEUED, idle=True).wait()
        outcome.learn_gate(gate)
        times = "%d time%s" % (outcome.refusals, "" if outcome.refusals == 1 else "s")
        if gate.failed:
            outcome.idle_wait = gate
            outcome.message = "Refused %s for now (%s), and the instance did not become free: %s" % (times, outcome.refusal, gate.message)
            return False
        if gate.tasks or gate.waited_for_instance:
            return True
        if outcome.batch is not None:
            # A batch action gives no reason: once nothing visible holds the instance, the refusal is not one to wait out.
            outcome.message = "%s, though nothing visible holds the instance: it is RUNNING and no task runs" % outcome.refusal
            return False
        pause = pauses.next_pause()
        if self._clock.monotonic() + pause >= self._deadline:
            outcome.idle_wait = gate
            outcome.message = "Refused %s for now (%s) until wait_timeout, with no task running and the instance RUNNING" % (
                times, outcome.refusal)
            return False
        self._clock.sleep(pause)
        return True

    def _read_status(self, outcome):
        """The instance's status, for the message of a refusal: one read, within the client's own retries (a change that is
        not waited for has no deadline); a failed read only leaves it out."""
        if self._instance_id is None:
            return
        try:
            outcome.instance_status = InstanceView(self._client, self._instance_id).read()
        except DmsError:
            return

    def _tasks_named(self, name):
        """The IDs of the tasks of this name created within the clock skew the cloud allows: the change's task is none of them."""
        since = self._clock.wall() - CLOCK_SKEW_ALLOWANCE
        try:
            return frozenset(task["id"] for task in self._client.tasks_created_since(self._instance_id, since, deadline=self._deadline)
                             if task["name"] == name)
        except DmsError as error:
            raise NotSentError(error) from None

    def _waiter(self, phase, **target):
        now = self._clock.monotonic()
        tracker = make_tracker(self._client, self._instance_id, self._clock, **target)
        listener = self._listener.phase(phase, now - self._start)
        return TaskWaiter(self._client, tracker, WaitLimits(max(0.0, self._deadline - now)), listener=listener, clock=self._clock)


def shown(body, limit=300):
    text = "null" if body is None else str(body)
    return text if len(text) <= limit else text[:limit - 3] + "..."
