# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud's documented answers the emulator reproduces, the scenario options for the undocumented ones, and the
first-request clock. Plain HTTP with a password-issued token; no assertion bounds how long anything took."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import requests

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

PROJECT = "0123456789abcdef0123456789abcdef"
KAFKA, ROCKET, RABBIT = "11111111-2222-3333-4444-555555555555", "33333333-4444-5555-6666-777777777777", "22222222-3333-4444-5555-666666666666"
HEX_TASK = "ff80808272dcc90f0172df1e490f41b0"
UNKNOWN_HEX_TASK = "0" * 32


def scenario(tasks=None, faults=None, **options):
    spec = {
        "project_id": PROJECT,
        "users": [{"name": "alice", "password": "wonderland"}],
        "instances": [
            {"id": KAFKA, "engine": "kafka", "tasks": tasks or [
                {"id": HEX_TASK, "name": "kafkaConfigModify", "progress": True},
                {"id": "t-readable", "name": "bindInstancePublicIp"},
            ]},
            {"id": ROCKET, "engine": "rocketmq", "tasks": [{"id": "q-1", "name": "rocketmqConfigModify", "created_offset": -60}]},
            {"id": RABBIT, "engine": "rabbitmq", "tasks": [{"id": "r-1", "name": "rabbitmqPluginModify"}]},
        ],
        "faults": faults or [],
    }
    spec.update(options)
    return spec


def password_token(url):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice", "password": "wonderland"}}}}}
    return requests.post(url + "/v3/auth/tokens", json=body, timeout=10).headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("emulator")) as running:
        running.token = password_token(running.url)
        yield running


class Api:
    """The emulator under a freshly loaded scenario, called with a token so that the requests need no signing."""

    def __init__(self, emulator, spec):
        self.emulator = emulator
        emulator.load(spec)

    def call(self, method, suffix="", instance=KAFKA, **params):
        url = "%s/v2/%s/instances/%s/tasks%s" % (self.emulator.url, PROJECT, instance, suffix)
        return requests.request(method, url, params=params, headers={"X-Auth-Token": self.emulator.token}, timeout=10)

    def get(self, suffix="", instance=KAFKA, **params):
        return self.call("GET", suffix, instance, **params)

    def iam_projects(self, **headers):
        return requests.get(self.emulator.url + "/v3/projects", headers=headers, timeout=10)


def refused(response, status, code, message=None):
    assert (response.status_code, response.json()["error_code"]) == (status, code), response.text
    if message is not None:
        assert response.json()["error_msg"] == message


def parse_api_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def load_refused(emulator, spec, reason):
    with pytest.raises(RuntimeError, match=reason):
        emulator.load(spec)


# -- IDs -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, suffix", [("GET", ""), ("DELETE", ""), ("GET", "/progress")], ids=["show", "delete", "progress"])
def test_malformed_task_ids_are_a_bad_request(server, method, suffix):
    api = Api(server, scenario(task_without_progress="empty"))  # so that a well-formed ID's progress answers 200
    for malformed in ("no-such-task", HEX_TASK.upper(), HEX_TASK[:31]):
        refused(api.call(method, "/" + malformed + suffix), 400, "DMS.00400070", "Invalid task ID format.")
    refused(api.call(method, "/" + UNKNOWN_HEX_TASK + suffix), 404, "DMS.00404000", "The task does not exist.")
    assert api.call(method, "/t-readable" + suffix).status_code in (200, 204), "a task ID the scenario declares is well-formed"


def test_task_id_pattern_can_be_changed(server):
    api = Api(server, scenario(task_id_pattern="task-[0-9]+"))
    refused(api.get("/task-7"), 404, "DMS.00404000")
    refused(api.get("/" + UNKNOWN_HEX_TASK), 400, "DMS.00400070")
    assert api.get("/" + HEX_TASK).status_code == 200
    load_refused(server, scenario(task_id_pattern="("), "task_id_pattern")


def test_unknown_task_answer_can_be_chosen(server):
    api = Api(server, scenario(unknown_task={"status": 400, "error_code": "DMS.00400999"}))
    answer = api.get("/" + UNKNOWN_HEX_TASK)
    assert answer.status_code == 400
    assert answer.json() == {"error_code": "DMS.00400999", "error_msg": "The task does not exist."}


def test_instance_ids_are_checked_only_when_asked(server):
    api = Api(server, scenario())
    refused(api.get(instance="kafka-1"), 404, "DMS.00404022")
    api = Api(server, scenario(check_instance_ids=True))
    for suffix in ("", "/" + HEX_TASK):
        refused(api.get(suffix, instance="kafka-1"), 400, "DMS.00400030", "Invalid instance ID.")
    refused(api.get(instance="99999999-9999-9999-9999-999999999999"), 404, "DMS.00404022")
    assert api.get().status_code == 200


# -- list parameters -----------------------------------------------------------------------------------

def test_offset_is_not_taken_for_start(server):
    api = Api(server, scenario())
    assert api.get(offset=2, limit=1).json()["tasks"] == api.get(limit=1).json()["tasks"]


# -- progress ------------------------------------------------------------------------------------------

def test_progress_only_for_tasks_that_have_it(server):
    api = Api(server, scenario())
    refused(api.get("/t-readable/progress"), 400, "DMS.00400000", "The task has no progress information.")
    refused(api.get("/q-1/progress", instance=ROCKET), 400, "DMS.00400000")
    assert len(api.get("/%s/progress" % HEX_TASK).json()["step_list"]) == 3
    refused(api.get("/r-1/progress", instance=RABBIT), 404, "APIG.0101")
    api = Api(server, scenario(task_without_progress="empty"))
    answer = api.get("/t-readable/progress")
    assert (answer.status_code, answer.json()) == (200, {"progress_percentage": 0, "remain_time": 0, "step_list": []})
    api = Api(server, scenario(task_without_progress={"status": 400, "error_code": "DMS.00400999", "error_msg": "No progress."}))
    answer = api.get("/t-readable/progress")
    assert (answer.status_code, answer.json()) == (400, {"error_code": "DMS.00400999", "error_msg": "No progress."})
    load_refused(server, scenario(tasks=[{"name": "kafkaConfigModify", "steps": ["a"]}]), "add progress: true")
    load_refused(server, scenario(task_without_progress="error"), "task_without_progress")


def test_step_times_are_null_until_reached(server):
    api = Api(server, scenario(tasks=[
        {"id": "t-busy", "name": "kafkaConfigModify", "progress": True, "timeline": [[0, "EXECUTING"], [600, "SUCCESS"]]},
        {"id": "t-failed", "name": "kafkaConfigModify", "progress": True, "timeline": [[-3, "EXECUTING"], [-1, "FAILED"]]},
    ], clock="first_request"))
    busy = api.get("/t-busy/progress").json()["step_list"]
    assert [step["statue"] for step in busy] == ["IN_PROGRESS", "WAITING", "WAITING"]
    assert isinstance(busy[0]["start_time"], int) and busy[0]["end_time"] is None
    assert [(step["start_time"], step["end_time"]) for step in busy[1:]] == [(None, None), (None, None)]
    failed = api.get("/t-failed/progress").json()["step_list"]
    assert [step["statue"] for step in failed] == ["COMPLETED", "COMPLETED", "FAILED"]
    assert all(step["start_time"] < step["end_time"] for step in failed)


# -- deleted tasks -------------------------------------------------------------------------------------

def test_deleted_tasks_vanish_by_default(server):
    api = Api(server, scenario())
    assert api.call("DELETE", "/" + HEX_TASK).status_code == 204
    refused(api.get("/" + HEX_TASK), 404, "DMS.00404000")
    assert HEX_TASK not in [task["id"] for task in api.get().json()["tasks"]]


def test_deleted_tasks_can_stay_listed_as_deleted(server):
    api = Api(server, scenario(deleted_tasks="listed"))
    before = api.get("/" + HEX_TASK).json()["tasks"][0]
    assert api.call("DELETE", "/" + HEX_TASK).status_code == 204
    after = api.get("/" + HEX_TASK).json()["tasks"][0]
    assert (before["status"], after["status"]) == ("SUCCESS", "DELETED")
    assert after["updated_at"] >= before["updated_at"]
    assert {task["id"]: task["status"] for task in api.get().json()["tasks"]}[HEX_TASK] == "DELETED"
    assert api.call("DELETE", "/" + HEX_TASK).status_code == 204
    assert api.get("/" + HEX_TASK).json()["tasks"][0] == after, "deleting again changes nothing"
    load_refused(server, scenario(deleted_tasks="kept"), "deleted_tasks")


ACTIVE_TASKS = [
    {"id": "t-created", "name": "kafkaConfigModify", "status": "CREATED"},
    {"id": "t-executing", "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"], [300, "SUCCESS"]]},
    {"id": "t-done", "name": "kafkaConfigModify", "status": "FAILED"},
]


def test_deleting_an_active_task_is_refused_by_default(server):
    api = Api(server, scenario(tasks=ACTIVE_TASKS))
    for task_id in ("t-created", "t-executing"):
        refused(api.call("DELETE", "/" + task_id), 400, "DMS.00400071", "The task is still running and cannot be deleted.")
        assert api.get("/" + task_id).status_code == 200, "a refused delete leaves the task"
    assert api.call("DELETE", "/t-done").status_code == 204


def test_deleting_an_active_task_can_be_allowed(server):
    api = Api(server, scenario(tasks=ACTIVE_TASKS, delete_active="allow"))
    for task_id in ("t-created", "t-executing"):
        assert api.call("DELETE", "/" + task_id).status_code == 204
        refused(api.get("/" + task_id), 404, "DMS.00404000")
    load_refused(server, scenario(delete_active="never"), "delete_active")


# -- fault actions and bodies --------------------------------------------------------------------------

def test_throttling_has_no_retry_after_unless_given(server):
    api = Api(server, scenario(faults=[{"kind": "list", "nth": 1, "status": 429}, {"kind": "list", "nth": 2, "status": 429, "retry_after": 3}]))
    plain, told = api.get(), api.get()
    refused(plain, 429, "APIG.0308")
    assert "Retry-After" not in plain.headers
    assert told.headers["Retry-After"] == "3"


def test_flow_control_is_a_404(server):
    api = Api(server, scenario(faults=[{"kind": "show", "nth": 1, "flow_control": True}]))
    refused(api.get("/" + HEX_TASK), 404, "DMS.10240407", "The request is too frequent. Please try again later.")
    assert api.get("/" + HEX_TASK).status_code == 200
    assert server.requests()[0]["fault"] == "flow_control"
    load_refused(server, scenario(faults=[{"flow_control": True, "status": 429}]), "flow_control brings its own status")


@pytest.mark.parametrize("code, message", [("DMS.00404001", "URL does not exist."), ("DMS.10240406", "URL or endpoint does not exist.")])
def test_url_not_found_bodies(server, code, message):
    api = Api(server, scenario(faults=[{"kind": "list", "status": 404, "body": {"error_code": code, "error_msg": message}}]))
    answer = api.get()
    assert (answer.status_code, answer.json()) == (404, {"error_code": code, "error_msg": message})


def test_ignore_start_serves_the_first_page_with_an_honest_count(server):
    tasks = [{"name": "kafkaConfigModify", "created_offset": -minute * 60} for minute in range(25)]
    api = Api(server, scenario(tasks=tasks, faults=[{"kind": "list", "nth": 2, "ignore_start": True}]))
    first, ignored, honoured = api.get(limit=10), api.get(start=11, limit=10), api.get(start=11, limit=10)
    assert ignored.json() == first.json()
    assert ignored.json()["task_count"] == "25"
    assert honoured.json()["tasks"][0]["id"] != first.json()["tasks"][0]["id"]
    assert [entry["fault"] for entry in server.requests()] == [None, "ignore_start", None]
    load_refused(server, scenario(faults=[{"kind": "show", "ignore_start": True}]), "give kind: list")


@pytest.mark.parametrize("body, content", [({}, b"{}"), ({"task_count": "3", "tasks": None}, b'{"task_count": "3", "tasks": null}'), ("", b"")],
                         ids=["empty-object", "null-tasks", "empty-body"])
def test_ok_answers_a_client_must_refuse(server, body, content):
    api = Api(server, scenario(faults=[{"kind": "list", "status": 200, "body": body}]))
    answer = api.get()
    assert (answer.status_code, answer.content) == (200, content)


# -- IAM and authentication answers --------------------------------------------------------------------

def test_iam_answers_carry_an_iam_trace_id(server):
    api = Api(server, scenario(faults=[{"kind": "iam_projects", "nth": 3, "status": 500}]))
    answers = [api.iam_projects(**{"X-Auth-Token": server.token}), api.iam_projects(), api.iam_projects(**{"X-Auth-Token": server.token})]
    assert [answer.status_code for answer in answers] == [200, 401, 500]
    for answer in answers:
        assert "X-Request-Id" not in answer.headers
    assert [entry["request_id"] for entry in server.requests()] == [answer.headers["X-IAM-Trace-Id"] for answer in answers]
    assert "X-Request-Id" in api.get().headers


def test_auth_failures_may_answer_apigw_0301(server):
    api = Api(server, scenario(auth_error_code="APIGW.0301"))
    anonymous = requests.get("%s/v2/%s/instances/%s/tasks" % (server.url, PROJECT, KAFKA), timeout=10)
    refused(anonymous, 401, "APIGW.0301")
    assert anonymous.json()["request_id"] == anonymous.headers["X-Request-Id"]
    refused(api.iam_projects(), 401, "APIGW.0301")
    load_refused(server, scenario(auth_error_code="APIG.0302"), "auth_error_code")


# -- the first-request clock ---------------------------------------------------------------------------

def test_first_request_clock_starts_each_instance_on_its_first_request(server):
    tasks = [{"id": "t-new", "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"], [600, "SUCCESS"]]},
             {"id": "t-fixed", "name": "kafkaConfigModify", "created_at": "2024-05-01T08:30:00Z", "duration": 20}]
    api = Api(server, scenario(tasks=tasks, clock="first_request"))
    time.sleep(0.3)
    before_kafka = time.time()
    kafka = {task["id"]: task for task in api.get().json()["tasks"]}
    time.sleep(0.3)
    before_rocket = time.time()
    rocket = api.get(instance=ROCKET).json()["tasks"][0]
    health = server.admin("GET", "health")["clock"]

    assert kafka["t-new"]["status"] == "EXECUTING"
    assert parse_api_time(kafka["t-new"]["created_at"]) >= round(before_kafka, 3) - 0.001, "created at the first request, not at the load"
    assert (kafka["t-fixed"]["created_at"], kafka["t-fixed"]["updated_at"]) == ("2024-05-01T08:30:00.000Z", "2024-05-01T08:30:20.000Z")
    assert parse_api_time(rocket["created_at"]) >= round(before_rocket, 3) - 60.001, "the other instance's clock started later"
    # The log reads each request on its instance's clock, which started at least 0.3 s (Kafka) or 0.6 s (RocketMQ)
    # after the scenario's clock that the health endpoint reads.
    kafka_entry, rocket_entry = server.requests()
    assert kafka_entry["clock"] <= health - 0.299 and rocket_entry["clock"] <= health - 0.599


def test_load_clock_is_the_default(server):
    api = Api(server, scenario(tasks=[{"id": "t-new", "name": "kafkaConfigModify"}]))
    time.sleep(0.3)
    before = time.time()
    task = api.get().json()["tasks"][0]
    assert parse_api_time(task["created_at"]) < before
    assert server.requests()[0]["clock"] >= 0.3
    load_refused(server, scenario(clock="midnight"), "clock")
