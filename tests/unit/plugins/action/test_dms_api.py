# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_api: the action plugin's run() end to end, against a scripted HTTP server on 127.0.0.1.

The real client and HTTP stack run; only the pauses between retries are recorded instead of slept.
"""

from __future__ import annotations

import json
import time

import pytest

from ansible_collections.hwcloud.dms.plugins.action import dms_api
from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient, make_auth
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpClient
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeClock
from ansible_collections.hwcloud.dms.tests.unit.plugins.action.running import run_plugin
from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.scripted_server import Reply

CANARY = "SK-canary-never-print-me-0d9e8f7a6b5c4d3e"
TOKEN_CANARY = "TOKEN-canary-never-print-me-1a2b3c4d"
ACCESS_KEY = "AKUNITTEST0000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
CONFIGS_PATH = "/v2/%s/instances/%s/configs" % (PROJECT, INSTANCE)
CONFIGS = {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]}
INSTANCE_PATH = "/v2/%s/instances/%s" % (PROJECT, INSTANCE)
BUSY = Reply(400, {"error_code": "DMS.00400017", "error_msg": "Job task is still running."}, {"X-Request-Id": "req-busy"})


class PluginRun:
    """What one run of the plugin left: its result, ``code`` 1 when it failed (0 otherwise), the live lines it printed,
    and everything it output (``out``: the result as JSON, then the lines)."""

    def __init__(self, result, lines):
        self.result = result
        self.code = 1 if result.get("failed") else 0
        self.lines = [text for _verbosity, text in lines]
        self.out = json.dumps(result) + "\n" + "\n".join(self.lines)


@pytest.fixture(name="call_api")
def call_api_fixture(monkeypatch, display, server):
    """call_api(**overrides) -> PluginRun of dms_api with these arguments over defaults that call the scripted server;
    ``run.pauses``: the pauses between retries, recorded instead of slept. ``_ansible_check_mode`` runs it in check mode."""

    def call(**overrides):
        args = {"access_key": ACCESS_KEY, "secret_key": CANARY, "region": REGION, "project_id": PROJECT,
                "endpoint": server.url, "iam_endpoint": server.url, "max_retries": 3, "request_timeout": 5,
                "path": "/v2/{project_id}/instances/%s/configs" % INSTANCE}
        args.update(overrides)
        check_mode = args.pop("_ansible_check_mode", False)
        args = dict((key, value) for key, value in args.items() if value is not None)
        # From the system's monotonic time: the plugin's own deadlines are taken on the system clock.
        clock = FakeClock(start=time.monotonic())

        def client_without_sleeping(settings, on_retry=None):
            http = HttpClient(make_auth(settings), request_timeout=settings.request_timeout, max_retries=settings.max_retries,
                              clock=clock, on_retry=on_retry)
            return DmsClient(settings, http=http)

        monkeypatch.setattr(dms_api, "DmsClient", client_without_sleeping)
        display.lines.clear()
        run = PluginRun(run_plugin(dms_api, "hwcloud.dms.dms_api", args, check_mode=check_mode), display.lines)
        run.pauses = clock.sleeps
        assert CANARY not in run.out and TOKEN_CANARY not in run.out
        return run

    return call


# ------------------------------------------------------------------------------------------------
# Accepted answers


def test_a_read_returns_the_answer_unchanged(call_api, server):
    server.replies.append(Reply(200, {"kafka_configs": []}, {"X-Request-Id": "req-1"}))
    run = call_api(query={"limit": 10})
    assert run.code == 0
    result = run.result
    assert (result["changed"], result["status"], result["json"], result["request_id"]) == (False, 200, {"kafka_configs": []}, "req-1")
    assert result["job_id"] is None and result["method"] == "GET"
    assert result["url"] == "%s%s?limit=10" % (server.url, CONFIGS_PATH)
    [request] = server.requests
    assert (request.method, request.path, request.query, request.body) == ("GET", CONFIGS_PATH, [("limit", "10")], b"")
    assert request.headers["Authorization"].startswith("SDK-HMAC-SHA256 Access=%s," % ACCESS_KEY)


def test_a_write_returns_its_job_id_and_is_a_change(call_api, server):
    server.replies.append(Reply(200, {"job_id": "8abfa7b272adc5b40172b73130065ae7", "dynamic_config": 0, "static_config": 1}))
    run = call_api(method="PUT", body=CONFIGS)
    assert run.code == 0
    assert (run.result["changed"], run.result["job_id"], run.result["status"]) == (True, "8abfa7b272adc5b40172b73130065ae7", 200)
    [request] = server.requests
    assert request.method == "PUT" and json.loads(request.body.decode("utf-8")) == CONFIGS


def test_a_list_body_is_sent_as_json(call_api, server):
    server.replies.append(Reply(200, {"results": []}))
    call_api(method="POST", path="/v2/{project_id}/instances/action", body=[{"a": 1}])
    assert json.loads(server.requests[0].body.decode("utf-8")) == [{"a": 1}]


def test_an_empty_answer_is_null_json(call_api, server):
    server.replies.append(Reply(204, ""))
    run = call_api(method="DELETE", path="/v2/{project_id}/instances/%s/tasks/t1" % INSTANCE)
    assert (run.code, run.result["status"], run.result["json"], run.result["changed"]) == (0, 204, None, True)


def test_a_status_the_user_accepts_is_returned_without_failing(call_api, server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022", "error_msg": "The instance does not exist."}))
    run = call_api(status_code=[200, 404])
    assert run.code == 0 and "failed" not in run.result
    assert (run.result["status"], run.result["json"]["error_code"]) == (404, "DMS.00404022")


def test_a_write_with_an_accepted_error_status_is_no_change(call_api, server):
    server.replies.append(BUSY)
    run = call_api(method="PUT", body=CONFIGS, status_code=[200, 400])
    assert (run.code, run.result["changed"], run.result["status"]) == (0, False, 400)


# ------------------------------------------------------------------------------------------------
# Refused answers: failed, with the status, the API's code and message, the request ID, and the body


def test_a_refused_write_fails_with_everything_the_api_said(call_api, server):
    server.replies.extend([BUSY, Reply(200, {"instance_id": INSTANCE, "status": "EXTENDING", "engine": "kafka"})])
    run = call_api(method="PUT", body=CONFIGS)
    result = run.result
    assert run.code == 1 and result["failed"] is True and result["changed"] is False
    for part in ("HTTP 400", "DMS.00400017", "Job task is still running.", "req-busy", "PUT", CONFIGS_PATH,
                 "another task of the instance is still running", "the instance is EXTENDING", "when_busy: wait"):
        assert part in result["msg"]
    assert (result["status"], result["json"], result["request_id"]) == (400, BUSY.body, "req-busy")
    assert result["error"] == {"http_status": 400, "error_code": "DMS.00400017", "error_msg": "Job task is still running.",
                               "request_id": "req-busy"}
    assert result["instance_status"] == "EXTENDING" and result["busy_refusals"] == 1
    assert [(request.method, request.path) for request in server.requests] == [("PUT", CONFIGS_PATH), ("GET", INSTANCE_PATH)]


@pytest.mark.parametrize("code", ["DMS.00400052", "DMS.00400099"])
def test_a_precondition_refusal_fails_at_once_with_its_meaning(call_api, server, code):
    server.replies.append(Reply(400, {"error_code": code, "error_msg": "Refused."}))
    run = call_api(method="POST", body={}, when_busy="wait")
    assert run.code == 1 and run.result["busy_refusals"] == 0 and len(server.requests) == 1
    assert "a wait for the instance does not lift this" in run.result["msg"]


def test_a_success_outside_status_code_fails_saying_so(call_api, server):
    server.replies.append(Reply(200, {"job_id": "j1"}))
    run = call_api(method="POST", path="/v2/{project_id}/instances/action", body={}, status_code=[201, 202])
    assert run.code == 1
    assert "answered HTTP 200, which is not in status_code (201, 202)" in run.result["msg"]
    assert (run.result["status"], run.result["json"], run.result["changed"]) == (200, {"job_id": "j1"}, False)


def test_an_authentication_failure_is_never_retried(call_api, server):
    server.replies.extend([Reply(401, {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information"}), Reply(200, {})])
    run = call_api()
    assert run.code == 1 and "APIG.0301" in run.result["msg"]
    assert len(server.requests) == 1 and run.pauses == []


def test_no_such_api_points_at_the_path_too(call_api, server):
    server.replies.append(Reply(404, {"error_code": "APIG.0101", "error_msg": "The API does not exist."}))
    run = call_api(path="/v2/{project_id}/instancez")
    assert run.code == 1 and run.result["msg"].endswith("check endpoint and region; or check path")


# ------------------------------------------------------------------------------------------------
# Retries: reads as ever, writes only when they certainly did not reach the service


def test_a_read_is_retried_after_a_server_error(call_api, server):
    server.replies.extend([Reply(503, {"error_code": "APIG.0202", "error_msg": "Backend unavailable."}), Reply(200, {"ok": True})])
    run = call_api()
    assert (run.code, run.result["json"]) == (0, {"ok": True})
    assert len(server.requests) == 2
    [line] = run.lines
    assert line.startswith("dms_api [web1]: GET %s%s: attempt 1 of 4 failed (HTTP 503 APIG.0202); trying again in " % (server.url, CONFIGS_PATH))


def test_a_read_that_keeps_failing_returns_the_last_answer(call_api, server):
    server.respond = lambda request: Reply(503, {"error_code": "APIG.0202", "error_msg": "Backend unavailable."})
    run = call_api(max_retries=2)
    assert run.code == 1 and "gave up after 3 attempts" in run.result["msg"]
    assert (run.result["status"], run.result["json"]["error_code"], run.result["error"]["error_code"]) == (503, "APIG.0202", "APIG.0202")


def test_a_throttled_write_is_sent_again(call_api, server):
    server.replies.extend([Reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"}), Reply(200, {"job_id": "j1"})])
    run = call_api(method="PUT", body=CONFIGS)
    assert (run.code, run.result["job_id"]) == (0, "j1")
    assert len(server.requests) == 2 and len(run.pauses) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_after_a_server_error_is_never_sent_again(call_api, server, status):
    server.replies.extend([Reply(status, {"error_code": "APIG.0202", "error_msg": "Backend unavailable."}), Reply(200, {"job_id": "twice"})])
    run = call_api(method="POST", path="/v2/kafka/{project_id}/instances/%s/extend" % INSTANCE, body={"oper_type": "storage"})
    assert run.code == 1 and len(server.requests) == 1 and run.pauses == []
    assert "may or may not have been applied" in run.result["msg"] and "not sent again" in run.result["msg"]
    assert run.result["status"] == status and run.result["error"]["http_status"] == status


def test_a_write_whose_connection_dropped_is_never_sent_again(call_api, server):
    server.replies.extend([Reply(drop=True), Reply(200, {"job_id": "twice"})])
    run = call_api(method="PUT", body=CONFIGS)
    assert run.code == 1 and len(server.requests) == 1
    assert "may or may not have been applied" in run.result["msg"]
    assert (run.result["status"], run.result["json"], run.result["url"]) == (None, None, server.url + CONFIGS_PATH)


def test_a_write_that_timed_out_is_never_sent_again(call_api, server):
    server.replies.extend([Reply(200, {"job_id": "late"}, delay=2), Reply(200, {"job_id": "twice"})])
    run = call_api(method="PUT", body=CONFIGS, request_timeout=0.3)
    assert run.code == 1 and len(server.requests) == 1
    assert "may or may not have been applied" in run.result["msg"]


# ------------------------------------------------------------------------------------------------
# Check mode


def dms_reads(tasks=(), status="RUNNING"):
    """Answers to the reads of check mode: the instance's tasks (every listing) and the instance."""
    def respond(request):
        if request.method != "GET":
            return Reply(418, {"error_code": "TEST.418", "error_msg": "check mode sent a write"})
        if request.path == INSTANCE_PATH:
            return Reply(200, {"instance_id": INSTANCE, "status": status, "engine": "kafka"})
        return Reply(200, {"task_count": str(len(tasks)), "tasks": list(tasks)})
    return respond


def running_task(task_id="f" * 32, name="resizeInstance"):
    return {"id": task_id, "name": name, "status": "EXECUTING", "params": "{}", "created_at": "2024-05-01T12:00:00.000Z",
            "updated_at": "2024-05-01T12:00:01.000Z", "user_name": "u", "user_id": "i"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_check_mode_sends_no_write_and_says_what_it_would_have_sent(call_api, server, method):
    server.respond = dms_reads()
    run = call_api(method=method, body=CONFIGS, query={"force": True}, _ansible_check_mode=True)
    assert run.code == 0 and server.requests and all(request.method == "GET" for request in server.requests)
    result = run.result
    assert (result["changed"], result["method"], result["body"], result["status"]) == (True, method, CONFIGS, None)
    assert result["url"] == "%s%s?force=true" % (server.url, CONFIGS_PATH)
    assert "not sent" in result["msg"] and "it would be sent now" in result["msg"]
    assert (result["instance_status"], result["running_tasks"], result["would_wait"]) == ("RUNNING", [], False)


@pytest.mark.parametrize("when_busy, changed, would_wait, says", [
    ("fail", False, False, "DMS would refuse it now (resizeInstance (ID %s) EXECUTING; the instance is EXTENDING); when_busy: wait"
                           " would send it once the instance is free" % ("f" * 32)),
    ("wait", True, True, "it would wait until the instance is free (resizeInstance (ID %s) EXECUTING; the instance is EXTENDING),"
                         " then be sent" % ("f" * 32)),
])
def test_check_mode_says_whether_a_busy_instance_would_refuse_the_change_now(call_api, server, when_busy, changed, would_wait, says):
    server.respond = dms_reads([running_task()], status="EXTENDING")
    run = call_api(method="PUT", body=CONFIGS, when_busy=when_busy, _ansible_check_mode=True)
    result = run.result
    assert run.code == 0 and all(request.method == "GET" for request in server.requests)
    assert (result["changed"], result["would_wait"], result["instance_status"]) == (changed, would_wait, "EXTENDING")
    assert [task["id"] for task in result["running_tasks"]] == ["f" * 32] and says in result["msg"]


def test_check_mode_on_a_frozen_instance_says_no_wait_would_help(call_api, server):
    server.respond = dms_reads(status="FROZEN")
    run = call_api(method="PUT", body=CONFIGS, when_busy="wait", _ansible_check_mode=True)
    assert run.code == 0 and run.result["changed"] is False and run.result["would_wait"] is False
    assert "no wait ends that: the instance is FROZEN: " in run.result["msg"]


def test_check_mode_without_an_instance_reads_nothing_and_says_so(call_api, server):
    run = call_api(method="POST", path="/v2/{project_id}/instances/action", body={"action": "restart", "instances": ["a", "b"]},
                   _ansible_check_mode=True)
    assert run.code == 0 and server.requests == [] and run.result["changed"] is True
    assert "whether DMS would refuse it now was not checked" in run.result["msg"]


def test_check_mode_sends_a_read(call_api, server):
    server.replies.append(Reply(200, {"configs": []}))
    run = call_api(_ansible_check_mode=True)
    assert (run.code, run.result["changed"], run.result["json"]) == (0, False, {"configs": []})
    assert len(server.requests) == 1


def test_check_mode_still_looks_the_project_id_up(call_api, server):
    server.replies.append(Reply(200, {"projects": [{"id": "looked-up", "name": REGION}]}))
    run = call_api(method="POST", path="/v2/{project_id}/instances/action", body={}, project_id=None, _ansible_check_mode=True)
    assert run.code == 0 and run.result["url"] == "%s/v2/looked-up/instances/action" % server.url
    assert [request.path for request in server.requests] == ["/v3/projects"]


# ------------------------------------------------------------------------------------------------
# Bad input: refused naming the option, before any request


@pytest.mark.parametrize("overrides, start", [
    ({"path": "/v2/{project_id}/instances/{instance_id}/configs"}, "path: only {project_id} is filled in"),
    ({"path": "https://dms.example.com/v2/x"}, "path must be below the endpoint"),
    ({"path": "/v2/{project_id}/instances/../configs"}, "path must not contain a '..' segment"),
    ({"query": {"engine": None}}, "query: the value of engine"),
    ({"body": "kafka_configs=1", "method": "PUT"}, "body must be a dict or a list"),
    ({"body": {"ratio": float("nan")}, "method": "PUT"}, "body cannot be sent as JSON"),
    ({"status_code": []}, "status_code must list at least one HTTP status"),
    ({"status_code": [200, 999]}, "status_code must be an integer from 100 to 599, got 999"),
    # Before ansible-core 2.16 the conversion itself refuses any float for an int, in its own words.
    ({"status_code": [float("inf")]}, ("status_code must be a finite number within its documented range, got [inf]",
                                       "Invalid options for hwcloud.dms.dms_api: Elements value for option 'status_code' is of type <class 'float'>")),
    ({"max_retries": float("inf")}, ("max_retries must be a finite number within its documented range, got inf",
                                     "Invalid options for hwcloud.dms.dms_api: argument 'max_retries' is of type <class 'float'>")),
    ({"secret_key": None}, "secret_key is missing"),
    ({"method": "PUT", "body": {}, "deadline": "2020-01-01T04:00:00Z"}, "deadline 2020-01-01T04:00:00Z has passed (it is "),
    ({"method": "PUT", "body": {}, "deadline": "04:00"}, "deadline must be a time, YYYYMMDDHHmmss or ISO-8601"),
], ids=["placeholder", "url", "dot dot", "query", "body string", "body nan", "no status", "bad status", "infinite status",
        "infinite retries", "no secret key", "deadline passed", "deadline no time"])
def test_bad_input_fails_naming_the_option_before_any_request(call_api, server, overrides, start):
    run = call_api(**overrides)
    assert run.code == 1 and run.result["msg"].startswith(start), run.result["msg"]
    assert server.requests == [] and run.result.get("status") is None and "exception" not in run.result


def test_a_project_lookup_failure_says_nothing_was_sent(call_api, server):
    server.replies.append(Reply(401, {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information"}))
    run = call_api(method="PUT", body=CONFIGS, project_id=None)
    assert run.code == 1 and run.result["msg"].startswith("The DMS API call was not sent: HTTP 401 APIG.0301")
    assert [request.path for request in server.requests] == ["/v3/projects"]


def test_a_token_echoed_by_the_api_is_masked(call_api, server):
    server.replies.append(Reply(400, {"error_code": "DMS.00400000", "error_msg": "bad token %s" % TOKEN_CANARY, "echo": TOKEN_CANARY}))
    run = call_api(access_key=None, secret_key=None, auth_token=TOKEN_CANARY)
    assert run.code == 1 and "********" in run.result["msg"] and run.result["json"]["echo"] == "********"
    assert server.requests[0].headers["X-Auth-Token"] == TOKEN_CANARY
