# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_task in real ansible-playbook runs against the DMS emulator.

Three runs: --check --diff, a run that deletes (by ID, by selection, each twice, and refusals), and a run whose deletes
meet throttling and a server error. Each task's requests follow the previous task's in the emulator's log.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.functional.conftest import INSTANCE_ID, SECRET_KEY, Playbook, assert_no_traceback, scenario

MODULE = "hwcloud.dms.dms_task"
UNKNOWN_TASK = "0" * 32  # well-formed, but the instance has no such task
FINISHED = ["SUCCESS", "FAILED", "CANCELLED", "DELETED"]

# Newest first. The old ones are far older than 30 days; t-recent was created a minute before the first request.
TASKS = [
    {"id": "t-recent", "name": "kafkaConfigModify", "status": "SUCCESS", "created_offset": -60},
    {"id": "t-by-id", "name": "bindInstancePublicIp", "status": "SUCCESS", "created_at": "2024-02-01T00:00:00Z"},
    {"id": "t-queued", "name": "kafkaConfigModify", "status": "CREATED", "created_at": "2024-01-05T00:00:00Z"},
    {"id": "t-running", "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"]], "created_at": "2024-01-04T00:00:00Z"},
    {"id": "t-old-cancelled", "name": "kafkaConfigModify", "status": "CANCELLED", "created_at": "2024-01-03T00:00:00Z"},
    {"id": "t-old-failed", "name": "bindInstancePublicIp", "status": "FAILED", "created_at": "2024-01-02T00:00:00Z"},
    {"id": "t-old-ok", "name": "kafkaConfigModify", "status": "SUCCESS", "created_at": "2024-01-01T00:00:00Z"},
]


def delete(**options):
    options.setdefault("instance_id", INSTANCE_ID)
    return {"name": "dms_task %s" % json.dumps(options, sort_keys=True), MODULE: options}


def ids(tasks):
    return [task["id"] for task in tasks]


def deletes(emulator):
    """(task ID, status answered) of every delete request, in order."""
    return [(entry["task_id"], entry["status"]) for entry in emulator.requests("delete")]


def assert_ok(result, changed, deleted, kept=()):
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is changed
    assert ids(result["deleted"]) == list(deleted)
    assert ids(result["kept"]) == list(kept)


@pytest.mark.every_core
def test_check_mode_and_diff_delete_nothing(emulator, playbook):
    emulator.load(scenario(tasks=TASKS))
    run = playbook.run([
        delete(task_id=["t-by-id", "t-running", UNKNOWN_TASK]),
        delete(name=["kafkaConfigModify"], older_than="30d"),
    ], check=True, args=["--diff"])
    by_id, selection = run.results
    assert_ok(by_id, True, ["t-by-id"], ["t-running"])
    assert_ok(selection, True, ["t-old-cancelled", "t-old-ok"], ["t-queued", "t-running"])
    assert deletes(emulator) == []
    output = run.output
    assert "-t-by-id bindInstancePublicIp SUCCESS" in output
    assert "-t-old-ok kafkaConfigModify SUCCESS" in output and "-t-old-cancelled kafkaConfigModify CANCELLED" in output
    assert " t-running kafkaConfigModify EXECUTING" in output  # kept: on both sides, unchanged
    assert "tasks of instance %s" % INSTANCE_ID in output


def test_delete_by_id_and_by_selection_idempotently_never_an_active_task(emulator, playbook):
    emulator.load(scenario(tasks=TASKS))
    by_id = delete(task_id=["t-by-id", "t-running", UNKNOWN_TASK])
    old_finished = delete(status=FINISHED, older_than="30d")
    by_name = delete(name=["kafkaConfigModify"])
    run = playbook.run([
        by_id, by_id, old_finished, old_finished, by_name,
        delete(),
        delete(name=[], status=[]),
        delete(status=["EXECUTING"]),
    ], args=["-vvvv"])
    (first_by_id, second_by_id, first_selection, second_selection, named, nothing, empty, active_status) = run.results

    assert_ok(first_by_id, True, ["t-by-id"], ["t-running"])
    assert first_by_id["kept"][0]["reason"] == "EXECUTING: a task that has not finished is never deleted"
    assert first_by_id["deleted"][0]["status"] == "SUCCESS" and first_by_id["deleted"][0]["created_at"] == "2024-02-01T00:00:00.000Z"
    assert_ok(second_by_id, False, [], ["t-running"])
    assert_ok(first_selection, True, ["t-old-cancelled", "t-old-failed", "t-old-ok"])
    assert_ok(second_selection, False, [])
    assert_ok(named, True, ["t-recent"], ["t-queued", "t-running"])
    for refused in (nothing, empty):
        assert refused["failed"] is True and "nothing selected" in refused["msg"] and "whole history" in refused["msg"]
    assert active_status["failed"] is True and "status" in active_status["msg"] and "EXECUTING" in active_status["msg"]
    for result in run.results:
        assert_no_traceback(run, result)

    assert deletes(emulator) == [(task_id, 204) for task_id in ("t-by-id", "t-old-cancelled", "t-old-failed", "t-old-ok", "t-recent")]
    assert [entry["kind"] for entry in emulator.requests()] == [
        "show", "show", "show", "delete",    # by ID: each read, then the finished one deleted
        "show", "show", "show",              # again: gone, nothing to delete
        "list", "delete", "delete", "delete",
        "list",
        "list", "delete",
    ]  # the refusals sent nothing
    assert SECRET_KEY not in run.output and SECRET_KEY not in json.dumps(run.results)


def test_throttled_delete_is_retried_a_failed_one_is_not_and_a_second_run_settles_it(emulator, playbook):
    tasks = [{"id": "t-%d" % number, "name": "kafkaConfigModify", "status": "SUCCESS", "created_at": "2024-01-0%dT00:00:00Z" % (9 - number)}
             for number in range(1, 5)]
    emulator.load(scenario(tasks=tasks, faults=[
        {"kind": "delete", "nth": 1, "status": 429, "retry_after": 0},  # the gateway refused it: sent again
        {"kind": "delete", "nth": 3, "status": 503},                    # may have been applied: not sent again
    ]))
    cleanup = delete(status=["SUCCESS"], older_than="2024-06-01")
    run = playbook.run([cleanup, cleanup, cleanup])
    partial, settling, settled = run.results

    assert partial["failed"] is True
    assert_no_traceback(run, partial)
    assert partial["changed"] is True
    assert ids(partial["deleted"]) == ["t-1", "t-3", "t-4"]
    [failed] = partial["not_deleted"]
    log = emulator.requests("delete")
    assert failed["id"] == "t-2" and failed["error"] == {
        "http_status": 503, "error_code": "APIG.0202", "error_msg": "Backend unavailable.", "request_id": log[2]["request_id"]}
    assert "not sent again" in failed["msg"] and failed["msg"].startswith("the task is still there (SUCCESS) after a delete")
    assert [entry["task_id"] for entry in emulator.requests("show")] == ["t-2"], "the 503'd delete was read back, once"
    for part in ("Deleted 3 of the 4 tasks", INSTANCE_ID, "t-2 (kafkaConfigModify)", "HTTP 503", log[2]["request_id"]):
        assert part in partial["msg"]

    assert_ok(settling, True, ["t-2"])
    assert_ok(settled, False, [])
    assert deletes(emulator) == [("t-1", 429), ("t-1", 204), ("t-2", 503), ("t-3", 204), ("t-4", 204), ("t-2", 204)]


def test_idempotent_also_where_deleted_tasks_stay_listed_as_deleted(emulator, playbook):
    """The cloud may keep a deleted task listed with status DELETED (the emulator's deleted_tasks: listed)."""
    emulator.load(scenario(deleted_tasks="listed", tasks=[
        {"id": "t-done", "name": "kafkaConfigModify", "status": "SUCCESS", "created_at": "2024-01-03T00:00:00Z"},
        {"id": "t-deleted", "name": "kafkaConfigModify", "status": "DELETED", "created_at": "2024-01-02T00:00:00Z"},
        {"id": "t-running", "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"]], "created_at": "2024-01-01T00:00:00Z"},
    ]))
    cleanup = delete(older_than="30d")
    run = playbook.run([cleanup, cleanup])
    first, second = run.results
    assert_ok(first, True, ["t-done"], ["t-running"])
    assert_ok(second, False, [], ["t-running"])
    assert [(entry["kind"], entry["task_id"]) for entry in emulator.requests()] == [
        ("list", None), ("delete", "t-done"), ("delete", "t-deleted"), ("show", "t-deleted"),
        ("list", None), ("delete", "t-done"), ("show", "t-done"), ("delete", "t-deleted"), ("show", "t-deleted"),
    ]


def test_a_delete_whose_answer_was_lost_is_read_back_never_sent_twice(tmp_path):
    """Over HTTPS, the delete's answer breaks in a TLS error after DMS deleted the task. Sending it again would meet
    "no such task" and report no change for a task this run deleted; reading it back tells what happened."""
    tasks = [{"id": "t-%d" % number, "name": "kafkaConfigModify", "status": "SUCCESS", "created_at": "2024-01-0%dT00:00:00Z" % (9 - number)}
             for number in range(1, 4)]
    spec = scenario(tasks=tasks, faults=[
        {"kind": "delete", "nth": [1, 2], "answer_lost": "tls_error"},
        {"kind": "show", "nth": [2, 3, 4, 5], "status": 503},  # the second read back fails, retries included
    ])
    with Emulator(spec, tmp_path, https=True) as tls_emulator:
        playbook = Playbook(tmp_path, tls_emulator)
        run = playbook.run([delete(status=["SUCCESS"], older_than="2024-06-01")], defaults=playbook.connection(ca_path=tls_emulator.ca_path))
        log = [(entry["kind"], entry["task_id"], entry["status"]) for entry in tls_emulator.requests()]
    [result] = run.results
    assert_no_traceback(run, result)
    assert log == [("list", None, 200), ("delete", "t-1", None), ("show", "t-1", 404), ("delete", "t-2", None)] + [
        ("show", "t-2", 503)] * 4 + [("delete", "t-3", 204)], "each delete sent once"
    assert result["failed"] is True and result["changed"] is True
    assert ids(result["deleted"]) == ["t-1", "t-3"], "the lost answer's task, read back as gone, was deleted"
    [unconfirmed] = result["unconfirmed"]
    assert unconfirmed["id"] == "t-2" and unconfirmed["msg"].startswith("the delete may or may not have been applied: ")
    assert "SSLError" in unconfirmed["msg"] and "reading the task back failed too" in unconfirmed["msg"]
    assert result["not_deleted"] == [], "a task whose delete may have been applied is never reported as not deleted"
    assert "unknown whether these were deleted: t-2 (kafkaConfigModify)" in result["msg"]
