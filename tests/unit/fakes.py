# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test doubles of the unit tests: one fake clock, tasks whose status follows a timeline in its time, and one fake
DMS client that serves them.

FakeDms offers every call of client.TaskApi with the same signature (test_fakes.py checks it against the Protocol and
DmsClient), so that it cannot drift from the real client. Its listings are the client's own TaskListing over pages the
fake serves with a task_count, so paging, de-duplication and what a listing says of itself (complete, held, counted)
are the real code's. Nothing here sleeps: time moves only when a test or a sleep() moves it.
"""

from __future__ import annotations

import json
import math
from collections import namedtuple
from datetime import datetime, timedelta, timezone

from ansible_collections.hwcloud.dms.plugins.module_utils.client import PAGE_SIZE, TaskListing
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import InstanceNotFoundError, UnsafeToRetryError
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import BAD_STATUSES, created_before, normalize_task, parse_time
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import TaskWaiter, WaitLimits, make_tracker

INSTANCE = "11111111-2222-3333-4444-555555555555"
WALL_START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
NEUTRAL = 0.5  # the random number that gives no jitter
EPS = 1e-9
MAX_SLEEPS = 2000  # no test needs this many pauses: a broken loop fails instead of hanging
TASK_READS = ("get", "list", "since")


class FakeClock:
    """clock.Clock on fake time: monotonic seconds and the wall clock move together; sleep() moves them at once and
    records the pause.

    ``skew`` is how far the controller's wall clock runs ahead of the cloud's, by which the fake tasks are dated
    (``wall_at``). ``random`` is the source of jitter: NEUTRAL unless a test puts its own there. A pause beyond
    ``max_sleeps`` fails the test.
    """

    def __init__(self, start=1000.0, wall_start=WALL_START, max_sleeps=MAX_SLEEPS):
        self.start = start
        self.now = start
        self.wall_start = wall_start
        self.max_sleeps = max_sleeps
        self.sleeps = []
        self.skew = timedelta(0)
        self.random = lambda: NEUTRAL

    def monotonic(self):
        return self.now

    def wall(self):
        return self.wall_at(self.t) + self.skew

    def wall_at(self, offset):
        """The cloud's time ``offset`` fake seconds after the clock was made."""
        return self.wall_start + timedelta(seconds=offset)

    def sleep(self, seconds):
        assert seconds >= 0, "negative sleep %r" % seconds
        assert len(self.sleeps) < self.max_sleeps, "a pause of %s s after %d, the most this test allows" % (seconds, self.max_sleeps)
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds):
        self.now += seconds

    @property
    def t(self):
        """Fake seconds since the clock was made (the waits start at t=0 unless a test moves time first)."""
        return self.now - self.start


def api_time(moment):
    """A time as the API writes it: 2020-06-23T03:00:03.471Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def status_at(timeline, t):
    """The status a timeline [(t, status)] gives at fake time ``t``; None before its first point."""
    status = None
    for when, value in timeline:
        if when <= t + EPS:
            status = value
    return status


class FakeTask:
    """A task whose status follows ``timeline``: [(t, status)] in fake seconds, status None meaning gone (DMS answers it
    has no such task); it does not exist before the first t.

    ``created``: when the cloud dated its creation, in fake seconds (default: the first t) or as an aware datetime.
    ``params``: what the API sends as its params (as JSON text), None for none. ``on_delete``: what DMS keeps after
    the task's delete: "gone" (nothing), "DELETED" (the task, listed with that status) or "kept" (the task as it was:
    the delete was not applied).
    """

    def __init__(self, task_id, name, timeline, created=None, params=None, on_delete="gone"):
        self.id = task_id
        self.name = name
        self.timeline = sorted(timeline, key=lambda point: point[0])
        self.created = self.timeline[0][0] if created is None else created
        self.params = params
        self.on_delete = on_delete

    def status_at(self, t):
        return status_at(self.timeline, t)

    def set(self, t, status):
        """From fake time ``t`` on, the task has ``status`` (None: it is gone)."""
        self.timeline = sorted(self.timeline + [(t, status)], key=lambda point: point[0])

    def created_at(self, clock):
        return self.created if isinstance(self.created, datetime) else clock.wall_at(self.created)

    def as_api(self, clock):
        """The task as the API sends it at the clock's time: every field a string, params as JSON text."""
        created = self.created_at(clock)
        changes = [clock.wall_at(when) for when, _status in self.timeline if math.isfinite(when) and when <= clock.t + EPS]
        return {
            "id": self.id, "name": self.name, "status": self.status_at(clock.t), "user_name": "dms_test", "user_id": "u-1",
            "created_at": api_time(created), "updated_at": api_time(max(changes + [created])),
            "params": "" if self.params is None else json.dumps(self.params),
        }

    def as_dict(self, clock):
        """The task as the client returns it."""
        return normalize_task(self.as_api(clock))


def listed_task(task_id, created, status="SUCCESS", name="kafkaConfigModify", **options):
    """A task there from the start with one status, created at ``created`` (any time parse_time reads, e.g.
    2024-05-01T12:00:00Z). ``options``: those of FakeTask."""
    return FakeTask(task_id, name, [(-math.inf, status)], created=parse_time(created), **options)


def old_tasks(count, prefix="old", first_created=-100000.0, status="SUCCESS"):
    """``count`` long-finished tasks, created one second apart, before anything else."""
    return [FakeTask("%s-%04d" % (prefix, i), "restartInstance", [(first_created + i, status)]) for i in range(count)]


Listed = namedtuple("Listed", ["kind", "begin_time", "end_time", "read_all"])


class CountingListing(TaskListing):
    """The client's TaskListing, which also counts on its FakeDms the tasks it hands out: how far its caller read."""

    def __init__(self, dms, fetch_page):
        super().__init__(fetch_page)
        self._dms = dms

    def __iter__(self):
        tasks = super().__iter__()
        try:
            for task in tasks:
                self._dms.handed_out += 1
                yield task
        finally:
            tasks.close()


class FakeDms:
    """client.TaskApi on fake time, over ``tasks`` (FakeTasks) of the instances ``instance_ids``; any other instance
    does not exist.

    Every request counts one call and logs (kind, detail, fake t): ``list`` and ``since`` pages (detail: the page
    number; ``since`` for those of tasks_created_since), ``get``, ``delete`` and ``progress`` (the task ID), and
    ``instance`` (None). ``listings`` records the query of each listing; ``handed_out`` counts the tasks listings handed out.

    What a request raises: ``faults`` by call number (1-based), by (kind, detail) or by kind; ``fault_when(kind,
    number, t)`` may return an error too, or change the fake (it runs before the request is served). A delete whose
    error is an UnsafeToRetryError was applied before its answer was lost. A failing request takes ``fail_cost`` fake
    seconds (the client's retries). Pages after ``truncate_after`` come back empty, so the listing ends short of its
    count; ``task_count``, when set, is the count pages give instead of the number of tasks.

    ``progress``: task ID to a dict, None, an exception or a callable(t) giving one. ``instance_status``: a status or a
    timeline like a task's; ``engine`` as the instance's answer names it.
    """

    def __init__(self, clock=None, tasks=(), progress=None, fail_cost=0.0, instance_status="RUNNING", engine="kafka",
                 instance_ids=(INSTANCE,)):
        self.clock = clock or FakeClock()
        self.tasks = list(tasks)
        self.progress = dict(progress or {})
        self.instance_status = instance_status
        self.engine = engine
        self.instance_ids = tuple(instance_ids)
        self.faults = {}
        self.fault_when = None
        self.fail_cost = fail_cost
        self.truncate_after = 0
        self.task_count = None
        self.log = []
        self.listings = []
        self.deadlines = []
        self.handed_out = 0
        self._calls = 0

    @property
    def calls(self):
        return self._calls

    def task(self, task_id):
        """The FakeTask of that ID."""
        return next(task for task in self.tasks if task.id == task_id)

    def list_tasks(self, instance_id, begin_time=None, end_time=None, deadline=None, read_all=False):
        """A TaskListing of the tasks, newest first, a page fetched as it is consumed.

        The fake API ignores the time window (the client filters exactly on its side). The pages are fetched one after
        another even with ``read_all`` (recorded in ``listings``): the log's order and the faults by call number are
        then the same on every run, and TaskListing gives the same tasks and accounting either way.
        """
        return self._listing("list", instance_id, begin_time, end_time, deadline, read_all)

    def tasks_created_since(self, instance_id, moment, deadline=None):
        """As DmsClient.tasks_created_since, its pages logged as ``since``."""
        listing = self._listing("since", instance_id, moment, None, deadline, False)
        for task in listing:
            if created_before(task, moment):
                return
            yield task
        listing.require_complete()

    def get_task(self, instance_id, task_id, deadline=None):
        self._request("get", task_id, instance_id, deadline)
        task = self._visible(task_id)
        return None if task is None else task.as_dict(self.clock)

    def delete_task(self, instance_id, task_id, deadline=None):
        error = self._call("delete", task_id, instance_id, deadline)
        if error is not None and not isinstance(error, UnsafeToRetryError):
            raise error
        task = self._visible(task_id)
        if task is not None and task.on_delete != "kept":
            task.set(self.clock.t, None if task.on_delete == "gone" else "DELETED")
        if error is not None:
            raise error
        return task is not None

    def get_task_progress(self, instance_id, task_id, deadline=None):
        self._request("progress", task_id, instance_id, deadline)
        value = self.progress.get(task_id)
        if callable(value):
            value = value(self.clock.t)
        if isinstance(value, Exception):
            raise value
        return value

    def get_instance(self, instance_id, deadline=None):
        self._request("instance", None, instance_id, deadline)
        status = self.instance_status
        if not isinstance(status, str):
            status = status_at(status, self.clock.t)
        return {"instance_id": instance_id, "status": status, "engine": self.engine}

    # What the tests look at

    def kinds(self):
        return [kind for kind, _detail, _t in self.log]

    def reads(self):
        """The requests that read tasks (get, list and since pages): not the progress calls, instance reads or deletes."""
        return [kind for kind in self.kinds() if kind in TASK_READS]

    def asked(self, kind):
        """The details of the requests of one kind, in order: the task IDs of get, delete or progress."""
        return [detail for logged, detail, _t in self.log if logged == kind]

    def instance_reads(self):
        """The fake times the instance was read at."""
        return [t for kind, _detail, t in self.log if kind == "instance"]

    def polls(self):
        """Task reads grouped by the fake time they were made at (one group per poll when requests take no time)."""
        groups = []
        for kind, detail, t in self.log:
            if kind not in TASK_READS:
                continue
            if groups and abs(groups[-1][0] - t) < EPS:
                groups[-1][1].append((kind, detail))
            else:
                groups.append((t, [(kind, detail)]))
        return groups

    def poll_times(self):
        return [t for t, _calls in self.polls()]

    # Serving

    def _call(self, kind, detail, instance_id, deadline):
        """Count and log one request; the error it meets (after its fail_cost), or None."""
        self._calls += 1
        self.log.append((kind, detail, self.clock.t))
        self.deadlines.append(deadline)
        error = self.fault_when(kind, self._calls, self.clock.t) if self.fault_when is not None else None
        for key in (self._calls, (kind, detail), kind):
            if error is None:
                error = self.faults.get(key)
        if error is None and instance_id not in self.instance_ids:
            error = InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist.", "req-404", "GET", "/v2/p/instances/%s" % instance_id)
        if error is not None:
            self.clock.advance(self.fail_cost)
        return error

    def _request(self, kind, detail, instance_id, deadline):
        error = self._call(kind, detail, instance_id, deadline)
        if error is not None:
            raise error

    def _listing(self, kind, instance_id, begin_time, end_time, deadline, read_all):
        self.listings.append(Listed(kind, begin_time, end_time, read_all))
        return CountingListing(self, lambda start: self._page(kind, start, instance_id, deadline))

    def _page(self, kind, start, instance_id, deadline):
        """The answer to one page's request (``start`` 1-based, as the API's), as the API sends it."""
        number = (start - 1) // PAGE_SIZE + 1
        self._request(kind, number, instance_id, deadline)
        visible = self._newest_first()
        served = [] if self.truncate_after and number > self.truncate_after else visible[start - 1:start - 1 + PAGE_SIZE]
        count = len(visible) if self.task_count is None else self.task_count
        return {"task_count": str(count), "tasks": [task.as_api(self.clock) for task in served]}

    def _newest_first(self):
        """The tasks that exist now, newest first (of two created together, the one added later)."""
        order = sorted(enumerate(self.tasks), key=lambda pair: (pair[1].created_at(self.clock), pair[0]), reverse=True)
        return [task for _index, task in order if task.status_at(self.clock.t) is not None]

    def _visible(self, task_id):
        return next((task for task in self._newest_first() if task.id == task_id), None)


def waiter_for(dms, clock, listener=None, timeout=1800.0, delay=0.0, max_pause=10.0, fail_on_status=BAD_STATUSES, **target):
    """A TaskWaiter on the fake DMS and clock for ``target`` (task_ids, name, created_after, idle), as the plugins make one."""
    tracker = make_tracker(dms, INSTANCE, clock, **target)
    return TaskWaiter(dms, tracker, WaitLimits(timeout, delay, max_pause), fail_on_status, listener, clock)
