# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A change in one step: send it (again once the instance is idle, when it was refused as busy), then wait for the
task it started. What dms_api does with ``when_busy: wait`` and ``wait: true``.

Plain Python on an injected monotonic clock, wall clock, sleep and random source; the waiting is waiter.py's, the
sending the client's. One deadline covers every phase: the waits for the instance to become idle and the wait for
the change.
"""

from __future__ import annotations

import random
import time

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ApiError
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import TaskWaiter, utc_now

# DMS refuses a change while another task of the instance runs, and applies nothing: sending it again later is safe.
BUSY_CODE = "DMS.00400017"


def refused_as_busy(answer):
    """Whether an answer is DMS's "another task is running" refusal."""
    error = answer.error
    return isinstance(error, ApiError) and error.status == 400 and error.error_code == BUSY_CODE


def answer_job_id(body):
    """The ``job_id`` of an answer, as the DMS change calls name the task they start; None when it has none."""
    job_id = body.get("job_id") if isinstance(body, dict) else None
    return job_id if isinstance(job_id, str) and job_id.strip() else None


class ChangeOutcome:
    """What became of a change: the last ``answer``; ``busy_refusals``, how often DMS refused it as busy; ``idle_wait``,
    the WaitOutcome of a wait for the instance that did not end idle; ``task_wait``, the WaitOutcome of the wait for the
    task it started; and ``message``, why it failed, when it did for any other reason than its answer."""

    def __init__(self):
        self.answer = None
        self.busy_refusals = 0
        self.idle_wait = None
        self.task_wait = None
        self.message = None


class ChangeRunner:
    """Sends one call and waits on one instance, all within ``timeout`` seconds from when it was made."""

    def __init__(self, client, instance_id, timeout, clock=time.monotonic, wall=utc_now, sleep=time.sleep, rng=random.random):
        self._client = client
        self._instance_id = instance_id
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._rng = rng
        self._deadline = clock() + timeout

    def send(self, send_call, outcome, wait_when_busy):
        """Call ``send_call()`` (it returns an HttpAnswer); while the answer is a busy refusal and ``wait_when_busy``,
        wait until the instance is idle and call it again. Returns the wall time of the last call, just before it."""
        while True:
            sent_at = self._wall()
            outcome.answer = send_call()
            if not refused_as_busy(outcome.answer):
                return sent_at
            outcome.busy_refusals += 1
            if not wait_when_busy:
                return sent_at
            gate = self._waiter(idle=True).wait()
            if gate.failed:
                outcome.idle_wait = gate
                outcome.message = "Refused %d time%s as busy (%s), and the instance did not become idle: %s" % (
                    outcome.busy_refusals, "" if outcome.busy_refusals == 1 else "s", BUSY_CODE, gate.message)
                return sent_at

    def wait_for_task(self, outcome, sent_at, task_name=None):
        """Wait for the task the accepted answer names (its job_id) or, without one, the newest task named ``task_name``
        created since ``sent_at``. Without either, the outcome says what came back instead."""
        job_id = answer_job_id(outcome.answer.body)
        if job_id is not None:
            outcome.task_wait = self._waiter(task_ids=[job_id]).wait()
        elif task_name is not None:
            outcome.task_wait = self._waiter(name=task_name, created_after=sent_at.replace(microsecond=0)).wait()
        else:
            outcome.message = ("wait: the answer (HTTP %s) has no job_id to wait for; its body: %s. Give wait_for_name to wait for"
                               " the newest task of that name created since the call" % (outcome.answer.status, _shown(outcome.answer.body)))
            return
        if outcome.task_wait.failed:
            outcome.message = outcome.task_wait.message

    def _waiter(self, **target):
        remaining = max(0.0, self._deadline - self._clock())
        return TaskWaiter(self._client, self._instance_id, timeout=remaining, clock=self._clock, wall=self._wall, sleep=self._sleep,
                          rng=self._rng, **target)


def _shown(body, limit=300):
    text = "null" if body is None else str(body)
    return text if len(text) <= limit else text[:limit - 3] + "..."
