# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared task selection: options into a TaskSelection (dms_task_info's and dms_task's), older_than, and reading.

dms_task_info's filters are tested at length through its own module tests; these tests cover what the two modules
share and what deleting adds: no selection without criteria, task_id alone, older_than's durations and times.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.client import TaskListing
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.selection import (
    TaskSelection, deletion_selection, info_selection, older_than_option, read_tasks,
)
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeDms, Listed, listed_task

UTC = timezone.utc
NOW = datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)

# Newest first, as the API lists them.
TASKS = [
    listed_task("t-now", "2024-06-01T11:59:59.000Z", "EXECUTING"),
    listed_task("t-day", "2024-05-31T12:00:00.000Z", "FAILED", "bindInstancePublicIp"),
    listed_task("t-edge", "2024-05-02T12:00:00.000Z"),       # exactly 30 days before NOW, to the second
    listed_task("t-before", "2024-05-02T11:59:59.999Z"),     # the second before
    listed_task("t-old", "2024-01-01T00:00:00.000Z", "CANCELLED", "bindInstancePublicIp"),
]


def fake_dms():
    return FakeDms(tasks=TASKS)


def deletion_params(**overrides):
    values = {"instance_id": INSTANCE, "task_id": None, "status": None, "name": None, "older_than": None}
    values.update(overrides)
    return values


def selected_ids(values, client=None):
    tasks, _listing = read_tasks(client or fake_dms(), deletion_selection(values, NOW))
    return [task["id"] for task in tasks]


# ----------------------------------------------------------------------------------------------------
# older_than


@pytest.mark.parametrize("text, back", [
    ("30d", timedelta(days=30)),
    ("12h", timedelta(hours=12)),
    ("90m", timedelta(minutes=90)),
    ("45s", timedelta(seconds=45)),
    ("2w", timedelta(weeks=2)),
    (" 7 d ", timedelta(days=7)),
    ("0001d", timedelta(days=1)),
], ids=["days", "hours", "minutes", "seconds", "weeks", "spaces", "leading-zeros"])
def test_older_than_a_duration_counts_back_from_now(text, back):
    assert older_than_option(text, NOW) == NOW - back


@pytest.mark.parametrize("text, expected", [
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T08:00:00+02:00", datetime(2024, 5, 1, 6, tzinfo=UTC)),
    ("20240501060000", datetime(2024, 5, 1, 6, tzinfo=UTC)),
    ("2024-05-01 06:00:00", datetime(2024, 5, 1, 6, tzinfo=UTC)),
], ids=["date", "offset", "compact", "naive-is-utc"])
def test_older_than_a_time(text, expected):
    assert older_than_option(text, NOW) == expected


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_older_than_unset_is_no_criterion(value):
    assert older_than_option(value, NOW) is None


@pytest.mark.parametrize("text, fragments", [
    ("30", ["older_than", "'30'", "30d", "YYYYMMDDHHmmss"]),
    ("30 days", ["older_than", "30d"]),
    ("1M", ["older_than", "30d"]),
    ("-5d", ["older_than", "30d"]),
    ("1.5h", ["older_than", "30d"]),
    ("1d12h", ["older_than", "30d"]),
    ("yesterday", ["older_than", "yesterday"]),
    ("2024-02-30", ["older_than", "2024-02-30"]),
    ("2024-05-01T00:00:00+15:00", ["older_than", "+15:00"]),
    ("0d", ["older_than", "'0d'", "at least 1d"]),
    ("0s", ["older_than", "at least 1s"]),
    ("1000000000d", ["older_than", "1000000000d", "year 1"]),
    ("800000d", ["older_than", "800000d", "year 1"]),
    ("9" * 5000 + "s", ["older_than", "year 1"]),
    ("x" * 5000, ["older_than", "xxx..."]),
], ids=["bare-number", "words", "months", "negative", "fraction", "compound", "word", "bad-date", "bad-offset", "zero-days",
        "zero-seconds", "beyond-timedelta", "before-year-1", "thousands-of-digits", "long-garbage"])
def test_older_than_refuses_what_it_cannot_read_naming_the_option(text, fragments):
    with pytest.raises(ConfigurationError) as caught:
        older_than_option(text, NOW)
    message = str(caught.value)
    assert message.startswith("older_than")
    for fragment in fragments:
        assert fragment in message
    assert len(message) < 400


# ----------------------------------------------------------------------------------------------------
# deletion_selection: what dms_task acts on


def test_task_ids_alone_are_read_one_by_one_and_never_listed():
    dms = fake_dms()
    assert selected_ids(deletion_params(task_id=["t-old", " t-day ", "t-old", "missing"]), dms) == ["t-day", "t-old"]
    assert dms.kinds() == ["get"] * 3 and dms.asked("get") == ["t-old", "t-day", "missing"] and dms.listings == []


def test_task_ids_select_active_tasks_too_for_the_caller_to_keep():
    assert selected_ids(deletion_params(task_id=["t-now"])) == ["t-now"]


@pytest.mark.parametrize("overrides, expected", [
    ({"status": ["FAILED", "CANCELLED"]}, ["t-day", "t-old"]),
    ({"name": ["bindInstancePublicIp"]}, ["t-day", "t-old"]),
    ({"name": ["kafkaConfigModify"]}, ["t-now", "t-edge", "t-before"]),
    ({"older_than": "30d"}, ["t-before", "t-old"]),
    ({"older_than": "2024-05-02T12:00:00Z"}, ["t-before", "t-old"]),
    ({"older_than": "2024-05-02T12:00:00.900Z"}, ["t-before", "t-old"]),
    ({"older_than": "2024-05-02T12:00:01Z"}, ["t-edge", "t-before", "t-old"]),
    ({"status": ["SUCCESS"], "older_than": "30d"}, ["t-before"]),
    ({"status": ["CANCELLED"], "name": ["bindInstancePublicIp"], "older_than": "1w"}, ["t-old"]),
    ({"status": ["DELETED"]}, []),
], ids=["statuses", "name", "name-with-active", "duration", "time", "time-to-the-second", "time-a-second-later",
        "status-and-duration", "all-three", "nothing-matches"])
def test_a_selection_keeps_what_passes_every_criterion(overrides, expected):
    assert selected_ids(deletion_params(**overrides)) == expected


def test_older_than_narrows_the_listing_the_api_sends():
    dms = fake_dms()
    selection = deletion_selection(deletion_params(older_than="30d"), NOW)
    read_tasks(dms, selection)
    # The last second selected is the one before the cutoff's.
    assert dms.listings == [Listed("list", None, datetime(2024, 5, 2, 11, 59, 59, tzinfo=UTC), True)]
    assert selection == TaskSelection(INSTANCE, [], [], [], None, datetime(2024, 5, 2, 11, 59, 59, tzinfo=UTC), None)


def test_a_selection_without_a_time_lists_without_a_window():
    dms = fake_dms()
    read_tasks(dms, deletion_selection(deletion_params(instance_id=" %s " % INSTANCE, status=["FAILED"]), NOW))
    assert dms.listings == [Listed("list", None, None, True)] and dms.kinds() == ["list"]  # of the instance as stripped


@pytest.mark.parametrize("overrides, fragments", [
    ({}, ["nothing selected", "task_id", "status", "name", "older_than", "whole history", INSTANCE]),
    ({"status": [], "name": [], "older_than": "  "}, ["nothing selected", "whole history"]),
    ({"task_id": []}, ["task_id is empty", "status", "name", "older_than"]),
    ({"task_id": ["t-old"], "status": ["FAILED"]}, ["task_id cannot be combined with status"]),
    ({"task_id": ["t-old"], "name": ["x"], "older_than": "1d"}, ["task_id cannot be combined with name and older_than"]),
    ({"task_id": ["t-old", "  "]}, ["task_id"]),
    ({"task_id": ["."]}, ["task_id", "'.'"]),
    ({"instance_id": "  ", "status": ["FAILED"]}, ["instance_id"]),
    ({"instance_id": "..", "status": ["FAILED"]}, ["instance_id"]),
    ({"older_than": "soon"}, ["older_than", "soon"]),
    ({"older_than": "0001-01-01T00:00:00Z"}, ["older_than", "no task is older"]),
], ids=["nothing", "empty-criteria", "empty-task-id", "task-id-and-status", "task-id-and-two", "blank-task-id", "dot-task-id",
        "blank-instance", "dotdot-instance", "bad-older-than", "older-than-year-1"])
def test_bad_deletion_selections_are_refused_before_any_request(overrides, fragments):
    dms = fake_dms()
    with pytest.raises(ConfigurationError) as caught:
        read_tasks(dms, deletion_selection(deletion_params(**overrides), NOW))
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert dms.calls == 0 and dms.listings == []


# ----------------------------------------------------------------------------------------------------
# info_selection and read_tasks: what dms_task_info reads


def test_info_selection_of_every_option():
    values = {"instance_id": " %s" % INSTANCE, "task_id": ["a", "b ", "a"], "status": ["FAILED"], "name": ["n"],
              "begin_time": "2024-05-01T00:00:00+02:00", "end_time": "20240502000000", "limit": 3}
    assert info_selection(values, NOW) == TaskSelection(
        INSTANCE, ["a", "b"], ["FAILED"], ["n"], datetime(2024, 4, 30, 22, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC), 3)


@pytest.mark.parametrize("limit, read_all", [(None, True), (2, False)])
def test_a_listing_is_read_whole_only_without_a_limit(limit, read_all):
    dms = fake_dms()
    read_tasks(dms, info_selection({"instance_id": INSTANCE, "task_id": None, "status": None, "name": None,
                                    "begin_time": None, "end_time": None, "limit": limit}, NOW))
    assert [listed.read_all for listed in dms.listings] == [read_all]  # a limit may stop early: no pages fetched ahead of it


def test_read_tasks_returns_the_listing_it_read_and_none_for_ids():
    tasks, listing = read_tasks(fake_dms(), info_selection({"instance_id": INSTANCE, "task_id": None, "status": None, "name": None,
                                                            "begin_time": None, "end_time": None, "limit": 2}, NOW))
    assert [task["id"] for task in tasks] == ["t-now", "t-day"]
    assert isinstance(listing, TaskListing)
    _tasks, listing = read_tasks(fake_dms(), deletion_selection(deletion_params(task_id=["t-old"]), NOW))
    assert listing is None
