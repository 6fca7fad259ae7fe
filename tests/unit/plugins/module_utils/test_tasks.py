# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task data: the normaliser, the time helpers and the local filters."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import (
    is_active, newest_first, normalize_task, parse_api_timestamp, parse_time, select_tasks, to_api_time,
)

UTC = timezone.utc

# The example response of the API reference page "Listing Background Tasks".
SEED_TASK = {
    "id": "ff80808272dcc90f0172df1e490f41b0",
    "name": "bindInstancePublicIp",
    "user_name": "dms_test",
    "user_id": "xxxxxxxx93ff484a828144c6xxxxxxxx",
    "params": "{\"public_ip_id\":\"06a13350-4305-4338-9f0e-6b322bb1413d\",\"public_ip_address\":\"xx.xx.xx.xx\",\"enable_public_ip\":true}",
    "status": "SUCCESS",
    "created_at": "2020-06-23T03:00:03.471Z",
    "updated_at": "2020-06-23T03:00:08.130Z",
}


# ------------------------------------------------------------------------------------------------
# normalize_task


def test_normalize_seed_example():
    assert normalize_task(SEED_TASK) == {
        "id": "ff80808272dcc90f0172df1e490f41b0",
        "name": "bindInstancePublicIp",
        "status": "SUCCESS",
        "user_name": "dms_test",
        "user_id": "xxxxxxxx93ff484a828144c6xxxxxxxx",
        "params": {"public_ip_id": "06a13350-4305-4338-9f0e-6b322bb1413d", "public_ip_address": "xx.xx.xx.xx", "enable_public_ip": True},
        "params_raw": SEED_TASK["params"],
        "created_at": "2020-06-23T03:00:03.471Z",
        "updated_at": "2020-06-23T03:00:08.130Z",
    }


@pytest.mark.parametrize("params_raw", ["", "   ", "not json", "{broken", "[1, 2]", "\"text\"", "42", "null", "true"])
def test_params_that_are_not_a_json_object_become_empty(params_raw):
    task = normalize_task(dict(SEED_TASK, params=params_raw))
    assert task["params"] == {}
    assert task["params_raw"] == params_raw


def test_missing_fields_become_empty_strings():
    task = normalize_task({})
    for field in ("id", "name", "status", "user_name", "user_id", "created_at", "updated_at", "params_raw"):
        assert task[field] == ""
    assert task["params"] == {}


def test_non_string_fields_become_strings():
    task = normalize_task({"id": 12, "status": None, "params": {"a": 1}})
    assert (task["id"], task["status"]) == ("12", "")
    assert task["params"] == {"a": 1}
    assert task["params_raw"] == '{"a": 1}'


def test_is_active():
    assert is_active({"status": "CREATED"}) and is_active({"status": "EXECUTING"})
    assert not any(is_active({"status": status}) for status in ("SUCCESS", "FAILED", "CANCELLED", "DELETED", ""))


# ------------------------------------------------------------------------------------------------
# parse_time, to_api_time


@pytest.mark.parametrize("text, expected", [
    ("20240131080000", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    (" 20240131080000 ", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("20240131T080000Z", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("20240131T080000", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("2024-01-31T08:00:00Z", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("2024-01-31t08:00:00z", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("2024-01-31T08:00:00+08:00", datetime(2024, 1, 31, 0, 0, 0, tzinfo=UTC)),
    ("2024-01-31T08:00:00+0800", datetime(2024, 1, 31, 0, 0, 0, tzinfo=UTC)),
    ("2024-01-31T08:00:00-0230", datetime(2024, 1, 31, 10, 30, 0, tzinfo=UTC)),
    ("2024-01-01T01:00:00+02:00", datetime(2023, 12, 31, 23, 0, 0, tzinfo=UTC)),  # across a year
    ("2024-01-31T08:00:00", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),  # naive means UTC
    ("2024-01-31 08:00:00", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("2024-01-31T08:00", datetime(2024, 1, 31, 8, 0, 0, tzinfo=UTC)),
    ("2020-06-23T03:00:03.471Z", datetime(2020, 6, 23, 3, 0, 3, 471000, tzinfo=UTC)),
    ("2020-06-23T03:00:03.1234567+01:00", datetime(2020, 6, 23, 2, 0, 3, 123456, tzinfo=UTC)),
    ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC)),
    ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_parse_time(text, expected):
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", [
    "", "yesterday", "2024", "2024-01", "2024-1-31", "2024/01/31", "31-01-2024", "2024013108000", "202401310800000",
    "2024-13-01", "2024-02-30", "2023-02-29", "2024-01-31T24:00:00", "2024-01-31T08:60:00", "2024-01-31T08:00:61",
    "20241301000000", "20240132000000", "20240131250000", "2024-01-31T08:00:00+8", "2024-01-31T08:00:00 UTC",
    "\u0662\u0660\u0662\u0664-01-31", "\uff12\uff10\uff12\uff14\uff10\uff11\uff13\uff11\uff10\uff18\uff10\uff10\uff10\uff10",  # other scripts' digits
])
def test_parse_time_rejects(text):
    with pytest.raises(ValueError) as caught:
        parse_time(text)
    assert "YYYYMMDDHHmmss" in str(caught.value) and "ISO-8601" in str(caught.value)


@pytest.mark.parametrize("text", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_parse_time_rejects_a_time_outside_the_writable_years(text):
    with pytest.raises(ValueError) as caught:
        parse_time(text)
    assert text in str(caught.value) and "0001 to 9999" in str(caught.value) and "YYYYMMDDHHmmss" in str(caught.value)


@pytest.mark.parametrize("offset", ["+14:01", "-14:30", "+25:00", "-1500", "+00:60", "+05:75", "+99:99"])
def test_parse_time_rejects_an_offset_beyond_14_hours(offset):
    text = "2024-01-31T08:00:00" + offset
    with pytest.raises(ValueError) as caught:
        parse_time(text)
    message = str(caught.value)
    assert text in message and "-14:00" in message and "+14:00" in message


@pytest.mark.parametrize("offset, utc", [
    ("+14:00", datetime(2024, 1, 30, 18, tzinfo=UTC)), ("-1400", datetime(2024, 1, 31, 22, tzinfo=UTC)),
    ("+05:45", datetime(2024, 1, 31, 2, 15, tzinfo=UTC)), ("-00:59", datetime(2024, 1, 31, 8, 59, tzinfo=UTC)),
])
def test_parse_time_takes_every_offset_up_to_14_hours(offset, utc):
    assert parse_time("2024-01-31T08:00:00" + offset) == utc


@pytest.mark.parametrize("text, api_time", [
    ("0001-01-01", "00010101000000"), ("00010101000000", "00010101000000"), ("0999-12-31T23:59:59Z", "09991231235959"),
    ("0002-01-01T00:30:00+01:00", "00011231233000"), ("9999-12-31T23:59:59Z", "99991231235959"),
])
def test_years_before_1000_are_taken_and_written_with_14_digits(text, api_time):
    assert to_api_time(parse_time(text)) == api_time


def test_to_api_time_refuses_a_time_that_leaves_the_years_in_utc():
    with pytest.raises(ValueError) as caught:
        to_api_time(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))
    assert "0001 to 9999" in str(caught.value)


def check_parse_time(text):
    """parse_time's contract for any input: an aware UTC time that survives the API's format, or a ValueError that
    quotes the input."""
    try:
        parsed = parse_time(text)
    except ValueError as exc:
        assert text.strip() in str(exc)
        return
    assert parsed.utcoffset() == timedelta(0)
    api_time = to_api_time(parsed)
    assert re.fullmatch(r"[0-9]{14}", api_time)
    assert parse_time(api_time) == parsed.replace(microsecond=0)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_time_raises_nothing_but_value_error(text):
    check_parse_time(text)


def digits(count):
    return st.from_regex(r"[0-9]{%d}" % count, fullmatch=True)


ALMOST_ISO = st.builds(
    "{}-{}-{}{}{}:{}:{}{}{}".format,
    digits(4), digits(2), digits(2), st.sampled_from(["T", "t", " "]), digits(2), digits(2), digits(2),
    st.sampled_from(["", ".5", ".1234567"]), st.sampled_from(["", "Z"]) | st.from_regex(r"[+-][0-9]{2}:?[0-9]{2}", fullmatch=True),
)


@settings(max_examples=200, deadline=None)
@given(ALMOST_ISO | digits(14) | st.from_regex(r"[0-9]{8}T[0-9]{6}Z?", fullmatch=True))
def test_parse_time_on_almost_valid_times(text):
    check_parse_time(text)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)))
def test_to_api_time_always_writes_14_digits_that_read_back(moment):
    api_time = to_api_time(moment)
    assert re.fullmatch(r"[0-9]{14}", api_time)
    assert parse_time(api_time) == moment.replace(microsecond=0)


def test_parse_api_timestamp():
    assert parse_api_timestamp("2020-06-23T03:00:03.471Z") == datetime(2020, 6, 23, 3, 0, 3, 471000, tzinfo=UTC)
    assert parse_api_timestamp("") is None
    assert parse_api_timestamp(None) is None
    assert parse_api_timestamp("garbage") is None


def test_to_api_time():
    assert to_api_time(datetime(2024, 1, 31, 8, 0, 5, 999999, tzinfo=UTC)) == "20240131080005"
    assert to_api_time(datetime(2024, 1, 1, 7, 59, 59, tzinfo=timezone(timedelta(hours=8)))) == "20231231235959"
    assert to_api_time(datetime(2024, 1, 31, 8, 0, 0, tzinfo=timezone(timedelta(hours=-2, minutes=-30)))) == "20240131103000"
    assert to_api_time(parse_time("20240131080000")) == "20240131080000"


@pytest.fixture(name="local_time_is_tokyo")
def local_time_is_tokyo_fixture(monkeypatch):
    monkeypatch.setenv("TZ", "JST-9")  # POSIX form: needs no tz database
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_is_tokyo")
def test_to_api_time_naive_means_utc_not_local_time():
    assert to_api_time(datetime(2024, 1, 31, 8, 0, 0)) == "20240131080000"


# ------------------------------------------------------------------------------------------------
# select_tasks


def task(number, status="SUCCESS", name="kafkaConfigModify", created_at="2024-01-31T08:00:00.000Z"):
    return {"id": "t%d" % number, "name": name, "status": status, "created_at": created_at}


def ids(tasks):
    return [item["id"] for item in tasks]


MIXED = [
    task(1, "EXECUTING", "bindInstancePublicIp"), task(2, "SUCCESS"), task(3, "FAILED", "bindInstancePublicIp"),
    task(4, "SUCCESS", "rabbitmqPluginModify"), task(5, "CANCELLED"),
]


def test_select_without_filters_keeps_everything_in_order():
    assert ids(select_tasks(MIXED)) == ["t1", "t2", "t3", "t4", "t5"]
    assert ids(select_tasks(iter(MIXED), statuses=[], names=[])) == ["t1", "t2", "t3", "t4", "t5"]


def test_select_by_status_and_name():
    assert ids(select_tasks(MIXED, statuses=["SUCCESS"])) == ["t2", "t4"]
    assert ids(select_tasks(MIXED, statuses=["FAILED", "CANCELLED"])) == ["t3", "t5"]
    assert ids(select_tasks(MIXED, names=["bindInstancePublicIp"])) == ["t1", "t3"]
    assert ids(select_tasks(MIXED, statuses=["SUCCESS"], names=["kafkaConfigModify", "bindInstancePublicIp"])) == ["t2"]


WINDOW_TASKS = [
    task(1, created_at="2024-01-31T08:00:02.999Z"),
    task(2, created_at="2024-01-31T08:00:03.000Z"),
    task(3, created_at="2024-01-31T08:00:03.471Z"),
    task(4, created_at="2024-01-31T16:00:05.999+08:00"),  # 08:00:05.999 UTC
    task(5, created_at="2024-01-31T08:00:06.000Z"),
    task(6, created_at=""),
    task(7, created_at="not a time"),
]


def test_select_by_time_window_is_inclusive_to_the_second():
    begin = datetime(2024, 1, 31, 8, 0, 3, tzinfo=UTC)
    end = datetime(2024, 1, 31, 8, 0, 5, tzinfo=UTC)
    assert ids(select_tasks(WINDOW_TASKS, begin=begin, end=end)) == ["t2", "t3", "t4"]
    assert ids(select_tasks(WINDOW_TASKS, begin=begin)) == ["t2", "t3", "t4", "t5"]
    assert ids(select_tasks(WINDOW_TASKS, end=end)) == ["t1", "t2", "t3", "t4"]
    assert ids(select_tasks(WINDOW_TASKS)) == ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]  # no window: undated tasks stay


def test_select_window_bounds_with_fractions_compare_to_the_second():
    # The API receives begin/end as YYYYMMDDHHmmss, so a fraction in the user's bound cannot drop a task of that second.
    begin = datetime(2024, 1, 31, 8, 0, 3, 900000, tzinfo=UTC)
    end = datetime(2024, 1, 31, 8, 0, 5, 100000, tzinfo=UTC)
    assert ids(select_tasks(WINDOW_TASKS, begin=begin, end=end)) == ["t2", "t3", "t4"]


def test_select_with_limit_is_lazy():
    consumed = []

    def listing():
        for item in MIXED * 1000:  # long, so reading it all would show
            consumed.append(item["id"])
            yield item

    assert ids(select_tasks(listing(), statuses=["SUCCESS"], limit=2)) == ["t2", "t4"]
    assert consumed == ["t1", "t2", "t3", "t4"]  # nothing read past the second match
    consumed.clear()
    assert ids(select_tasks(listing(), statuses=["FAILED"], limit=1)) == ["t3"]
    assert consumed == ["t1", "t2", "t3"]
    consumed.clear()
    assert len(select_tasks(listing(), statuses=["SUCCESS"])) == 2000  # without a limit: everything
    assert len(consumed) == 5000


def test_newest_first_compares_times_not_text():
    tasks = [{"id": "a", "created_at": "2024-01-31T08:00:00Z"}, {"id": "b", "created_at": "2024-01-31T08:00:00.500Z"},
             {"id": "c", "created_at": "2024-01-31T09:30:00+02:00"}, {"id": "d", "created_at": ""}]
    assert [task["id"] for task in newest_first(tasks)] == ["b", "a", "c", "d"]
