# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each way of waiting reads on a poll, and what the answers mean.

One tracker per mode (given IDs, the newest task of a name, the idle gate), behind one interface, so that
each mode's cost is found in one place. Requests per poll, whatever the length of the instance's history:

- IDs: one show-one call per tracked task that has not ended.
- name: until the task is seen, one listing of the tasks created since ``created_after`` (or, without it,
  the whole history once, then the tasks created since the wait began); then one show-one call.
- idle gate: the whole history once (the only way to prove nothing older runs), and on every poll, the first
  included, one listing of the tasks created since the wait began, plus (after the first) one show-one call per
  tracked task that has not ended and was not on it; and on a poll that finds no task running, one read of the
  instance, whose status must be RUNNING too (an instance can be RESTARTING with no task running).

"Created since" listings are one page unless more than a page of tasks were created in that window.
Plain Python, no Ansible imports; the client is any object with the DmsClient calls.
"""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.estimates import RECENT_TASKS, past_durations
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import CLOCK_SKEW_ALLOWANCE, FINAL_STATUSES, is_active

# One page of a listing: what the API sends at most per request.
PAGE_SIZE = 100


class Absences:
    """What DMS said once no longer exists: gone only when the next answer about it says so too (one answer is no proof,
    a gateway's hiccup can give it)."""

    def __init__(self):
        self._once = set()

    def said_gone(self, key):
        """An answer said ``key`` is gone: True when the answer before said so too (it is gone then)."""
        if key in self._once:
            self._once.discard(key)
            return True
        self._once.add(key)
        return False

    def seen(self, key):
        self._once.discard(key)


class Tracker:
    """The tasks one wait on ``instance`` (an InstanceView) follows, by ID, in the order first seen; ``None`` for an ID
    not yet seen."""

    single_task = False
    # Whether the wait is also over the instance's status, which ``poll`` then reads.
    reads_instance = False

    def __init__(self, client, instance):
        self._client = client
        self.instance = instance
        self._instance_id = instance.instance_id
        self.tasks = {}
        self._absences = Absences()
        self.durations = {}  # task name -> recent SUCCESS durations, from the listings this tracker read

    def describe(self):
        raise NotImplementedError

    def poll(self, deadline):
        """Read once and update ``tasks``. Raises the client's errors; what was read before one is kept."""
        raise NotImplementedError

    def missing(self):
        """IDs waited for that were never seen."""
        return [task_id for task_id, task in self.tasks.items() if task is None]

    def sighted(self):
        """Whether the wait has something to wait on (a name search has, once its task was seen)."""
        return True

    def known(self):
        return [task for task in self.tasks.values() if task is not None]

    def _unfinished(self):
        return [task_id for task_id, task in self.tasks.items() if task is None or task["status"] not in FINAL_STATUSES]

    def _refresh(self, task_ids, deadline):
        """Read each of these tasks by ID. A task seen before and reported gone twice in a row counts as DELETED."""
        for task_id in task_ids:
            task = self._client.get_task(self._instance_id, task_id, deadline=deadline)
            if task is not None:
                self._update(task)
            elif self.tasks.get(task_id) is not None and self._absences.said_gone(task_id):
                self.tasks[task_id] = dict(self.tasks[task_id], status="DELETED")

    def _update(self, task):
        self._absences.seen(task["id"])
        self.tasks[task["id"]] = task

    def _learn(self, tasks):
        """Keep the durations of the SUCCESS tasks among ``tasks`` (newest first), for the end estimates."""
        for name, durations in past_durations(tasks).items():
            known = self.durations.setdefault(name, [])
            known.extend(durations[:RECENT_TASKS - len(known)])


class IdTracker(Tracker):
    """Given task IDs, each read by ID until it has ended."""

    def __init__(self, client, instance, task_ids):
        super().__init__(client, instance)
        self.tasks = dict((task_id, None) for task_id in task_ids)
        self.single_task = len(self.tasks) == 1

    def describe(self):
        return "task%s %s" % ("" if len(self.tasks) == 1 else "s", ", ".join(self.tasks))

    def poll(self, deadline):
        self._refresh(self._unfinished(), deadline)


class NameTracker(Tracker):
    """The newest task of a name (created at or after ``created_after``, and none of ``ignored_ids``); once seen, read by ID."""

    single_task = True

    def __init__(self, client, instance, name, created_after, wall, ignored_ids=()):
        super().__init__(client, instance)
        self._name = name
        self._created_after = created_after
        self._ignored_ids = frozenset(ignored_ids)
        self._wall = wall
        self._searched_since = None  # after a full search of the history: only newer tasks can still match

    def describe(self):
        after = " created at or after %s" % self._created_after.isoformat() if self._created_after else ""
        return "the newest task named %s%s" % (self._name, after)

    def sighted(self):
        return bool(self.tasks)

    def poll(self, deadline):
        if self.tasks:
            self._refresh(self._unfinished(), deadline)
            return
        since = self._created_after or self._searched_since
        if since is not None:
            candidates = self._client.tasks_created_since(self._instance_id, since, deadline=deadline)
        else:
            candidates = self._client.list_tasks(self._instance_id, deadline=deadline)
        searched_at = self._wall() - CLOCK_SKEW_ALLOWANCE
        read, match = [], None
        for task in candidates:
            read.append(task)
            if match is None and task["name"] == self._name and task["id"] not in self._ignored_ids:
                match = task
            if match is not None and len(read) % PAGE_SIZE == 0:
                break  # the rest of the page came with it and tells how long older tasks of the name took; no more pages
        self._learn(read)
        if match is not None:
            self._update(match)
            return
        if since is None:
            candidates.require_complete()  # a truncated history proves no absence: search it again next time
            self._searched_since = searched_at


class IdleTracker(Tracker):
    """Every task seen CREATED or EXECUTING during the wait, and the instance's status: the gate passes once all of those
    tasks have ended and the instance is RUNNING."""

    reads_instance = True

    def __init__(self, client, instance, wall):
        super().__init__(client, instance)
        self._wall = wall
        self._history_read_at = None

    def describe(self):
        return "every CREATED or EXECUTING task to end and the instance to be RUNNING"

    def poll(self, deadline):
        first_poll = self._history_read_at is None
        if first_poll:
            read_at = self._wall() - CLOCK_SKEW_ALLOWANCE
            listing = self._client.list_tasks(self._instance_id, deadline=deadline, read_all=True)
            history = list(listing)
            listing.require_complete()  # "idle" is a claim about every task: it needs the whole history
            for task in history:
                if is_active(task):
                    self._update(task)
            self._learn(history)
            self._history_read_at = read_at
        # Also on the first poll: a task created while the history was paged through sits on a page already read, and
        # the listing leaves it out, so no poll may say "idle" before it has read the tasks created since the wait began.
        listed = set()
        for task in self._client.tasks_created_since(self._instance_id, self._history_read_at, deadline=deadline):
            listed.add(task["id"])
            if task["id"] in self.tasks or is_active(task):
                self._update(task)
        if not first_poll:  # the first poll has just read every tracked task
            self._refresh([task_id for task_id in self._unfinished() if task_id not in listed], deadline)
        if not self._unfinished():
            self.instance.read(deadline)
