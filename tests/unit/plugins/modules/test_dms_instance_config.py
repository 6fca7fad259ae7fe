# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_instance_config: main() end to end through AnsibleModule, against a scripted HTTP server on 127.0.0.1.

The real client and HTTP stack run; only the pauses between retries are recorded instead of slept.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hwcloud.dms.plugins.modules import dms_instance_config
from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient, make_auth
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpClient
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeClock
from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.scripted_server import Reply

MODULE = dms_instance_config  # the module run_main runs

CANARY = "SK-canary-never-print-me-5e4d3c2b1a09f8e7d6c5"
# Ansible masks the secret as given; a part of it printed would still be a leak.
CANARY_CORE = CANARY.split("-", 2)[2]
ACCESS_KEY = "AKUNITTEST0000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
CONFIGS_PATH = "/v2/%s/instances/%s/configs" % (PROJECT, INSTANCE)
INSTANCE_PATH = "/v2/%s/instances/%s" % (PROJECT, INSTANCE)
JOB = "8abfa7b272adc5b40172b73130065ae7"
TASK_PATH = "%s/tasks/%s" % (INSTANCE_PATH, JOB)
CONFIGS = {"kafka_configs": [
    {"name": "min.insync.replicas", "valid_values": "1~3", "default_value": "1", "config_type": "dynamic", "value": "1",
     "value_type": "integer"},
    {"name": "auto.create.groups.enable", "valid_values": "true,false", "default_value": "true", "config_type": "dynamic",
     "value": "true", "value_type": "enum"},
    {"name": "log.retention.hours", "valid_values": "1~168", "default_value": "72", "config_type": "static", "value": "72",
     "value_type": "integer"},
]}
ASKED = {"log.retention.hours": 168, "auto.create.groups.enable": False, "min.insync.replicas": 1}
BUSY = Reply(400, {"error_code": "DMS.00400017", "error_msg": "Job task is still running."}, {"X-Request-Id": "req-busy"})


def task(status):
    return {"id": JOB, "name": "kafkaConfigModify", "status": status, "params": "{}", "created_at": "2024-05-01T12:00:00.000Z",
            "updated_at": "2024-05-01T12:00:01.000Z", "user_name": "u", "user_id": "i"}


def kafka(configs=None, change=None, task_status="SUCCESS", engine="kafka"):
    """The DMS of one Kafka instance: the configs read answers ``configs``, the change call ``change`` (default: accepted with
    JOB), the change's task is ``task_status``; anything else is a 418 the client never retries."""
    def respond(request):
        if (request.method, request.path) == ("GET", CONFIGS_PATH):
            return Reply(200, CONFIGS if configs is None else configs)
        if (request.method, request.path) == ("PUT", CONFIGS_PATH):
            return change or Reply(200, {"job_id": JOB, "dynamic_config": 1, "static_config": 1}, {"X-Request-Id": "req-put"})
        if (request.method, request.path) == ("GET", TASK_PATH):
            return Reply(200, {"task_count": "1", "tasks": [task(task_status)]})
        if (request.method, request.path) == ("GET", INSTANCE_PATH):
            return Reply(200, {"instance_id": INSTANCE, "status": "RUNNING", "engine": engine})
        return Reply(418, {"error_code": "TEST.418", "error_msg": "not part of this script"})
    return respond


def sent(server, method="PUT"):
    return [json.loads(request.body.decode("utf-8")) for request in server.requests if request.method == method]


@pytest.fixture(name="configure")
def configure_fixture(run_main, server):
    """configure(**overrides) -> ModuleRun of dms_instance_config with these arguments over defaults that call the scripted
    server; the secret key is never in what it printed."""

    def call(**overrides):
        args = {"access_key": ACCESS_KEY, "secret_key": CANARY, "region": "ap-southeast-1", "project_id": PROJECT,
                "endpoint": server.url, "iam_endpoint": server.url, "max_retries": 2, "request_timeout": 5,
                "instance_id": INSTANCE, "configs": ASKED}
        args.update(overrides)
        args = dict((key, value) for key, value in args.items() if value is not None)
        clock = FakeClock(start=time.monotonic())

        def client_without_sleeping(settings):
            http = HttpClient(make_auth(settings), request_timeout=settings.request_timeout, max_retries=settings.max_retries, clock=clock)
            return DmsClient(settings, http=http)

        run = run_main(args, client_without_sleeping)
        assert CANARY_CORE not in run.out + run.err
        return run

    return call


def test_only_the_parameters_that_differ_are_sent_and_their_task_waited_for(configure, server):
    server.respond = kafka()
    run = configure()
    result = run.result
    assert run.code == 0 and result["changed"] is True, result
    assert sent(server) == [{"kafka_configs": [{"name": "log.retention.hours", "value": "168"}, {"name": "auto.create.groups.enable", "value": "false"}]}]
    assert result["before"] == {"log.retention.hours": "72", "auto.create.groups.enable": "true", "min.insync.replicas": "1"}
    assert result["after"] == {"log.retention.hours": "168", "auto.create.groups.enable": "false", "min.insync.replicas": "1"}
    assert [change["name"] for change in result["changes"]] == ["log.retention.hours", "auto.create.groups.enable"]
    assert (result["restart_required"], result["job_id"], result["request_id"], result["busy_refusals"]) == (["log.retention.hours"], JOB, "req-put", 0)
    assert (result["waited"]["status"], result["waited"]["task"]["id"]) == ("SUCCESS", JOB)
    assert "diff" not in result


def test_without_wait_the_task_is_not_read(configure, server):
    server.respond = kafka()
    run = configure(wait=False)
    assert run.code == 0 and run.result["changed"] is True and run.result["waited"] is None
    assert [(request.method, request.path) for request in server.requests] == [("GET", CONFIGS_PATH), ("PUT", CONFIGS_PATH)]


def test_nothing_differs_nothing_is_sent_or_waited_for(configure, server):
    server.respond = kafka()
    run = configure(configs={"log.retention.hours": "72", "auto.create.groups.enable": True})
    result = run.result
    assert run.code == 0 and result["changed"] is False and result["changes"] == [] and result["restart_required"] == []
    assert (result["job_id"], result["request_id"], result["waited"]) == (None, None, None)
    assert [(request.method, request.path) for request in server.requests] == [("GET", CONFIGS_PATH)]


def test_check_mode_writes_nothing_and_diff_mode_shows_before_and_after(configure, server):
    server.respond = kafka()
    run = configure(_ansible_check_mode=True, _ansible_diff=True)
    result = run.result
    assert run.code == 0 and result["changed"] is True and result["job_id"] is None
    assert [request.method for request in server.requests] == ["GET"]
    assert result["diff"]["before"] == "log.retention.hours: 72\nauto.create.groups.enable: true\nmin.insync.replicas: 1\n"
    assert result["diff"]["after"] == "log.retention.hours: 168\nauto.create.groups.enable: false\nmin.insync.replicas: 1\n"
    assert result["restart_required"] == ["log.retention.hours"]


def test_unknown_names_and_values_outside_are_refused_before_any_write(configure, server):
    server.respond = kafka()
    run = configure(configs={"log.retension.hours": 72, "log.retention.hours": 0, "auto.create.groups.enable": "yes"})
    message = run.result["msg"]
    assert run.code == 1 and run.result["changed"] is False
    assert message.startswith("configs: the instance has no parameter named log.retension.hours (did you mean log.retention.hours?)")
    assert "log.retention.hours: '0' is not a whole number from 1 to 168" in message and "'yes' is not one of true, false" in message
    assert [request.method for request in server.requests] == ["GET"]


@pytest.mark.parametrize("body", [{"configs": []}, {"kafka_configs": [{"name": "log.retention.hours"}]}, ""], ids=["other key", "no value", "empty"])
def test_an_answer_without_kafka_configs_fails_and_nothing_is_sent(configure, server, body):
    server.respond = kafka(configs=body)
    run = configure()
    assert run.code == 1 and run.result["changed"] is False
    assert run.result["msg"].startswith("Nothing was changed: could not read the configuration of instance %s: the configs read answered" % INSTANCE)
    assert [request.method for request in server.requests] == ["GET"]


@pytest.mark.parametrize("engine, named", [("rabbitmq", "RabbitMQ"), ("reliability", "RocketMQ")])
def test_an_instance_of_another_engine_fails_saying_so(configure, server, engine, named):
    server.replies.append(Reply(404, {"error_code": "APIG.0101", "error_msg": "The API does not exist or has not been published."}))
    server.respond = kafka(engine=engine)
    run = configure()
    assert run.code == 1 and run.result["changed"] is False
    assert run.result["msg"].startswith("dms_instance_config supports Kafka instances only: instance %s is a %s instance (engine %s),"
                                        % (INSTANCE, named, engine)), run.result["msg"]
    assert run.result["msg"].endswith("does not serve (it answered HTTP 404 APIG.0101). Nothing was changed")
    assert [(request.method, request.path) for request in server.requests] == [("GET", CONFIGS_PATH), ("GET", INSTANCE_PATH)]


def test_a_kafka_instance_answering_404_fails_with_that_answer(configure, server):
    server.replies.append(Reply(404, {"error_code": "APIG.0101", "error_msg": "The API does not exist or has not been published."}))
    server.respond = kafka()
    run = configure()
    assert run.code == 1 and "APIG.0101" in run.result["msg"] and run.result["error"]["error_code"] == "APIG.0101"
    assert run.result["msg"].startswith("Nothing was changed: could not read the configuration of instance %s: HTTP 404" % INSTANCE)


def test_a_change_refused_for_now_fails_naming_the_refusal(configure, server):
    server.respond = kafka(change=BUSY)
    run = configure()
    result = run.result
    assert run.code == 1 and result["changed"] is False and result["busy_refusals"] == 1
    assert "DMS.00400017" in result["msg"] and "when_busy: wait sends it again" in result["msg"]
    assert result["error"]["error_code"] == "DMS.00400017" and result["request_id"] == "req-busy"


def test_a_change_whose_task_fails_fails_with_changed(configure, server):
    server.respond = kafka(task_status="FAILED")
    run = configure()
    result = run.result
    assert run.code == 1 and result["changed"] is True and result["waited"]["status"] == "FAILED" and result["job_id"] == JOB
    assert result["msg"].startswith("The configuration change was accepted; Task kafkaConfigModify (ID %s) ended FAILED" % JOB), result["msg"]


def test_an_answer_without_a_job_id_fails_when_waiting(configure, server):
    server.respond = kafka(change=Reply(200, {"dynamic_config": 1}))
    run = configure()
    assert run.code == 1 and run.result["changed"] is True
    assert run.result["msg"] == "The configuration change was accepted (HTTP 200), but its answer has no job_id to wait for: {'dynamic_config': 1}"


def test_a_change_whose_connection_dropped_is_never_sent_again(configure, server):
    server.respond = kafka(change=Reply(drop=True))
    run = configure()
    assert run.code == 1 and run.result["changed"] is False and len(sent(server)) == 1
    assert run.result["msg"].startswith("The configuration change may or may not have been applied: ")


def test_a_deadline_that_passes_while_the_parameters_are_read_sends_nothing(configure, server):
    respond = kafka()
    server.respond = lambda request: respond(request)._replace(delay=3) if request.method == "GET" else respond(request)
    deadline = datetime.now(timezone.utc) + timedelta(seconds=2)
    run = configure(deadline=deadline.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert run.code == 1 and run.result["changed"] is False and run.result["changes"]
    assert run.result["msg"] == "The configuration change was not sent: the deadline passed while the parameters were read"
    assert [request.method for request in server.requests] == ["GET"]


@pytest.mark.parametrize("overrides, start", [
    ({"configs": {}}, "configs must map at least one parameter name"),
    ({"configs": {"log.retention.hours": 1.5}}, "configs: each value must be a string, an integer or a boolean, not so for log.retention.hours: 1.5"),
    ({"instance_id": ".."}, "instance_id must not be '..'"),
    ({"instance_id": "  "}, "instance_id must not be empty"),
    ({"wait_timeout": 0}, "wait_timeout must be a whole number of seconds from 1 to 604800, got 0"),
    ({"when_busy": "retry"}, "value of when_busy must be one of: fail, wait"),
    ({"deadline": "2020-01-01T04:00:00Z"}, "deadline 2020-01-01T04:00:00Z has passed"),
    ({"secret_key": None}, "secret_key is missing"),
], ids=["no configs", "float value", "dot dot", "blank instance", "wait_timeout", "when_busy", "deadline passed", "no secret key"])
def test_bad_input_fails_naming_the_option_before_any_request(configure, server, overrides, start):
    run = configure(**overrides)
    assert run.code == 1 and run.result["msg"].startswith(start), run.result["msg"]
    assert server.requests == [] and not run.result.get("changed") and "exception" not in run.result
