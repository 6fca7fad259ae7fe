# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_task_info: the module logic with the DMS client faked at its boundary.

The selection (``info_selection`` and ``read_tasks`` of module_utils/selection.py, which the module calls) and
``error_result`` are called directly; ``main`` runs end to end through AnsibleModule with
module arguments patched in, ``DmsClient`` replaced by the fake DMS, and the result read back from stdout.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible.module_utils import basic

from ansible_collections.hwcloud.dms.plugins.modules import dms_task_info
from ansible_collections.hwcloud.dms.plugins.module_utils import dms_module
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, ConfigurationError, InstanceNotFoundError, MalformedIdError, NotFoundError, RetriesExhausted, TransportError,
    error_result,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.selection import info_selection, read_tasks
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, WALL_START, FakeClock, FakeDms, listed_task

MODULE = dms_task_info  # the module run_main runs
CANARY = "SK-canary-never-print-me-5f0e3c2a9b7d41e8"
ACCESS_KEY = "AKUNITTEST0000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)  # what durations in the options count back from


def stored_task(task_id, hour, status, name):
    """A task created at ``hour``:00 UTC on 2024-05-01."""
    return listed_task(task_id, "2024-05-01T%02d:00:00.000Z" % hour, status, name, params={"task": task_id})


# As the API lists them: newest first, one hour apart.
STORED = [
    stored_task("t12", 12, "SUCCESS", "bindInstancePublicIp"),
    stored_task("t11", 11, "FAILED", "kafkaConfigModify"),
    stored_task("t10", 10, "EXECUTING", "kafkaConfigModify"),
    stored_task("t09", 9, "CANCELLED", "unbindInstancePublicIp"),
    stored_task("t08", 8, "FAILED", "bindInstancePublicIp"),
    stored_task("t07", 7, "CREATED", "kafkaClientQuotaCreate"),
    stored_task("t06", 6, "DELETED", "kafkaConfigModify"),
    stored_task("t05", 5, "SUCCESS", "kafkaResetConsumerOffset"),
]
TASKS = [task.as_dict(FakeClock()) for task in STORED]  # as the client returns them
ALL_IDS = [task["id"] for task in TASKS]


def fake_dms(error=None):
    """A FakeDms of the tasks above; ``error``: what each of its listings and task reads raises."""
    dms = FakeDms(tasks=STORED)
    if error is not None:
        dms.faults.update({"list": error, "get": error})
    return dms


def listed(dms):
    """The time window of each listing asked for: (begin_time, end_time)."""
    return [(listing.begin_time, listing.end_time) for listing in dms.listings]


def params(**overrides):
    """The module's own parameters as AnsibleModule hands them over (unset options are None)."""
    values = {"instance_id": INSTANCE, "task_id": None, "status": None, "name": None,
              "begin_time": None, "end_time": None, "limit": None}
    values.update(overrides)
    return values


def read(client, values):
    """The selected tasks of read_tasks (its listing is looked at by the tests of main)."""
    return read_tasks(client, info_selection(values, NOW))[0]


def ids(tasks):
    return [task["id"] for task in tasks]


# ----------------------------------------------------------------------------------------------------
# task_id: each task read on its own, never by listing


def test_task_ids_read_once_each_never_listed():
    dms = fake_dms()
    tasks = read(dms, params(task_id=["t08", "t11", "t08", "t11"]))
    assert ids(tasks) == ["t11", "t08"]
    assert dms.kinds() == ["get", "get"] and dms.asked("get") == ["t08", "t11"]
    assert dms.listings == []
    assert tasks[0] == TASKS[1]


def test_task_ids_are_stripped_before_collapsing_duplicates():
    dms = fake_dms()
    tasks = read(dms, params(instance_id="  %s " % INSTANCE, task_id=[" t09", "t09 ", "t09"]))
    assert ids(tasks) == ["t09"]
    assert dms.kinds() == ["get"] and dms.asked("get") == ["t09"]  # of the instance as stripped


def test_unknown_task_ids_are_left_out_without_error():
    dms = fake_dms()
    tasks = read(dms, params(task_id=["missing-1", "t05", "missing-2"]))
    assert ids(tasks) == ["t05"]
    assert dms.asked("get") == ["missing-1", "t05", "missing-2"]
    assert not dms.listings


def test_only_unknown_task_ids_give_no_tasks():
    dms = fake_dms()
    assert read(dms, params(task_id=["missing"])) == []
    assert dms.asked("get") == ["missing"]


def test_task_ids_sorted_newest_first_whatever_the_order_asked():
    dms = fake_dms()
    tasks = read(dms, params(task_id=["t05", "t12", "t08", "t10"]))
    assert ids(tasks) == ["t12", "t10", "t08", "t05"]
    assert dms.asked("get") == ["t05", "t12", "t08", "t10"]


@pytest.mark.parametrize("overrides, expected", [
    ({"status": ["FAILED"]}, ["t11", "t08"]),
    ({"status": ["FAILED", "SUCCESS"]}, ["t12", "t11", "t08", "t05"]),
    ({"name": ["bindInstancePublicIp"]}, ["t12", "t08"]),
    ({"status": ["FAILED"], "name": ["bindInstancePublicIp"]}, ["t08"]),
    ({"begin_time": "2024-05-01T08:00:00Z", "end_time": "2024-05-01T11:00:00Z"}, ["t11", "t08"]),
    ({"begin_time": "2024-05-01T10:00:01+02:00"}, ["t12", "t11"]),  # 08:00:01 UTC: t08 is a second too early
    ({"end_time": "20240501080000"}, ["t08", "t05"]),
    ({"begin_time": "4h", "end_time": "90m"}, ["t11"]),  # 08:30 to 11:00
    ({"limit": 2}, ["t12", "t11"]),
    ({"status": ["EXECUTING"], "limit": 1}, []),
], ids=["status", "statuses", "name", "status-and-name", "window", "begin-with-offset", "end-compact", "durations-ago", "limit",
        "nothing-matches"])
def test_filters_apply_to_task_ids(overrides, expected):
    dms = fake_dms()
    tasks = read(dms, params(task_id=["t05", "t08", "t11", "t12"], **overrides))
    assert ids(tasks) == expected
    assert sorted(dms.asked("get")) == ["t05", "t08", "t11", "t12"]
    assert not dms.listings


# ----------------------------------------------------------------------------------------------------
# Listing


def test_listing_returns_every_task_in_api_order():
    dms = fake_dms()
    tasks = read(dms, params())
    assert tasks == TASKS
    assert listed(dms) == [(None, None)] and dms.kinds() == ["list"]
    assert dms.handed_out == len(TASKS)


def test_listing_uses_the_stripped_instance_id():
    dms = fake_dms()
    assert read(dms, params(instance_id="\t%s  " % INSTANCE)) == TASKS  # the fake knows no instance of another ID
    assert listed(dms) == [(None, None)]


@pytest.mark.parametrize("overrides, expected", [
    ({"status": ["FAILED"]}, ["t11", "t08"]),
    ({"status": ["CREATED", "EXECUTING"]}, ["t10", "t07"]),
    ({"status": ["DELETED", "CANCELLED"]}, ["t09", "t06"]),
    ({"name": ["kafkaConfigModify"]}, ["t11", "t10", "t06"]),
    ({"name": ["bindInstancePublicIp", "unbindInstancePublicIp"]}, ["t12", "t09", "t08"]),
    ({"name": ["noSuchTask"]}, []),
    ({"status": ["SUCCESS"], "name": ["kafkaResetConsumerOffset"]}, ["t05"]),
    ({"status": ["SUCCESS"], "name": ["kafkaConfigModify"]}, []),
], ids=["status", "active", "gone", "name", "names", "unknown-name", "status-and-name", "disjoint"])
def test_listing_filters(overrides, expected):
    dms = fake_dms()
    assert ids(read(dms, params(**overrides))) == expected
    assert len(dms.listings) == 1
    assert not dms.asked("get")


def assert_aware_utc(moment, expected):
    assert isinstance(moment, datetime)
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)
    assert moment == expected


@pytest.mark.parametrize("begin_time, end_time", [
    ("2024-05-01T08:00:00+02:00", "2024-05-01T10:00:00+01:00"),
    ("2024-05-01T06:00:00Z", "2024-05-01T09:00:00Z"),
    ("2024-05-01T06:00:00", "2024-05-01 09:00:00"),
    ("20240501060000", "20240501090000"),
    ("2024-05-01T01:00:00-05:00", "2024-05-01T09:00:00.000z"),
    ("2024-05-01T11:30:00+0530", "2024-05-01T09:00:00+00:00"),
], ids=["offsets", "zulu", "naive-is-utc", "compact", "negative-offset", "offset-without-colon"])
def test_listing_passes_the_window_to_the_api_as_aware_utc(begin_time, end_time):
    dms = fake_dms()
    tasks = read(dms, params(begin_time=begin_time, end_time=end_time))
    [(begin, end)] = listed(dms)
    assert_aware_utc(begin, datetime(2024, 5, 1, 6, 0, 0, tzinfo=UTC))
    assert_aware_utc(end, datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC))
    # The fake API ignores the window: the module still keeps only the tasks inside it, bounds included.
    assert ids(tasks) == ["t09", "t08", "t07", "t06"]


def test_listing_passes_only_the_bound_given():
    dms = fake_dms()
    tasks = read(dms, params(begin_time="2024-05-01T10:00:00Z"))
    [(begin, end)] = listed(dms)
    assert_aware_utc(begin, datetime(2024, 5, 1, 10, tzinfo=UTC))
    assert end is None
    assert ids(tasks) == ["t12", "t11", "t10"]

    dms = fake_dms()
    tasks = read(dms, params(end_time="2024-05-01T06:00:00Z"))
    [(begin, end)] = listed(dms)
    assert begin is None
    assert_aware_utc(end, datetime(2024, 5, 1, 6, tzinfo=UTC))
    assert ids(tasks) == ["t06", "t05"]


def test_blank_times_mean_no_bound():
    dms = fake_dms()
    tasks = read(dms, params(begin_time="", end_time="   "))
    assert listed(dms) == [(None, None)]
    assert tasks == TASKS


def test_window_compared_in_utc_not_as_written():
    """An end_time that reads earlier than begin_time is fine when its zone makes it later."""
    dms = fake_dms()
    tasks = read(dms, params(begin_time="2024-05-01T10:00:00+02:00", end_time="2024-05-01T09:00:00Z"))
    assert ids(tasks) == ["t09", "t08"]


def test_equal_begin_and_end_select_that_second():
    dms = fake_dms()
    tasks = read(dms, params(begin_time="2024-05-01T07:00:00Z", end_time="20240501070000"))
    assert ids(tasks) == ["t07"]


@pytest.mark.parametrize("overrides, expected, consumed", [
    ({"limit": 1}, ["t12"], 1),
    ({"limit": 3}, ["t12", "t11", "t10"], 3),
    ({"limit": 2, "status": ["FAILED"]}, ["t11", "t08"], 5),
    ({"limit": 1, "name": ["kafkaClientQuotaCreate"]}, ["t07"], 6),
    ({"limit": 2, "begin_time": "2024-05-01T00:00:00Z", "end_time": "2024-05-01T10:00:00Z"}, ["t10", "t09"], 4),
    ({"limit": 8}, ALL_IDS, 8),
    ({"limit": 50}, ALL_IDS, 8),
    ({"limit": 5, "status": ["FAILED"]}, ["t11", "t08"], 8),
], ids=["one", "three", "status", "name", "window", "exactly-all", "more-than-all", "fewer-match"])
def test_limit_consumes_no_more_than_needed(overrides, expected, consumed):
    dms = fake_dms()
    assert ids(read(dms, params(**overrides))) == expected
    assert dms.handed_out == consumed
    assert len(dms.listings) == 1


def test_limit_stops_a_listing_longer_than_needed():
    """limit must stop consuming: the listing would go on (fetching pages) far past the tasks wanted."""
    history = [listed_task("n%d" % number, WALL_START - timedelta(seconds=number), "SUCCESS" if number % 3 else "FAILED")
               for number in range(1, 1001)]
    dms = FakeDms(tasks=history)
    tasks, listing = read_tasks(dms, info_selection(params(limit=4, status=["FAILED"]), NOW))
    assert ids(tasks) == ["n3", "n6", "n9", "n12"]
    assert dms.handed_out == 12
    assert dms.kinds() == ["list"], "one page of the ten"
    assert dms.listings[0].read_all is False  # a limit may stop early: no pages fetched ahead
    assert listing.complete is None  # stopped by the limit: neither complete nor truncated


# ----------------------------------------------------------------------------------------------------
# Bad input: a ConfigurationError naming the option, before any call to the client


@pytest.mark.parametrize("overrides, option", [
    ({"instance_id": ""}, "instance_id"),
    ({"instance_id": "   "}, "instance_id"),
    ({"instance_id": None}, "instance_id"),
    ({"begin_time": "yesterday"}, "begin_time"),
    ({"begin_time": "2024-13-01T00:00:00Z"}, "begin_time"),
    ({"begin_time": "2024050108000"}, "begin_time"),
    ({"end_time": "2024-05-01T25:00:00"}, "end_time"),
    ({"end_time": "2024-05-01T08:00:00+2"}, "end_time"),
    ({"begin_time": "2024-05-01T10:00:00Z", "end_time": "2024-05-01T09:59:59Z"}, "end_time"),
    ({"begin_time": "20240501100000", "end_time": "2024-05-01T11:00:00+02:00"}, "end_time"),
    ({"limit": 0}, "limit"),
    ({"limit": -3}, "limit"),
    ({"task_id": [""]}, "task_id"),
    ({"task_id": ["t05", "   "]}, "task_id"),
    ({"task_id": ["t05"], "begin_time": "not a time"}, "begin_time"),
    ({"task_id": ["t05"], "limit": 0}, "limit"),
], ids=["empty-instance", "blank-instance", "no-instance", "begin-word", "begin-month-13", "begin-13-digits",
        "end-hour-25", "end-bad-offset", "end-before-begin", "end-before-begin-by-offset", "limit-0", "limit-negative",
        "empty-task-id", "blank-task-id-after-good", "task-id-bad-time", "task-id-limit-0"])
def test_bad_input_fails_before_any_call(overrides, option):
    dms = fake_dms()
    with pytest.raises(ConfigurationError) as caught:
        read(dms, params(**overrides))
    assert option in str(caught.value)
    assert dms.calls == 0 and dms.listings == []
    assert dms.handed_out == 0


def test_end_before_begin_names_both_times():
    with pytest.raises(ConfigurationError) as caught:
        read(fake_dms(), params(begin_time="2024-05-01T10:00:00Z", end_time="2024-05-01T09:00:00Z"))
    message = str(caught.value)
    assert "end_time" in message and "begin_time" in message
    assert "2024-05-01T09:00:00Z" in message and "2024-05-01T10:00:00Z" in message


def test_malformed_time_message_shows_the_value_and_formats():
    with pytest.raises(ConfigurationError) as caught:
        read(fake_dms(), params(begin_time="last tuesday"))
    message = str(caught.value)
    assert message.startswith("begin_time")
    assert "last tuesday" in message and "YYYYMMDDHHmmss" in message


# ----------------------------------------------------------------------------------------------------
# failure_result: what a failed result carries besides its message


API_DETAILS = {"http_status": 404, "error_code": "DMS.00404022", "error_msg": "The instance does not exist.", "request_id": "req-404"}


@pytest.mark.parametrize("error_class", [ApiError, NotFoundError, AuthenticationError])
def test_failure_result_of_an_api_error(error_class):
    error = error_class(404, "DMS.00404022", "The instance does not exist.", "req-404", method="GET", path="/v2/p/instances/i/tasks")
    assert error_result(error) == {"error": API_DETAILS}


def test_failure_result_of_an_api_error_without_details():
    assert error_result(ApiError(500)) == {
        "error": {"http_status": 500, "error_code": None, "error_msg": None, "request_id": None}}


def test_failure_result_of_exhausted_retries_is_the_last_api_answer():
    last = ApiError(503, "DMS.00503000", "Service unavailable.", "req-503", method="GET", path="/v2/p/instances/i/tasks")
    assert error_result(RetriesExhausted(last, 6)) == {
        "error": {"http_status": 503, "error_code": "DMS.00503000", "error_msg": "Service unavailable.", "request_id": "req-503"}}


@pytest.mark.parametrize("error", [
    TransportError("connection refused", method="GET", path="/v2/p/instances/i/tasks"),
    TransportError("read timed out"),
    RetriesExhausted(TransportError("read timed out", method="GET", path="/v2/p/instances/i/tasks"), 3),
    ConfigurationError("region is required unless endpoint is set"),
], ids=["transport", "transport-bare", "retries-of-transport", "configuration"])
def test_failure_result_without_an_api_answer_is_empty(error):
    assert error_result(error) == {}


# ----------------------------------------------------------------------------------------------------
# main() end to end through AnsibleModule


def connection(**overrides):
    args = {"access_key": ACCESS_KEY, "secret_key": CANARY, "region": REGION, "project_id": PROJECT}
    args.update(overrides)
    return args


def module_args_for(**overrides):
    """Complete module arguments: the connection, the instance, then the test's own."""
    args = connection(instance_id=INSTANCE)
    args.update(overrides)
    return args


def test_main_returns_the_tasks_unchanged(run_main):
    dms = fake_dms()
    run = run_main(module_args_for(status=["FAILED", "EXECUTING"], limit=2), dms)
    assert run.code == 0
    assert run.result["changed"] is False
    assert "failed" not in run.result
    assert run.result["tasks"] == TASKS[1:3]
    assert run.result["task_count"] == 2
    assert listed(dms) == [(None, None)]
    assert dms.handed_out == 3
    [settings] = run.settings
    assert settings.secret_key == CANARY
    assert settings.access_key == ACCESS_KEY
    assert settings.project_id == PROJECT
    assert settings.endpoint == "https://dms.%s.myhuaweicloud.com" % REGION
    assert CANARY not in run.out and CANARY not in run.err


def test_main_in_check_mode_reads_the_same(run_main):
    run = run_main(module_args_for(_ansible_check_mode=True), fake_dms())
    assert run.code == 0
    assert run.result["changed"] is False
    assert run.result["tasks"] == TASKS
    assert run.result["task_count"] == len(TASKS)


def test_main_with_task_ids_and_a_window(run_main):
    dms = fake_dms()
    args = module_args_for(task_id=["t05", "missing", "t11", "t05"],
                           begin_time="2024-05-01T04:00:00+00:00", end_time="20240501113000")
    run = run_main(args, dms)
    assert run.code == 0
    assert ids(run.result["tasks"]) == ["t11", "t05"]
    assert run.result["task_count"] == 2
    assert dms.asked("get") == ["t05", "missing", "t11"]
    assert not dms.listings


def test_main_with_nothing_found(run_main):
    run = run_main(module_args_for(name=["noSuchTask"]), fake_dms())
    assert run.code == 0
    assert run.result["tasks"] == []
    assert run.result["task_count"] == 0


def test_main_secret_from_the_environment(run_main, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", CANARY)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", ACCESS_KEY)
    run = run_main({"instance_id": INSTANCE, "region": REGION, "project_id": PROJECT, "limit": 1}, fake_dms())
    assert run.code == 0
    assert ids(run.result["tasks"]) == ["t12"]
    assert run.settings[0].secret_key == CANARY
    assert CANARY not in run.out


def assert_failed_cleanly(run):
    assert run.code == 1
    assert run.result["failed"] is True
    assert "exception" not in run.result
    assert "Traceback" not in run.out and "Traceback" not in run.err
    assert CANARY not in run.out and CANARY not in run.err
    # The message never held the secret in the first place (no_log masking did not have to step in).
    assert "********" not in run.result["msg"]


@pytest.mark.parametrize("overrides, named", [
    ({"secret_key": None}, ["secret_key", "HUAWEICLOUD_SDK_SK"]),
    ({"access_key": " "}, ["access_key", "HUAWEICLOUD_SDK_AK"]),
    ({"access_key": None, "secret_key": None}, ["access_key", "secret_key", "auth_token"]),
    ({"auth_token": "token-canary-0000"}, ["auth_token", "access_key", "secret_key"]),
    ({"project_id": None, "region": None, "endpoint": "https://dms.example.com"}, ["project_id", "region"]),
    ({"region": None}, ["region", "endpoint"]),
    ({"endpoint": "ftp://dms.example.com"}, ["endpoint"]),
], ids=["no-secret-key", "blank-access-key", "no-credentials", "token-and-keys", "no-project", "no-region", "bad-endpoint"])
def test_main_bad_connection_options_fail_naming_them(run_main, overrides, named):
    dms = fake_dms()
    run = run_main(module_args_for(**overrides), dms)
    assert_failed_cleanly(run)
    for name in named:
        assert name in run.result["msg"]
    assert "error" not in run.result
    assert not run.settings and not dms.calls
    assert "token-canary-0000" not in run.out


@pytest.mark.parametrize("overrides, option", [
    ({"instance_id": "  "}, "instance_id"),
    ({"limit": 0}, "limit"),
    ({"begin_time": "2024-02-30T00:00:00Z"}, "begin_time"),
    ({"begin_time": "2024-05-02T00:00:00Z", "end_time": "2024-05-01T00:00:00Z"}, "end_time"),
    ({"task_id": ["t05", ""]}, "task_id"),
], ids=["blank-instance", "limit-0", "bad-begin", "end-before-begin", "blank-task-id"])
def test_main_bad_input_fails_before_any_request(run_main, overrides, option):
    dms = fake_dms()
    run = run_main(module_args_for(**overrides), dms)
    assert_failed_cleanly(run)
    assert option in run.result["msg"]
    assert "error" not in run.result
    assert dms.calls == 0


def test_main_unknown_status_is_refused_by_the_argument_spec(run_main):
    dms = fake_dms()
    run = run_main(module_args_for(status=["RUNNING"]), dms)
    assert_failed_cleanly(run)
    assert "status" in run.result["msg"] and "RUNNING" in run.result["msg"]
    assert not run.settings and not dms.calls


@pytest.mark.parametrize("task_id", [None, ["t05"]], ids=["listing", "task-id"])
def test_main_api_failure_names_the_instance_and_the_api_answer(run_main, task_id):
    error = InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist.", "req-404",
                                  method="GET", path="/v2/%s/instances/%s/tasks" % (PROJECT, INSTANCE))
    dms = fake_dms(error=error)
    run = run_main(module_args_for(task_id=task_id), dms)
    assert_failed_cleanly(run)
    message = run.result["msg"]
    for part in (INSTANCE, "HTTP 404", "DMS.00404022", "The instance does not exist.", "req-404"):
        assert part in message
    assert run.result["error"] == API_DETAILS
    assert run.result["tasks"] == [] and run.result["task_count"] == 0 and run.result["complete"] is False


def test_main_authentication_failure_never_shows_the_secret(run_main):
    error = AuthenticationError(401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail", "req-401",
                                method="GET", path="/v2/%s/instances/%s/tasks" % (PROJECT, INSTANCE))
    run = run_main(module_args_for(), fake_dms(error=error))
    assert_failed_cleanly(run)
    assert run.result["error"]["http_status"] == 401
    assert run.result["error"]["error_code"] == "APIGW.0301"


def test_main_exhausted_retries_without_an_answer_carry_no_error(run_main):
    error = RetriesExhausted(TransportError("read timed out", method="GET", path="/v2/p/instances/i/tasks"), 6)
    run = run_main(module_args_for(), fake_dms(error=error))
    assert_failed_cleanly(run)
    assert INSTANCE in run.result["msg"] and "read timed out" in run.result["msg"]
    assert "error" not in run.result


def test_main_exhausted_retries_after_an_api_answer_carry_it(run_main):
    last = ApiError(503, "DMS.00503000", "Service unavailable.", "req-503")
    run = run_main(module_args_for(), fake_dms(error=RetriesExhausted(last, 6)))
    assert_failed_cleanly(run)
    assert run.result["error"] == {"http_status": 503, "error_code": "DMS.00503000", "error_msg": "Service unavailable.", "request_id": "req-503"}


def test_main_without_requests_fails_before_building_a_client(run_main, monkeypatch):
    monkeypatch.setattr(dms_module, "REQUESTS_IMPORT_ERROR", ImportError("No module named 'requests'"))
    run = run_main(module_args_for())
    assert run.code == 1
    assert run.result["failed"] is True
    assert "requests" in run.result["msg"]
    assert not run.settings
    assert CANARY not in run.out


@pytest.fixture
def warnings_given(monkeypatch):
    """What the module passes to AnsibleModule.warn (where that goes depends on what else the process imported)."""
    given = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, warning, **details: given.append(warning))
    return given


def test_main_says_when_a_listing_ended_short_of_the_count(run_main, warnings_given):
    dms = fake_dms()
    dms.task_count = len(TASKS) + 150
    run = run_main(module_args_for(), dms)
    assert run.code == 0
    assert run.result["complete"] is False and run.result["task_count"] == len(TASKS)
    [warning] = warnings_given
    assert "%d of the %d tasks" % (len(TASKS), len(TASKS) + 150) in warning and INSTANCE in warning


@pytest.mark.parametrize("overrides", [{}, {"task_id": ["t05"]}, {"limit": 1}], ids=["listing", "task-id", "limit"])
def test_main_complete_listing_says_so_without_warning(run_main, warnings_given, overrides):
    run = run_main(module_args_for(**overrides), fake_dms())
    assert run.code == 0 and run.result["complete"] is True and warnings_given == []


def test_main_malformed_task_id_fails_naming_the_option_and_value(run_main):
    error = MalformedIdError(400, "DMS.00400070", "Invalid task ID format.", "req-400", "GET", "/v2/p/instances/i/tasks/x%20y").about("x y")
    run = run_main(module_args_for(task_id=["x y"]), fake_dms(error=error))
    assert_failed_cleanly(run)
    assert "task_id 'x y' is malformed according to the API" in run.result["msg"]
    assert run.result["error"]["error_code"] == "DMS.00400070"


@pytest.mark.parametrize("overrides, option", [
    ({"instance_id": ".."}, "instance_id"),
    ({"task_id": ["t05", "."]}, "task_id"),
    ({"limit": 2 ** 63}, "limit"),
    ({"limit": 100001}, "limit"),
    ({"begin_time": "2024-05-01T00:00:00+25:00"}, "begin_time"),
    ({"limit": float("inf")}, "limit"),
    ({"request_timeout": 10 ** 400}, "request_timeout"),
], ids=["dotdot-instance", "dot-task", "huge-limit", "limit-over-range", "offset-beyond-14h", "infinite-limit", "timeout-beyond-floats"])
def test_main_values_the_http_stack_or_the_api_cannot_carry_fail_before_any_request(run_main, overrides, option):
    dms = fake_dms()
    run = run_main(module_args_for(**overrides), dms)
    assert_failed_cleanly(run)
    # Before ansible-core 2.16 the conversion itself refuses a float for an int, in its own words.
    assert run.result["msg"].startswith((option, "argument '%s' is of type" % option)), run.result["msg"]
    assert dms.calls == 0
