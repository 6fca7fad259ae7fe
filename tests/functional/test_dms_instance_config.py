# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_instance_config end to end: real ansible-playbook runs against the emulator's Kafka configuration.

The emulator applies a change's values once its task succeeds (docs/emulator.md, "Kafka configuration"), so a second run
reads the values the first one set. Its request log shows what was sent, and how often; the change task's params show
which parameters the change call carried.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.hwcloud.dms.tests.functional.conftest import INSTANCE_ID, SECRET_KEY, assert_no_traceback, logged, scenario

MODULE = "hwcloud.dms.dms_instance_config"
# Against the emulator's defaults: log.retention.hours 72 (static), auto.create.groups.enable true (dynamic),
# min.insync.replicas 1 (dynamic, already as asked).
ASKED = {"log.retention.hours": 168, "auto.create.groups.enable": False, "min.insync.replicas": 1}
SHORT = [[0, "CREATED"], [0.5, "EXECUTING"], [2, "SUCCESS"]]


def configs_scenario(timeline=None, **extra):
    return scenario(write_tasks={"modify_configs": {"timeline": timeline or SHORT}}, **extra)


def configure(title, **options):
    options.setdefault("instance_id", INSTANCE_ID)
    options.setdefault("configs", ASKED)
    options.setdefault("wait_timeout", 120)
    return {"name": title, MODULE: options}


def writes(emulator):
    return logged(emulator, kind="modify_configs")


def assert_clean(run):
    for result in run.results:
        assert_no_traceback(run, result)
    assert SECRET_KEY not in run.output and SECRET_KEY not in json.dumps(run.results)


@pytest.mark.every_core
def test_run_twice_the_first_changes_only_what_differs_and_waits_the_second_changes_nothing(emulator, playbook):
    emulator.load(configs_scenario())
    run = playbook.run([configure("Set the configuration"), configure("Set it again")], ignore_errors=False)
    assert run.returncode == 0, run.output
    first, second = run.results
    assert first["changed"] is True and first["restart_required"] == ["log.retention.hours"]
    assert first["changes"] == [
        {"name": "log.retention.hours", "before": "72", "after": "168", "config_type": "static"},
        {"name": "auto.create.groups.enable", "before": "true", "after": "false", "config_type": "dynamic"},
    ]
    waited = first["waited"]
    assert (waited["status"], waited["task"]["id"], waited["task"]["name"]) == ("SUCCESS", first["job_id"], "kafkaConfigModify")
    assert (first["change"]["status"], first["change"]["job_id"], first["change"]["parameters"]) == ("SUCCESS", first["job_id"], first["changes"])
    assert second["change"] is None, "nothing sent, nothing to report"
    assert waited["task"]["params"] == {"static_configs": [{"name": "log.retention.hours", "value": "168"}],
                                        "dynamic_configs": [{"name": "auto.create.groups.enable", "value": "false"}]}
    assert second["changed"] is False and second["changes"] == [] and second["job_id"] is None and second["waited"] is None
    assert second["before"] == second["after"] == {"log.retention.hours": "168", "auto.create.groups.enable": "false", "min.insync.replicas": "1"}
    assert [(entry["method"], entry["status"]) for entry in writes(emulator)] == [("PUT", 200)]
    assert len(logged(emulator, kind="configs")) == 2
    assert_clean(run)


def test_check_mode_with_diff_shows_before_and_after_and_sends_nothing(emulator, playbook):
    emulator.load(configs_scenario())
    run = playbook.run([configure("What would change")], check=True, args=["--diff"], ignore_errors=False)
    assert run.returncode == 0, run.output
    result = run.result
    assert result["changed"] is True and result["job_id"] is None and result["restart_required"] == ["log.retention.hours"]
    assert result["diff"]["before"] == "log.retention.hours: 72\nauto.create.groups.enable: true\nmin.insync.replicas: 1\n"
    assert result["diff"]["after"] == "log.retention.hours: 168\nauto.create.groups.enable: false\nmin.insync.replicas: 1\n"
    for line in ("-log.retention.hours: 72", "+log.retention.hours: 168", "-auto.create.groups.enable: true",
                 "+auto.create.groups.enable: false", " min.insync.replicas: 1", "configuration of instance %s" % INSTANCE_ID):
        assert line in run.output, run.output
    assert writes(emulator) == []
    assert_clean(run)


def test_an_unknown_name_and_a_value_out_of_range_are_refused_before_any_write(emulator, playbook):
    emulator.load(configs_scenario())
    run = playbook.run([
        configure("A name the instance does not have", configs={"log.retention.hours": 100, "log.retension.hours": 100}),
        configure("A value out of range", configs={"log.retention.hours": 500, "auto.create.groups.enable": False}),
    ])
    unknown, out_of_range = run.results
    assert unknown["failed"] is True and unknown["changed"] is False
    assert unknown["msg"] == ("configs: the instance has no parameter named log.retension.hours (did you mean log.retention.hours?)."
                              " Nothing was changed")
    assert out_of_range["failed"] is True and out_of_range["changed"] is False
    assert out_of_range["msg"] == ("configs: outside the values the instance lists for them: log.retention.hours: '500' is not a whole"
                                   " number from 1 to 168 (valid_values 1~168). Nothing was changed")
    assert writes(emulator) == [] and len(logged(emulator, kind="configs")) == 2
    assert_clean(run)


def test_a_rabbitmq_instance_fails_saying_only_kafka_is_supported(emulator, playbook):
    emulator.load(scenario(engine="rabbitmq"))
    run = playbook.run([configure("Configure a RabbitMQ instance")])
    result = run.result
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == ("dms_instance_config supports Kafka instances only: instance %s is a RabbitMQ instance (engine rabbitmq),"
                             " which the Kafka configs API does not serve (it answered HTTP 404 APIG.0101). Nothing was changed" % INSTANCE_ID)
    assert [entry["kind"] for entry in emulator.requests()] == ["configs", "instance"]
    assert_clean(run)


def test_a_change_whose_task_fails_fails_the_module_with_changed(emulator, playbook):
    emulator.load(configs_scenario(timeline=[[0, "CREATED"], [0.5, "EXECUTING"], [2, "FAILED"]]))
    run = playbook.run([configure("Set the configuration")])
    result = run.result
    assert result["failed"] is True and result["changed"] is True and result["waited"]["status"] == "FAILED"
    assert result["msg"].startswith("The configuration change was accepted; Task kafkaConfigModify (ID %s) ended FAILED" % result["job_id"]), result["msg"]
    assert [entry["status"] for entry in writes(emulator)] == [200]
    assert_clean(run)
