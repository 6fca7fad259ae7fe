# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a running task is expected to end, from what the API tells: the progress call's ``remain_time``, or how long
the instance's finished tasks of the same name took. The waiter polls more often in that window.

Plain Python, no Ansible imports. Windows are (earliest, latest) on the waiter's monotonic clock. An estimate only
ever moves polls: a wrong one (the cloud documents neither the unit nor the rounding of ``remain_time``) costs a few
requests, never a later end than polling every ``sleep`` seconds would notice.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import parse_api_timestamp

# Fewer finished tasks of a name say too little about the next one.
MIN_PAST_TASKS = 3
# The most recent ones say the most about the next: older runs may have had other data, versions or load.
RECENT_TASKS = 20
# remain_time is read as whole seconds (the emulator rounds up; the cloud does not say): the end is within a second
# of what it says, either way.
REMAIN_TIME_SLACK = 1.0


class EndWindow(namedtuple("EndWindow", ["earliest", "latest"])):
    """When a task (or the last of several) is expected to end, on the monotonic clock."""
    __slots__ = ()


def past_durations(tasks):
    """name -> the durations in seconds (creation to last change) of its SUCCESS tasks, newest first, at most
    RECENT_TASKS of them; ``tasks`` newest first, as listings give them."""
    durations = {}
    for task in tasks:
        if task["status"] != "SUCCESS":
            continue
        created, ended = parse_api_timestamp(task["created_at"]), parse_api_timestamp(task["updated_at"])
        if created is None or ended is None or ended < created:
            continue
        known = durations.setdefault(task["name"], [])
        if len(known) < RECENT_TASKS:
            known.append((ended - created).total_seconds())
    return durations


def history_window(task, durations, now, wall_now):
    """The window in which ``task`` ends if it takes as long as the shortest to the longest of its name's recent SUCCESS
    tasks; None with fewer than MIN_PAST_TASKS of them or no creation time."""
    created = parse_api_timestamp(task["created_at"])
    if created is None or len(durations) < MIN_PAST_TASKS:
        return None
    created_at = now - (wall_now - created).total_seconds()  # on the monotonic clock
    return EndWindow(created_at + min(durations), created_at + max(durations))


def progress_window(progress, read_at):
    """The window the progress answer's ``remain_time`` (read at ``read_at``) points at; None without a positive one."""
    remain = progress.get("remain_time") if isinstance(progress, dict) else None
    if isinstance(remain, bool) or not isinstance(remain, (int, float)) or not remain > 0:
        return None
    return EndWindow(read_at + remain - REMAIN_TIME_SLACK, read_at + remain + REMAIN_TIME_SLACK)


def last_end(windows):
    """The window in which the last of several tasks ends; None when any of them has none."""
    if not windows or any(window is None for window in windows):
        return None
    return EndWindow(max(window.earliest for window in windows), max(window.latest for window in windows))


class EndEstimate:
    """When the unfinished tasks of one wait are expected to end: each from its last progress answer's ``remain_time``
    where it had one, else from the durations of the past tasks of its name."""

    def __init__(self):
        self._progress_windows = {}  # task ID -> the EndWindow its last progress answer points at, or None

    def learn_progress(self, task_id, progress, read_at):
        self._progress_windows[task_id] = progress_window(progress, read_at)

    def seconds_left(self, unfinished, now):
        """Task ID -> the seconds its last progress answer's ``remain_time`` leaves from ``now`` (never below 0), for those of
        ``unfinished`` that had one."""
        windows = ((task["id"], self._progress_windows.get(task["id"])) for task in unfinished)
        return dict((task_id, max(0.0, (window.earliest + window.latest) / 2.0 - now)) for task_id, window in windows if window is not None)

    def ending_after(self, unfinished, moment):
        """(task, window) of each of ``unfinished`` whose last progress answer says it cannot end by ``moment``: a
        guess from past durations never condemns a wait, only what the cloud said of this task."""
        windows = ((task, self._progress_windows.get(task["id"])) for task in unfinished)
        return [(task, window) for task, window in windows if window is not None and window.earliest > moment]

    def window(self, unfinished, durations, now, wall_now):
        """The window in which the last of ``unfinished`` ends (see last_end); ``durations`` maps names to past durations."""
        return last_end([self._progress_windows.get(task["id"]) or history_window(task, durations.get(task["name"], []), now, wall_now)
                         for task in unfinished])
