# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which tasks a module acts on: its options turned into a selection, and the selection read from the API.

Plain Python, no Ansible imports beyond module_utils, so that dms_task_info (which reads) and dms_task (which
deletes) select tasks alike.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import timedelta

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import duration, number_option, path_segment_option, time_option
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import newest_first, select_tasks

MAX_LIMIT = 100000


class TaskSelection(namedtuple("TaskSelection", ["instance_id", "task_ids", "statuses", "names", "begin", "end", "limit"])):
    """Tasks read by ID (``task_ids``, each read on its own) or else by listing the instance, then kept when they pass
    every given filter: ``statuses``, ``names``, creation time from ``begin`` to ``end`` (aware datetimes, both
    inclusive, to the second), at most ``limit`` of them."""
    __slots__ = ()


def info_selection(params, now):
    """The selection of dms_task_info's options (``now``: the time durations count back from). Raises ConfigurationError
    naming the option, before any request."""
    instance_id = path_segment_option("instance_id", params["instance_id"])
    begin = time_option("begin_time", params["begin_time"], now)
    end = time_option("end_time", params["end_time"], now)
    if begin and end and end < begin:
        raise ConfigurationError("end_time (%s) is before begin_time (%s)" % (params["end_time"], params["begin_time"]))
    limit = number_option("limit", params["limit"], 1, MAX_LIMIT, integer=True) if params["limit"] is not None else None
    return TaskSelection(instance_id, task_id_option(params["task_id"]), params["status"], params["name"], begin, end, limit)


def deletion_selection(params, now):
    """The selection of dms_task's options: its task_id, or its status, name and older_than (``now`` is the time
    older_than counts back from). Raises ConfigurationError naming the options, before any request, for bad input and
    for a selection without criteria, which would take the whole history of the instance."""
    instance_id = path_segment_option("instance_id", params["instance_id"])
    task_ids = task_id_option(params["task_id"])
    statuses = params["status"] or []
    names = params["name"] or []
    cutoff = older_than_option(params["older_than"], now)
    criteria = [option for option, value in (("status", statuses), ("name", names), ("older_than", cutoff)) if value]
    if task_ids and criteria:
        raise ConfigurationError("task_id cannot be combined with %s: give the IDs of the tasks to delete, or select them by status,"
                                 " name and older_than" % " and ".join(criteria))
    if not task_ids and not criteria:
        given = "task_id is empty" if params["task_id"] is not None else "nothing selected"
        raise ConfigurationError("%s: give task_id, or at least one of status, name and older_than (a selection without criteria would"
                                 " delete the whole history of instance %s)" % (given, instance_id))
    end = None
    if cutoff is not None:
        try:
            # Created before the cutoff's second: the last second selected is the one before it.
            end = cutoff.replace(microsecond=0) - timedelta(seconds=1)
        except OverflowError:
            raise ConfigurationError("older_than: no task is older than '%s'" % str(params["older_than"]).strip()) from None
    return TaskSelection(instance_id, task_ids, statuses, names, None, end, None)


def task_id_option(values):
    """The task IDs, stripped, each once, in the order given; an empty or blank one is an error naming task_id."""
    return list(dict.fromkeys(path_segment_option("task_id", task_id) for task_id in values or []))


def older_than_option(value, now):
    """The creation time older_than names, as an aware UTC datetime: ``now`` minus a duration (30d, 12h, 90m, 45s, 2w),
    or a time in the formats of parse_time. None when unset or blank. Raises ConfigurationError naming older_than."""
    cutoff = time_option("older_than", value, now)
    if cutoff is not None and duration("older_than", str(value)) == timedelta(0):
        # Every finished task is older than now: a zero is more likely a slip than a wish to delete the whole history.
        text = str(value).strip()
        raise ConfigurationError("older_than '%s' is no duration: give at least 1%s" % (text, text[-1]))
    return cutoff


def read_tasks(client, selection):
    """(the selected tasks newest first, the TaskListing read, or None when the tasks were read by ID).

    Tasks read by ID that DMS says do not exist are left out. A listing is consumed only as far as ``limit`` needs;
    without one it is read whole, so its pages are fetched a few at a time.
    """
    listing = None
    if selection.task_ids:
        found = (client.get_task(selection.instance_id, task_id) for task_id in selection.task_ids)
        tasks = newest_first(task for task in found if task)
    else:
        tasks = listing = client.list_tasks(selection.instance_id, begin_time=selection.begin, end_time=selection.end,
                                            read_all=selection.limit is None)
    return select_tasks(tasks, selection.statuses, selection.names, selection.begin, selection.end, selection.limit), listing
