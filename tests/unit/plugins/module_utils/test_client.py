# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DmsClient against a real HTTP server on 127.0.0.1: paging, the task calls, and the project ID lookup."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.client import MAX_PAGES_WITHOUT_NEW_TASKS, PAGE_SIZE, DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError, NotFoundError, TransportError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.scripted_server import Reply

AK = "AKCLIENTTEST00000000"
SK = "SKCLIENTTEST0000000000000000000000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "11111111-2222-3333-4444-555555555555"
REGION = "ap-southeast-1"
TASKS_PATH = "/v2/%s/instances/%s/tasks" % (PROJECT, INSTANCE)


def make_client(server, **options):
    params = {"access_key": AK, "secret_key": SK, "endpoint": server.url, "project_id": PROJECT,
              "request_timeout": 5.0, "max_retries": 0, "validate_certs": True}
    params.update(options)
    return DmsClient(connection_settings(params))


def api_task(number, status="SUCCESS"):
    return {
        "id": "task-%05d" % number, "name": "kafkaConfigModify", "user_name": "dms_test", "user_id": "u1",
        "params": json.dumps({"number": number}), "status": status,
        "created_at": "2024-01-31T08:00:00.000Z", "updated_at": "2024-01-31T08:00:05.000Z",
    }


def serve_list(server, tasks, task_count=True):
    """Answer list calls from ``tasks`` (a list the test may change between pages), as the API pages it."""
    def respond(request):
        query = dict(request.query)
        first = int(query["start"]) - 1
        body = {"tasks": tasks[first:first + int(query["limit"])]}
        if task_count:
            body["task_count"] = str(len(tasks))
        return Reply(200, body, {"X-Request-Id": "req-list"})
    server.respond = respond


def list_queries(server):
    return [dict(request.query) for request in server.requests if request.path == TASKS_PATH]


def dated_task(number):
    """A task created ``number`` minutes after a fixed moment."""
    task = api_task(number)
    task["created_at"] = "2024-01-31T%02d:%02d:00.000Z" % divmod(number, 60)
    return task


# ------------------------------------------------------------------------------------------------
# Paging


def test_pages_by_start_and_limit_until_a_short_page(server):
    serve_list(server, [api_task(n) for n in range(250)])
    tasks = list(make_client(server).list_tasks(INSTANCE))
    assert [task["id"] for task in tasks] == ["task-%05d" % n for n in range(250)]
    assert [(query["start"], query["limit"]) for query in list_queries(server)] == [("1", "100"), ("101", "100"), ("201", "100")]
    assert PAGE_SIZE == 100
    assert all(request.method == "GET" and request.path == TASKS_PATH for request in server.requests)


def test_list_requests_are_signed_and_carry_the_project(server):
    serve_list(server, [api_task(n) for n in range(3)])
    list(make_client(server).list_tasks(INSTANCE))
    headers = server.requests[0].headers
    assert headers["X-Project-Id"] == PROJECT
    assert headers["Authorization"].startswith("SDK-HMAC-SHA256 Access=%s, SignedHeaders=" % AK)
    assert "x-project-id" in headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")


def test_token_auth_sends_the_token(server):
    serve_list(server, [])
    list(make_client(server, access_key=None, secret_key=None, auth_token="tok-123").list_tasks(INSTANCE))
    headers = server.requests[0].headers
    assert headers["X-Auth-Token"] == "tok-123"
    assert headers.get("Authorization") is None


def test_tasks_come_normalised(server):
    serve_list(server, [api_task(7)])
    (task,) = make_client(server).list_tasks(INSTANCE)
    assert task["params"] == {"number": 7}
    assert task["params_raw"] == '{"number": 7}'


def test_stops_once_task_count_tasks_are_held(server):
    serve_list(server, [api_task(n) for n in range(200)])
    assert len(list(make_client(server).list_tasks(INSTANCE))) == 200
    assert len(server.requests) == 2  # no third request for an empty page


def test_without_task_count_an_exact_multiple_costs_one_empty_page(server):
    serve_list(server, [api_task(n) for n in range(200)], task_count=False)
    assert len(list(make_client(server).list_tasks(INSTANCE))) == 200
    assert len(server.requests) == 3


def test_shifted_list_is_deduplicated_and_nothing_is_missed(server):
    tasks = [api_task(n) for n in range(250)]
    serve_list(server, tasks)
    listing = make_client(server).list_tasks(INSTANCE)
    first_page = list(islice(listing, 100))
    tasks[0:0] = [api_task(1000 + n, "EXECUTING") for n in range(3)]  # new tasks at the head between pages
    rest = list(listing)
    ids = [task["id"] for task in first_page + rest]
    assert len(ids) == len(set(ids))
    assert set("task-%05d" % n for n in range(250)) <= set(ids)
    assert [query["start"] for query in list_queries(server)] == ["1", "101", "201"]


def test_same_full_page_forever_does_not_loop(server):
    page = [api_task(n) for n in range(100)]

    def respond(request):
        if len(server.requests) > 10:  # a client that loops gets an error (418, not retried) instead of hanging
            return Reply(418, {"error_msg": "looping"})
        return Reply(200, {"task_count": "100000", "tasks": page})
    server.respond = respond
    tasks = list(islice(make_client(server).list_tasks(INSTANCE), 1000))
    assert len(tasks) == 100
    assert 1 <= MAX_PAGES_WITHOUT_NEW_TASKS <= 3
    assert len(server.requests) == 1 + MAX_PAGES_WITHOUT_NEW_TASKS  # a bounded number of pages that add nothing


def test_a_full_page_of_insertions_between_pages_loses_nothing(server):
    tasks = [api_task(n) for n in range(250)]
    serve_list(server, tasks)
    listing = make_client(server).list_tasks(INSTANCE)
    first_page = list(islice(listing, 100))
    tasks[0:0] = [api_task(1000 + n, "EXECUTING") for n in range(100)]  # page 2 now repeats page 1 exactly
    ids = [task["id"] for task in first_page + list(listing)]
    assert len(ids) == len(set(ids))
    assert set("task-%05d" % n for n in range(250)) <= set(ids)


def test_paging_is_lazy(server):
    serve_list(server, [api_task(n) for n in range(250)])
    listing = make_client(server).list_tasks(INSTANCE)
    assert len(server.requests) == 0
    assert len(list(islice(listing, 5))) == 5
    assert len(server.requests) == 1
    assert len(list(islice(listing, 96))) == 96  # the 101st task needs the second page
    assert len(server.requests) == 2


def test_time_window_is_sent_in_utc_api_form(server):
    serve_list(server, [])
    begin = datetime(2024, 1, 31, 9, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    end = datetime(2024, 2, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)
    list(make_client(server).list_tasks(INSTANCE, begin_time=begin, end_time=end))
    (query,) = list_queries(server)
    assert (query["begin_time"], query["end_time"]) == ("20240131010000", "20240201235959")


def test_no_time_window_sends_none(server):
    serve_list(server, [])
    list(make_client(server).list_tasks(INSTANCE))
    assert set(list_queries(server)[0]) == {"start", "limit"}


# ------------------------------------------------------------------------------------------------
# One task


def test_get_task(server):
    server.replies.append(Reply(200, {"task_count": "1", "tasks": [api_task(5, "EXECUTING")]}))
    task = make_client(server).get_task(INSTANCE, "task-00005")
    assert (task["id"], task["status"], task["params"]) == ("task-00005", "EXECUTING", {"number": 5})
    assert [(r.method, r.path) for r in server.requests] == [("GET", TASKS_PATH + "/task-00005")]


def test_task_id_is_one_path_segment(server):
    server.replies.append(Reply(200, {"tasks": [api_task(5)]}))
    make_client(server).get_task(INSTANCE, "../a b")
    assert server.requests[0].path == TASKS_PATH + "/..%2Fa%20b"


@pytest.mark.parametrize("reply", [
    Reply(404, {"error_code": "DMS.00404030", "error_msg": "task not found"}),
    Reply(404, ""),
    Reply(200, {"task_count": "0", "tasks": []}),
], ids=["404 other code", "404 no body", "empty envelope"])
def test_get_task_missing_is_none(server, reply):
    server.replies.append(reply)
    assert make_client(server).get_task(INSTANCE, "nope") is None


def test_get_task_of_a_missing_instance_raises(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022", "error_msg": "instance not found"}, {"X-Request-Id": "r-1"}))
    with pytest.raises(NotFoundError) as caught:
        make_client(server).get_task(INSTANCE, "t1")
    assert (caught.value.error_code, caught.value.request_id) == ("DMS.00404022", "r-1")


def test_get_task_progress(server):
    progress = {"progress_percentage": 40, "remain_time": 12, "step_list": [{"name": "s1", "statue": "EXECUTING"}]}
    server.replies.extend([Reply(200, progress), Reply(404, {"error_code": "DMS.00404030"})])
    client = make_client(server)
    assert client.get_task_progress(INSTANCE, "t1") == progress
    assert client.get_task_progress(INSTANCE, "t1") is None
    assert server.paths() == [TASKS_PATH + "/t1/progress"] * 2


def test_get_task_progress_of_a_missing_instance_raises(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022"}))
    with pytest.raises(NotFoundError):
        make_client(server).get_task_progress(INSTANCE, "t1")


def test_delete_task(server):
    server.replies.append(Reply(204))
    assert make_client(server).delete_task(INSTANCE, "t1") is None
    assert [(r.method, r.path) for r in server.requests] == [("DELETE", TASKS_PATH + "/t1")]


def test_delete_task_error_is_raised(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022"}))
    with pytest.raises(NotFoundError):
        make_client(server).delete_task(INSTANCE, "t1")


# ------------------------------------------------------------------------------------------------
# Project ID


def serve_iam_and_dms(server, projects):
    def respond(request):
        if request.path == "/v3/projects":
            return Reply(200, {"projects": projects})
        if request.path.endswith("/tasks"):
            return Reply(200, {"task_count": "1", "tasks": [api_task(1)]})
        return Reply(200, {"tasks": [api_task(1)]})
    server.respond = respond


def test_project_id_is_looked_up_once_per_client(server):
    serve_iam_and_dms(server, [{"id": "resolved-project", "name": REGION}])
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url)
    list(client.list_tasks(INSTANCE))
    client.get_task(INSTANCE, "task-00001")
    iam = [request for request in server.requests if request.path == "/v3/projects"]
    assert len(iam) == 1
    assert iam[0].query == [("name", REGION)]
    assert iam[0].headers["Authorization"].startswith("SDK-HMAC-SHA256 ")  # IAM is signed too
    dms = [request for request in server.requests if request.path != "/v3/projects"]
    assert [request.path for request in dms] == [
        "/v2/resolved-project/instances/%s/tasks" % INSTANCE, "/v2/resolved-project/instances/%s/tasks/task-00001" % INSTANCE]
    assert all(request.headers["X-Project-Id"] == "resolved-project" for request in dms)
    assert client.project_id() == "resolved-project"
    assert len(server.requests) == 3


def test_project_lookup_keeps_only_the_region_itself(server):
    serve_iam_and_dms(server, [{"id": "sub", "name": REGION + "_sub"}, {"id": "main", "name": REGION}])
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url)
    assert client.project_id() == "main"


@pytest.mark.parametrize("projects", [
    [],
    [{"id": "a", "name": REGION}, {"id": "b", "name": REGION}],
], ids=["none", "two"])
def test_project_lookup_needs_exactly_one_match(server, projects):
    serve_iam_and_dms(server, projects)
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url)
    with pytest.raises(ConfigurationError) as caught:
        client.get_task(INSTANCE, "t1")
    message = str(caught.value)
    assert REGION in message and "project_id" in message and "%d project" % len(projects) in message
    assert server.paths() == ["/v3/projects"]  # nothing sent to DMS without a project


def test_given_project_id_means_no_iam_call(server):
    serve_iam_and_dms(server, [{"id": "other", "name": REGION}])
    client = make_client(server, region=REGION, iam_endpoint=server.url)
    list(client.list_tasks(INSTANCE))
    client.get_task(INSTANCE, "task-00001")
    assert "/v3/projects" not in server.paths()
    assert all(request.headers["X-Project-Id"] == PROJECT for request in server.requests)


def test_calls_counts_every_request(server):
    serve_iam_and_dms(server, [{"id": "p", "name": REGION}])
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url)
    client.get_task(INSTANCE, "t1")
    assert client.calls == len(server.requests) == 2


# ------------------------------------------------------------------------------------------------
# Order and malformed answers


def test_newest_first_answers_are_paged_lazily(server):
    serve_list(server, [dated_task(n) for n in reversed(range(250))])
    listing = make_client(server).list_tasks(INSTANCE)
    assert [task["id"] for task in islice(listing, 3)] == ["task-00249", "task-00248", "task-00247"]
    assert len(server.requests) == 1


def test_an_oldest_first_api_is_read_whole_and_handed_out_newest_first(server):
    serve_list(server, [dated_task(n) for n in range(250)])
    tasks = list(islice(make_client(server).list_tasks(INSTANCE), 5))
    assert [task["id"] for task in tasks] == ["task-%05d" % n for n in (249, 248, 247, 246, 245)]
    assert len(server.requests) == 3


@pytest.mark.parametrize("body", [{"tasks": "oops"}, {"tasks": [1, 2]}, {"tasks": {"id": "x"}}])
def test_a_malformed_task_list_is_an_error_not_a_crash(server, body):
    server.respond = lambda request: Reply(200, body)
    with pytest.raises(TransportError) as caught:
        list(make_client(server).list_tasks(INSTANCE))
    assert "tasks" in str(caught.value)


def test_iam_projects_without_an_id_do_not_count(server):
    server.respond = lambda request: Reply(200, {"projects": [{"name": REGION}]})
    with pytest.raises(ConfigurationError) as caught:
        make_client(server, project_id=None, region=REGION, iam_endpoint=server.url).project_id()
    assert "could not find the project ID" in str(caught.value) and len(server.requests) == 1
