# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kafka instance's configuration, read with the official SDK: its default parameters, a scenario's own values, and
changes that show only once their task succeeded."""

from __future__ import annotations

import json
import time

import pytest
import requests
from huaweicloudsdkkafka.v2 import (
    DeleteBackgroundTaskRequest,
    InstanceConfig,
    ListBackgroundTasksRequest,
    ShowInstanceConfigsRequest,
    ShowInstanceConfigsResponse,
)

from ansible_collections.hwcloud.dms.tests.emulator.tests import test_emulator_writes as writes
from ansible_collections.hwcloud.dms.tests.emulator.tests.test_emulator_writes import (
    KAFKA,
    OTHER_KAFKA,
    PROJECT,
    RABBIT,
    ROCKET,
    modify_configs,
    refused,
    scenario,
    sdk_client,
    show,
    shown_from,
    signed,
)

# The writes' fixtures, bound here so that pytest finds them: one emulator for the module, a fresh scenario per test.
server, emulator = writes.server, writes.emulator

CONFIGS_PATH = "/v2/%s/instances/%s/configs"
# Every emulated Kafka instance has these, with these defaults (a few of them, each kind of valid_values).
SOME_DEFAULTS = {"log.retention.hours": ("1~168", "72", "static", "integer"), "min.insync.replicas": ("1~3", "1", "dynamic", "integer"),
                 "message.max.bytes": ("0~10485760", "10485760", "dynamic", "integer"),
                 "unclean.leader.election.enable": ("true,false", "false", "dynamic", "enum"),
                 "auto.create.groups.enable": ("true,false", "true", "dynamic", "enum"),
                 "offsets.retention.minutes": ("1440~30240", "20160", "static", "integer")}
# The configuration change ends this many seconds after the call, on the instance's clock.
TASK_ENDS = 3


def configs_scenario(ends_with="SUCCESS", **overrides):
    """The writes' scenario whose configuration changes run TASK_ENDS seconds, then end ``ends_with``; the clocks start at
    the first request naming an instance, so that a test's first call is at 0 or later on its instance's clock."""
    return scenario(clock="first_request", write_tasks={"modify_configs": {"timeline": [[0, "EXECUTING"], [TASK_ENDS, ends_with]]}},
                    **overrides)


def show_configs(client, instance=KAFKA):
    return client.show_instance_configs(ShowInstanceConfigsRequest(instance_id=instance))


def values(client, instance=KAFKA):
    return {config.name: config.value for config in show_configs(client, instance).kafka_configs}


def values_from(emulator, client, moment):
    """The configuration as read at ``moment`` or later on the instance's clock: read it until a read was answered that
    late (by the request log's clock), then once more."""
    deadline = time.monotonic() + 60
    values(client)
    while emulator.requests("configs")[-1]["clock"] < moment:
        assert time.monotonic() < deadline, "the instance's clock did not reach %s s" % moment
        time.sleep(0.2)
        values(client)
    return values(client)


def put_configs(emulator, configs, instance=KAFKA):
    return signed(emulator.url, "PUT", CONFIGS_PATH % (PROJECT, instance), {"kafka_configs": [{"name": name, "value": value}
                                                                                              for name, value in configs.items()]})


def task_count(client, instance=KAFKA):
    return len(client.list_background_tasks(ListBackgroundTasksRequest(instance_id=instance)).tasks)


# -- the read ------------------------------------------------------------------------------------------

def test_the_answer_has_the_fields_of_the_sdk_models(emulator):
    response = signed(emulator.url, "GET", CONFIGS_PATH % (PROJECT, KAFKA), None)
    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == set(ShowInstanceConfigsResponse.attribute_map.values())
    for config in document["kafka_configs"]:
        assert set(config) == set(InstanceConfig.attribute_map.values()), config["name"]
        assert all(isinstance(value, str) for value in config.values()), config["name"]
        assert config["config_type"] in ("static", "dynamic") and config["value_type"] in ("integer", "enum", "string")
    # What the SDK deserialised is what the same fields give its model (InstanceConfig takes no other keyword).
    assert show_configs(sdk_client(emulator.url)).kafka_configs == [InstanceConfig(**config) for config in document["kafka_configs"]]


def test_a_kafka_instance_has_its_default_parameters_at_their_default_values(emulator):
    configs = show_configs(sdk_client(emulator.url)).kafka_configs
    by_name = {config.name: config for config in configs}
    assert len(by_name) == len(configs), "each parameter once"
    for name, (valid_values, default_value, config_type, value_type) in SOME_DEFAULTS.items():
        config = by_name[name]
        assert (config.valid_values, config.default_value, config.config_type, config.value_type) == (
            valid_values, default_value, config_type, value_type), name
    assert all(config.value == config.default_value for config in configs)
    assert [(entry["kind"], entry["status"], entry["auth"]) for entry in emulator.requests()] == [("configs", 200, "aksk")]


def test_the_reply_to_a_change_counts_parameters_as_the_read_types_them(emulator):
    client = sdk_client(emulator.url)
    table = show_configs(client).kafka_configs
    answer = put_configs(emulator, {config.name: config.default_value for config in table}).json()
    assert (answer["dynamic_config"], answer["static_config"]) == (
        sum(config.config_type == "dynamic" for config in table), sum(config.config_type == "static" for config in table))
    assert answer["dynamic_config"] and answer["static_config"]
    params = show(client, answer["job_id"]).params
    dynamic_names = sorted(config.name for config in table if config.config_type == "dynamic")
    assert sorted(config["name"] for config in json.loads(params)["dynamic_configs"]) == dynamic_names


# -- the scenario --------------------------------------------------------------------------------------

EXTRA_PARAMETER = {"name": "log.message.timestamp.type", "valid_values": "CreateTime,LogAppendTime", "default_value": "CreateTime",
                   "config_type": "static", "value_type": "enum"}


def test_a_scenario_sets_values_and_adds_or_narrows_parameters(emulator):
    narrowed = {"name": "min.insync.replicas", "valid_values": "1~2", "default_value": "2", "config_type": "dynamic", "value_type": "integer"}
    emulator.load(scenario(instances=[
        # YAML gives true and 168 as a boolean and a number: the API answers strings.
        {"id": KAFKA, "configs": {"log.retention.hours": 168, "auto.create.groups.enable": False, "log.message.timestamp.type": "LogAppendTime"},
         "config_parameters": [EXTRA_PARAMETER, narrowed]},
        {"id": OTHER_KAFKA},
    ]))
    client = sdk_client(emulator.url)
    by_name = {config.name: config for config in show_configs(client).kafka_configs}
    assert (by_name["log.retention.hours"].value, by_name["auto.create.groups.enable"].value) == ("168", "false")
    assert by_name["log.message.timestamp.type"] == InstanceConfig(**dict(EXTRA_PARAMETER, value="LogAppendTime"))
    assert (by_name["min.insync.replicas"].valid_values, by_name["min.insync.replicas"].value) == ("1~2", "2")
    assert values(client, OTHER_KAFKA)["log.retention.hours"] == "72", "another instance keeps the defaults"
    assert "log.message.timestamp.type" not in values(client, OTHER_KAFKA)
    assert put_configs(emulator, {"min.insync.replicas": "3"}).status_code == 400, "the narrowed range is the one checked"
    answer = put_configs(emulator, {"log.message.timestamp.type": "CreateTime"}).json()
    assert (answer["dynamic_config"], answer["static_config"]) == (0, 1)


@pytest.mark.parametrize("instance, message", [
    ({"id": KAFKA, "configs": {"log.retention.days": 7}}, "unknown key(s) log.retention.days"),
    ({"id": KAFKA, "configs": {"log.retention.hours": 169}}, "169 is not within the valid_values of log.retention.hours (1~168)"),
    ({"id": KAFKA, "configs": {"auto.create.groups.enable": "yes"}}, "yes is not within the valid_values of auto.create.groups.enable"),
    ({"id": RABBIT, "engine": "rabbitmq", "configs": {"log.retention.hours": 72}}, "for a Kafka instance"),
    ({"id": KAFKA, "config_parameters": [dict(EXTRA_PARAMETER, config_type="rolling")]}, "config_type 'rolling' is not one of"),
    ({"id": KAFKA, "config_parameters": [dict(EXTRA_PARAMETER, value_type="integer")]}, "integer parameter are LOW~HIGH"),
    ({"id": KAFKA, "config_parameters": [dict(EXTRA_PARAMETER, default_value="WallClock")]}, "default_value 'WallClock' is not within"),
    ({"id": KAFKA, "config_parameters": [{"name": "x.y"}]}, "needs valid_values, default_value, config_type, value_type"),
])
def test_a_scenario_configuration_is_checked_when_it_loads(emulator, instance, message):
    with pytest.raises(RuntimeError) as raised:
        emulator.load(scenario(instances=[instance]))
    assert message in str(raised.value)


# -- changes apply when their task succeeds ----------------------------------------------------------

def test_a_change_shows_only_once_its_task_succeeded(emulator):
    emulator.load(configs_scenario())
    client = sdk_client(emulator.url)
    job_id = modify_configs(client, log_retention_hours="100", min_insync_replicas="2").job_id  # the instance's clock starts here
    called = emulator.requests("modify_configs")[-1]["clock"]  # the task was created at this clock or earlier (and at 0 or later)
    before = values(client)
    assert emulator.requests("configs")[-1]["clock"] < TASK_ENDS, "read before the task can have succeeded"
    assert (before["log.retention.hours"], before["min.insync.replicas"]) == ("72", "1")
    after = values_from(emulator, client, called + TASK_ENDS)
    assert show(client, job_id).status == "SUCCESS"
    assert (after["log.retention.hours"], after["min.insync.replicas"]) == ("100", "2")
    assert values(client, OTHER_KAFKA)["log.retention.hours"] == "72", "only the instance changed"


@pytest.mark.parametrize("ending", ["FAILED", "CANCELLED"])
def test_a_change_whose_task_did_not_succeed_leaves_the_values(emulator, ending):
    emulator.load(configs_scenario(ends_with=ending))
    client = sdk_client(emulator.url)
    job_id = modify_configs(client, log_retention_hours="100").job_id
    called = emulator.requests("modify_configs")[-1]["clock"]
    assert shown_from(emulator, client, job_id, called + TASK_ENDS).status == ending
    assert values_from(emulator, client, called + TASK_ENDS)["log.retention.hours"] == "72"


@pytest.mark.parametrize("deleted_tasks", ["vanish", "listed"])
def test_a_change_whose_task_was_deleted_while_it_ran_never_applies(emulator, deleted_tasks):
    emulator.load(configs_scenario(delete_active="allow", deleted_tasks=deleted_tasks))
    client = sdk_client(emulator.url)
    job_id = modify_configs(client, log_retention_hours="100").job_id
    called = emulator.requests("modify_configs")[-1]["clock"]
    client.delete_background_task(DeleteBackgroundTaskRequest(instance_id=KAFKA, task_id=job_id))
    assert emulator.requests("delete")[-1]["clock"] < TASK_ENDS, "deleted before the task can have succeeded"
    assert values_from(emulator, client, called + TASK_ENDS)["log.retention.hours"] == "72"


# -- refused changes start nothing ---------------------------------------------------------------------

def test_an_unknown_parameter_is_refused_and_starts_nothing(emulator):
    response = put_configs(emulator, {"log.retention.hours": "100", "log.retention.days": "7"})
    assert (response.status_code, response.json()["error_code"]) == (400, "DMS.00400000")
    assert "log.retention.days" in response.json()["error_msg"]
    client = sdk_client(emulator.url)
    assert task_count(client) == 1, "no task beside the scenario's"
    assert values(client)["log.retention.hours"] == "72"


@pytest.mark.parametrize("name, value", [
    ("log.retention.hours", "169"),
    ("log.retention.hours", "0"),
    ("message.max.bytes", "1.5"),
    ("min.insync.replicas", "two"),
    ("auto.create.groups.enable", "True"),
])
def test_a_value_outside_the_valid_values_is_refused_and_starts_nothing(emulator, name, value):
    response = put_configs(emulator, {"num.partitions": "6", name: value})  # a valid change beside it starts nothing either
    assert (response.status_code, response.json()["error_code"]) == (400, "DMS.00400000")
    assert name in response.json()["error_msg"] and value in response.json()["error_msg"]
    assert task_count(sdk_client(emulator.url)) == 1


# -- the read is wired as every other call -------------------------------------------------------------

@pytest.mark.parametrize("instance", [RABBIT, ROCKET])
def test_the_configuration_exists_for_kafka_only(emulator, instance):
    response = signed(emulator.url, "GET", CONFIGS_PATH % (PROJECT, instance), None)
    assert (response.status_code, response.json()["error_code"]) == (404, "APIG.0101")
    assert response.json()["request_id"] == response.headers["X-Request-Id"]


def test_the_read_is_authenticated_checked_faulted_and_logged_as_the_others(emulator):
    emulator.load(scenario(faults=[{"kind": "configs", "nth": 1, "status": 503}]))
    client = sdk_client(emulator.url)
    assert refused(lambda: show_configs(client))[0] == 503
    assert refused(lambda: show_configs(client, instance="99999999-9999-9999-9999-999999999999")) == (404, "DMS.00404022")
    assert signed(emulator.url, "GET", CONFIGS_PATH % ("f" * 32, KAFKA), None).status_code == 403
    unsigned = requests.get(emulator.url + CONFIGS_PATH % (PROJECT, KAFKA), timeout=10)
    assert (unsigned.status_code, unsigned.json()["error_code"]) == (401, "APIG.0301")
    assert [(entry["kind"], entry["status"], entry["fault"]) for entry in emulator.requests("configs")] == [
        ("configs", 503, "status"), ("configs", 404, None), ("configs", 403, None), ("configs", 401, None)]
