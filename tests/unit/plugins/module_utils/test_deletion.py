# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deleting selected tasks: active ones kept, which failed delete lets the next one go ahead, what each outcome holds."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.deletion import (
    DeletionOutcome, concerns_one_task, delete_tasks, deletion_diff, split_active,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, ConfigurationError, EndpointNotFoundError, InstanceNotFoundError, MalformedAnswerError,
    MalformedIdError, NotFoundError, RetriesExhausted, TransportError, UnsafeToRetryError,
)
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeDms, listed_task


def task(task_id, status="SUCCESS"):
    return {"id": task_id, "name": "kafkaConfigModify", "status": status}


def dms_holding(*tasks, **on_delete):
    """A FakeDms holding these tasks (as task() gives them), and by task ID what DMS keeps after its delete (FakeTask's
    on_delete: by default nothing)."""
    return FakeDms(tasks=[listed_task(entry["id"], "2024-05-01T00:00:00Z", entry["status"], entry["name"], on_delete=on_delete.get(entry["id"], "gone"))
                          for entry in tasks])


def test_active_tasks_are_kept_with_the_reason_in_order():
    tasks = [task("a", "CREATED"), task("b"), task("c", "EXECUTING"), task("d", "FAILED"), task("e", "DELETED"), task("f", "CANCELLED")]
    deletable, kept = split_active(tasks)
    assert [entry["id"] for entry in deletable] == ["b", "d", "e", "f"]
    assert kept == [dict(task("a", "CREATED"), reason="CREATED: a task that has not finished is never deleted"),
                    dict(task("c", "EXECUTING"), reason="EXECUTING: a task that has not finished is never deleted")]


@pytest.mark.parametrize("error, goes_on", [
    (ApiError(400, "DMS.00400071", "The task is still running and cannot be deleted."), True),
    (ApiError(409, "DMS.00409000", "Conflict."), True),
    (MalformedIdError(400, "DMS.00400070", "Invalid task ID format."), True),
    (MalformedIdError(400, "DMS.00400030", "Invalid instance ID."), False),
    (AuthenticationError(401, "APIG.0301", "verify aksk signature fail"), False),
    (AuthenticationError(403, "APIG.0302", "not authorized"), False),
    (InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist."), False),
    (EndpointNotFoundError(404, "APIG.0101", "The API does not exist."), False),
    (RetriesExhausted(ApiError(429, "APIG.0308", "throttled"), 6), False),
    (TransportError("TLS error (is ca_path the CA of this endpoint?)"), False),
    (ConfigurationError("could not find the project ID"), False),
    (NotFoundError(404, "DMS.00404000", "The task does not exist."), True),
], ids=["refused", "conflict", "bad-task-id", "bad-instance-id", "signature", "forbidden",
        "no-instance", "no-api", "throttled-throughout", "tls", "configuration", "no-task"])
def test_which_failed_delete_lets_the_next_one_go_ahead(error, goes_on):
    assert concerns_one_task(error) is goes_on


def test_deletes_go_on_after_a_failure_about_one_task():
    refused = ApiError(400, "DMS.00400071", "The task is still running and cannot be deleted.", "req-1")
    dms = dms_holding(task("a"), task("b"), task("d"))  # no task c: DMS answers it has none
    dms.faults[("delete", "b")] = refused
    outcome = delete_tasks(dms, INSTANCE, [task("a"), task("b"), task("c"), task("d")])
    assert dms.asked("delete") == ["a", "b", "c", "d"]
    assert [entry["id"] for entry in outcome.deleted] == ["a", "d"]
    assert [entry["id"] for entry in outcome.unchanged] == ["c"]
    assert outcome.untried == []
    assert outcome.not_deleted == outcome.failed == [dict(task("b"), msg=str(refused), error={
        "http_status": 400, "error_code": "DMS.00400071", "error_msg": "The task is still running and cannot be deleted.", "request_id": "req-1"})]


def test_deletes_stop_after_a_failure_every_delete_would_meet():
    tasks = [task("a"), task("b"), task("c"), task("d")]
    dms = dms_holding(*tasks)
    dms.faults[("delete", "b")] = AuthenticationError(401, "APIG.0301", "verify aksk signature fail")
    outcome = delete_tasks(dms, INSTANCE, tasks)
    assert dms.asked("delete") == ["a", "b"]
    assert [entry["id"] for entry in outcome.deleted] == ["a"]
    assert [entry["id"] for entry in outcome.untried] == ["c", "d"]
    assert [entry["id"] for entry in outcome.not_deleted] == ["b", "c", "d"]
    assert outcome.not_deleted[2] == dict(task("d"), msg="not tried: the delete of task b failed in a way every further delete would too")


def test_diff_leaves_out_tasks_that_were_already_gone():
    selected = [task("a"), task("b", "EXECUTING"), task("c"), task("d", "FAILED")]
    outcome = DeletionOutcome(deleted=[selected[0]])
    outcome.unchanged = [selected[2]]
    outcome.failed = [dict(selected[3], msg="boom")]
    _deletable, kept = split_active(selected)
    diff = deletion_diff(INSTANCE, selected, outcome, kept)
    assert diff["before"] == "a kafkaConfigModify SUCCESS\nb kafkaConfigModify EXECUTING\nd kafkaConfigModify FAILED\n"
    assert diff["after"] == "b kafkaConfigModify EXECUTING\nd kafkaConfigModify FAILED\n"
    assert diff["before_header"] == diff["after_header"] == "tasks of instance %s" % INSTANCE


def test_a_task_already_deleted_that_stays_listed_after_its_delete_is_no_change():
    tasks = [task("a", "DELETED"), task("b", "SUCCESS"), task("c", "DELETED")]
    dms = dms_holding(*tasks, a="DELETED", b="DELETED")
    outcome = delete_tasks(dms, INSTANCE, tasks)
    assert dms.asked("delete") == ["a", "b", "c"]
    assert dms.asked("get") == ["a", "c"], "only a task that was DELETED before is read again"
    assert [entry["id"] for entry in outcome.unchanged] == ["a"]
    assert [entry["id"] for entry in outcome.deleted] == ["b", "c"]
    assert outcome.failed == []


def test_a_failed_read_after_an_accepted_delete_counts_it_as_deleted():
    dms = dms_holding(task("a", "DELETED"), a="DELETED")
    dms.faults["get"] = ApiError(503, "APIG.0202", "Backend unavailable.")
    outcome = delete_tasks(dms, INSTANCE, [task("a", "DELETED")])
    assert [entry["id"] for entry in outcome.deleted] == ["a"] and outcome.failed == []


LOST_ANSWERS = {
    "server error": UnsafeToRetryError(ApiError(503, "APIG.0202", "Backend unavailable.", "req-9")),
    "dropped": UnsafeToRetryError(TransportError("Connection aborted.", "DELETE", "http://h/p")),
    "tls error after sending": UnsafeToRetryError(TransportError("SSLError (record layer failure)", "DELETE", "https://h/p")),
    "bad answer": UnsafeToRetryError(MalformedAnswerError("HTTP 200 with an answer of an unexpected shape")),
}


@pytest.mark.parametrize("lost", LOST_ANSWERS.values(), ids=list(LOST_ANSWERS))
def test_a_delete_whose_answer_was_lost_is_read_back_not_sent_again(lost):
    tasks = [task("a"), task("b"), task("c"), task("d")]
    dms = dms_holding(*tasks, b="DELETED", c="kept")
    dms.faults.update({("delete", "a"): lost, ("delete", "b"): lost, ("delete", "c"): lost})
    outcome = delete_tasks(dms, INSTANCE, tasks)
    assert dms.asked("delete") == ["a", "b", "c", "d"], "each sent once, and the next ones still tried"
    assert dms.asked("get") == ["a", "b", "c"]
    assert [entry["id"] for entry in outcome.deleted] == ["a", "b", "d"]  # gone, or newly listed as DELETED
    assert [(entry["id"], entry["msg"]) for entry in outcome.failed] == [
        ("c", "the task is still there (SUCCESS) after a delete that may or may not have been applied: %s" % lost)]
    assert outcome.unchanged == outcome.unconfirmed == outcome.untried == []


def test_a_lost_delete_of_a_task_listed_as_deleted_before_is_no_proof_when_it_is_still_listed():
    dms = dms_holding(task("a", "DELETED"), a="DELETED")
    dms.faults[("delete", "a")] = LOST_ANSWERS["dropped"]
    outcome = delete_tasks(dms, INSTANCE, [task("a", "DELETED")])
    assert [entry["id"] for entry in outcome.failed] == ["a"] and outcome.deleted == []


def test_a_lost_delete_whose_read_back_fails_is_unconfirmed_never_not_deleted():
    lost = LOST_ANSWERS["server error"]
    dms = dms_holding(task("a"), task("b"))
    dms.faults.update({("delete", "a"): lost, "get": RetriesExhausted(ApiError(503, "APIG.0202", "Backend unavailable."), 6)})
    outcome = delete_tasks(dms, INSTANCE, [task("a"), task("b")])
    assert [entry["id"] for entry in outcome.unconfirmed] == ["a"]
    assert outcome.unconfirmed[0]["msg"].startswith("the delete may or may not have been applied: HTTP 503 APIG.0202")
    assert "reading the task back failed too: gave up after 6 attempts" in outcome.unconfirmed[0]["msg"]
    assert outcome.not_deleted == [] and [entry["id"] for entry in outcome.deleted] == ["b"]
    diff = deletion_diff(INSTANCE, [task("a"), task("b")], outcome, [])
    assert (diff["before"], diff["after"]) == ("a kafkaConfigModify SUCCESS\nb kafkaConfigModify SUCCESS\n",
                                               "a kafkaConfigModify SUCCESS (delete unconfirmed)\n")
