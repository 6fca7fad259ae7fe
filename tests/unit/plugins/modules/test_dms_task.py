# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.dms_task: the module end to end through AnsibleModule, with the DMS client faked at its boundary.

``main`` runs with module arguments patched in, ``DmsClient`` replaced by the fake, and the result read back from
stdout. What a failed delete means for the next one is tested in test_deletion.py; the selection in test_selection.py.
"""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.modules import dms_task
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, InstanceNotFoundError, RetriesExhausted, TransportError, UnsafeToRetryError,
)

INSTANCE = "11111111-2222-3333-4444-555555555555"
CANARY = "SK-canary-never-print-me-5f0e3c2a9b7d41e8"
ACCESS_KEY = "AKUNITTEST0000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
DELETE_PATH = "/v2/%s/instances/%s/tasks/" % (PROJECT, INSTANCE)


def make_task(task_id, created, status, name):
    return {
        "id": task_id, "name": name, "status": status, "user_name": "dms_test", "user_id": "u1",
        "params": {}, "params_raw": "{}", "created_at": created, "updated_at": created,
    }


# As the API lists them: newest first. Created long before any older_than a test gives, except t-recent.
TASKS = [
    make_task("t-recent", "2099-01-01T00:00:00.000Z", "SUCCESS", "kafkaConfigModify"),
    make_task("t-running", "2024-05-01T12:00:00.000Z", "EXECUTING", "kafkaConfigModify"),
    make_task("t-failed", "2024-05-01T11:00:00.000Z", "FAILED", "bindInstancePublicIp"),
    make_task("t-queued", "2024-05-01T10:00:00.000Z", "CREATED", "kafkaConfigModify"),
    make_task("t-done", "2024-05-01T09:00:00.000Z", "SUCCESS", "kafkaConfigModify"),
    make_task("t-cancelled", "2024-05-01T08:00:00.000Z", "CANCELLED", "bindInstancePublicIp"),
]


class FakeListing:
    def __init__(self, client):
        self._client = client
        self.held = 0
        self.counted = None
        self.complete = None

    def __iter__(self):
        if self._client.read_error is not None:
            raise self._client.read_error
        for task in self._client.tasks:
            self.held += 1
            yield dict(task)
        self.counted = self._client.counted if self._client.counted is not None else len(self._client.tasks)
        self.complete = self.held >= self.counted


class FakeClient:
    """The DmsClient boundary: listing, reading and deleting tasks, every call recorded."""

    def __init__(self, tasks=None, read_error=None, delete_errors=None, gone=()):
        self.tasks = [dict(task) for task in (TASKS if tasks is None else tasks)]
        self.read_error = read_error
        self.delete_errors = dict(delete_errors or {})  # task ID to the error its delete raises
        self.gone = set(gone)  # deleted by someone else between reading and deleting
        self.counted = None
        self.calls = []

    def list_tasks(self, instance_id, begin_time=None, end_time=None, read_all=False):  # pylint: disable=unused-argument
        self.calls.append(("list_tasks", instance_id))
        return FakeListing(self)

    def get_task(self, instance_id, task_id):
        self.calls.append(("get_task", instance_id, task_id))
        if self.read_error is not None:
            raise self.read_error
        return next((dict(task) for task in self.tasks if task["id"] == task_id), None)

    def delete_task(self, instance_id, task_id):
        self.calls.append(("delete_task", instance_id, task_id))
        if task_id in self.delete_errors:
            raise self.delete_errors[task_id]
        if task_id in self.gone or not any(task["id"] == task_id for task in self.tasks):
            return False
        self.tasks = [task for task in self.tasks if task["id"] != task_id]
        return True

    def deletes(self):
        return [call[2] for call in self.calls if call[0] == "delete_task"]


@pytest.fixture(name="run_main")
def run_main_fixture(monkeypatch, run_module):
    monkeypatch.setattr(dms_task, "REQUESTS_IMPORT_ERROR", None)

    def run(args, client=None):
        settings = []

        def fake_dms_client(connection_settings):
            settings.append(connection_settings)
            return client if client is not None else FakeClient()

        monkeypatch.setattr(dms_task, "DmsClient", fake_dms_client)
        run = run_module(dms_task.main, args)
        run.settings = settings
        return run

    return run


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
    client = FakeClient()
    run = run_main(module_args_for(task_id=["t-done", "t-running", "missing", "t-failed", "t-done"]), client)
    assert run.code == 0
    assert_clean(run)
    assert run.result["changed"] is True
    assert ids(run.result["deleted"]) == ["t-failed", "t-done"]  # newest first
    assert run.result["deleted"][0] == TASKS[2]  # the task as it was
    assert ids(run.result["kept"]) == ["t-running"]
    assert run.result["kept"][0]["reason"] == "EXECUTING: a task that has not finished is never deleted"
    assert client.deletes() == ["t-failed", "t-done"]
    assert "not_deleted" not in run.result and "diff" not in run.result
    assert not [call for call in client.calls if call[0] == "list_tasks"]


def test_by_selection_deletes_what_passes_every_criterion(run_main):
    client = FakeClient()
    run = run_main(module_args_for(name=["kafkaConfigModify"], older_than="30d"), client)
    assert run.code == 0
    assert ids(run.result["deleted"]) == ["t-done"]
    assert ids(run.result["kept"]) == ["t-running", "t-queued"]
    assert run.result["kept"][1]["reason"].startswith("CREATED:")
    assert client.deletes() == ["t-done"]


def test_a_second_run_changes_nothing(run_main):
    client = FakeClient()
    first = run_main(module_args_for(status=["SUCCESS", "FAILED", "CANCELLED"], older_than="2030-01-01"), client)
    assert ids(first.result["deleted"]) == ["t-failed", "t-done", "t-cancelled"]
    second = run_main(module_args_for(status=["SUCCESS", "FAILED", "CANCELLED"], older_than="2030-01-01"), client)
    assert second.code == 0
    assert second.result["changed"] is False
    assert second.result["deleted"] == [] and second.result["kept"] == []
    assert client.deletes() == ["t-failed", "t-done", "t-cancelled"]


def test_a_task_gone_before_its_delete_is_no_change(run_main):
    client = FakeClient(gone={"t-done"})
    run = run_main(module_args_for(task_id=["t-done"]), client)
    assert run.code == 0
    assert run.result["changed"] is False and run.result["deleted"] == []
    assert client.deletes() == ["t-done"]


def test_only_active_tasks_selected_is_no_change(run_main):
    client = FakeClient()
    run = run_main(module_args_for(task_id=["t-running", "t-queued"]), client)
    assert run.code == 0
    assert run.result["changed"] is False
    assert ids(run.result["kept"]) == ["t-running", "t-queued"]
    assert client.deletes() == []


# ----------------------------------------------------------------------------------------------------
# Check mode and diff mode


def test_check_mode_reports_what_it_would_delete_without_deleting(run_main):
    client = FakeClient()
    run = run_main(module_args_for(status=["SUCCESS"], older_than="1d", _ansible_check_mode=True), client)
    assert run.code == 0
    assert run.result["changed"] is True
    assert ids(run.result["deleted"]) == ["t-done"]
    assert client.deletes() == []


def test_diff_shows_each_selected_task_before_and_the_kept_ones_after(run_main):
    run = run_main(module_args_for(name=["kafkaConfigModify"], older_than="1d", _ansible_check_mode=True, _ansible_diff=True))
    assert run.result["diff"] == {
        "before_header": "tasks of instance %s" % INSTANCE, "after_header": "tasks of instance %s" % INSTANCE,
        "before": "t-running kafkaConfigModify EXECUTING\nt-queued kafkaConfigModify CREATED\nt-done kafkaConfigModify SUCCESS\n",
        "after": "t-running kafkaConfigModify EXECUTING\nt-queued kafkaConfigModify CREATED\n",
    }


def test_diff_of_a_run_that_deletes_is_what_happened(run_main):
    client = FakeClient(gone={"t-cancelled"}, delete_errors={"t-failed": UnsafeToRetryError(ApiError(503, "APIG.0202", "Backend unavailable."))})
    run = run_main(module_args_for(task_id=["t-failed", "t-done", "t-cancelled"], _ansible_diff=True), client)
    assert run.result["diff"]["before"] == "t-failed bindInstancePublicIp FAILED\nt-done kafkaConfigModify SUCCESS\n"
    assert run.result["diff"]["after"] == "t-failed bindInstancePublicIp FAILED\n"


def test_diff_without_change_is_equal_on_both_sides(run_main):
    run = run_main(module_args_for(task_id=["missing"], _ansible_diff=True))
    assert run.result["changed"] is False
    assert run.result["diff"]["before"] == run.result["diff"]["after"] == ""


# ----------------------------------------------------------------------------------------------------
# Partial failure


def test_partial_failure_lists_what_was_deleted_and_what_failed_with_the_api_answer(run_main):
    refused = ApiError(400, "DMS.00400071", "The task is still running and cannot be deleted.", "req-400", "DELETE", DELETE_PATH + "t-failed")
    unavailable = UnsafeToRetryError(ApiError(503, "APIG.0202", "Backend unavailable.", "req-503", "DELETE", DELETE_PATH + "t-done"))
    client = FakeClient(delete_errors={"t-failed": refused, "t-done": unavailable})
    run = run_main(module_args_for(status=["SUCCESS", "FAILED", "CANCELLED"], older_than="1d"), client)
    assert_failed_cleanly(run)
    assert run.result["changed"] is True
    assert ids(run.result["deleted"]) == ["t-cancelled"]
    assert ids(run.result["kept"]) == []
    assert client.deletes() == ["t-failed", "t-done", "t-cancelled"], "a failure about one task does not stop the others"
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
    client = FakeClient(delete_errors={"t-failed": locked})
    run = run_main(module_args_for(task_id=["t-failed", "t-done", "t-cancelled"]), client)
    assert_failed_cleanly(run)
    assert client.deletes() == ["t-failed"], "no further signature failures: they lock the access key"
    assert run.result["changed"] is False and run.result["deleted"] == []
    assert ids(run.result["not_deleted"]) == ["t-failed", "t-done", "t-cancelled"]
    assert run.result["not_deleted"][0]["error"]["http_status"] == 401
    assert "error" not in run.result["not_deleted"][1]
    assert run.result["not_deleted"][1]["msg"].startswith("not tried")
    assert "2 more not tried" in run.result["msg"]


def test_a_failure_without_an_api_answer_has_no_error_details(run_main):
    dropped = UnsafeToRetryError(TransportError("Connection aborted.", "DELETE", "http://127.0.0.1" + DELETE_PATH + "t-done"))
    client = FakeClient(delete_errors={"t-done": dropped})
    run = run_main(module_args_for(task_id=["t-done"]), client)
    assert_failed_cleanly(run)
    [entry] = run.result["not_deleted"]
    assert "error" not in entry and "Connection aborted." in entry["msg"]


# ----------------------------------------------------------------------------------------------------
# Never acting on a listing that may miss tasks; failures before any delete


def test_an_incomplete_listing_deletes_nothing(run_main):
    client = FakeClient()
    client.counted = len(TASKS) + 100
    run = run_main(module_args_for(status=["SUCCESS"]), client)
    assert_failed_cleanly(run)
    assert client.deletes() == []
    assert run.result["deleted"] == [] and run.result["kept"] == [] and run.result["changed"] is False
    message = run.result["msg"]
    assert message.startswith("Nothing was deleted")
    assert "%d of the %d tasks" % (len(TASKS), len(TASKS) + 100) in message and INSTANCE in message


@pytest.mark.parametrize("task_id", [None, ["t-done"]], ids=["listing", "task-id"])
def test_a_failed_read_deletes_nothing_and_carries_the_api_answer(run_main, task_id):
    error = InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist.", "req-404", "GET", "/v2/p/instances/i/tasks")
    client = FakeClient(read_error=error)
    run = run_main(module_args_for(**({"task_id": task_id} if task_id else {"status": ["SUCCESS"]})), client)
    assert_failed_cleanly(run)
    assert client.deletes() == []
    assert "Could not read the tasks of instance %s" % INSTANCE in run.result["msg"] and "DMS.00404022" in run.result["msg"]
    assert run.result["error"] == {"http_status": 404, "error_code": "DMS.00404022", "error_msg": "The instance does not exist.",
                                   "request_id": "req-404"}
    assert run.result["deleted"] == [] and run.result["kept"] == []


def test_a_read_that_exhausted_its_retries_without_an_answer_has_no_error_details(run_main):
    client = FakeClient(read_error=RetriesExhausted(TransportError("read timed out"), 4))
    run = run_main(module_args_for(status=["SUCCESS"]), client)
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
    client = FakeClient()
    run = run_main(module_args_for(**overrides), client)
    assert_failed_cleanly(run)
    for fragment in fragments:
        assert fragment in run.result["msg"]
    assert client.calls == []
    assert "error" not in run.result


def test_without_requests_fails_before_building_a_client(run_main, monkeypatch):
    monkeypatch.setattr(dms_task, "REQUESTS_IMPORT_ERROR", ImportError("No module named 'requests'"))
    run = run_main(module_args_for(status=["SUCCESS"]))
    assert run.code == 1 and "requests" in run.result["msg"]
    assert not run.settings
    assert CANARY not in run.out


def test_the_connection_reaches_the_client_and_the_secret_never_the_output(run_main, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", CANARY)
    run = run_main({"instance_id": INSTANCE, "access_key": ACCESS_KEY, "region": REGION, "project_id": PROJECT, "task_id": ["t-done"]})
    assert run.code == 0
    [settings] = run.settings
    assert settings.secret_key == CANARY and settings.endpoint == "https://dms.%s.myhuaweicloud.com" % REGION
    assert CANARY not in run.out and CANARY not in run.err
