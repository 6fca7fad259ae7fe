# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's write calls, driven by the official SDK: each starts a task (with progress for a resize only), and a
change while another runs is refused."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkkafka.v2 import (
    BatchRestartOrDeleteInstanceReq,
    BatchRestartOrDeleteInstancesRequest,
    KafkaClient,
    ListBackgroundTasksRequest,
    ModifyInstanceConfig,
    ModifyInstanceConfigsReq,
    ModifyInstanceConfigsRequest,
    ResizeEngineInstanceReq,
    ResizeEngineInstanceRequest,
    ShowBackgroundTaskProgressRequest,
    ShowBackgroundTaskRequest,
)

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

REGION = "ap-southeast-1"
PROJECT = "0123456789abcdef0123456789abcdef"
AK, SK = "AKEXAMPLE0000000000", "SKEXAMPLE0000000000000000000000000000000"
KAFKA, OTHER_KAFKA = "11111111-2222-3333-4444-555555555555", "44444444-5555-6666-7777-888888888888"
RABBIT, ROCKET = "22222222-3333-4444-5555-666666666666", "33333333-4444-5555-6666-777777777777"
MISSING = "99999999-9999-9999-9999-999999999999"
# Long enough that a test's next call finds the task still running.
RUNNING_TIMELINE = [[0, "CREATED"], [1, "EXECUTING"], [60, "SUCCESS"]]


def scenario(**overrides):
    spec = {
        "region": REGION, "project_id": PROJECT, "credentials": [{"access_key": AK, "secret_key": SK}],
        "instances": [
            {"id": KAFKA, "engine": "kafka", "tasks": [{"name": "kafkaConfigModify", "status": "SUCCESS", "created_offset": -600}]},
            {"id": OTHER_KAFKA, "engine": "kafka"},
            {"id": RABBIT, "engine": "rabbitmq"},
            {"id": ROCKET, "engine": "rocketmq"},
        ],
        "write_tasks": {call: {"timeline": RUNNING_TIMELINE} for call in ("modify_configs", "resize", "restart")},
    }
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture
def emulator(server):
    server.load(scenario())
    return server


def sdk_client(url):
    credentials = BasicCredentials(AK, SK, PROJECT).with_iam_endpoint(url)
    return KafkaClient.new_builder().with_credentials(credentials).with_region(Region(REGION, url)).build()


def signed(url, method, path, body, verify=True):
    """A request signed by the official SDK's signer, for bodies and paths the SDK's models would not send."""
    payload = json.dumps(body) if body is not None else ""
    request = SdkRequest(method=method, schema=urlsplit(url).scheme, host=urlsplit(url).netloc, resource_path=path, query_params=[],
                         header_params={"Content-Type": "application/json"}, body=payload)
    Signer(BasicCredentials(AK, SK)).sign(request)
    return requests.request(method, url + request.uri, headers=request.header_params, data=request.body or None, timeout=10, verify=verify)


def modify_configs(client, instance=KAFKA, **configs):
    configs = configs or {"log_retention_hours": "72"}
    body = ModifyInstanceConfigsReq(kafka_configs=[ModifyInstanceConfig(name=name.replace("_", "."), value=value)
                                                   for name, value in configs.items()])
    return client.modify_instance_configs(ModifyInstanceConfigsRequest(instance_id=instance, body=body))


def resize(client, instance=KAFKA, engine="kafka", **fields):
    body = ResizeEngineInstanceReq(**(fields or {"oper_type": "storage", "new_storage_space": 600}))
    return client.resize_engine_instance(ResizeEngineInstanceRequest(engine=engine, instance_id=instance, body=body))


def restart(client, *instances):
    body = BatchRestartOrDeleteInstanceReq(instances=list(instances), action="restart")
    return client.batch_restart_or_delete_instances(BatchRestartOrDeleteInstancesRequest(body=body))


def show(client, task_id, instance=KAFKA):
    return client.show_background_task(ShowBackgroundTaskRequest(instance_id=instance, task_id=task_id)).tasks[0]


def refused(call):
    with pytest.raises(ServiceResponseException) as raised:
        call()
    return raised.value.status_code, raised.value.error_code


# -- each call starts a task ---------------------------------------------------------------------------

def test_modify_configs_answers_a_job_id_that_is_a_kafka_config_modify_task(emulator):
    client = sdk_client(emulator.url)
    answer = modify_configs(client, log_retention_hours="72", min_insync_replicas="2")
    assert (answer.dynamic_config, answer.static_config) == (1, 1)
    task = show(client, answer.job_id)
    assert (task.name, task.status) == ("kafkaConfigModify", "CREATED")
    assert json.loads(task.params) == {"static_configs": [{"name": "log.retention.hours", "value": "72"}],
                                       "dynamic_configs": [{"name": "min.insync.replicas", "value": "2"}]}
    assert [entry["kind"] for entry in emulator.requests()] == ["modify_configs", "show"]


def test_resize_answers_a_job_id_whose_task_has_progress(emulator):
    client = sdk_client(emulator.url)
    answer = resize(client)
    task = show(client, answer.job_id)
    assert (task.name, task.status) == ("resizeInstance", "CREATED")
    assert json.loads(task.params) == {"oper_type": "storage", "new_storage_space": 600}
    progress = client.show_background_task_progress(ShowBackgroundTaskProgressRequest(instance_id=KAFKA, task_id=answer.job_id))
    assert len(progress.step_list) == 3


@pytest.mark.parametrize("instance, engine", [(RABBIT, "rabbitmq"), (ROCKET, "rocketmq"), (ROCKET, "reliability")])
def test_resize_takes_the_engine_of_the_instance(emulator, instance, engine):
    client = sdk_client(emulator.url)
    assert show(client, resize(client, instance=instance, engine=engine).job_id, instance=instance).status == "CREATED"


def test_restart_answers_a_result_per_instance_and_no_job_id(emulator):
    client = sdk_client(emulator.url)
    answer = restart(client, KAFKA, OTHER_KAFKA)
    assert [(result.instance, result.result) for result in answer.results] == [(KAFKA, "success"), (OTHER_KAFKA, "success")]
    assert "job_id" not in answer.to_json_object()
    for instance in (KAFKA, OTHER_KAFKA):
        newest = client.list_background_tasks(ListBackgroundTasksRequest(instance_id=instance)).tasks[0]
        assert (newest.name, newest.status) == ("restartInstance", "CREATED")
    assert [entry["kind"] for entry in emulator.requests()][0] == "restart"


def shown_from(emulator, client, task_id, moment):
    """The task as shown at ``moment`` or later on its instance's clock: show it until a show was answered that late
    (by the request log's clock), then once more."""
    deadline = time.monotonic() + 60
    show(client, task_id)
    while emulator.requests("show")[-1]["clock"] < moment:
        assert time.monotonic() < deadline, "the instance's clock did not reach %s s" % moment
        time.sleep(0.2)
        show(client, task_id)
    return show(client, task_id)


def test_the_task_follows_the_scenario_timeline(emulator):
    emulator.load(scenario(clock="first_request",
                           write_tasks={"modify_configs": {"name": "customConfigTask", "timeline": [[0, "EXECUTING"], [3, "FAILED"]]}}))
    client = sdk_client(emulator.url)
    job_id = modify_configs(client).job_id  # the first request for the instance: its clock starts, the task is created
    called = emulator.requests("modify_configs")[-1]["clock"]  # at this clock or earlier (and at 0 or later)
    task = show(client, job_id)
    assert emulator.requests("show")[-1]["clock"] < 3, "shown before the timeline can say FAILED"
    assert (task.name, task.status) == ("customConfigTask", "EXECUTING")
    assert shown_from(emulator, client, job_id, called + 3).status == "FAILED"


def newest_task_id(client, instance):
    return client.list_background_tasks(ListBackgroundTasksRequest(instance_id=instance)).tasks[0].id


def progress_of(client, task_id, instance=KAFKA):
    return client.show_background_task_progress(ShowBackgroundTaskProgressRequest(instance_id=instance, task_id=task_id))


def test_only_a_resize_task_has_progress_by_default(emulator):
    """Progress "can be queried only during Kafka capacity expansion": a config change or a restart has none."""
    client = sdk_client(emulator.url)
    configs_task = modify_configs(client).job_id
    restart(client, OTHER_KAFKA)
    for task_id, instance in ((configs_task, KAFKA), (newest_task_id(client, OTHER_KAFKA), OTHER_KAFKA)):
        with pytest.raises(ServiceResponseException) as raised:
            progress_of(client, task_id, instance)
        assert (raised.value.status_code, raised.value.error_code, raised.value.error_msg) == (
            400, "DMS.00400000", "The task has no progress information.")
    resized = resize(client, instance=ROCKET, engine="rocketmq").job_id
    assert len(progress_of(client, resized, ROCKET).step_list) == 3
    emulator.load(scenario(task_without_progress="empty"))
    assert progress_of(client, modify_configs(client).job_id).to_json_object() == {
        "progress_percentage": 0, "remain_time": 0, "step_list": []}


def test_write_tasks_choose_which_tasks_have_progress(emulator):
    emulator.load(scenario(write_tasks={"modify_configs": {"timeline": RUNNING_TIMELINE, "progress": True, "steps": ["Apply", "Verify"]},
                                        "resize": {"timeline": RUNNING_TIMELINE, "progress": False}}))
    client = sdk_client(emulator.url)
    steps = progress_of(client, modify_configs(client).job_id).step_list
    assert [step.name for step in steps] == ["Apply", "Verify"]
    assert refused(lambda: progress_of(client, resize(client, instance=OTHER_KAFKA).job_id, OTHER_KAFKA)) == (400, "DMS.00400000")


# -- a change while another task runs is refused -------------------------------------------------------

@pytest.mark.parametrize("second", [modify_configs, resize], ids=["modify_configs", "resize"])
def test_a_write_while_a_task_runs_is_refused_with_the_documented_answer(emulator, second):
    client = sdk_client(emulator.url)
    modify_configs(client)  # the instance stays RUNNING (a resize or restart would make it refuse for its status first)
    assert refused(lambda: second(client)) == (400, "DMS.00400017")
    assert len(client.list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA)).tasks) == 2


def test_a_write_is_accepted_again_once_the_task_has_ended(emulator):
    emulator.load(scenario(write_tasks={"resize": {"timeline": [[0, "EXECUTING"], [0.3, "SUCCESS"]]}}))
    client = sdk_client(emulator.url)
    job_id = resize(client).job_id
    called = emulator.requests("resize")[-1]["clock"]  # the task was created at this clock or earlier
    assert shown_from(emulator, client, job_id, called + 0.3).status == "SUCCESS"
    assert modify_configs(client).job_id


def test_a_scenario_task_in_flight_makes_the_instance_busy(emulator):
    emulator.load(scenario(instances=[{"id": KAFKA, "tasks": [{"name": "bindInstancePublicIp", "timeline": [[0, "EXECUTING"], [60, "SUCCESS"]]}]}]))
    assert refused(lambda: modify_configs(sdk_client(emulator.url))) == (400, "DMS.00400017")


def test_restart_fails_the_busy_and_unknown_instances_only(emulator):
    client = sdk_client(emulator.url)
    modify_configs(client)
    answer = restart(client, KAFKA, OTHER_KAFKA, MISSING)
    assert [(result.instance, result.result) for result in answer.results] == [
        (KAFKA, "failed"), (OTHER_KAFKA, "success"), (MISSING, "failed")]


# -- refusals ------------------------------------------------------------------------------------------

def test_configs_exist_for_kafka_only(emulator):
    assert refused(lambda: modify_configs(sdk_client(emulator.url), instance=RABBIT)) == (404, "APIG.0101")


def test_resize_with_another_engine_in_the_path_finds_no_instance(emulator):
    assert refused(lambda: resize(sdk_client(emulator.url), engine="rabbitmq")) == (404, "DMS.00404022")


def test_an_engine_the_api_does_not_have_is_no_api(emulator):
    response = signed(emulator.url, "POST", "/v2/nats/%s/instances/%s/extend" % (PROJECT, KAFKA), {"oper_type": "storage"})
    assert (response.status_code, response.json()["error_code"]) == (404, "APIG.0101")


def test_an_unknown_instance_is_refused(emulator):
    assert refused(lambda: modify_configs(sdk_client(emulator.url), instance=MISSING)) == (404, "DMS.00404022")


@pytest.mark.parametrize("method, path, body, problem", [
    ("PUT", "/v2/%s/instances/%s/configs" % (PROJECT, KAFKA), {"kafka_configs": []}, "kafka_configs must be a non-empty list"),
    ("PUT", "/v2/%s/instances/%s/configs" % (PROJECT, KAFKA), {"kafka_configs": [{"name": "x"}]}, "needs a name and a value"),
    ("PUT", "/v2/%s/instances/%s/configs" % (PROJECT, KAFKA), None, "kafka_configs must be a non-empty list"),
    ("POST", "/v2/kafka/%s/instances/%s/extend" % (PROJECT, KAFKA), {"oper_type": "bigger"}, "oper_type must be one of"),
    ("POST", "/v2/kafka/%s/instances/%s/extend" % (PROJECT, KAFKA), {"oper_type": "storage"}, "needs new_storage_space"),
    ("POST", "/v2/kafka/%s/instances/%s/extend" % (PROJECT, KAFKA), {"oper_type": "storage", "new_storage_space": 650},
     "multiple of 100"),
    ("POST", "/v2/%s/instances/action" % PROJECT, {"action": "delete", "instances": [KAFKA]}, "action must be restart"),
    ("POST", "/v2/%s/instances/action" % PROJECT, {"action": "restart", "instances": []}, "instances must be a non-empty list"),
], ids=["no configs", "config without value", "no body", "bad oper_type", "storage without size", "odd size", "delete", "no instances"])
def test_a_malformed_body_is_refused_and_starts_nothing(emulator, method, path, body, problem):
    response = signed(emulator.url, method, path, body)
    assert (response.status_code, response.json()["error_code"]) == (400, "DMS.00400000")
    assert problem in response.json()["error_msg"]
    assert len(sdk_client(emulator.url).list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA)).tasks) == 1


def test_a_write_must_be_signed_and_starts_nothing_when_it_is_not(emulator):
    response = requests.put(emulator.url + "/v2/%s/instances/%s/configs" % (PROJECT, KAFKA), timeout=10,
                            json={"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]})
    assert (response.status_code, response.json()["error_code"]) == (401, "APIG.0301")
    assert len(sdk_client(emulator.url).list_background_tasks(ListBackgroundTasksRequest(instance_id=KAFKA)).tasks) == 1


def test_another_project_is_refused(emulator):
    response = signed(emulator.url, "PUT", "/v2/%s/instances/%s/configs" % ("f" * 32, KAFKA),
                      {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]})
    assert (response.status_code, response.json()["error_code"]) == (403, "APIG.0302")


def test_fault_rules_name_the_write_calls(emulator):
    emulator.load(scenario(faults=[{"kind": "resize", "times": 1, "status": 503}]))
    client = sdk_client(emulator.url)
    assert refused(lambda: resize(client))[0] == 503
    assert resize(client).job_id
    assert [(entry["kind"], entry["status"], entry["fault"]) for entry in emulator.requests("resize")] == [
        ("resize", 503, "status"), ("resize", 200, None)]


CONFIG_CHANGE = {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]}


@pytest.mark.parametrize("loss, https, failure", [
    ("drop", False, requests.exceptions.ConnectionError),
    ("drop", True, requests.exceptions.ConnectionError),
    ("tls_error", True, requests.exceptions.SSLError),
])
def test_a_lost_answer_comes_after_the_write_was_applied(tmp_path, loss, https, failure):
    spec = scenario(faults=[{"kind": "modify_configs", "nth": 1, "answer_lost": loss}])
    with Emulator(spec, tmp_path, https=https) as running:
        path = "/v2/%s/instances/%s/configs" % (PROJECT, OTHER_KAFKA)
        with pytest.raises(failure):
            signed(running.url, "PUT", path, CONFIG_CHANGE, verify=running.ca_path or True)
        tasks = signed(running.url, "GET", "/v2/%s/instances/%s/tasks" % (PROJECT, OTHER_KAFKA), None, verify=running.ca_path or True).json()
        assert [task["name"] for task in tasks["tasks"]] == ["kafkaConfigModify"]  # applied once
        assert [(entry["kind"], entry["status"], entry["fault"]) for entry in running.requests()] == [
            ("modify_configs", None, "answer_lost"), ("list", 200, None)]


@pytest.mark.parametrize("fault, message", [
    ({"answer_lost": "maybe"}, "'maybe' is not one of drop, tls_error"),
    ({"answer_lost": "drop", "status": 500}, "answer_lost loses the real answer"),
    ({"insert": {"status": "SUCCESS", "timeline": [[0, "EXECUTING"]]}}, "status or timeline, not both"),
    ({"insert": {"timeline": [[0, "DONE"]]}}, "status 'DONE'"),
])
def test_fault_actions_are_checked_when_the_scenario_loads(emulator, fault, message):
    with pytest.raises(RuntimeError) as raised:
        emulator.load(scenario(faults=[dict(fault, kind="modify_configs")]))
    assert message in str(raised.value)


@pytest.mark.parametrize("write_tasks, message", [
    ({"reboot": {}}, "unknown key(s) reboot"),
    ({"resize": {"timeline": []}}, "timeline"),
    ({"resize": {"timeline": [[0, "DONE"]]}}, "status 'DONE'"),
    ({"restart": {"colour": "red"}}, "unknown key(s) colour"),
    ({"modify_configs": {"steps": ["Apply"]}}, "add progress: true"),
    ({"resize": {"progress": False, "steps": ["Extend"]}}, "add progress: true"),
])
def test_write_tasks_is_checked_when_the_scenario_loads(emulator, write_tasks, message):
    with pytest.raises(RuntimeError) as raised:
        emulator.load(scenario(write_tasks=write_tasks))
    assert message in str(raised.value)
