# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator as a real server: its API, its strict authentication, and its agreement with the official SDK."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkkafka.v2 import (
    DeleteBackgroundTaskRequest,
    KafkaClient,
    ListBackgroundTasksRequest,
    ShowBackgroundTaskProgressRequest,
    ShowBackgroundTaskRequest,
)

from ansible_collections.hwcloud.dms.tests.emulator.emulated_dms.scenario import task_id_for
from ansible_collections.hwcloud.dms.tests.emulator.emulated_dms.signature import canonical_request, payload_hash, signature
from ansible_collections.hwcloud.dms.tests.emulator.harness import EMULATOR, Emulator

REGION = "ap-southeast-1"
PROJECT = "0123456789abcdef0123456789abcdef"
AK, SK = "AKEXAMPLE0000000000", "SKEXAMPLE0000000000000000000000000000000"
TEMP_AK, TEMP_SK, SECURITY_TOKEN = "AKTEMPORARY00000000", "SKTEMPORARY0000000000000000000000000000", "sts-token-example"
KAFKA, RABBIT, ROCKET = "11111111-2222-3333-4444-555555555555", "22222222-3333-4444-5555-666666666666", "33333333-4444-5555-6666-777777777777"
MISSING = "99999999-9999-9999-9999-999999999999"


def scenario(**overrides):
    spec = {
        "region": REGION,
        "project_id": PROJECT,
        "credentials": [
            {"access_key": AK, "secret_key": SK},
            {"access_key": TEMP_AK, "secret_key": TEMP_SK, "security_token": SECURITY_TOKEN},
        ],
        "users": [{"name": "alice", "password": "wonderland"}],
        "instances": [
            {"id": KAFKA, "engine": "kafka", "tasks": [
                {"id": "t-running", "name": "kafkaConfigModify", "timeline": [[-5, "EXECUTING"], [300, "SUCCESS"]], "created_offset": -5, "progress": True,
                 "params": {"static_configs": [{"name": "log.retention.hours", "value": "72"}]}},
                {"id": "t-old", "name": "bindInstancePublicIp", "status": "SUCCESS", "created_at": "2024-03-01T10:00:00.000Z",
                 "duration": 5, "params": '{"enable_public_ip":true}'},
            ], "generate": [{"count": 248, "name": ["kafkaClientQuotaCreate", "kafkaClientQuotaDelete"], "created_offset": -60}]},
            {"id": RABBIT, "engine": "rabbitmq", "tasks": [{"id": "r-1", "name": "rabbitmqPluginModify"}]},
            {"id": ROCKET, "engine": "rocketmq", "tasks": [{"id": "q-1", "name": "rocketmqConfigModify", "status": "SUCCESS", "progress": True}]},
        ],
    }
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture
def emulator(server):
    """The shared server with a freshly loaded scenario: clean log, clock at zero."""
    server.load(scenario())
    return server


def tasks_path(instance=KAFKA, task=None, project=PROJECT):
    return "/v2/%s/instances/%s/tasks%s" % (project, instance, "" if task is None else "/" + task)


def signed(url, method, path, query=(), headers=None, body=b"", ak=AK, sk=SK, verify=True):
    """A request signed by the official SDK's signer (the oracle), sent as it leaves the signer."""
    request = SdkRequest(method=method, schema=urlsplit(url).scheme, host=urlsplit(url).netloc, resource_path=path,
                         query_params=list(query), header_params=dict({"Content-Type": "application/json"}, **(headers or {})), body=body)
    Signer(BasicCredentials(ak, sk)).sign(request)
    return requests.request(method, url + request.uri, headers=request.header_params, data=request.body or None, timeout=10, verify=verify)


def sdk_client(url, ak=AK, sk=SK, project_id=PROJECT, security_token=None, ca_path=None):
    credentials = BasicCredentials(ak, sk, project_id).with_iam_endpoint(url)
    if security_token:
        credentials = credentials.with_security_token(security_token)
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = ca_path
    return (KafkaClient.new_builder().with_credentials(credentials).with_region(Region(REGION, url)).with_http_config(config).build())


def error_of(response):
    return response.json()["error_code"]


# -- signing -------------------------------------------------------------------------------------------

def test_signature_matches_the_documented_test_vector():
    values = {"content-type": "application/json", "host": "dms.ap-southeast-1.myhuaweicloud.com", "user-agent": "test-agent",
              "x-project-id": PROJECT, "x-sdk-date": "20240101T000000Z"}
    signed_names = sorted(values)
    canonical = canonical_request("GET", tasks_path(), "start=1&limit=10&begin_time=20240101000000", signed_names, values, payload_hash(b""))
    assert canonical.split("\n")[2] == "begin_time=20240101000000&limit=10&start=1"
    assert signature(SK, "20240101T000000Z", canonical) == "caf8194d1eca3cf18c875be7ee547c5b16a8dc1c5f079002ccbe109d512188ae"


@pytest.mark.parametrize("query", [
    [("start", 1), ("limit", 5)],
    [("note", "ü ñ/?&=+%#~*'()"), ("start", "1")],
    [("tag", "b"), ("tag", "a"), ("Tag", "c"), ("empty", "")],
])
def test_requests_signed_by_the_sdk_signer_are_accepted(emulator, query):
    response = signed(emulator.url, "GET", tasks_path(), query)
    assert response.status_code == 200, response.text
    assert emulator.requests()[-1]["auth"] == "aksk"


def test_odd_path_segments_signed_by_the_sdk_signer_reach_the_routing(emulator):
    response = signed(emulator.url, "GET", tasks_path(instance="odd id~é"))
    assert response.status_code == 404
    assert error_of(response) == "DMS.00404022"


# -- the official SDK client ---------------------------------------------------------------------------

def test_sdk_lists_every_task_by_paging_newest_first(emulator):
    client = sdk_client(emulator.url)
    seen, start = [], 1
    for _attempt in range(10):
        page = client.list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA, start=start, limit=100))
        seen.extend(page.tasks)
        if len(page.tasks) < 100:
            break
        start += 100
    assert page.task_count == "250"
    assert len({task.id for task in seen}) == 250
    assert [task.id for task in seen[:2]] == ["t-running", task_id_for(KAFKA, 3)]
    assert seen[-1].id == "t-old"
    assert [task.created_at for task in seen] == sorted((task.created_at for task in seen), reverse=True)
    assert emulator.count("list") == 3


def test_sdk_shows_and_deletes_a_task(emulator):
    client = sdk_client(emulator.url)
    shown = client.show_background_task(ShowBackgroundTaskRequest(instance_id=KAFKA, task_id="t-old"))
    assert shown.task_count == "1"
    task = shown.tasks[0]
    assert (task.name, task.status, task.created_at, task.updated_at) == (
        "bindInstancePublicIp", "SUCCESS", "2024-03-01T10:00:00.000Z", "2024-03-01T10:00:05.000Z")
    assert json.loads(task.params) == {"enable_public_ip": True}
    client.delete_background_task(DeleteBackgroundTaskRequest(instance_id=KAFKA, task_id="t-old"))
    with pytest.raises(ClientRequestException) as raised:
        client.show_background_task(ShowBackgroundTaskRequest(instance_id=KAFKA, task_id="t-old"))
    assert raised.value.status_code == 404
    assert [entry["status"] for entry in emulator.requests()] == [200, 204, 404]


def test_sdk_reads_progress(emulator):
    emulator.load(scenario(clock="first_request"))  # the window below then does not depend on how long the load took
    progress = sdk_client(emulator.url).show_background_task_progress(ShowBackgroundTaskProgressRequest(instance_id=KAFKA, task_id="t-running"))
    assert 0 <= progress.progress_percentage < 10
    assert 290 <= progress.remain_time <= 300
    assert [step.statue for step in progress.step_list] == ["IN_PROGRESS", "WAITING", "WAITING"]


def test_sdk_with_a_wrong_secret_key_is_rejected_at_once(emulator):
    with pytest.raises(ClientRequestException) as raised:
        sdk_client(emulator.url, sk="not-the-secret").list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA))
    assert (raised.value.status_code, raised.value.error_code) == (401, "APIG.0301")
    assert raised.value.request_id
    assert [(entry["status"], entry["auth"]) for entry in emulator.requests()] == [(401, "denied")]


def test_sdk_with_temporary_credentials_is_accepted(emulator):
    client = sdk_client(emulator.url, TEMP_AK, TEMP_SK, security_token=SECURITY_TOKEN)
    assert client.list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA, limit=1)).task_count == "250"


def test_sdk_resolves_the_project_through_iam(emulator):
    client = sdk_client(emulator.url, project_id=None)
    assert client.list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA, limit=1)).task_count == "250"
    assert [entry["kind"] for entry in emulator.requests()] == ["iam_projects", "list"]
    assert emulator.requests()[0]["query"] == {"name": REGION}


def test_sdk_over_https_with_the_generated_ca(tmp_path):
    with Emulator(scenario(), tmp_path, https=True) as secure:
        assert secure.url.startswith("https://127.0.0.1:")
        client = sdk_client(secure.url, ca_path=secure.ca_path)
        assert client.list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA, limit=1)).task_count == "250"
        assert signed(secure.url, "GET", tasks_path(), verify=secure.ca_path).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(secure.url + tasks_path(), timeout=5)
    assert secure.process.returncode == 0


# -- strict authentication -----------------------------------------------------------------------------

def rejected(response, reason):
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error_code"] == "APIG.0301"
    assert reason in body["error_msg"]
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_tampered_request_is_rejected(emulator):
    url, path = emulator.url, tasks_path()
    request = SdkRequest(method="GET", schema="http", host=urlsplit(url).netloc, resource_path=path, query_params=[("limit", 5)],
                         header_params={"Content-Type": "application/json"})
    Signer(BasicCredentials(AK, SK)).sign(request)
    rejected(requests.get(url + path + "?limit=6", headers=request.header_params, timeout=10), "verify aksk signature fail")


def test_skewed_sdk_date_is_rejected(emulator):
    skewed = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 16 * 60))
    rejected(signed(emulator.url, "GET", tasks_path(), headers={"X-Sdk-Date": skewed}), "more than 900 seconds off")
    recent = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 14 * 60))
    assert signed(emulator.url, "GET", tasks_path(), headers={"X-Sdk-Date": recent}).status_code == 200


def test_host_and_date_must_be_signed(emulator):
    headers = {"Authorization": "SDK-HMAC-SHA256 Access=%s, SignedHeaders=content-type;x-sdk-date, Signature=%s" % (AK, "0" * 64),
               "X-Sdk-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), "Content-Type": "application/json"}
    rejected(requests.get(emulator.url + tasks_path(), headers=headers, timeout=10), "host is not among the signed headers")


def test_temporary_credentials_need_their_security_token(emulator):
    rejected(signed(emulator.url, "GET", tasks_path(), ak=TEMP_AK, sk=TEMP_SK), "X-Security-Token")
    rejected(signed(emulator.url, "GET", tasks_path(), ak=TEMP_AK, sk=TEMP_SK, headers={"X-Security-Token": "wrong"}), "X-Security-Token")
    assert signed(emulator.url, "GET", tasks_path(), ak=TEMP_AK, sk=TEMP_SK, headers={"X-Security-Token": SECURITY_TOKEN}).status_code == 200
    rejected(signed(emulator.url, "GET", tasks_path(), headers={"X-Security-Token": SECURITY_TOKEN}), "permanent access key")


def test_unknown_access_key_and_unsigned_requests_are_rejected(emulator):
    rejected(signed(emulator.url, "GET", tasks_path(), ak="AKUNKNOWN"), "Get secretKey failed")
    rejected(requests.get(emulator.url + tasks_path(), timeout=10), "x-auth-token not found")


def test_five_failures_in_a_row_lock_the_access_key(emulator):
    for _attempt in range(5):
        rejected(signed(emulator.url, "GET", tasks_path(), sk="wrong"), "verify aksk signature fail")
    rejected(signed(emulator.url, "GET", tasks_path()), "AK access failed to reach the limit")
    emulator.reset()
    assert signed(emulator.url, "GET", tasks_path()).status_code == 200


def test_lockout_can_be_tuned_or_disabled(emulator):
    emulator.load(scenario(lockout={"failures": 0}))
    for _attempt in range(6):
        rejected(signed(emulator.url, "GET", tasks_path(), sk="wrong"), "verify aksk signature fail")
    assert signed(emulator.url, "GET", tasks_path()).status_code == 200


def password_token(emulator, name="alice", password="wonderland"):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": name, "password": password, "domain": {"name": "d"}}}},
                     "scope": {"project": {"name": REGION}}}}
    return requests.post(emulator.url + "/v3/auth/tokens", json=body, timeout=10)


def test_token_from_password_authenticates_api_calls(emulator):
    issued = password_token(emulator)
    assert issued.status_code == 201
    assert issued.json()["token"]["project"]["id"] == PROJECT
    token = issued.headers["X-Subject-Token"]
    response = requests.get(emulator.url + tasks_path(), headers={"X-Auth-Token": token}, timeout=10)
    assert response.status_code == 200
    assert [entry["auth"] for entry in emulator.requests()] == ["password", "token"]


def test_token_from_a_signed_request(emulator):
    issued = signed(emulator.url, "POST", "/v3/auth/tokens", body=b'{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}')
    assert issued.status_code == 201
    assert requests.get(emulator.url + tasks_path(), headers={"X-Auth-Token": issued.headers["X-Subject-Token"]}, timeout=10).status_code == 200


def test_bad_password_and_bad_or_expired_tokens_are_rejected(emulator):
    refused = password_token(emulator, password="guess")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "The username or password is wrong."
    rejected(requests.get(emulator.url + tasks_path(), headers={"X-Auth-Token": "MIIEforged"}, timeout=10), "decrypt token fail")
    emulator.load(scenario(token_ttl=0))  # expired as soon as it is issued: nothing to wait for
    token = password_token(emulator).headers["X-Subject-Token"]
    rejected(requests.get(emulator.url + tasks_path(), headers={"X-Auth-Token": token}, timeout=10), "token expires")


def test_wrong_project_in_the_path_is_forbidden(emulator):
    response = signed(emulator.url, "GET", tasks_path(project="f" * 32))
    assert response.status_code == 403
    assert error_of(response) == "APIG.0302"
    response = signed(emulator.url, "GET", tasks_path(), headers={"X-Project-Id": "f" * 32})
    assert response.status_code == 403


# -- the API's answers ---------------------------------------------------------------------------------

def test_list_answers_like_the_cloud(emulator):
    response = signed(emulator.url, "GET", tasks_path())
    body = response.json()
    assert body["task_count"] == "250"
    assert len(body["tasks"]) == 10
    for task in body["tasks"]:
        assert set(task) == {"id", "name", "user_name", "user_id", "params", "status", "created_at", "updated_at"}
        assert all(isinstance(value, str) for value in task.values())
        assert isinstance(json.loads(task["params"]), dict)
        assert task["created_at"].endswith("Z") and len(task["created_at"]) == 24
    assert body["tasks"][0]["status"] == "EXECUTING"


@pytest.mark.parametrize("query, code", [
    ([("limit", 0)], "DMS.10240042"), ([("limit", 101)], "DMS.10240042"), ([("limit", "ten")], "DMS.10240042"),
    ([("start", 0)], "DMS.10240043"), ([("start", -1)], "DMS.10240043"), ([("start", "first")], "DMS.10240043"),
])
def test_out_of_range_paging_is_a_bad_request_with_the_documented_code(emulator, query, code):
    response = signed(emulator.url, "GET", tasks_path(), query)
    assert (response.status_code, error_of(response)) == (400, code)


@pytest.mark.parametrize("value", ["2024-01-01", "20240101", "20241301000000", "2024010100000x"])
def test_malformed_times_are_a_bad_request(emulator, value):
    for name in ("begin_time", "end_time"):
        response = signed(emulator.url, "GET", tasks_path(), [(name, value)])
        assert response.json() == {"error_code": "DMS.00400062", "error_msg": "Invalid {0} parameter in the request."}
        assert response.status_code == 400


def test_time_window_filters_on_creation_in_utc(emulator):
    inside = signed(emulator.url, "GET", tasks_path(), [("begin_time", "20240301100000"), ("end_time", "20240301100000")]).json()
    assert [task["id"] for task in inside["tasks"]] == ["t-old"]
    after = signed(emulator.url, "GET", tasks_path(), [("begin_time", "20240301100001"), ("limit", 100)]).json()
    assert after["task_count"] == "249"


def test_start_past_the_end_gives_an_empty_page(emulator):
    body = signed(emulator.url, "GET", tasks_path(), [("start", 251), ("limit", 100)]).json()
    assert body == {"task_count": "250", "tasks": []}


def test_unknown_instance_task_and_route(emulator):
    response = signed(emulator.url, "GET", tasks_path(instance=MISSING))
    assert (response.status_code, error_of(response)) == (404, "DMS.00404022")
    response = signed(emulator.url, "GET", tasks_path(task="0" * 32))
    assert response.json() == {"error_code": "DMS.00404000", "error_msg": "The task does not exist."}
    assert response.status_code == 404
    response = signed(emulator.url, "DELETE", tasks_path(task="0" * 32))
    assert response.status_code == 404
    response = signed(emulator.url, "GET", "/v2/%s/instances/%s/topics" % (PROJECT, KAFKA))
    assert (response.status_code, error_of(response)) == (404, "APIG.0101")


def test_an_instance_and_the_instances_of_an_engine_are_read(emulator):
    response = signed(emulator.url, "GET", "/v2/%s/instances/%s" % (PROJECT, KAFKA))
    assert response.status_code == 200
    assert (response.json()["instance_id"], response.json()["engine"]) == (KAFKA, "kafka")
    response = signed(emulator.url, "GET", "/v2/%s/instances/%s" % (PROJECT, MISSING))
    assert (response.status_code, error_of(response)) == (404, "DMS.00404022")
    listed = signed(emulator.url, "GET", "/v2/%s/instances" % PROJECT, [("engine", "rabbitmq")]).json()
    assert [instance["instance_id"] for instance in listed["instances"]] == [RABBIT]
    assert listed["instance_num"] == 1


def test_progress_exists_for_kafka_and_rocketmq_only(emulator):
    response = signed(emulator.url, "GET", tasks_path(instance=RABBIT, task="r-1") + "/progress")
    assert (response.status_code, error_of(response)) == (404, "APIG.0101")
    response = signed(emulator.url, "GET", tasks_path(instance=ROCKET, task="q-1") + "/progress")
    assert response.status_code == 200
    assert response.json()["progress_percentage"] == 100
    assert {step["statue"] for step in response.json()["step_list"]} == {"COMPLETED"}


def test_delete_answers_204_without_body(emulator):
    response = signed(emulator.url, "DELETE", tasks_path(task="t-old"))
    assert (response.status_code, response.content) == (204, b"")
    assert signed(emulator.url, "GET", tasks_path()).json()["task_count"] == "249"


def test_iam_projects_by_name(emulator):
    body = signed(emulator.url, "GET", "/v3/projects", [("name", REGION)]).json()
    assert [(project["id"], project["name"]) for project in body["projects"]] == [(PROJECT, REGION)]
    assert signed(emulator.url, "GET", "/v3/projects", [("name", "eu-west-101")]).json()["projects"] == []
    assert requests.get(emulator.url + "/v3/projects?name=" + REGION, timeout=10).status_code == 401
    emulator.load(scenario(iam_projects=[{"id": "p1", "name": REGION}, {"id": "p2", "name": REGION}]))
    assert len(signed(emulator.url, "GET", "/v3/projects", [("name", REGION)]).json()["projects"]) == 2


# -- request log, admin endpoints, lifecycle ------------------------------------------------------------

def test_every_response_carries_a_request_id_that_the_log_records(emulator):
    responses = [signed(emulator.url, "GET", tasks_path()), signed(emulator.url, "GET", tasks_path(instance=MISSING)),
                 requests.get(emulator.url + tasks_path(), timeout=10), signed(emulator.url, "DELETE", tasks_path(task="t-old"))]
    ids = [response.headers["X-Request-Id"] for response in responses]
    assert len(set(ids)) == 4
    assert [entry["request_id"] for entry in emulator.requests()] == ids


def test_request_log_entries(emulator):
    signed(emulator.url, "GET", tasks_path(), [("start", 1), ("limit", 100), ("tag", "a"), ("tag", "b")])
    entry = emulator.requests()[0]
    assert entry["method"] == "GET" and entry["path"] == tasks_path() and entry["kind"] == "list"
    assert entry["query"] == {"limit": "100", "start": "1", "tag": ["a", "b"]}
    assert (entry["status"], entry["auth"], entry["auth_error"], entry["fault"], entry["seq"]) == (200, "aksk", None, None, 1)
    assert (entry["instance_id"], entry["task_id"]) == (KAFKA, None)
    assert entry["time"].endswith("Z") and entry["clock"] >= 0


def test_admin_calls_are_not_counted_and_reset_clears_the_log(emulator):
    signed(emulator.url, "GET", tasks_path())
    signed(emulator.url, "GET", tasks_path(task="t-old"))
    emulator.admin("GET", "health")
    assert emulator.admin("GET", "counts") == {"total": 2, "by_kind": {"list": 1, "show": 1}}
    assert emulator.count() == 2 and emulator.count("show") == 1 and emulator.count("iam") == 0
    emulator.reset()
    assert emulator.count() == 0


def test_invalid_scenarios_are_refused_and_the_file_log_holds_every_request(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("instances:\n  - id: x\n    tasks:\n      - name: a\n        colour: blue\n", encoding="utf-8")
    result = subprocess.run([sys.executable, EMULATOR, "--scenario", str(bad)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "unknown key(s) colour" in result.stderr
    with Emulator(scenario(), tmp_path) as running:
        with pytest.raises(RuntimeError, match="status 'DONE'"):
            running.load(scenario(instances=[{"id": KAFKA, "tasks": [{"name": "x", "status": "DONE"}]}]))
        signed(running.url, "GET", tasks_path())
        running.load(scenario())
        signed(running.url, "GET", tasks_path(task="t-old"))
    assert running.process.returncode == 0
    with open(running.log_path, encoding="utf-8") as handle:
        assert [json.loads(line)["kind"] for line in handle] == ["list", "show"]
