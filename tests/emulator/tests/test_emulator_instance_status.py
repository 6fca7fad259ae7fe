# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance's status: what a scenario sets, how restart and resize move it, the writes refused while it is not
RUNNING, and the other "not now" refusals (fault rules, as docs/emulator.md gives them).

Status changes are judged on the clock the request log reports for each request (that of the instance), not on the
test's own timing: an answer logged at clock t was computed at t or earlier, and a request sent after it is computed
later than t.
"""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

PROJECT = "0123456789abcdef0123456789abcdef"
AK, SK = "AKEXAMPLE0000000000", "SKEXAMPLE0000000000000000000000000000000"
KAFKA, OTHER = "11111111-2222-3333-4444-555555555555", "44444444-5555-6666-7777-888888888888"
ROCKET, RABBIT = "33333333-4444-5555-6666-777777777777", "22222222-3333-4444-5555-666666666666"
CALLS = ("modify_configs", "resize", "restart")
# Long enough that no test sees a started task end unless it asks for another timeline.
LONG = [[0, "CREATED"], [1, "EXECUTING"], [600, "SUCCESS"]]
NOT_RUNNING = {"error_code": "DMS.00400026", "error_msg": "This operation is not allowed due to the instance status."}
DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "emulator.md")


def scenario(instances=None, write_tasks=None, **overrides):
    spec = {
        "project_id": PROJECT, "credentials": [{"access_key": AK, "secret_key": SK}], "clock": "first_request",
        "instances": instances or [{"id": KAFKA}, {"id": OTHER}],
        "write_tasks": dict({call: {"timeline": LONG} for call in CALLS}, **(write_tasks or {})),
    }
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("emulator")) as running:
        yield running


def signed(url, method, path, body=None):
    payload = json.dumps(body) if body is not None else ""
    request = SdkRequest(method=method, schema=urlsplit(url).scheme, host=urlsplit(url).netloc, resource_path=path, query_params=[],
                         header_params={"Content-Type": "application/json"}, body=payload)
    Signer(BasicCredentials(AK, SK)).sign(request)
    return requests.request(method, url + request.uri, headers=request.header_params, data=request.body or None, timeout=10)


class Api:
    """The emulator under a freshly loaded scenario."""

    def __init__(self, emulator, spec):
        self.emulator = emulator
        emulator.load(spec)

    def instance(self, instance=KAFKA):
        return signed(self.emulator.url, "GET", "/v2/%s/instances/%s" % (PROJECT, instance))

    def status(self, instance=KAFKA):
        return self.instance(instance).json()["status"]

    def instances(self):
        return signed(self.emulator.url, "GET", "/v2/%s/instances" % PROJECT).json()["instances"]

    def write(self, call, instance=KAFKA):
        if call == "modify_configs":
            return signed(self.emulator.url, "PUT", "/v2/%s/instances/%s/configs" % (PROJECT, instance),
                          {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]})
        if call == "resize":
            return signed(self.emulator.url, "POST", "/v2/kafka/%s/instances/%s/extend" % (PROJECT, instance),
                          {"oper_type": "storage", "new_storage_space": 600})
        return self.restart(instance)

    def restart(self, *instances):
        return signed(self.emulator.url, "POST", "/v2/%s/instances/action" % PROJECT, {"action": "restart", "instances": list(instances)})

    def restart_results(self, *instances):
        return [(result["instance"], result["result"]) for result in self.restart(*instances).json()["results"]]

    def tasks(self, instance=KAFKA):
        return signed(self.emulator.url, "GET", "/v2/%s/instances/%s/tasks" % (PROJECT, instance)).json()["tasks"]

    def last_clock(self):
        """The clock at which the last logged request was answered."""
        return self.emulator.requests()[-1]["clock"]

    def status_from(self, moment, instance=KAFKA):
        """(the status computed at ``moment`` or later on the instance's clock, [(clock, status) of the reads before]):
        read until a read was answered that late, then once more."""
        earlier = []
        deadline = time.monotonic() + 60
        while True:
            status = self.status(instance)
            if self.last_clock() >= moment:
                return self.status(instance), earlier
            earlier.append((self.last_clock(), status))
            assert time.monotonic() < deadline, "the instance's clock did not reach %s s" % moment
            time.sleep(0.2)


def refused_not_running(response):
    assert (response.status_code, response.json()) == (400, NOT_RUNNING), response.text


# -- what the scenario sets ----------------------------------------------------------------------------

def test_an_instance_is_running_unless_the_scenario_says_otherwise(server):
    api = Api(server, scenario(instances=[
        {"id": KAFKA},
        {"id": OTHER, "status": "FROZEN"},
        {"id": ROCKET, "engine": "rocketmq", "status_timeline": [[300, "CREATING"], [600, "RUNNING"]]},
        {"id": RABBIT, "engine": "rabbitmq", "status_timeline": [[-5, "ROLLINGBACK"], [-10, "UPGRADING"], [600, "RUNNING"]]},
    ]))
    expected = {KAFKA: "RUNNING", OTHER: "FROZEN", ROCKET: "CREATING", RABBIT: "ROLLINGBACK"}
    assert {instance: api.status(instance) for instance in expected} == expected, "before its first entry, the first entry's status"
    assert {listed["instance_id"]: listed["status"] for listed in api.instances()} == expected


def test_the_status_follows_its_timeline_and_writes_wait_for_running(server):
    # STARTING for seconds: the refused writes below fit in it on a loaded machine too.
    api = Api(server, scenario(instances=[{"id": KAFKA, "status_timeline": [[0, "STARTING"], [4, "RUNNING"]]}]))
    assert api.status() == "STARTING"
    for call in CALLS[:2]:
        refused_not_running(api.write(call))
    assert api.restart_results(KAFKA) == [(KAFKA, "failed")]
    assert api.tasks() == [], "a refused write starts no task"
    status, earlier = api.status_from(4)
    assert status == "RUNNING"
    assert {status for _clock, status in earlier} <= {"STARTING"}, "RUNNING only from 4 s on"
    assert api.write("modify_configs").status_code == 200


@pytest.mark.parametrize("instance, message", [
    ({"status": "STOPPED"}, "instance status 'STOPPED' is not one of CREATING"),
    ({"status": "SUCCESS"}, "instance status 'SUCCESS'"),
    ({"status_timeline": [[0, "PAUSED"]]}, "instance status 'PAUSED'"),
    ({"status": "RUNNING", "status_timeline": [[0, "RUNNING"]]}, "either a status or a non-empty status_timeline"),
    ({"status_timeline": []}, "either a status or a non-empty status_timeline"),
    ({"status_timeline": [[0]]}, "pairs"),
    ({"status_timeline": [["soon", "RUNNING"]]}, "'soon' is not a number of seconds"),
])
def test_bad_instance_statuses_are_refused_when_the_scenario_loads(server, instance, message):
    with pytest.raises(RuntimeError) as raised:
        server.load(scenario(instances=[dict(instance, id=KAFKA)]))
    assert message in str(raised.value)


# -- how writes move it --------------------------------------------------------------------------------

def test_a_restart_makes_the_instance_restarting_until_its_task_ends(server):
    api = Api(server, scenario(write_tasks={"restart": {"timeline": [[0, "CREATED"], [1, "EXECUTING"], [4, "SUCCESS"]]}}))
    assert api.restart_results(KAFKA) == [(KAFKA, "success")]
    assert api.status() == "RESTARTING"
    called = api.last_clock()  # the restart was at this clock or earlier (and at 0 or later)
    for call in CALLS[:2]:
        refused_not_running(api.write(call))  # the status is checked before the running task
    assert api.restart_results(KAFKA, OTHER) == [(KAFKA, "failed"), (OTHER, "success")]
    assert [task["name"] for task in api.tasks()] == ["restartInstance"], "refused writes start nothing"
    status, earlier = api.status_from(called + 4)
    assert status == "RUNNING"
    assert api.tasks()[0]["status"] == "SUCCESS"
    assert {status for clock, status in earlier if clock < 4} == {"RESTARTING"}, "RESTARTING until the task ends"
    assert api.write("modify_configs").status_code == 200


def test_a_resize_makes_the_instance_extending(server):
    api = Api(server, scenario())
    assert api.write("resize").status_code == 200
    assert api.status() == "EXTENDING"
    assert {listed["instance_id"]: listed["status"] for listed in api.instances()} == {KAFKA: "EXTENDING", OTHER: "RUNNING"}
    refused_not_running(api.write("modify_configs"))


def test_a_configuration_change_leaves_the_status_alone(server):
    api = Api(server, scenario())
    assert api.write("modify_configs").status_code == 200
    assert api.status() == "RUNNING"
    refused = api.write("resize")
    assert (refused.status_code, refused.json()["error_code"]) == (400, "DMS.00400017"), "the task check still applies"


def test_instance_status_can_keep_the_instance_restarting_after_its_task(server):
    ended_at_once = {"timeline": [[0, "SUCCESS"]]}
    api = Api(server, scenario(write_tasks={"restart": dict(ended_at_once, instance_status=[[0, "RESTARTING"], [600, "RUNNING"]])}))
    api.restart(KAFKA)
    assert (api.tasks()[0]["status"], api.status()) == ("SUCCESS", "RESTARTING")
    refused_not_running(api.write("modify_configs"))
    api = Api(server, scenario(write_tasks={"restart": ended_at_once}))
    api.restart(KAFKA)
    assert api.status() == "RUNNING", "by default the status ends with the task"
    assert api.write("modify_configs").status_code == 200


def test_an_empty_instance_status_leaves_the_status_alone(server):
    api = Api(server, scenario(write_tasks={"restart": {"timeline": LONG, "instance_status": []}}))
    api.restart(KAFKA)
    assert api.status() == "RUNNING"
    assert api.write("modify_configs").json()["error_code"] == "DMS.00400017"


def test_instance_status_replaces_the_instance_timeline_after_the_call(server):
    api = Api(server, scenario(instances=[{"id": KAFKA, "status_timeline": [[0, "RUNNING"], [2, "FROZEN"]]}],
                               write_tasks={"restart": {"timeline": LONG, "instance_status": [[0, "RESTARTING"]]}}))
    assert api.restart_results(KAFKA) == [(KAFKA, "success")], "restarted while RUNNING, before its FROZEN at 2 s"
    status, _earlier = api.status_from(2)
    assert status == "RESTARTING", "the instance's own FROZEN at 2 s was replaced"


@pytest.mark.parametrize("write_tasks, message", [
    ({"restart": {"instance_status": [[0, "REBOOTING"]]}}, "instance status 'REBOOTING'"),
    ({"restart": {"instance_status": [[0, "SUCCESS"]]}}, "instance status 'SUCCESS'"),
    ({"resize": {"instance_status": [[-1, "EXTENDING"]]}}, "cannot be negative"),
    ({"resize": {"instance_status": "EXTENDING"}}, "pairs"),
])
def test_bad_instance_status_timelines_are_refused_when_the_scenario_loads(server, write_tasks, message):
    with pytest.raises(RuntimeError) as raised:
        server.load(scenario(write_tasks=write_tasks))
    assert message in str(raised.value)


# -- the other "not now" refusals and odd instance answers: fault rules, as docs/emulator.md writes them --

def documented_rules(marker):
    """The fault rules of the YAML block of docs/emulator.md that mentions ``marker``."""
    with open(DOC, encoding="utf-8") as handle:
        blocks = [block for block in re.findall(r"```yaml\n(.*?)```", handle.read(), re.DOTALL) if marker in block]
    assert len(blocks) == 1, "one YAML block of docs/emulator.md mentions %s" % marker
    return yaml.safe_load(blocks[0])["faults"]


def test_the_documented_busy_refusals_are_answered_then_the_write_is_accepted(server):
    rules = documented_rules("CBC.99003651")
    api = Api(server, scenario(faults=rules))
    by_code = {rule["body"]["error_code"]: rule for rule in rules}
    assert sorted(by_code) == ["CBC.99003651", "DMS.00400108"]
    for call, instance in (("modify_configs", KAFKA), ("resize", OTHER)):
        [rule] = [rule for rule in rules if rule["kind"] == call]
        for _time in range(rule["times"]):
            refused = api.write(call, instance)
            assert (refused.status_code, refused.json()) == (400, rule["body"])
            assert api.tasks(instance) == [], "nothing was applied"
        assert api.write(call, instance).status_code == 200
    assert [(entry["kind"], entry["fault"]) for entry in server.requests() if entry["kind"] in CALLS] == (
        [("modify_configs", "status")] * by_code["CBC.99003651"]["times"] + [("modify_configs", None)]
        + [("resize", "status")] * by_code["DMS.00400108"]["times"] + [("resize", None)])


def test_an_instance_answer_without_status(server):
    [rule] = documented_rules("kind: instance")
    api = Api(server, scenario(faults=[rule]))
    answer = api.instance()
    assert (answer.status_code, answer.json()) == (200, rule["body"])
    assert "status" not in answer.json()
