# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_api end to end: the recipes of docs/recipes.md as real ansible-playbook runs against the emulator.

Connection options come from ``module_defaults: group/hwcloud.dms.dms`` (the harness puts them there), so every
run also shows that dms_api is in the action group. The emulator's write calls create tasks whose timelines the
scenario's ``write_tasks`` sets; its request log shows what was sent, and how often.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.functional.conftest import (
    INSTANCE_ID, PROJECT_ID, SECRET_KEY, Playbook, assert_no_traceback, logged, scenario,
)

API = "hwcloud.dms.dms_api"
CONFIGS_PATH = "/v2/{project_id}/instances/%s/configs" % INSTANCE_ID
RESIZE_PATH = "/v2/kafka/{project_id}/instances/%s/extend" % INSTANCE_ID
RESTART_PATH = "/v2/{project_id}/instances/action"
RETENTION = {"kafka_configs": [{"name": "log.retention.hours", "value": "168"}]}
SHORT = [[0, "CREATED"], [0.5, "EXECUTING"], [2, "SUCCESS"]]
LONG = [[0, "CREATED"], [1, "EXECUTING"], [120, "SUCCESS"]]
# The canary in a form that survives partial printing (a truncated or re-encoded secret still contains it).
CANARY_CORE = SECRET_KEY.split("-", 1)[1]


def writes_scenario(timeline=None, **extra):
    """One Kafka instance with a finished history; every write call starts a task on ``timeline``."""
    return scenario(tasks=[{"name": "kafkaConfigModify", "status": "SUCCESS", "created_offset": -3600}],
                    write_tasks={call: {"timeline": timeline or SHORT} for call in ("modify_configs", "resize", "restart")}, **extra)


def api(title, **options):
    return {"name": title, API: options}


def wait(title, **options):
    options.setdefault("instance_id", INSTANCE_ID)
    options.setdefault("timeout", 60)
    return {"name": title, "hwcloud.dms.wait_for_task": options}


def assert_clean(run):
    for result in run.results:
        assert_no_traceback(run, result)
    assert SECRET_KEY not in run.output and CANARY_CORE not in run.output
    assert CANARY_CORE not in json.dumps(run.results)


def test_recipe_modify_configs_then_wait_on_the_job_id(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([
        wait("Gate", idle=True),
        api("Change the configuration", method="PUT", path=CONFIGS_PATH, body=RETENTION),
        wait("Wait for the change", task_id="{{ result_1.job_id }}"),
        {"name": "Report", "hwcloud.dms.dms_task_info": {"instance_id": INSTANCE_ID, "task_id": ["{{ result_1.job_id }}"]}},
    ], ignore_errors=False)
    assert run.returncode == 0, run.output
    gate, change, waited, report = run.results
    assert change["changed"] is True and change["status"] == 200 and change["request_id"]
    assert change["json"] == {"job_id": change["job_id"], "dynamic_config": 0, "static_config": 1}
    assert change["url"] == "%s/v2/%s/instances/%s/configs" % (emulator.url, PROJECT_ID, INSTANCE_ID)
    assert waited["status"] == "SUCCESS" and waited["task"]["id"] == change["job_id"]
    assert gate["change"] is None and change["change"]["status"] == "ACCEPTED", "the gate waits for no one task; the change was not waited for"
    assert (waited["change"]["job_id"], waited["change"]["status"], waited["change"]["method"]) == (change["job_id"], "SUCCESS", None)
    [task] = report["tasks"]
    assert (task["name"], task["status"], task["params"]["static_configs"]) == ("kafkaConfigModify", "SUCCESS", RETENTION["kafka_configs"])
    assert gate["changed"] is False
    assert [entry["auth"] for entry in logged(emulator, kind="modify_configs")] == ["aksk"]
    assert_clean(run)


def test_recipe_resize_then_wait_on_the_job_id(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([
        api("Resize the storage", method="POST", path=RESIZE_PATH, body={"oper_type": "storage", "new_storage_space": 600}),
        wait("Wait for the resize", task_id="{{ result_0.job_id }}"),
    ], ignore_errors=False)
    assert run.returncode == 0, run.output
    resize, waited = run.results
    assert resize["json"] == {"job_id": resize["job_id"]} and resize["changed"] is True
    assert (waited["status"], waited["task"]["name"]) == ("SUCCESS", "resizeInstance")
    assert_clean(run)


def test_recipe_restart_has_no_job_id_so_the_task_is_waited_for_by_name(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([
        {"name": "Remember when the restart starts", "ansible.builtin.set_fact": {"restart_started": "{{ now(utc=true).isoformat() }}"}},
        api("Restart", method="POST", path=RESTART_PATH, body={"action": "restart", "instances": [INSTANCE_ID]}),
        {"name": "Every instance restarted", "ansible.builtin.assert": {
            "that": ["result_1.json.results | rejectattr('result', 'eq', 'success') | list | length == 0"]}},
        wait("Wait for the restart", name="restartInstance", created_after="{{ restart_started }}"),
    ], ignore_errors=False)
    assert run.returncode == 0, run.output
    restart, waited = run.results[1], run.results[3]
    assert restart["job_id"] is None and restart["json"] == {"results": [{"result": "success", "instance": INSTANCE_ID}]}
    assert (waited["status"], waited["task"]["name"]) == ("SUCCESS", "restartInstance")
    assert_clean(run)


def test_a_change_waits_for_its_own_task(emulator, playbook):
    emulator.load(writes_scenario(timeline=[[0, "CREATED"], [1, "EXECUTING"], [3, "SUCCESS"]]))
    run = playbook.run([
        api("Change and wait", method="PUT", path=CONFIGS_PATH, body=RETENTION, wait=True, wait_timeout=60),
        api("Restart and wait by name", method="POST", path=RESTART_PATH, body={"action": "restart", "instances": [INSTANCE_ID]},
            instance_id=INSTANCE_ID, wait=True, wait_for_name="restartInstance"),
        api("Restart and wait, with nothing to wait on", method="POST", path=RESTART_PATH,
            body={"action": "restart", "instances": [INSTANCE_ID]}, instance_id=INSTANCE_ID, wait=True),
    ])
    change, restart, unnamed = run.results
    assert change["changed"] is True and not change.get("failed"), change["msg"] if change.get("failed") else change
    waited = change["waited"]
    assert (waited["status"], waited["task"]["id"], waited["timed_out"]) == ("SUCCESS", change["job_id"], False)
    assert [entry["status"] for entry in waited["history"]][-1] == "SUCCESS" and waited["polls"] >= 2
    assert waited["msg"].startswith("Ended after ") and change["busy_refusals"] == 0
    assert not restart.get("failed"), restart.get("msg")
    assert restart["job_id"] is None and (restart["waited"]["status"], restart["waited"]["task"]["name"]) == ("SUCCESS", "restartInstance")
    assert unnamed["failed"] is True and unnamed["changed"] is True and unnamed["waited"] is None
    assert unnamed["msg"].startswith("The POST was accepted; wait: the answer (HTTP 200) has no job_id to wait for; its body: ")
    assert "'result': 'success'" in unnamed["msg"] and "wait_for_name" in unnamed["msg"]
    assert_clean(run)


def test_a_change_whose_task_fails_fails_and_says_so(emulator, playbook):
    emulator.load(writes_scenario(timeline=[[0, "CREATED"], [1, "EXECUTING"], [2, "FAILED"]]))
    run = playbook.run([api("Change and wait", method="PUT", path=CONFIGS_PATH, body=RETENTION, wait=True)])
    result = run.result
    assert result["failed"] is True and result["changed"] is True and result["waited"]["status"] == "FAILED"
    assert result["msg"].startswith("The PUT was accepted; Task kafkaConfigModify (ID %s) ended FAILED" % result["job_id"]), result["msg"]
    assert "failed_step" not in result["waited"], "no progress, no step named"


def test_a_failed_task_whose_progress_names_a_step_says_which_step_failed(emulator, playbook):
    document = writes_scenario()
    document["write_tasks"]["modify_configs"] = {"timeline": [[0, "CREATED"], [1, "EXECUTING"], [2, "FAILED"]], "progress": True,
                                                 "steps": ["Check the request", "Restart the brokers"]}
    emulator.load(document)
    run = playbook.run([api("Change and wait", method="PUT", path=CONFIGS_PATH, body=RETENTION, wait=True)])
    result = run.result
    assert result["failed"] is True and re.search(r"ended FAILED after [0-9.]+ s at step Restart the brokers$", result["msg"]), result["msg"]
    step = result["waited"]["failed_step"]
    assert (step["name"], step["statue"]) == ("Restart the brokers", "FAILED")
    assert_clean(run)


RESIZE_WITH_PROGRESS = {"id": "t-resize", "name": "resizeInstance", "timeline": [[0, "CREATED"], [1, "EXECUTING"], [12, "SUCCESS"]],
                        "progress": True}


def test_the_one_step_change_behind_a_running_resize_prints_its_queue_and_progress(emulator, playbook):
    """The README's one-step change: refused while a resize runs, queued behind it with its progress on screen, sent once
    the instance is RUNNING again, then its own task's lines; the result says what it queued behind and for how long."""
    document = writes_scenario()
    document["instances"][0].update(tasks=[RESIZE_WITH_PROGRESS], status_timeline=[[0, "EXTENDING"], [12, "RUNNING"]])
    emulator.load(document)
    run = playbook.run([api("Change when free, and wait", method="PUT", path=CONFIGS_PATH, body=RETENTION, when_busy="wait",
                            wait=True, wait_timeout=600)], ignore_errors=False)
    assert run.returncode == 0, run.output
    lines = [line.split("dms_api [localhost]: ", 1)[1] for line in run.output.splitlines() if "dms_api [localhost]: " in line]
    assert lines[0].startswith("refused for now (1 time): DMS.00400026 (the instance's status does not allow"), lines
    queue = [line for line in lines if line.startswith("queued behind resizeInstance (ID t-resize) ")]
    assert any(re.search(r"EXECUTING \d+%, about \d+ s left \[", line) for line in queue), lines
    assert any("-> SUCCESS" in line for line in queue) and any(line.startswith("instance RUNNING [") for line in lines), lines
    result = run.result
    own = [line for line in lines if line.startswith("kafkaConfigModify (ID %s) " % result["job_id"])]
    assert own and "SUCCESS" in own[-1] and lines.index(own[0]) > lines.index(queue[-1]), lines
    busy_wait = result["busy_wait"]
    assert [(task["id"], task["status"]) for task in busy_wait["tasks"]] == [("t-resize", "SUCCESS")]
    # The gate reads the instance only on polls that find no task running: RUNNING by then, as the resize ended.
    assert busy_wait["instance_statuses"] == [] and busy_wait["elapsed"] > 0
    assert result["waited"]["status"] == "SUCCESS" and result["busy_refusals"] == 1
    change = result["change"]
    assert (change["status"], change["task_name"], change["job_id"], change["blocked_by"]) == (
        "SUCCESS", "kafkaConfigModify", result["job_id"], ["resizeInstance (ID t-resize)"])
    assert len(change["request_ids"]) == 2 and change["request_ids"][-1] == result["request_id"]
    assert change["queued_seconds"] == busy_wait["elapsed"] and change["queued_at"] < change["sent_at"] and change["ended_at"]
    assert_clean(run)


def test_two_jobs_changing_one_instance_together_both_succeed_one_after_the_other(emulator, tmp_path):
    """when_busy: wait is the gate without its race: the job refused as busy waits for idle, then sends again.

    Job b starts once job a's change was taken, and the change runs long enough that b finds it running however slowly
    ansible-playbook starts on a loaded machine: the two jobs overlap in every run.
    """
    emulator.load(writes_scenario(timeline=[[0, "CREATED"], [0.5, "EXECUTING"], [30, "SUCCESS"]]))
    runs = {}

    def job(label):
        workdir = tmp_path / label
        workdir.mkdir()
        runs[label] = Playbook(workdir, emulator).run([
            api("Change, job %s" % label, method="PUT", path=CONFIGS_PATH, body=RETENTION, when_busy="wait", wait=True, wait_timeout=240)],
            ignore_errors=False)
    jobs = [threading.Thread(target=job, args=(label,)) for label in ("a", "b")]
    jobs[0].start()
    taken = time.monotonic() + 120  # a bound for a busy machine, not a measure
    while 200 not in [entry["status"] for entry in logged(emulator, kind="modify_configs")] and time.monotonic() < taken:
        time.sleep(0.1)
    jobs[1].start()
    for thread in jobs:
        thread.join()
    results = [runs[label].result for label in ("a", "b")]
    assert all(runs[label].returncode == 0 for label in ("a", "b")), [runs[label].output for label in ("a", "b")]
    assert all(result["changed"] and result["waited"]["status"] == "SUCCESS" for result in results)
    statuses = [entry["status"] for entry in logged(emulator, kind="modify_configs")]
    assert statuses.count(200) == 2 and statuses.count(400) == sum(result["busy_refusals"] for result in results) >= 1
    first, second = sorted((result["waited"]["task"] for result in results), key=lambda task: task["created_at"])
    assert first["id"] != second["id"] and second["created_at"] >= first["updated_at"], "the changes ran one after the other"
    for label in ("a", "b"):
        assert_clean(runs[label])


def test_recipe_reading_any_resource_with_get(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([
        api("List the tasks", path="/v2/{project_id}/instances/%s/tasks" % INSTANCE_ID, query={"start": 1, "limit": 5}),
        api("A resource that may be missing", path="/v2/{project_id}/instances/%s/nothing" % INSTANCE_ID, status_code=[200, 404]),
    ], check=True, ignore_errors=False)
    assert run.returncode == 0, run.output
    listing, missing = run.results
    assert listing["changed"] is False and listing["json"]["task_count"] == "1"
    assert listing["url"].endswith("/tasks?limit=5&start=1")
    assert (missing["status"], missing["json"]["error_code"], missing["changed"]) == (404, "APIG.0101", False)
    assert [entry["query"] for entry in logged(emulator, kind="list")] == [{"start": "1", "limit": "5"}]
    assert_clean(run)


def test_a_change_while_another_runs_is_refused_and_the_gate_avoids_it(emulator, playbook):
    # Long enough that the next task, however slowly ansible-playbook starts it on a busy machine, finds it running.
    emulator.load(writes_scenario(timeline=[[0, "CREATED"], [0.5, "EXECUTING"], [12, "SUCCESS"]]))
    run = playbook.run([
        api("Change", method="PUT", path=CONFIGS_PATH, body=RETENTION),
        api("Change at once", method="PUT", path=CONFIGS_PATH, body=RETENTION),
        wait("Gate", idle=True),
        api("Change after the gate", method="PUT", path=CONFIGS_PATH, body=RETENTION),
    ])
    first, refused, gate, accepted = run.results
    assert first["changed"] is True and gate.get("failed") is not True
    assert refused["failed"] is True and refused["changed"] is False
    for part in ("HTTP 400", "DMS.00400017", "Job task is still running.", refused["request_id"]):
        assert part in refused["msg"]
    assert (refused["status"], refused["json"]["error_code"], refused["error"]["error_code"]) == (400, "DMS.00400017", "DMS.00400017")
    assert accepted["changed"] is True and accepted["job_id"]
    assert [entry["status"] for entry in logged(emulator, kind="modify_configs")] == [200, 400, 200], "the refusal is not retried"
    assert_clean(run)


def test_a_change_queued_past_its_deadline_is_never_sent(emulator, playbook):
    """A resize runs for two minutes (with no progress to foresee its end): the change queued behind it with a deadline in
    30 s is refused once, waits, and is not sent again when the deadline comes; the wait ends at the deadline, not at
    wait_timeout."""
    emulator.load(scenario(tasks=[{"id": "t-resize", "name": "resizeInstance", "timeline": LONG}],
                           write_tasks={"modify_configs": {"timeline": SHORT}}))
    deadline = (datetime.now(timezone.utc) + timedelta(seconds=30)).isoformat()
    run = playbook.run([api("Change when free, by the deadline", method="PUT", path=CONFIGS_PATH, body=RETENTION, when_busy="wait",
                            wait=True, wait_timeout=600, deadline=deadline)])
    result = run.result
    assert result["failed"] is True and result["changed"] is False and result["busy_refusals"] == 1
    assert result["msg"].startswith("The PUT was not sent again: Refused 1 time for now"), result["msg"]
    assert result["msg"].endswith(" (the deadline %s)" % deadline), result["msg"]
    # The deadline counts from before ansible-playbook started, the emulator's clock from its first request.
    assert result["waited"]["timed_out"] is True and result["waited"]["elapsed"] < 30
    writes = logged(emulator, kind="modify_configs")
    assert [entry["status"] for entry in writes] == [400], "refused once, never sent again"
    assert logged(emulator)[-1]["clock"] < 31, "nothing was asked after the deadline"
    assert_clean(run)


@pytest.mark.edge_cores
def test_check_mode_sends_no_write(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([api("Change", method="PUT", path=CONFIGS_PATH, body=RETENTION)], check=True, ignore_errors=False)
    assert run.returncode == 0, run.output
    [result] = run.results
    assert (result["changed"], result["status"], result["body"], result["method"]) == (True, None, RETENTION, "PUT")
    assert result["url"] == "%s/v2/%s/instances/%s/configs" % (emulator.url, PROJECT_ID, INSTANCE_ID)
    assert "it would be sent now" in result["msg"] and result["instance_status"] == "RUNNING"
    assert all(entry["method"] == "GET" for entry in emulator.requests()), "check mode reads the instance and its tasks, and writes nothing"


def test_a_write_is_resent_after_throttling_and_never_after_a_server_error(emulator, playbook):
    emulator.load(writes_scenario(faults=[
        {"kind": "resize", "nth": 1, "status": 429},
        {"kind": "modify_configs", "nth": 1, "status": 503},
    ]))
    run = playbook.run([
        api("Resize, throttled once", method="POST", path=RESIZE_PATH, body={"oper_type": "storage", "new_storage_space": 600}),
        wait("Let it end", task_id="{{ result_0.job_id }}"),
        api("Change, answered 503", method="PUT", path=CONFIGS_PATH, body=RETENTION),
    ])
    resize, _waited, change = run.results
    assert resize["changed"] is True and [entry["status"] for entry in logged(emulator, kind="resize")] == [429, 200]
    assert change["failed"] is True and change["status"] == 503
    assert "may or may not have been applied" in change["msg"] and "not sent again" in change["msg"]
    assert [entry["status"] for entry in logged(emulator, kind="modify_configs")] == [503]
    assert_clean(run)


def test_a_write_whose_answer_broke_in_a_tls_error_after_it_arrived_is_sent_once(tmp_path):
    """The TLS error is of the same kind as a failed handshake's; the write had been sent, so it may have been applied."""
    spec = writes_scenario(faults=[{"kind": "modify_configs", "nth": 1, "answer_lost": "tls_error"}])
    with Emulator(spec, tmp_path, https=True) as tls_emulator:
        playbook = Playbook(tmp_path, tls_emulator)
        run = playbook.run([
            api("Change; its answer is lost", method="PUT", path=CONFIGS_PATH, body=RETENTION),
            {"name": "What the instance ran", "hwcloud.dms.dms_task_info": {"instance_id": INSTANCE_ID}},
        ], defaults=playbook.connection(ca_path=tls_emulator.ca_path))
        changes = logged(tls_emulator, kind="modify_configs")
    change, report = run.results
    assert change["failed"] is True and change["status"] is None, change
    assert change["msg"].startswith("The PUT may or may not have been applied: ") and "SSLError" in change["msg"], change["msg"]
    assert [(entry["status"], entry["fault"]) for entry in changes] == [(None, "answer_lost")], "sent once"
    assert [task["name"] for task in report["tasks"]] == ["kafkaConfigModify", "kafkaConfigModify"]  # the history's, and this one's
    assert_clean(run)


def test_a_dot_project_id_is_refused_before_any_request(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([api("Project %s" % dots, path="/v2/{project_id}/instances", project_id=dots) for dots in (".", "..")])
    for dots, result in zip((".", ".."), run.results):
        assert result["failed"] is True and result["msg"].startswith("project_id must not be '%s'" % dots), result["msg"]
    assert emulator.requests() == [], "nothing sent: a dot segment fails the signature, and failures lock the key"
    assert_clean(run)


def test_an_authentication_failure_is_sent_once(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([api("Change with a wrong key", method="PUT", path=CONFIGS_PATH, body=RETENTION)],
                       defaults=playbook.connection(secret_key="SKWRONG-" + CANARY_CORE[::-1]))
    [result] = run.results
    assert result["failed"] is True and "HTTP 401 APIG.0301" in result["msg"] and result["status"] == 401
    assert len(emulator.requests()) == 1
    assert_clean(run)


def test_bad_input_is_refused_before_any_request(emulator, playbook):
    emulator.load(writes_scenario())
    run = playbook.run([
        api("Another placeholder", method="PUT", path="/v2/{project_id}/instances/{instance_id}/configs", body=RETENTION),
        api("A URL", path="https://dms.example.com/v2/{project_id}/instances"),
        api("A string body", method="PUT", path=CONFIGS_PATH, body="kafka_configs"),
        api("A lower-case method", method="put", path=CONFIGS_PATH),
        api("Wait on a read", path=CONFIGS_PATH, wait=True),
        api("A name to wait for, but no wait", method="PUT", path=CONFIGS_PATH, body=RETENTION, wait_for_name="kafkaConfigModify"),
        api("Wait on a path that names no instance", method="POST", path=RESTART_PATH, body={"action": "restart"}, when_busy="wait"),
        api("A wait_timeout out of range", method="PUT", path=CONFIGS_PATH, body=RETENTION, wait=True, wait_timeout=0),
    ])
    messages = [result["msg"] for result in run.results]
    assert all(result["failed"] is True for result in run.results)
    assert messages[0].startswith("path: only {project_id} is filled in; put the value of {instance_id} in the path")
    assert messages[1].startswith("path must be below the endpoint, not a URL")
    assert messages[2].startswith("body must be a dict or a list")
    assert "method" in messages[3] and "GET, POST, PUT, DELETE" in messages[3]
    assert messages[4] == "wait: true applies to writes (method POST, PUT or DELETE), not to a GET"
    assert messages[5] == "wait_for_name is used only with wait: true"
    assert messages[6].startswith("when_busy: wait needs instance_id: the path names no instance")
    assert messages[7] == "wait_timeout must be a whole number of seconds from 1 to 604800, got 0"
    assert emulator.requests() == []
    assert_clean(run)


@pytest.mark.every_core
def test_the_secret_never_shows_at_vvvv(emulator, playbook):
    emulator.load(writes_scenario(timeline=LONG))
    run = playbook.run([
        api("Change", method="PUT", path=CONFIGS_PATH, body=RETENTION),
        api("Change again, refused", method="PUT", path=CONFIGS_PATH, body=RETENTION),
        api("Check-mode write", method="POST", path=RESIZE_PATH, body={"oper_type": "storage", "new_storage_space": 600}),
        api("Read", path="/v2/{project_id}/instances/%s/tasks" % INSTANCE_ID),
    ], args=["-vvvv"])
    assert "ESTABLISH LOCAL CONNECTION" in run.output or "task path" in run.output.lower(), "the run was at -vvvv"
    assert run.results[0]["changed"] is True and run.results[1]["failed"] is True and run.results[3]["status"] == 200
    assert_clean(run)


# ------------------------------------------------------------------------------------------------
# Busy means busy: every refusal for now, the batch action's per-instance results, the instance's status

RESTART = {"action": "restart", "instances": [INSTANCE_ID]}
# A resize in flight: the instance is EXTENDING and a task runs, until 12 s on the instance's clock.
RESIZE_IN_FLIGHT = {"name": "resizeInstance", "timeline": [[0, "CREATED"], [1, "EXECUTING"], [12, "SUCCESS"]]}


def resizing_scenario():
    document = writes_scenario()
    document["instances"][0].update(tasks=[RESIZE_IN_FLIGHT], status_timeline=[[0, "EXTENDING"], [12, "RUNNING"]])
    return document


def test_the_restart_recipe_on_a_busy_instance_fails_at_once_and_changes_nothing(emulator, playbook):
    emulator.load(resizing_scenario())
    run = playbook.run([api("Restart and wait by name", method="POST", path=RESTART_PATH, body=RESTART, wait=True,
                            wait_for_name="restartInstance", wait_timeout=600)])
    result = run.result
    assert result["failed"] is True and result["changed"] is False and result["waited"] is None
    assert result["msg"].startswith("The POST failed: DMS refused it for %s (result failed); the instance is EXTENDING" % INSTANCE_ID)
    assert result["json"] == {"results": [{"result": "failed", "instance": INSTANCE_ID}]} and result["busy_refusals"] == 1
    assert len(logged(emulator, kind="restart")) == 1 and emulator.count("show") == 0, "no wait for a task that cannot start"
    assert [entry["clock"] for entry in logged(emulator, kind="instance")][-1] < 12, "failed at once, while the resize still ran"
    assert_clean(run)


def test_the_restart_recipe_with_when_busy_wait_restarts_once_the_instance_is_free(emulator, playbook):
    emulator.load(resizing_scenario())
    run = playbook.run([api("Restart once free, and wait", method="POST", path=RESTART_PATH, body=RESTART, when_busy="wait",
                            wait=True, wait_for_name="restartInstance", wait_timeout=600)], ignore_errors=False)
    assert run.returncode == 0, run.output
    result = run.result
    assert result["changed"] is True and result["busy_refusals"] == 1 and result["json"]["results"][0]["result"] == "success"
    assert (result["waited"]["status"], result["waited"]["task"]["name"]) == ("SUCCESS", "restartInstance")
    restarts = logged(emulator, kind="restart")
    assert len(restarts) == 2
    # The second restart went out after a read that found the instance RUNNING, which it is from 12 s on.
    reads_before = [entry for entry in logged(emulator, kind="instance") if entry["seq"] < restarts[1]["seq"]]
    assert reads_before and reads_before[-1]["clock"] >= 12
    assert_clean(run)


def restart_in_flight_scenario():
    """A restart runs its task for 2 s, but the instance stays RESTARTING until 10 s (no task runs meanwhile)."""
    document = writes_scenario()
    document["write_tasks"]["restart"] = {"timeline": [[0, "CREATED"], [0.5, "EXECUTING"], [2, "SUCCESS"]],
                                          "instance_status": [[0, "RESTARTING"], [10, "RUNNING"]]}
    return document


def test_a_change_after_a_restart_waits_until_the_instance_is_running_again(emulator, playbook):
    emulator.load(restart_in_flight_scenario())
    run = playbook.run([
        api("Restart", method="POST", path=RESTART_PATH, body=RESTART),
        api("Change once the instance takes it", method="PUT", path=CONFIGS_PATH, body=RETENTION, when_busy="wait", wait=True,
            wait_timeout=600),
    ], ignore_errors=False)
    assert run.returncode == 0, run.output
    restart, change = run.results
    assert restart["changed"] is True and change["changed"] is True and change["waited"]["status"] == "SUCCESS"
    changes = logged(emulator, kind="modify_configs")
    assert [entry["status"] for entry in changes] == [400, 200] and change["busy_refusals"] == 1
    assert changes[1]["clock"] >= 10, "sent again only once the instance was RUNNING"
    assert change["instance_status"] == "RUNNING" and change["busy_wait"]["instance_statuses"] == ["RESTARTING"]
    assert "dms_api [localhost]: queued behind instance RESTARTING [" in run.output
    assert "dms_api [localhost]: instance RESTARTING -> RUNNING [" in run.output
    assert_clean(run)


def test_a_change_refused_during_a_restart_names_the_code_and_the_status(emulator, playbook):
    emulator.load(restart_in_flight_scenario())
    run = playbook.run([
        api("Restart", method="POST", path=RESTART_PATH, body=RESTART),
        api("Change at once", method="PUT", path=CONFIGS_PATH, body=RETENTION),
    ])
    change = run.results[1]
    assert change["failed"] is True and change["changed"] is False and change["error"]["error_code"] == "DMS.00400026"
    assert "DMS.00400026" in change["msg"] and "the instance is RESTARTING" in change["msg"] and "when_busy: wait" in change["msg"]
    assert change["instance_status"] == "RESTARTING" and len(logged(emulator, kind="modify_configs")) == 1
    assert_clean(run)


@pytest.mark.parametrize("code", ["CBC.99003651", "DMS.00400108"])
def test_a_refusal_nothing_visible_explains_is_sent_again_until_taken(emulator, playbook, code):
    emulator.load(writes_scenario(faults=[{"kind": "modify_configs", "times": 2, "status": 400,
                                           "body": {"error_code": code, "error_msg": "Try again later."}}]))
    run = playbook.run([api("Change", method="PUT", path=CONFIGS_PATH, body=RETENTION, when_busy="wait", wait=True, wait_timeout=600)],
                       ignore_errors=False)
    assert run.returncode == 0, run.output
    assert run.result["changed"] is True and run.result["busy_refusals"] == 2
    assert [entry["status"] for entry in logged(emulator, kind="modify_configs")] == [400, 400, 200]
    assert_clean(run)


def test_check_mode_says_a_busy_instance_would_refuse_the_change_now(emulator, playbook):
    emulator.load(resizing_scenario())
    run = playbook.run([
        api("Change", method="PUT", path=CONFIGS_PATH, body=RETENTION),
        api("Change, queued", method="PUT", path=CONFIGS_PATH, body=RETENTION, when_busy="wait"),
    ], check=True, ignore_errors=False)
    assert run.returncode == 0, run.output
    refused, queued = run.results
    assert (refused["changed"], refused["would_wait"], refused["instance_status"]) == (False, False, "EXTENDING")
    assert "DMS would refuse it now (resizeInstance (ID " in refused["msg"] and "the instance is EXTENDING" in refused["msg"]
    assert (queued["changed"], queued["would_wait"]) == (True, True)
    assert [task["name"] for task in queued["running_tasks"]] == ["resizeInstance"]
    assert all(entry["method"] == "GET" for entry in emulator.requests()), "check mode writes nothing"
    assert_clean(run)
