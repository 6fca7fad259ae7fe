# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_task_info in real ansible-playbook runs against the DMS emulator.

Independent checks share one playbook run (one registered result per task) to keep the file fast; the
emulator's request log is ordered, and each task's requests follow the previous task's, so the log can be
read task by task.
"""

from __future__ import annotations

import datetime
import json
import math

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.emulated_dms.scenario import task_id_for
from ansible_collections.hwcloud.dms.tests.functional.conftest import (
    ACCESS_KEY, INSTANCE_ID, PROJECT_ID, REGION, SECRET_KEY, scenario,
)

MODULE = "hwcloud.dms.dms_task_info"
PAGE_SIZE = 100
UNKNOWN_INSTANCE = "99999999-8888-7777-6666-555555555555"
UNKNOWN_TASK = "00000000000000000000000000000000"
WRONG_SECRET = "SKWRONG-canary-also-never-print-me-77777"
SECRET_OPTIONS = ("secret_key", "sk", "auth_token", "security_token")
TASK_KEYS = {"id", "name", "status", "user_name", "user_id", "params", "params_raw", "created_at", "updated_at"}
DEFAULT_USER_NAME = "dms_test"  # the emulator's default for tasks without their own
DEFAULT_USER_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

# Tasks at fixed UTC times, one hour apart, newest first; params exactly as the API would send them.
FIXED_TASKS = [
    {"id": "task-12", "name": "bindInstancePublicIp", "status": "SUCCESS", "created_at": "2024-05-01T12:00:00Z", "duration": 38,
     "params": '{"public_ip_id":"06a13350-4305-4338-9f0e-6b322bb1413d","enable_public_ip":true}',
     "user_name": "ops_alice", "user_id": "0a1b2c3d93ff484a828144c6a1b2c3d4"},
    {"id": "task-11", "name": "kafkaConfigModify", "status": "FAILED", "created_at": "2024-05-01T11:00:00Z", "duration": 95,
     "params": '{"static_configs": [{"name": "num.partitions", "value": "0"}],   "dynamic_configs": []}'},
    {"id": "task-10", "name": "kafkaConfigModify", "status": "EXECUTING", "created_at": "2024-05-01T10:00:00Z", "params": ""},
    {"id": "task-09", "name": "unbindInstancePublicIp", "status": "CANCELLED", "created_at": "2024-05-01T09:00:00Z", "params": "not json {"},
    {"id": "task-08", "name": "bindInstancePublicIp", "status": "FAILED", "created_at": "2024-05-01T08:00:00Z", "params": "[1, 2]"},
    {"id": "task-07", "name": "kafkaClientQuotaCreate", "status": "CREATED", "created_at": "2024-05-01T07:00:00Z",
     "params": '{"user":"app-orders","producer-byte-rate":1048576,"note":"Gr\u00f6\u00dfe \u00e4ndern"}'},
    {"id": "task-06", "name": "kafkaConfigModify", "status": "DELETED", "created_at": "2024-05-01T06:00:00Z", "params": '"a JSON string"'},
    {"id": "task-05", "name": "kafkaResetConsumerOffset", "status": "SUCCESS", "created_at": "2024-05-01T05:00:00Z", "duration": 3,
     "params": '{"group":"billing","topic":"invoices","partition":-1}'},
]
FIXED_IDS = [task["id"] for task in FIXED_TASKS]


def expected_task(spec):
    """The task as the module must return it."""
    try:
        parsed = json.loads(spec["params"])
    except ValueError:
        parsed = {}
    created = datetime.datetime.strptime(spec["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    updated = created + datetime.timedelta(seconds=spec.get("duration", 0))  # a task without a timeline ends `duration` after creation
    return {
        "id": spec["id"], "name": spec["name"], "status": spec["status"],
        "user_name": spec.get("user_name", DEFAULT_USER_NAME), "user_id": spec.get("user_id", DEFAULT_USER_ID),
        "params": parsed if isinstance(parsed, dict) else {}, "params_raw": spec["params"],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "updated_at": updated.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def info(**options):
    """A dms_task_info task of INSTANCE_ID (unless given) with these options."""
    options.setdefault("instance_id", INSTANCE_ID)
    shown = dict((key, value) for key, value in options.items() if key not in SECRET_OPTIONS)  # the name is printed as is
    return {"name": "dms_task_info %s" % json.dumps(shown, sort_keys=True), MODULE: options}


def generated_ids(count):
    """The IDs of `count` generated tasks, newest first (the emulator numbers them from the newest)."""
    return [task_id_for(INSTANCE_ID, serial) for serial in range(1, count + 1)]


def ids(result):
    return [task["id"] for task in result["tasks"]]


def assert_ok(result):
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert type(result["task_count"]) is int  # pylint: disable=unidiomatic-typecheck  # not a bool, not a string
    assert result["task_count"] == len(result["tasks"])
    assert result["complete"] is True


def assert_failed(result, *fragments):
    assert result.get("failed") is True, result
    for fragment in fragments:
        assert fragment in result["msg"], "%r not in %r" % (fragment, result["msg"])


def assert_newest_first(result):
    created = [task["created_at"] for task in result["tasks"]]
    assert created == sorted(created, reverse=True)


def kinds(emulator):
    return [entry["kind"] for entry in emulator.requests()]


def starts(entries):
    return [int(entry["query"]["start"]) for entry in entries]


# ---------------------------------------------------------------------------------------------------------
# Paging


def test_paging_thousands_limit_and_task_id(emulator, playbook):
    """2,500 tasks: each once, newest first, in ceil(N/100) list calls and no IAM call; limit and task_id on top."""
    count = 2500
    emulator.load(scenario(generate=[{
        "count": count, "name": ["kafkaConfigModify", "bindInstancePublicIp", "kafkaClientQuotaCreate"], "status": ["SUCCESS", "FAILED"],
        "params": {"user": "app"},
    }]))
    expected = generated_ids(count)
    run = playbook.run([
        info(),
        info(limit=5),
        info(limit=150),
        info(task_id=[expected[1999], UNKNOWN_TASK, expected[6]]),
        info(task_id=expected[41]),
    ])
    listing, limit_5, limit_150, by_ids, by_one_id = run.results

    assert_ok(listing)
    assert ids(listing) == expected
    assert len(set(ids(listing))) == count
    assert_newest_first(listing)
    assert listing["tasks"][0]["params"] == {"user": "app"}

    assert_ok(limit_5)
    assert ids(limit_5) == expected[:5]
    assert_ok(limit_150)
    assert ids(limit_150) == expected[:150]

    # task_id: read one by one, the unknown one left out without failing, newest first.
    assert_ok(by_ids)
    assert ids(by_ids) == [expected[6], expected[1999]]
    assert_ok(by_one_id)
    assert ids(by_one_id) == [expected[41]]
    assert by_one_id["tasks"][0] == listing["tasks"][41]

    pages = math.ceil(count / PAGE_SIZE)
    assert kinds(emulator) == ["list"] * (pages + 1 + 2) + ["show"] * 4  # no IAM call, no list call for task_id
    lists = emulator.requests("list")
    # The full listing: exactly ceil(N/100) pages, each once (fetched a few at a time, so in any order).
    assert sorted(starts(lists[:pages])) == list(range(1, count, PAGE_SIZE))
    assert starts(lists[pages:pages + 1]) == [1]  # limit 5: one page
    assert starts(lists[pages + 1:]) == [1, 101]  # limit 150: two pages
    assert all(entry["query"]["limit"] == str(PAGE_SIZE) for entry in lists[:pages])
    assert [entry["status"] for entry in emulator.requests("show")] == [200, 404, 200, 200]
    assert all(PROJECT_ID in entry["path"] for entry in emulator.requests())
    assert [entry["task_id"] for entry in emulator.requests("show")] == [expected[1999], UNKNOWN_TASK, expected[6], expected[41]]


@pytest.mark.parametrize("inserted", [7, 100], ids=["7-inserted", "a-full-page-inserted"])
def test_paging_while_tasks_are_inserted(emulator, playbook, inserted):
    """Tasks created at the head between the 1st and 2nd page push the rest down: none twice, none lost.

    The tasks created after the first page are not part of the listing; every task that existed when it began is
    read, so it is complete and says nothing more.
    """
    count = 250
    emulator.load(scenario(
        generate=[{"count": count, "name": "kafkaConfigModify"}],
        faults=[{"kind": "list", "nth": 2, "insert": {"count": inserted, "name": "bindInstancePublicIp"}}],
    ))
    run = playbook.run([info()])
    assert_ok(run.result)
    assert "tasks the API counted" not in run.output
    returned = ids(run.result)
    assert len(returned) == len(set(returned)), "duplicate tasks"
    missing = set(generated_ids(count)) - set(returned)
    assert not missing, "%d of the original tasks missing" % len(missing)
    assert_newest_first(run.result)
    # The insertion did happen, on the second list request (pages may be read in parallel: the log is in order of answers).
    assert [entry.get("fault") for entry in emulator.requests("list")].count("insert") == 1


# ---------------------------------------------------------------------------------------------------------
# Filters and the returned shape


@pytest.mark.every_core
def test_filters_and_return_shape(emulator, playbook):
    """Each filter, limit, and the shape of a task; the connection options come from module_defaults group/hwcloud.dms.dms."""
    emulator.load(scenario(tasks=FIXED_TASKS))
    cases = [
        # (options, expected IDs, begin_time and end_time the API must receive: a day wider than asked, the exact filter is local)
        ({}, FIXED_IDS, None),
        ({"status": ["FAILED"]}, ["task-11", "task-08"], None),
        ({"status": ["FAILED", "CANCELLED", "DELETED"]}, ["task-11", "task-09", "task-08", "task-06"], None),
        ({"name": ["bindInstancePublicIp"]}, ["task-12", "task-08"], None),
        ({"name": ["kafkaConfigModify", "unbindInstancePublicIp"]}, ["task-11", "task-10", "task-09", "task-06"], None),
        ({"status": ["FAILED"], "name": ["bindInstancePublicIp"]}, ["task-08"], None),
        ({"begin_time": "20240501063000", "end_time": "20240501103000"}, ["task-10", "task-09", "task-08", "task-07"],
         {"begin_time": "20240430063000", "end_time": "20240502103000"}),
        ({"begin_time": "2024-05-01T10:30:00+02:00", "end_time": "2024-05-01T13:30:00+02:00"}, ["task-11", "task-10", "task-09"],
         {"begin_time": "20240430083000", "end_time": "20240502113000"}),
        ({"begin_time": "2024-05-01T02:30:00-05:00"}, ["task-12", "task-11", "task-10", "task-09", "task-08"],
         {"begin_time": "20240430073000"}),
        ({"end_time": "2024-05-01T09:30:00"}, ["task-09", "task-08", "task-07", "task-06", "task-05"],  # no zone: UTC
         {"end_time": "20240502093000"}),
        ({"limit": 3}, FIXED_IDS[:3], None),
        ({"limit": 1, "name": ["kafkaConfigModify"]}, ["task-11"], None),
        ({"limit": 100}, FIXED_IDS, None),
    ]
    run = playbook.run([info(**options) for options, _ids, _window in cases])
    lists = emulator.requests("list")
    assert kinds(emulator) == ["list"] * len(cases)  # one page each: the log lines up with the cases
    for (options, expected, window), result, request in zip(cases, run.results, lists):
        assert_ok(result)
        assert ids(result) == expected, options
        query = dict(request["query"])
        assert query.pop("start") == "1"
        query.pop("limit")
        assert query == (window or {}), options  # times go to the API as UTC YYYYMMDDHHmmss; other filters do not

    listing = run.results[0]
    assert listing["tasks"] == [expected_task(spec) for spec in FIXED_TASKS]
    for task in listing["tasks"]:
        assert set(task) == TASK_KEYS
        assert isinstance(task["params"], dict) and isinstance(task["params_raw"], str)
    by_id = dict((task["id"], task) for task in listing["tasks"])
    assert by_id["task-12"]["params"] == {"public_ip_id": "06a13350-4305-4338-9f0e-6b322bb1413d", "enable_public_ip": True}
    assert by_id["task-12"]["updated_at"] == "2024-05-01T12:00:38.000Z"
    assert by_id["task-11"]["params_raw"] == FIXED_TASKS[1]["params"]  # exactly as sent, spaces included
    assert by_id["task-07"]["params"]["note"] == "Gr\u00f6\u00dfe \u00e4ndern"
    for empty in ("task-10", "task-09", "task-08", "task-06"):  # empty, not JSON, a list, a string
        assert by_id[empty]["params"] == {}
        assert by_id[empty]["params_raw"] == next(spec["params"] for spec in FIXED_TASKS if spec["id"] == empty)


def test_check_mode(emulator, playbook):
    emulator.load(scenario(tasks=FIXED_TASKS))
    run = playbook.run([info(), dict(info(), check_mode=False)], check=True)
    in_check_mode, normal = run.results
    assert_ok(in_check_mode)
    assert not in_check_mode.get("skipped")
    assert in_check_mode["tasks"] == normal["tasks"]
    assert ids(in_check_mode) == FIXED_IDS
    assert kinds(emulator) == ["list", "list"]


# ---------------------------------------------------------------------------------------------------------
# Connection options: module_defaults, explicit options, aliases, environment, IAM


def test_explicit_options_without_module_defaults_and_aliases(emulator, playbook):
    emulator.load(scenario(tasks=FIXED_TASKS))
    explicit = playbook.connection()
    aliased = dict((key, value) for key, value in explicit.items() if key not in ("access_key", "secret_key"))
    aliased.update(ak=ACCESS_KEY, sk=SECRET_KEY)
    run = playbook.run([info(**explicit), info(**aliased)], defaults={})
    for result in run.results:
        assert_ok(result)
        assert ids(result) == FIXED_IDS
    assert [entry["auth"] for entry in emulator.requests()] == ["aksk", "aksk"]


@pytest.mark.parametrize("access_variable, secret_variable", [
    ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"),
    ("HW_ACCESS_KEY", "HW_SECRET_KEY"),
])
def test_credentials_from_environment(emulator, playbook, access_variable, secret_variable):
    emulator.load(scenario(tasks=FIXED_TASKS))
    run = playbook.run(
        [info(status=["FAILED"])],
        defaults=playbook.connection(access_key=None, secret_key=None),
        env={access_variable: ACCESS_KEY, secret_variable: SECRET_KEY},
    )
    assert_ok(run.result)
    assert ids(run.result) == ["task-11", "task-08"]
    assert [entry["auth"] for entry in emulator.requests()] == ["aksk"]


def test_project_id_resolved_through_iam(emulator, playbook):
    """Without project_id: one IAM lookup per module run, however many pages or tasks it then reads."""
    count = 250
    emulator.load(scenario(generate=[{"count": count}], iam_projects=[
        {"id": "ffffffffffffffffffffffffffffffff", "name": "eu-west-101"},
        {"id": PROJECT_ID, "name": REGION},
        {"id": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": REGION + "_subproject"},
    ]))
    expected = generated_ids(count)
    run = playbook.run([info(), info(task_id=[expected[3], expected[200]])], defaults=playbook.connection(project_id=None))
    listing, by_ids = run.results
    assert_ok(listing)
    assert ids(listing) == expected
    assert_ok(by_ids)
    assert ids(by_ids) == [expected[3], expected[200]]
    assert kinds(emulator) == ["iam_projects", "list", "list", "list", "iam_projects", "show", "show"]
    assert [entry["query"] for entry in emulator.requests("iam")] == [{"name": REGION}, {"name": REGION}]
    assert all("/v2/%s/" % PROJECT_ID in entry["path"] for entry in emulator.requests() if entry["kind"] in ("list", "show"))


# ---------------------------------------------------------------------------------------------------------
# Failures


def test_api_failures_name_the_instance_and_never_show_the_secret(emulator, playbook):
    """Unknown instance (listing and task_id) and a wrong secret key, at -vvvv: each fails after ONE request."""
    emulator.load(scenario(tasks=FIXED_TASKS))
    run = playbook.run([
        info(),
        info(instance_id=UNKNOWN_INSTANCE),
        info(instance_id=UNKNOWN_INSTANCE, task_id=["task-12"]),
        info(secret_key=WRONG_SECRET),
    ], args=["-vvvv"])
    listing, unknown, unknown_by_id, wrong_secret = run.results
    log = emulator.requests()
    assert [entry["kind"] for entry in log] == ["list", "list", "show", "list"]  # one request each: no retry
    assert [entry["status"] for entry in log] == [200, 404, 404, 401]

    assert_ok(listing)
    assert ids(listing) == FIXED_IDS

    for result, entry in ((unknown, log[1]), (unknown_by_id, log[2])):
        assert_failed(result, UNKNOWN_INSTANCE, "HTTP 404", "DMS.00404022", "The instance does not exist.", entry["request_id"])
        assert result["error"] == {
            "http_status": 404, "error_code": "DMS.00404022", "error_msg": "The instance does not exist.", "request_id": entry["request_id"],
        }

    assert_failed(wrong_secret, INSTANCE_ID, "HTTP 401", "APIG.0301", log[3]["request_id"])
    for failed in (unknown, unknown_by_id, wrong_secret):
        assert failed["tasks"] == [] and failed["task_count"] == 0 and failed["complete"] is False
    assert wrong_secret["error"]["http_status"] == 401
    assert wrong_secret["error"]["error_code"] == "APIG.0301"
    assert wrong_secret["error"]["request_id"] == log[3]["request_id"]
    assert "signature" in wrong_secret["error"]["error_msg"]

    for secret in (SECRET_KEY, WRONG_SECRET):
        assert secret not in run.output
        assert secret not in json.dumps(run.results)


def test_bad_input_fails_before_any_request(emulator, playbook):
    """Each bad input fails naming the option, without a request; at -vvvv the secret is never shown."""
    emulator.load(scenario(tasks=FIXED_TASKS))
    with_secret = {"secret_key": SECRET_KEY}
    cases = [
        (dict(with_secret, begin_time="yesterday"), ["begin_time", "yesterday"]),
        (dict(with_secret, end_time="20241301000000"), ["end_time", "20241301000000"]),
        (dict(with_secret, begin_time="20240501120000", end_time="2024-05-01T11:59:59Z"), ["end_time", "begin_time"]),
        (dict(with_secret, limit=0), ["limit"]),
        (dict(with_secret, status=["SUCCESS", "RUNNING"]), ["status", "RUNNING"]),
        (dict(with_secret, instance_id=""), ["instance_id"]),
        (dict(with_secret, instance_id="   "), ["instance_id"]),
        ({}, ["secret_key", "HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY"]),
        (dict(with_secret, access_key=""), ["access_key", "HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY"]),
        ({"access_key": ""}, ["access_key", "secret_key", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "auth_token"]),
        (dict(with_secret, auth_token="MIIEtoken-canary-value"), ["auth_token", "access_key"]),
    ]
    # The play's module_defaults lack secret_key: the tasks that are not about credentials give it themselves.
    run = playbook.run([info(**options) for options, _fragments in cases], defaults=playbook.connection(secret_key=None), args=["-vvvv"])
    for (options, fragments), result in zip(cases, run.results):
        assert result.get("failed") is True, (options, result)
        assert_failed(result, *fragments)
        assert "error" not in result
    assert emulator.requests() == []
    assert emulator.admin("GET", "counts")["total"] == 0
    for secret in (SECRET_KEY, "MIIEtoken-canary-value"):
        assert secret not in run.output
        assert secret not in json.dumps(run.results)
