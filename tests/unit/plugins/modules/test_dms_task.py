# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_task: the module end to end through AnsibleModule, with the DMS client faked at its boundary.

``main`` runs with module arguments patched in, ``DmsClient`` replaced by the fake DMS, and the result read back from
stdout. What a failed delete means for the next one is tested in test_deletion.py; the selection in test_selection.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.modules import dms_task
from ansible_collections.hwcloud.dms.plugins.module_utils import dms_module
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, InstanceNotFoundError, RetriesExhausted, TransportError, UnsafeToRetryError,
)
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeClock, FakeDms, listed_task

MODULE = dms_task  # the module run_main runs
CANARY = "SK-canary-never-print-me-5f0e3c2a9b7d41e8"
ACCESS_KEY = "AKUNITTEST0000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
DELETE_PATH = "/v2/%s/instances/%s/tasks/" % (PROJECT, INSTANCE)


def stored_tasks():
    """As the API lists them: newest first. Created long before any older_than a test gives, except t-recent."""
    return [
        listed_task("t-recent", "2099-01-01T00:00:00.000Z", "SUCCESS", "kafkaConfigModify"),
        listed_task("t-running", "2024-05-01T12:00:00.000Z", "EXECUTING", "kafkaConfigModify"),
        listed_task("t-failed", "2024-05-01T11:00:00.000Z", "FAILED", "bindInstancePublicIp"),
        listed_task("t-queued", "2024-05-01T10:00:00.000Z", "CREATED", "kafkaConfigModify"),
        listed_task("t-done", "2024-05-01T09:00:00.000Z", "SUCCESS", "kafkaConfigModify"),
        listed_task("t-cancelled", "2024-05-01T08:00:00.000Z", "CANCELLED", "bindInstancePublicIp"),
    ]


TASKS = [task.as_dict(FakeClock()) for task in stored_tasks()]  # as the client returns them


def fake_dms():
    """A FakeDms of its own (deletes change its tasks)."""
    return FakeDms(tasks=stored_tasks())


def deleted_by_someone_else(dms, task_id):
    """DMS no longer has the task once this run sends a delete: another job deleted it after this run read it."""
    dms.fault_when = lambda kind, number, t: dms.task(task_id).set(t, None) if kind == "delete" else None


def module_args_for(**overrides):
    args = {"access_key": ACCESS_KEY, "secret_key": CANARY, "region": REGION, "project_id": PROJECT, "instance_id": INSTANCE}
    args.update(overrides)
    return args


def ids(tasks):
    return [task["id"] for task in tasks]


def assert_clean(run):
    assert "exception" not in run.result
    assert "Traceback" not in run.out and "Traceback" not in run.err
    assert CANARY not in run.out and CANARY not in run.err


def assert_failed_cleanly(run):
    assert run.code == 1
    assert run.result["failed"] is True
    assert_clean(run)


# ----------------------------------------------------------------------------------------------------
# Deleting by ID and by selection


def test_by_id_deletes_finished_tasks_keeps_active_ones_and_ignores_missing_ones(run_main):
    dms = fake_dms()
    run = run_main(module_args_for(task_id=["t-done", "t-running", "missing", "t-failed", "t-done"]), dms)
    assert run.code == 0
    assert_clean(run)
    assert run.result["changed"] is True
    assert ids(run.result["deleted"]) == ["t-failed", "t-done"]  # newest first
    assert run.result["deleted"][0] == TASKS[2]  # the task as it was
    assert ids(run.result["kept"]) == ["t-running"]
    assert run.result["kept"][0]["reason"] == "EXECUTING: a task that has not finished is never deleted"
    assert dms.asked("delete") == ["t-failed", "t-done"]
    assert "not_deleted" not in run.result and "diff" not in run.result
    assert dms.listings == []


def test_by_selection_deletes_what_passes_every_criterion(run_main):
    dms = fake_dms()
    run = run_main(module_args_for(name=["kafkaConfigModify"], older_than="30d"), dms)
    assert run.code == 0
    assert ids(run.result["deleted"]) == ["t-done"]
    assert ids(run.result["kept"]) == ["t-running", "t-queued"]
    assert run.result["kept"][1]["reason"].startswith("CREATED:")
    assert dms.asked("delete") == ["t-done"]


def test_a_second_run_changes_nothing(run_main):
    dms = fake_dms()
    first = run_main(module_args_for(status=["SUCCESS", "FAILED", "CANCELLED"], older_than="2030-01-01"), dms)
    assert ids(first.result["deleted"]) == ["t-failed", "t-done", "t-cancelled"]
    second = run_main(module_args_for(status=["SUCCESS", "FAILED", "CANCELLED"], older_than="2030-01-01"), dms)
    assert second.code == 0
    assert second.result["changed"] is False
    assert second.result["deleted"] == [] and second.result["kept"] == []
    assert dms.asked("delete") == ["t-failed", "t-done", "t-cancelled"]


def test_a_task_gone_before_its_delete_is_no_change(run_main):
    dms = fake_dms()
    deleted_by_someone_else(dms, "t-done")
    run = run_main(module_args_for(task_id=["t-done"]), dms)
    assert run.code == 0
    assert run.result["changed"] is False and run.result["deleted"] == []
    assert dms.asked("delete") == ["t-done"]


def test_only_active_tasks_selected_is_no_change(run_main):
    dms = fake_dms()
    run = run_main(module_args_for(task_id=["t-running", "t-queued"]), dms)
    assert run.code == 0
    assert run.result["changed"] is False
    assert ids(run.result["kept"]) == ["t-running", "t-queued"]
    assert dms.asked("delete") == []


# ----------------------------------------------------------------------------------------------------
# Check mode and diff mode


def test_check_mode_reports_what_it_would_delete_without_deleting(run_main):
    dms = fake_dms()
    run = run_main(module_args_for(status=["SUCCESS"], older_than="1d", _ansible_check_mode=True), dms)
    assert run.code == 0
    assert run.result["changed"] is True
    assert ids(run.result["deleted"]) == ["t-done"]
    assert dms.asked("delete") == []


def test_diff_shows_each_selected_task_before_and_the_kept_ones_after(run_main):
    run = run_main(module_args_for(name=["kafkaConfigModify"], older_than="1d", _ansible_check_mode=True, _ansible_diff=True), fake_dms())
    assert run.result["diff"] == {
        "before_header": "tasks of instance %s" % INSTANCE, "after_header": "tasks of instance %s" % INSTANCE,
        "before": "t-running kafkaConfigModify EXECUTING\nt-queued kafkaConfigModify CREATED\nt-done kafkaConfigModify SUCCESS\n",
        "after": "t-running kafkaConfigModify EXECUTING\nt-queued kafkaConfigModify CREATED\n",
    }


def test_diff_of_a_run_that_deletes_is_what_happened(run_main):
    dms = fake_dms()
    deleted_by_someone_else(dms, "t-cancelled")
    dms.faults[("delete", "t-failed")] = UnsafeToRetryError(ApiError(503, "APIG.0202", "Backend unavailable."))
    dms.task("t-failed").on_delete = "kept"  # the answer was lost, and the delete was not applied
    run = run_main(module_args_for(task_id=["t-failed", "t-done", "t-cancelled"], _ansible_diff=True), dms)
    assert run.result["diff"]["before"] == "t-failed bindInstancePublicIp FAILED\nt-done kafkaConfigModify SUCCESS\n"
    assert run.result["diff"]["after"] == "t-failed bindInstancePublicIp FAILED\n"


def test_diff_without_change_is_equal_on_both_sides(run_main):
    run = run_main(module_args_for(task_id=["missing"], _ansible_diff=True), fake_dms())
    assert run.result["changed"] is False
    assert run.result["diff"]["before"] == run.result["diff"]["after"] == ""


# ----------------------------------------------------------------------------------------------------
# Partial failure


def test_partial_failure_lists_what_was_deleted_and_what_failed_with_the_api_answer(run_main):
    refused = ApiError(400, "DMS.00400071", "The task is still running and cannot be deleted.", "req-400", "DELETE", DELETE_PATH + "t-failed")
    unavailable = UnsafeToRetryError(ApiError(503, "APIG.0202", "Backend unavailable.", "req-503", "DELETE", DELETE_PATH + "t-done"))
    dms = fake_dms()
    dms.faults.update({("delete", "t-failed"): refused, ("delete", "t-done"): unavailable})
    dms.task("t-done").on_delete = "kept"  # the answer was lost, and the delete was not applied
    run = run_main(module_args_for(status=["SUCCESS", "FAILED", "CANCELLED"], older_than="1d"), dms)
    assert_failed_cleanly(run)
    assert run.result["changed"] is True
    assert ids(run.result["deleted"]) == ["t-cancelled"]
    assert ids(run.result["kept"]) == []
    assert dms.asked("delete") == ["t-failed", "t-done", "t-cancelled"], "a failure about one task does not stop the others"
    failed, unknown = run.result["not_deleted"]
    assert failed["id"] == "t-failed" and failed["status"] == "FAILED"
    assert failed["error"] == {"http_status": 400, "error_code": "DMS.00400071",
                               "error_msg": "The task is still running and cannot be deleted.", "request_id": "req-400"}
    assert "DMS.00400071" in failed["msg"]
    assert unknown["error"]["http_status"] == 503 and "the task is still there (SUCCESS) after a delete" in unknown["msg"]
    message = run.result["msg"]
    for part in ("Deleted 1 of the 3 tasks", INSTANCE, "t-failed (bindInstancePublicIp)", "DMS.00400071", "req-400",
                 "t-done (kafkaConfigModify)", "APIG.0202", "req-503"):
        assert part in message
    assert "not tried" not in message


def test_an_error_every_delete_would_meet_stops_the_deletes(run_main):
    locked = AuthenticationError(401, "APIG.0301", "Incorrect IAM authentication information: verify aksk signature fail", "req-401")
    dms = fake_dms()
    dms.faults[("delete", "t-failed")] = locked
    run = run_main(module_args_for(task_id=["t-failed", "t-done", "t-cancelled"]), dms)
    assert_failed_cleanly(run)
    assert dms.asked("delete") == ["t-failed"], "no further signature failures: they lock the access key"
    assert run.result["changed"] is False and run.result["deleted"] == []
    assert ids(run.result["not_deleted"]) == ["t-failed", "t-done", "t-cancelled"]
    assert run.result["not_deleted"][0]["error"]["http_status"] == 401
    assert "error" not in run.result["not_deleted"][1]
    assert run.result["not_deleted"][1]["msg"].startswith("not tried")
    assert "2 more not tried" in run.result["msg"]


def test_a_failure_without_an_api_answer_has_no_error_details(run_main):
    dropped = UnsafeToRetryError(TransportError("Connection aborted.", "DELETE", "http://127.0.0.1" + DELETE_PATH + "t-done"))
    dms = fake_dms()
    dms.faults[("delete", "t-done")] = dropped
    dms.task("t-done").on_delete = "kept"  # the connection dropped before DMS applied the delete
    run = run_main(module_args_for(task_id=["t-done"]), dms)
    assert_failed_cleanly(run)
    [entry] = run.result["not_deleted"]
    assert "error" not in entry and "Connection aborted." in entry["msg"]


# ----------------------------------------------------------------------------------------------------
# Never acting on a listing that may miss tasks; failures before any delete


def test_an_incomplete_listing_deletes_nothing(run_main):
    dms = fake_dms()
    dms.task_count = len(TASKS) + 100
    run = run_main(module_args_for(status=["SUCCESS"]), dms)
    assert_failed_cleanly(run)
    assert dms.asked("delete") == []
    assert run.result["deleted"] == [] and run.result["kept"] == [] and run.result["changed"] is False
    message = run.result["msg"]
    assert message.startswith("Nothing was deleted")
    assert "%d of the %d tasks" % (len(TASKS), len(TASKS) + 100) in message and INSTANCE in message


@pytest.mark.parametrize("task_id", [None, ["t-done"]], ids=["listing", "task-id"])
def test_a_failed_read_deletes_nothing_and_carries_the_api_answer(run_main, task_id):
    error = InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist.", "req-404", "GET", "/v2/p/instances/i/tasks")
    dms = fake_dms()
    dms.faults.update({"list": error, "get": error})
    run = run_main(module_args_for(**({"task_id": task_id} if task_id else {"status": ["SUCCESS"]})), dms)
    assert_failed_cleanly(run)
    assert dms.asked("delete") == []
    assert "Could not read the tasks of instance %s" % INSTANCE in run.result["msg"] and "DMS.00404022" in run.result["msg"]
    assert run.result["error"] == {"http_status": 404, "error_code": "DMS.00404022", "error_msg": "The instance does not exist.",
                                   "request_id": "req-404"}
    assert run.result["deleted"] == [] and run.result["kept"] == []


def test_a_read_that_exhausted_its_retries_without_an_answer_has_no_error_details(run_main):
    dms = fake_dms()
    dms.faults["list"] = RetriesExhausted(TransportError("read timed out"), 4)
    run = run_main(module_args_for(status=["SUCCESS"]), dms)
    assert_failed_cleanly(run)
    assert "error" not in run.result and "read timed out" in run.result["msg"]


@pytest.mark.parametrize("overrides, fragments", [
    ({}, ["nothing selected", "task_id", "status", "name", "older_than"]),
    ({"task_id": []}, ["task_id is empty"]),
    ({"status": [], "name": []}, ["nothing selected"]),
    ({"task_id": ["t-done"], "older_than": "1d"}, ["task_id cannot be combined with older_than"]),
    ({"status": ["EXECUTING"]}, ["status", "EXECUTING"]),
    ({"status": ["SUCCESS"], "older_than": "a while"}, ["older_than", "a while"]),
    ({"status": ["SUCCESS"], "older_than": "0d"}, ["older_than", "0d"]),
    ({"status": ["SUCCESS"], "state": "present"}, ["state", "present"]),
    ({"status": ["SUCCESS"], "instance_id": " "}, ["instance_id"]),
    ({"status": ["SUCCESS"], "secret_key": None}, ["secret_key", "HUAWEICLOUD_SDK_SK"]),
    ({"status": ["SUCCESS"], "max_retries": 11}, ["max_retries"]),
    ({"status": ["SUCCESS"], "max_retries": float("inf")}, ["max_retries"]),
], ids=["nothing", "empty-task-id", "empty-criteria", "task-id-and-selection", "active-status", "bad-older-than", "zero-older-than",
        "state-present", "blank-instance", "no-secret", "max-retries-over", "max-retries-infinite"])
def test_bad_input_fails_naming_the_option_before_any_request(run_main, overrides, fragments):
    dms = fake_dms()
    run = run_main(module_args_for(**overrides), dms)
    assert_failed_cleanly(run)
    for fragment in fragments:
        assert fragment in run.result["msg"]
    assert dms.calls == 0
    assert "error" not in run.result


def test_without_requests_fails_before_building_a_client(run_main, monkeypatch):
    monkeypatch.setattr(dms_module, "REQUESTS_IMPORT_ERROR", ImportError("No module named 'requests'"))
    run = run_main(module_args_for(status=["SUCCESS"]))
    assert run.code == 1 and "requests" in run.result["msg"]
    assert not run.settings
    assert CANARY not in run.out


def test_the_connection_reaches_the_client_and_the_secret_never_the_output(run_main, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", CANARY)
    run = run_main({"instance_id": INSTANCE, "access_key": ACCESS_KEY, "region": REGION, "project_id": PROJECT, "task_id": ["t-done"]}, fake_dms())
    assert run.code == 0
    [settings] = run.settings
    assert settings.secret_key == CANARY and settings.endpoint == "https://dms.%s.myhuaweicloud.com" % REGION
    assert CANARY not in run.out and CANARY not in run.err
