# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's task timelines and each fault kind, driven over plain HTTP with a password-issued token."""

from __future__ import annotations

import glob
import json
import os
import time

import pytest
import requests
import yaml

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

PROJECT = "0123456789abcdef0123456789abcdef"
KAFKA, OTHER = "11111111-2222-3333-4444-555555555555", "44444444-5555-6666-7777-888888888888"
SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")
DEMO = os.path.join(SCENARIOS, "demo.yaml")


def scenario(tasks=None, faults=None, generate=None, **options):
    return dict({
        "project_id": PROJECT,
        "users": [{"name": "alice", "password": "wonderland"}],
        "instances": [
            {"id": KAFKA, "engine": "kafka", "tasks": tasks or [{"id": "t-1", "name": "kafkaConfigModify", "progress": True}], "generate": generate or []},
            {"id": OTHER, "engine": "rocketmq", "tasks": [{"id": "o-1", "name": "rocketmqConfigModify"}]},
        ],
        "faults": faults or [],
    }, **options)


def password_token(emulator, user=("alice", "wonderland")):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user[0], "password": user[1]}}}}}
    return requests.post(emulator.url + "/v3/auth/tokens", json=body, timeout=10).headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("emulator")) as running:
        running.token = password_token(running)  # tokens outlive scenario loads, so one serves the whole module
        yield running


class Api:
    """The emulator under a freshly loaded scenario, called with a token so that the requests need no signing."""

    def __init__(self, emulator, spec=None):
        self.emulator = emulator
        if spec is not None:
            emulator.load(spec)

    def get(self, suffix="", instance=KAFKA, timeout=10, **params):
        url = "%s/v2/%s/instances/%s/tasks%s" % (self.emulator.url, PROJECT, instance, suffix)
        return requests.get(url, params=params, headers={"X-Auth-Token": self.emulator.token}, timeout=timeout)


def poll_until(condition, seconds=5.0, pause=0.05):
    """Call condition() until it returns something truthy, at most `seconds` long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(pause)
    raise AssertionError("condition not met within %s s" % seconds)


def read_from(server, read, kind, moment):
    """read() as computed at ``moment`` or later on the instance's clock: read until the request log shows a ``kind``
    request answered that late, then once more (sent after that answer, so computed later still)."""
    deadline = time.monotonic() + 60  # a bound for a stalled emulator, not a measurement
    read()
    while server.requests(kind)[-1]["clock"] < moment:
        assert time.monotonic() < deadline, "the instance's clock did not reach %s s" % moment
        time.sleep(0.1)
        read()
    return read()


def answered_before(server, moment):
    """The last request was answered, so computed, before ``moment`` on the instance's clock."""
    clock = server.requests()[-1]["clock"]
    assert clock < moment, "answered at %s s, after the timeline moved on at %s s" % (clock, moment)


# -- timelines -----------------------------------------------------------------------------------------
# Each instance's clock starts at its first request, each state lasts seconds, and each read is judged by the clock the
# request log gives it: a slow machine reads later, yet still within the state it is meant for.

def test_timeline_moves_status_updated_at_and_progress(server):
    api = Api(server, scenario([{"id": "t-1", "name": "kafkaConfigModify", "timeline": [[0, "CREATED"], [2, "EXECUTING"], [4, "SUCCESS"]],
                                 "progress": True}], clock="first_request"))

    def read():
        return api.get("/t-1").json()["tasks"][0], api.get("/t-1/progress").json()

    created = read()
    answered_before(server, 2)
    executing = read_from(server, read, "progress", 2)
    answered_before(server, 4)
    success = read_from(server, read, "progress", 4)
    assert [task["status"] for task, _progress in (created, executing, success)] == ["CREATED", "EXECUTING", "SUCCESS"]
    assert created[0]["updated_at"] == created[0]["created_at"] < executing[0]["updated_at"] < success[0]["updated_at"]
    assert (created[1]["progress_percentage"], success[1]["progress_percentage"]) == (0, 100)
    assert success[1]["remain_time"] == 0
    assert [step["statue"] for step in success[1]["step_list"]] == ["COMPLETED"] * 3


def test_progress_moves_with_the_execution_window(server):
    api = Api(server, scenario([{"id": "t-1", "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"], [4, "SUCCESS"]],
                                 "progress": True, "steps": ["a", "b"]}], clock="first_request"))

    def progress():
        return api.get("/t-1/progress").json()

    early = progress()
    answered_before(server, 2)
    later = read_from(server, progress, "progress", 2)
    answered_before(server, 4)
    assert early["progress_percentage"] < 50 <= later["progress_percentage"] <= 99
    assert [step["statue"] for step in early["step_list"]] == ["IN_PROGRESS", "WAITING"]
    assert [step["statue"] for step in later["step_list"]] == ["COMPLETED", "IN_PROGRESS"]
    assert later["step_list"][0]["end_time"] > later["step_list"][0]["start_time"] > 0


def test_failed_task_reports_its_last_step_failed(server):
    api = Api(server, scenario([{"id": "t-1", "name": "kafkaConfigModify", "timeline": [[-2, "EXECUTING"], [-1, "FAILED"]], "progress": True}]))
    progress = api.get("/t-1/progress").json()
    assert progress["progress_percentage"] == 66
    assert [step["statue"] for step in progress["step_list"]] == ["COMPLETED", "COMPLETED", "FAILED"]
    assert api.get("/t-1").json()["tasks"][0]["status"] == "FAILED"


def test_task_appears_late_and_vanishes(server):
    api = Api(server, scenario([
        {"id": "late", "name": "kafkaConfigModify", "appear_after": 2, "status": "EXECUTING"},
        {"id": "gone", "name": "kafkaConfigModify", "created_offset": -10, "vanish_after": 2},
    ], clock="first_request"))
    assert [task["id"] for task in api.get().json()["tasks"]] == ["gone"]
    assert api.get("/late").status_code == 404
    answered_before(server, 2)
    body = read_from(server, lambda: api.get().json(), "list", 2)
    assert (body["task_count"], [task["id"] for task in body["tasks"]]) == ("1", ["late"])
    assert api.get("/late").status_code == 200
    assert api.get("/gone").status_code == 404


# -- faults --------------------------------------------------------------------------------------------

def test_throttling_with_retry_after_on_the_nth_request(server):
    api = Api(server, scenario(faults=[{"kind": "list", "nth": [2, 3], "status": 429, "retry_after": 2}]))
    answers = [api.get() for _attempt in range(4)]
    assert [answer.status_code for answer in answers] == [200, 429, 429, 200]
    throttled = answers[1]
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["error_code"] == "APIG.0308"
    assert throttled.json()["request_id"] == throttled.headers["X-Request-Id"]
    assert [(entry["fault"], entry["fault_rule"]) for entry in server.requests()] == [(None, None), ("status", 0), ("status", 0), (None, None)]


@pytest.mark.parametrize("status, code", [(500, "DMS.00500000"), (503, "APIG.0202"), (504, "APIG.0201"), (400, "DMS.00400000")])
def test_error_statuses_carry_cloud_like_bodies(server, status, code):
    api = Api(server, scenario(faults=[{"kind": "show", "status": status}]))
    answer = api.get("/t-1")
    assert (answer.status_code, answer.json()["error_code"]) == (status, code)
    assert "Retry-After" not in answer.headers
    assert api.get().status_code == 200


def test_error_body_and_headers_can_be_given(server):
    api = Api(server, scenario(faults=[{"kind": "list", "status": 503, "body": {"errorCode": "DMS.00500001", "errorMsg": "busy"},
                                        "headers": {"X-Trace": "t"}}]))
    answer = api.get()
    assert answer.json() == {"errorCode": "DMS.00500001", "errorMsg": "busy"}
    assert answer.headers["X-Trace"] == "t" and answer.headers["X-Request-Id"]


def test_dropped_connection(server):
    api = Api(server, scenario(faults=[{"kind": "show", "drop": True, "times": 1}]))
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/t-1")
    assert api.get("/t-1").status_code == 200
    assert [(entry["status"], entry["fault"]) for entry in server.requests()] == [(None, "drop"), (200, None)]


def test_delay_before_answering(server):
    # The instance's clock starts as the first request arrives, before its delay: the log's clock is how long it was held.
    api = Api(server, scenario(faults=[{"kind": "list", "delay": 0.4, "nth": [1, 2]}], clock="first_request"))
    assert api.get().status_code == 200
    assert server.requests()[0]["clock"] >= 0.4
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get(timeout=0.1)
    assert server.requests()[0]["fault"] == "delay"


def test_ok_status_with_a_body_that_is_not_json(server):
    api = Api(server, scenario(faults=[{"kind": "list", "non_json": True}]))
    answer = api.get()
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "text/html")
    with pytest.raises(ValueError):
        answer.json()


def test_tasks_inserted_at_the_head_while_paging(server):
    api = Api(server, scenario(generate=[{"count": 250}], faults=[{"kind": "list", "nth": 2, "insert": {"count": 3, "name": "kafkaConfigModify"}}]))
    pages = [api.get(start=start, limit=100).json() for start in (1, 101, 201, 301)]
    assert [page["task_count"] for page in pages] == ["251", "254", "254", "254"]
    first_page_ids = [task["id"] for task in pages[0]["tasks"]]
    assert [task["id"] for task in pages[1]["tasks"][:3]] == first_page_ids[97:]  # shifted by the 3 inserted
    every_id = {task["id"] for page in pages for task in page["tasks"]}
    assert len(every_id) == 251  # all that existed when paging began; the new ones sit on the page already read
    newest = [task["id"] for task in api.get(limit=4).json()["tasks"]]
    assert newest[3] == first_page_ids[0] and not every_id & set(newest[:3])
    assert server.requests()[1]["fault"] == "insert"


def test_every_nth_request_and_times(server):
    api = Api(server, scenario(faults=[{"kind": "list", "every": 3, "times": 2, "status": 500}]))
    assert [api.get().status_code for _attempt in range(10)] == [200, 200, 500, 200, 200, 500, 200, 200, 200, 200]


def test_seeded_rate_is_reproducible(server):
    spec = scenario(faults=[{"kind": "any", "rate": 0.5, "seed": 7, "status": 503}])
    api = Api(server, spec)
    first = [api.get().status_code for _attempt in range(40)]
    api = Api(server, spec)
    assert [api.get().status_code for _attempt in range(40)] == first
    assert 8 <= first.count(503) <= 32


def test_iam_kind_and_instance_filter(server):
    api = Api(server, scenario(faults=[{"kind": "iam", "status": 500}, {"kind": "show", "instance": OTHER, "status": 503}]))
    assert requests.get(server.url + "/v3/projects", headers={"X-Auth-Token": server.token}, timeout=10).status_code == 500
    assert api.get().status_code == 200
    assert api.get("/t-1").status_code == 200
    assert api.get("/o-1", instance=OTHER).status_code == 503
    assert server.count("iam") == 1 and server.count("iam_projects") == 1


def test_first_matching_rule_wins_and_a_fault_applies_regardless_of_auth(server):
    api = Api(server, scenario(faults=[{"kind": "list", "nth": 1, "status": 429}, {"kind": "list", "status": 500}]))
    anonymous = requests.get("%s/v2/%s/instances/%s/tasks" % (server.url, PROJECT, KAFKA), timeout=10)
    assert anonymous.status_code == 429
    assert api.get().status_code == 500
    assert [(entry["status"], entry["auth"], entry["fault_rule"]) for entry in server.requests()] == [(429, "denied", 0), (500, "token", 1)]


def test_a_request_answered_after_a_load_is_not_in_the_next_scenarios_log(server):
    # Long enough that the load below comes first, with seconds to spare on a loaded machine.
    Api(server, scenario(faults=[{"kind": "list", "delay": 3.0}]))
    with pytest.raises(requests.exceptions.ReadTimeout):
        Api(server).get(timeout=0.1, marker="late")
    api = Api(server, scenario())  # the delayed request is still being answered
    assert api.get("/t-1").status_code == 200
    late = poll_until(lambda: delayed_entry(server), seconds=30)  # the delayed answer is ready, and logged to the file
    assert (late["kind"], late["seq"], late["fault"]) == ("list", None, "delay")
    assert [(entry["seq"], entry["kind"]) for entry in server.requests()] == [(1, "show")]


def delayed_entry(server):
    with open(server.log_path, encoding="utf-8") as handle:
        entries = [json.loads(line) for line in handle]
    return next((entry for entry in entries if entry["query"].get("marker") == "late"), None)


def test_demo_scenario_has_a_history_and_a_change_in_flight(tmp_path):
    with Emulator(DEMO, tmp_path) as demo:
        demo.token = password_token(demo, ("dms_demo", "demo-password"))
        api = Api(demo)
        body = api.get(limit=100).json()
        assert body["task_count"] == "11"
        statuses = [task["status"] for task in body["tasks"]]
        assert statuses[0] == "CREATED" and "FAILED" in statuses and "CANCELLED" in statuses
        in_flight = body["tasks"][0]
        assert in_flight["name"] == "kafkaConfigModify"
        no_progress = api.get("/%s/progress" % in_flight["id"])  # a configuration change has none on the cloud
        assert (no_progress.status_code, no_progress.json()["error_code"]) == (400, "DMS.00400000")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(SCENARIOS, "*.yaml"))), ids=os.path.basename)
def test_shipped_scenarios_load(server, path):
    server.load(path)
    with open(path, encoding="utf-8") as handle:
        instances = yaml.safe_load(handle)["instances"]
    for instance in instances:
        requests.get("%s/v2/%s/instances/%s/tasks" % (server.url, PROJECT, instance["id"]), headers={"X-Auth-Token": server.token}, timeout=10)
    log = server.requests()
    assert len(log) == len(instances)
    assert all(entry["status"] == 200 for entry in log if entry["fault"] is None)
