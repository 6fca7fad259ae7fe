# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live lines of a wait, printed by the action plugins at default verbosity as it goes, so that a long wait in a
terminal or an AWX job is never a silent screen. ansible-runner turns each line into a job event."""

from __future__ import annotations

from ansible.utils.display import Display

from ansible_collections.hwcloud.dms.plugins.module_utils.refusals import instance_ready
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import FINAL_STATUSES
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import WaitListener, WaitPhase

display = Display()


class DisplayListener(WaitListener):
    """Lines ``<label>: <what happened> [<seconds since the run began>]``; while a change queues behind a busy instance,
    its lines say so."""

    def __init__(self, label, queued=False, offset=0.0):
        self._label = label
        self._queued = queued
        self._offset = offset

    def phase(self, phase, offset):
        return DisplayListener(self._label, queued=phase == WaitPhase.QUEUED, offset=offset)

    def retrying(self, note):
        display.display("%s: %s" % (self._label, note))

    def refused_for_now(self, refusal, times, waiting, elapsed):
        then = "; waiting until the instance is free to send it again" if waiting else ""
        self._say("refused for now (%s time%s): %s%s" % (times, "" if times == 1 else "s", refusal, then), elapsed)

    def status_changed(self, task, previous, elapsed, progress):
        change = "%s -> %s" % (previous, task["status"]) if previous else task["status"]
        self._say("%s%s (ID %s) %s%s" % (self._queue_prefix(), task["name"], task["id"], change, progress_text(progress)), elapsed)

    def instance_changed(self, status, previous, elapsed):
        # A RUNNING instance holds nothing back: no "queued behind" for it.
        prefix = self._queue_prefix() if not instance_ready(status) else ""
        self._say("%sinstance %s" % (prefix, "%s -> %s" % (previous, status) if previous else status), elapsed)

    def still_waiting(self, tasks, elapsed, seconds_left):
        states = ["%s (ID %s) %s%s" % (task["name"], task["id"], task["status"], _left_text(seconds_left.get(task["id"])))
                  for task in tasks if task["status"] not in FINAL_STATUSES]
        self._say("%s: %s" % ("still queued behind" if self._queued else "still waiting", "; ".join(states) or "no task seen yet"), elapsed)

    def poll_failed(self, error, elapsed):
        self._say("poll failed, will try again: %s" % error, elapsed)

    def progress_failed(self, error, elapsed):
        display.v("%s: progress not available: %s [%.1f s]" % (self._label, error, self._offset + elapsed))

    def polled(self, tasks, elapsed, calls):
        display.v("%s: polled %d task(s), %d API call(s) so far [%.1f s]" % (self._label, len(tasks), calls, self._offset + elapsed))

    def _queue_prefix(self):
        return "queued behind " if self._queued else ""

    def _say(self, text, elapsed):
        display.display("%s: %s [%.1f s]" % (self._label, text, self._offset + elapsed))


def _left_text(seconds):
    """What a task's last progress answer leaves, for a heartbeat (no new progress is asked then)."""
    if seconds is None:
        return ""
    return ", about %.0f s left by its progress" % seconds if seconds >= 1 else ", due to end by its progress"


def progress_text(progress):
    if not progress:
        return ""
    text = ""
    if progress.get("progress_percentage") is not None:
        text += " %s%%" % progress["progress_percentage"]
    if progress.get("remain_time") is not None:
        text += ", about %s s left" % progress["remain_time"]
    return text
