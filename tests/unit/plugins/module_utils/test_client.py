# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DmsClient against a real HTTP server on 127.0.0.1: paging, the task calls, and the project ID lookup."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from itertools import islice
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from ansible_collections.hwcloud.dms.plugins.module_utils.api_path import api_path
from ansible_collections.hwcloud.dms.plugins.module_utils.client import (
    MAX_PAGES_WITHOUT_NEW_TASKS, PAGE_SIZE, PAGES_IN_FLIGHT, PROGRESS_TIMEOUT, SERVER_WINDOW_MARGIN, DmsClient, make_auth,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, ConfigurationError, EndpointNotFoundError, IncompleteListingError, InstanceNotFoundError,
    MalformedAnswerError, MalformedIdError, RetriesExhausted, UnsafeToRetryError,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import THROTTLED_MIN_PAUSE, HttpClient, unreachable_hint
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.tests.unit.fakes import FakeClock
from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.scripted_server import Reply

AK = "AKCLIENTTEST00000000"
SK = "SKCLIENTTEST0000000000000000000000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "11111111-2222-3333-4444-555555555555"
REGION = "ap-southeast-1"
TASKS_PATH = "/v2/%s/instances/%s/tasks" % (PROJECT, INSTANCE)


class SpySession(requests.Session):
    """A real session that also records the keyword arguments each request was sent with."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        self.sent.append(kwargs)
        return super().send(request, **kwargs)


def client_settings(server, **options):
    params = {"access_key": AK, "secret_key": SK, "endpoint": server.url, "project_id": PROJECT,
              "request_timeout": 5.0, "max_retries": 0, "validate_certs": True}
    params.update(options)
    return connection_settings(params)


def make_client(server, clock=None, session=None, **options):
    """A client on a fake clock (``clock``, or one of its own): its retries only record their pauses instead of sleeping."""
    settings = client_settings(server, **options)
    http = HttpClient(make_auth(settings), request_timeout=settings.request_timeout, max_retries=settings.max_retries,
                      validate_certs=settings.validate_certs, ca_path=settings.ca_path, session=session, clock=clock or FakeClock())
    return DmsClient(settings, http=http)


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
    listing = iter(make_client(server).list_tasks(INSTANCE))
    first_page = list(islice(listing, 100))
    tasks[0:0] = [api_task(1000 + n, "EXECUTING") for n in range(3)]  # new tasks at the head between pages
    rest = list(listing)
    ids = [task["id"] for task in first_page + rest]
    assert len(ids) == len(set(ids))
    assert set("task-%05d" % n for n in range(250)) <= set(ids)
    assert [query["start"] for query in list_queries(server)] == ["1", "101", "201"]


def test_a_server_ignoring_start_does_not_loop_and_leaves_the_listing_incomplete(server):
    page = [api_task(n) for n in range(100)]

    def respond(request):
        if len(server.requests) > 10:  # a client that loops gets an error (418, not retried) instead of hanging
            return Reply(418, {"error_msg": "looping"})
        return Reply(200, {"task_count": "250", "tasks": page})  # page 1, whatever start asks for
    server.respond = respond
    listing = make_client(server).list_tasks(INSTANCE)
    tasks = list(islice(listing, 1000))
    assert len(tasks) == 100
    assert 1 <= MAX_PAGES_WITHOUT_NEW_TASKS <= 3
    assert len(server.requests) == 1 + MAX_PAGES_WITHOUT_NEW_TASKS  # a bounded number of pages that add nothing
    assert (listing.held, listing.counted, listing.complete) == (100, 250, False)
    with pytest.raises(IncompleteListingError) as caught:
        listing.require_complete()
    assert (caught.value.held, caught.value.counted) == (100, 250)


def test_a_listing_read_to_its_end_is_complete(server):
    serve_list(server, [api_task(n) for n in range(250)])
    listing = make_client(server).list_tasks(INSTANCE)
    assert listing.complete is None  # nothing read yet proves nothing
    assert len(list(listing)) == 250
    assert (listing.held, listing.counted, listing.complete) == (250, 250, True)
    listing.require_complete()


def test_a_listing_without_task_count_is_complete_on_a_short_page(server):
    serve_list(server, [api_task(n) for n in range(150)], task_count=False)
    listing = make_client(server).list_tasks(INSTANCE)
    assert len(list(listing)) == 150
    assert (listing.held, listing.counted, listing.complete) == (150, None, True)


def test_a_listing_stopped_early_proves_nothing(server):
    serve_list(server, [api_task(n) for n in range(250)])
    listing = make_client(server).list_tasks(INSTANCE)
    assert len(list(islice(listing, 10))) == 10
    assert listing.complete is None
    listing.require_complete()


@pytest.mark.parametrize("served, counted", [(40, 41), (99, 250), (0, 3)])
def test_a_short_page_below_task_count_leaves_the_listing_incomplete(server, served, counted):
    server.respond = lambda request: Reply(200, {"task_count": str(counted), "tasks": [api_task(n) for n in range(served)]})
    listing = make_client(server).list_tasks(INSTANCE)
    assert len(list(listing)) == served
    assert (listing.held, listing.counted, listing.complete) == (served, counted, False)
    with pytest.raises(IncompleteListingError) as caught:
        listing.require_complete()
    assert (caught.value.held, caught.value.counted) == (served, counted)
    assert "%d of the %d" % (served, counted) in str(caught.value)
    assert len(server.requests) == 1


def test_tasks_deleted_while_paging_make_the_listing_say_it_may_miss_some(server):
    """A deletion pulls a later task onto a page already read; paging cannot tell which, so it says so."""
    tasks = [api_task(n) for n in range(150)]
    serve_list(server, tasks)
    listing = make_client(server).list_tasks(INSTANCE)
    iterator = iter(listing)
    assert len(list(islice(iterator, 100))) == 100
    del tasks[50]  # task 100 moves onto the first page, which was read already
    assert len(list(iterator)) == 49
    assert (listing.held, listing.counted, listing.complete) == (149, 150, False)


@pytest.mark.parametrize("created, held", [
    (100, 250),  # page 2 now repeats page 1 exactly
    (200, 350),  # page 2 is all new tasks, page 3 repeats page 1: counting the new ones read, it would stop there
], ids=["a page", "two pages"])
def test_insertions_between_pages_lose_nothing_and_the_listing_is_complete(server, created, held):
    """Tasks created while paging are not part of the listing: every task that existed when it began is read."""
    tasks = [api_task(n) for n in range(250)]
    serve_list(server, tasks)
    listing = make_client(server).list_tasks(INSTANCE)
    iterator = iter(listing)
    first_page = list(islice(iterator, 100))
    tasks[0:0] = [api_task(1000 + n, "EXECUTING") for n in range(created)]
    ids = [task["id"] for task in first_page + list(iterator)]
    assert len(ids) == len(set(ids))
    assert set("task-%05d" % n for n in range(250)) <= set(ids)
    assert (listing.held, listing.counted, listing.complete) == (held, 250, True)


def test_paging_is_lazy(server):
    serve_list(server, [api_task(n) for n in range(250)])
    listing = iter(make_client(server).list_tasks(INSTANCE))
    assert len(server.requests) == 0
    assert len(list(islice(listing, 5))) == 5
    assert len(server.requests) == 1
    assert len(list(islice(listing, 96))) == 96  # the 101st task needs the second page
    assert len(server.requests) == 2


def test_time_window_is_sent_in_utc_api_form_widened_by_a_day_each_side(server):
    # The API documents neither the time zone nor whether the bounds are inclusive: the caller filters exactly.
    assert SERVER_WINDOW_MARGIN == timedelta(days=1)
    serve_list(server, [])
    begin = datetime(2024, 1, 31, 9, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    end = datetime(2024, 2, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)
    list(make_client(server).list_tasks(INSTANCE, begin_time=begin, end_time=end))
    (query,) = list_queries(server)
    assert (query["begin_time"], query["end_time"]) == ("20240130010000", "20240202235959")


def test_a_naive_time_is_utc(server):
    serve_list(server, [])
    list(make_client(server).list_tasks(INSTANCE, begin_time=datetime(2024, 3, 1, 12, 0, 0)))
    assert list_queries(server)[0]["begin_time"] == "20240229120000"


@pytest.mark.parametrize("begin, end, sent", [
    (None, datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc), (None, "99991231235959")),
    (None, datetime(9999, 12, 31, 0, 0, 0, tzinfo=timezone.utc), (None, "99991231235959")),
    (None, datetime(9999, 12, 31, 23, 0, 0, tzinfo=timezone(timedelta(hours=-5))), (None, "99991231235959")),
    (datetime(1, 1, 1, tzinfo=timezone.utc), None, ("10000101000000", None)),
    (datetime(1000, 1, 1, 12, 0, 0, tzinfo=timezone.utc), None, ("10000101000000", None)),
    (datetime(1000, 1, 2, 12, 0, 0, tzinfo=timezone.utc), None, ("10000101120000", None)),
], ids=["end of 9999", "last day of 9999", "9999 west of UTC", "year 1", "first day of 1000", "second day of 1000"])
def test_a_widened_window_stays_within_the_years_the_api_can_write(server, begin, end, sent):
    serve_list(server, [])
    list(make_client(server).list_tasks(INSTANCE, begin_time=begin, end_time=end))
    (query,) = list_queries(server)
    assert (query.get("begin_time"), query.get("end_time")) == sent


def created_minutes_ago(number, now):
    task = api_task(number)
    task["created_at"] = (now - timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return task


def test_tasks_created_since_stops_at_the_first_older_task(server):
    now = datetime(2024, 1, 31, 12, 0, 0, tzinfo=timezone.utc)
    serve_list(server, [created_minutes_ago(n, now) for n in range(250)])  # newest first
    moment = now - timedelta(minutes=5, seconds=30)
    tasks = list(make_client(server).tasks_created_since(INSTANCE, moment))
    assert [task["id"] for task in tasks] == ["task-%05d" % n for n in range(6)]
    (query,) = list_queries(server)  # one page: the older tasks are never fetched
    assert query["begin_time"] == "20240130115430"


def test_tasks_created_since_compares_to_the_second(server):
    now = datetime(2024, 1, 31, 12, 0, 0, tzinfo=timezone.utc)
    serve_list(server, [created_minutes_ago(n, now) for n in range(3)])
    tasks = list(make_client(server).tasks_created_since(INSTANCE, now - timedelta(minutes=1) + timedelta(microseconds=500000)))
    assert [task["id"] for task in tasks] == ["task-00000", "task-00001"]


def test_tasks_created_since_an_incomplete_listing_raises(server):
    now = datetime(2024, 1, 31, 12, 0, 0, tzinfo=timezone.utc)
    # Every task is recent, but the page is short of what the API counts: the tasks not sent may be recent too.
    server.respond = lambda request: Reply(200, {"task_count": "5", "tasks": [created_minutes_ago(n, now) for n in range(3)]})
    read = []
    with pytest.raises(IncompleteListingError) as caught:
        for task in make_client(server).tasks_created_since(INSTANCE, now - timedelta(hours=1)):
            read.append(task["id"])
    assert read == ["task-00000", "task-00001", "task-00002"]
    assert (caught.value.held, caught.value.counted) == (3, 5)


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
    task = dict(api_task(5), id="../a b")
    server.replies.append(Reply(200, {"tasks": [task]}))
    assert make_client(server).get_task(INSTANCE, "../a b")["id"] == "../a b"
    assert server.requests[0].path == TASKS_PATH + "/..%2Fa%20b"


@pytest.mark.parametrize("dots", [".", ".."])
def test_dot_segments_are_refused_before_any_request(server, dots):
    client = make_client(server)
    for call in (client.get_task, client.delete_task, client.get_task_progress):
        with pytest.raises(ConfigurationError) as caught:
            call(INSTANCE, dots)
        assert "'%s'" % dots in str(caught.value)
    with pytest.raises(ConfigurationError):
        list(client.list_tasks(dots))
    assert server.requests == []


def test_get_task_missing_is_none(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404030", "error_msg": "task not found"}))
    assert make_client(server).get_task(INSTANCE, "nope") is None
    assert len(server.requests) == 1


@pytest.mark.parametrize("reply", [Reply(404, ""), Reply(404, "<html>404 Not Found</html>"), Reply(404, {"error_code": "APIG.9999"})],
                         ids=["404 no body", "404 proxy page", "404 another service"])
def test_a_404_nobody_in_dms_vouches_for_is_never_none(server, reply):
    server.respond = lambda request: reply
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server, max_retries=2).get_task(INSTANCE, "nope")
    assert type(caught.value.last_error) is ApiError  # pylint: disable=unidiomatic-typecheck
    assert len(server.requests) == 3


def test_get_task_of_a_missing_instance_raises(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022", "error_msg": "instance not found"}, {"X-Request-Id": "r-1"}))
    with pytest.raises(InstanceNotFoundError) as caught:
        make_client(server).get_task(INSTANCE, "t1")
    assert (caught.value.error_code, caught.value.request_id) == ("DMS.00404022", "r-1")


@pytest.mark.parametrize("code", ["APIG.0101", "DMS.00404001", "DMS.10240406"])
def test_get_task_at_a_wrong_url_raises(server, code):
    server.replies.extend([Reply(404, {"error_code": code, "error_msg": "no such API"}), Reply(200, {"tasks": [api_task(1)]})])
    with pytest.raises(EndpointNotFoundError) as caught:
        make_client(server, max_retries=3).get_task(INSTANCE, "task-00001")
    assert "127.0.0.1" in str(caught.value) and TASKS_PATH + "/task-00001" in str(caught.value)
    assert "check endpoint and region" in str(caught.value)
    assert len(server.requests) == 1


@pytest.mark.parametrize("code, option, call", [
    ("DMS.00400070", "task_id", "get_task"),
    ("DMS.00400070", "task_id", "delete_task"),
    ("DMS.00400070", "task_id", "get_task_progress"),
    ("DMS.00400030", "instance_id", "get_task"),
])
def test_an_id_refused_as_malformed_is_named_with_its_value(server, code, option, call):
    server.replies.append(Reply(400, {"error_code": code, "error_msg": "Invalid parameter"}, {"X-Request-Id": "r-id"}))
    with pytest.raises(MalformedIdError) as caught:
        getattr(make_client(server, max_retries=3), call)(INSTANCE, "no such-id")
    error = caught.value
    assert error.option == option
    assert error.value == ("no such-id" if option == "task_id" else INSTANCE)
    message = str(error)
    assert message.startswith("%s '%s' is malformed according to the API" % (option, error.value))
    assert code in message and "r-id" in message
    assert len(server.requests) == 1


def test_get_task_progress(server):
    progress = {"progress_percentage": 40, "remain_time": 12, "step_list": [{"name": "s1", "statue": "EXECUTING"}]}
    server.replies.extend([Reply(200, progress), Reply(404, {"error_code": "DMS.00404030"})])
    client = make_client(server)
    assert client.get_task_progress(INSTANCE, "t1") == progress
    assert client.get_task_progress(INSTANCE, "t1") is None
    assert server.paths() == [TASKS_PATH + "/t1/progress"] * 2


def test_get_task_progress_of_a_missing_instance_raises(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022"}))
    with pytest.raises(InstanceNotFoundError):
        make_client(server).get_task_progress(INSTANCE, "t1")


@pytest.mark.parametrize("reply", [
    Reply(503, ""), Reply(429, {"error_code": "APIG.0308"}), Reply(404, {"error_code": "DMS.10240407"}), Reply(404, ""),
    Reply(200, {"step_list": "not a list"}), Reply(200, ""),
], ids=["503", "429", "flow control", "404 no body", "malformed", "empty"])
def test_get_task_progress_is_one_attempt(server, reply):
    server.replies.extend([reply, Reply(200, {"progress_percentage": 50})])
    clock = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server, clock=clock, max_retries=5).get_task_progress(INSTANCE, "t1")
    assert caught.value.attempts == 1
    assert len(server.requests) == 1 and clock.sleeps == []


def test_get_task_progress_has_a_short_timeout(server):
    session = SpySession()
    server.replies.extend([Reply(200, {"progress_percentage": 50}), Reply(200, {"progress_percentage": 60})])
    make_client(server, session=session, request_timeout=30.0).get_task_progress(INSTANCE, "t1")
    make_client(server, session=session, request_timeout=2.0).get_task_progress(INSTANCE, "t1")
    assert PROGRESS_TIMEOUT < 30.0
    assert [sent["timeout"] for sent in session.sent] == [PROGRESS_TIMEOUT, 2.0]


@pytest.mark.parametrize("code", ["APIG.0101", "DMS.00404001", "DMS.10240406"])
def test_get_task_progress_of_an_engine_without_progress_is_none(server, code):
    server.replies.append(Reply(404, {"error_code": code, "error_msg": "The API does not exist"}))
    assert make_client(server).get_task_progress(INSTANCE, "t1") is None
    assert len(server.requests) == 1


def test_delete_task(server):
    server.replies.append(Reply(204))
    assert make_client(server).delete_task(INSTANCE, "t1") is True
    assert [(r.method, r.path) for r in server.requests] == [("DELETE", TASKS_PATH + "/t1")]


def test_delete_of_a_task_dms_does_not_have_is_no_change(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404030", "error_msg": "The task does not exist."}))
    assert make_client(server).delete_task(INSTANCE, "t1") is False


def test_delete_sent_again_after_throttling_finds_the_task_gone(server):
    server.replies.extend([Reply(429, {"error_code": "APIG.0308"}), Reply(404, {"error_code": "DMS.00404030"})])
    assert make_client(server, max_retries=2).delete_task(INSTANCE, "t1") is False
    assert len(server.requests) == 2


def test_delete_is_not_sent_again_after_a_server_error(server):
    server.replies.extend([Reply(503, {"error_code": "APIG.0202"}), Reply(204)])
    with pytest.raises(UnsafeToRetryError):
        make_client(server, max_retries=2).delete_task(INSTANCE, "t1")
    assert len(server.requests) == 1


@pytest.mark.parametrize("reply, error_class", [
    (Reply(404, {"error_code": "DMS.00404022"}), InstanceNotFoundError),
    (Reply(404, {"error_code": "APIG.0101"}), EndpointNotFoundError),
    (Reply(403, {"error_code": "APIG.0302"}), AuthenticationError),
])
def test_delete_task_error_is_raised(server, reply, error_class):
    server.replies.append(reply)
    with pytest.raises(error_class):
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


def test_no_project_of_the_region_names_the_likely_fixes(server):
    serve_iam_and_dms(server, [{"id": "sub", "name": "xx-west-9_sub"}])
    client = make_client(server, project_id=None, region="xx-west-9", iam_endpoint=server.url)
    with pytest.raises(ConfigurationError) as caught:
        client.project_id()
    assert str(caught.value) == (
        "could not find the project ID of region 'xx-west-9' through IAM at %s (0 projects matched): check that region 'xx-west-9' is"
        " spelled right; for another cloud set cloud, or endpoint and iam_endpoint; or set project_id" % server.url)


def test_two_projects_of_the_region_ask_for_project_id_only(server):
    serve_iam_and_dms(server, [{"id": "a", "name": REGION}, {"id": "b", "name": REGION}])
    with pytest.raises(ConfigurationError) as caught:
        make_client(server, project_id=None, region=REGION, iam_endpoint=server.url).project_id()
    assert str(caught.value) == (
        "could not find the project ID of region '%s' through IAM at %s (2 projects matched): set project_id" % (REGION, server.url))


def iam_fixes(iam_origin, region):
    return ("no HTTP answer came from the IAM endpoint %s, asked for the project ID of region '%s': check that region '%s' is spelled right;"
            " for another cloud set cloud, or endpoint and iam_endpoint; or set project_id; check also the network access from where this"
            " task runs (proxy settings HTTP_PROXY, HTTPS_PROXY, NO_PROXY; firewall)" % (iam_origin, region, region))


def test_an_iam_host_that_does_not_resolve_names_the_region_used_and_the_likely_fixes(server, monkeypatch):
    """A misspelt region builds an IAM host that does not exist: the message says so, not only "set project_id"."""
    resolve = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "iam.xx-west-9.myhuaweicloud.com":  # no real DNS lookup: it may be slow or absent here
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    clock = FakeClock()
    client = make_client(server, clock=clock, project_id=None, region="xx-west-9", max_retries=2)
    with pytest.raises(RetriesExhausted) as caught:
        client.get_task(INSTANCE, "task-00001")
    error = caught.value
    assert error.attempts == 3 and len(clock.sleeps) == 2 and "Name or service not known" in str(error.last_error)
    assert str(error) == "gave up after 3 attempts: %s; %s" % (error.last_error, iam_fixes("https://iam.xx-west-9.myhuaweicloud.com", "xx-west-9"))
    assert server.requests == []  # nothing sent to DMS without a project


def test_an_iam_endpoint_that_never_answers_names_the_likely_fixes(server):
    with socket.socket() as probe:  # a port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        iam_endpoint = "http://127.0.0.1:%d" % probe.getsockname()[1]
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server, project_id=None, region=REGION, iam_endpoint=iam_endpoint + "/iam", max_retries=1).project_id()
    assert "Connection refused" in str(caught.value.last_error)
    assert caught.value.hint == iam_fixes(iam_endpoint, REGION)
    assert server.requests == []


def test_an_iam_that_answers_with_errors_gets_no_hint(server):
    server.respond = lambda request: Reply(503, {"error": {"code": 503, "message": "busy"}}, {"X-IAM-Trace-Id": "iam-503"})
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server, project_id=None, region=REGION, iam_endpoint=server.url, max_retries=1).project_id()
    assert caught.value.hint is None and str(caught.value) == "gave up after 2 attempts: %s" % caught.value.last_error


def test_the_dms_endpoint_that_never_answers_gets_the_general_hint(server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = "http://127.0.0.1:%d" % probe.getsockname()[1]
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server, endpoint=endpoint, max_retries=1).get_task(INSTANCE, "task-00001")
    assert caught.value.hint == unreachable_hint(endpoint)


def test_on_retry_goes_to_the_http_client_the_client_builds(server):
    notes = []
    # Retry-After: 0, so that the client's own (real) clock pauses for nothing.
    server.replies.extend([Reply(503, {"error_code": "DMS.00500000", "error_msg": "busy"}, {"Retry-After": "0"}),
                           Reply(200, {"tasks": [api_task(1)]})])
    client = DmsClient(client_settings(server, access_key=None, secret_key=None, auth_token="ATCLIENT-canary", max_retries=1),
                       on_retry=notes.append)
    assert client.get_task(INSTANCE, "task-00001")["id"] == "task-00001"
    assert notes == ["GET %s%s/task-00001: attempt 1 of 2 failed (HTTP 503 DMS.00500000); trying again in 0.0 s" % (server.url, TASKS_PATH)]


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
    client.get_task(INSTANCE, "task-00001")
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


MALFORMED_LISTS = {
    "empty body": "",
    "empty object": {},
    "null tasks": {"tasks": None},
    "tasks a string": {"tasks": "oops"},
    "tasks an object": {"tasks": {"id": "x"}},
    "tasks of numbers": {"tasks": [1, 2]},
    "a task not an object": {"task_count": "2", "tasks": [api_task(1), "task-00002"]},
    "a task without id": {"task_count": "2", "tasks": [api_task(1), dict(api_task(2), id=None)]},
    "a task with an empty id": {"tasks": [dict(api_task(1), id=" ")]},
    "a task with a numeric id": {"tasks": [dict(api_task(1), id=7)]},
    "a task without status": {"tasks": [dict(api_task(1), status="")]},
    "task_count not a number": {"task_count": "many", "tasks": [api_task(1)]},
    "task_count negative": {"task_count": "-1", "tasks": []},
    "json list": [api_task(1)],
    "html": "<html>maintenance</html>",
}


@pytest.mark.parametrize("body", MALFORMED_LISTS.values(), ids=list(MALFORMED_LISTS))
def test_a_malformed_task_list_is_retried_then_an_error_never_no_tasks(server, body):
    server.respond = lambda request: Reply(200, body, {"X-Request-Id": "r-bad"})
    clock = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        list(make_client(server, clock=clock, max_retries=2).list_tasks(INSTANCE))
    error = caught.value.last_error
    assert isinstance(error, MalformedAnswerError)
    assert TASKS_PATH in str(error) and "r-bad" in str(error)
    assert len(server.requests) == 3 and len(clock.sleeps) == 2


def test_a_malformed_page_then_a_good_one_is_read(server):
    server.replies.extend([Reply(200, {}), Reply(200, ""), Reply(200, {"task_count": "1", "tasks": [api_task(1)]})])
    tasks = list(make_client(server, max_retries=2).list_tasks(INSTANCE))
    assert [task["id"] for task in tasks] == ["task-00001"]


def test_a_malformed_second_page_is_an_error_too(server):
    server.replies.extend([Reply(200, {"task_count": "150", "tasks": [api_task(n) for n in range(100)]}),
                           Reply(200, {"task_count": "150"})])
    with pytest.raises(RetriesExhausted) as caught:
        list(make_client(server).list_tasks(INSTANCE))
    assert isinstance(caught.value.last_error, MalformedAnswerError)
    assert [query["start"] for query in list_queries(server)] == ["1", "101"]


# "show one" reads only the task: its task_count is not checked.
MALFORMED_SHOWS = dict(((case, body) for case, body in MALFORMED_LISTS.items() if not case.startswith("task_count")), **{
    "no task": {"task_count": "0", "tasks": []},
    "another task": {"task_count": "1", "tasks": [api_task(2)]},
    "two tasks": {"task_count": "2", "tasks": [api_task(1), api_task(1)]},
})


@pytest.mark.parametrize("body", MALFORMED_SHOWS.values(), ids=list(MALFORMED_SHOWS))
def test_a_malformed_show_answer_is_retried_then_an_error_never_none(server, body):
    server.respond = lambda request: Reply(200, body, {"X-Request-Id": "r-bad"})
    clock = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server, clock=clock, max_retries=2).get_task(INSTANCE, "task-00001")
    error = caught.value.last_error
    assert isinstance(error, MalformedAnswerError)
    assert TASKS_PATH + "/task-00001" in str(error) and "r-bad" in str(error)
    assert len(server.requests) == 3 and len(clock.sleeps) == 2


def test_a_show_answer_naming_another_task_says_so(server):
    server.replies.append(Reply(200, {"tasks": [api_task(2)]}))
    with pytest.raises(RetriesExhausted) as caught:
        make_client(server).get_task(INSTANCE, "task-00001")
    assert "asked for task task-00001, the answer holds task-00002" in str(caught.value)


def test_a_show_answer_echoing_the_token_does_not_carry_it(server):
    # A debugging proxy may answer with what it was sent: whatever the body holds, a message never carries the token.
    token = "ATSHOW-canary-must-never-be-printed"
    server.replies.append(Reply(200, {"tasks": [dict(api_task(1), id=token)]}))
    client = make_client(server, access_key=None, secret_key=None, auth_token=token)
    with pytest.raises(RetriesExhausted) as caught:
        client.get_task(INSTANCE, "task-00001")
    assert token not in str(caught.value) and "asked for task task-00001" in str(caught.value)


@pytest.mark.parametrize("body", [{}, {"projects": None}, {"projects": "p"}, {"projects": ["p"]}, ""],
                         ids=["empty object", "null projects", "projects a string", "projects of strings", "empty body"])
def test_a_malformed_iam_answer_is_retried_then_an_error(server, body):
    server.respond = lambda request: Reply(200, body, {"X-IAM-Trace-Id": "iam-bad"})
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url, max_retries=1)
    with pytest.raises(RetriesExhausted) as caught:
        client.get_task(INSTANCE, "t1")
    assert isinstance(caught.value.last_error, MalformedAnswerError)
    assert "iam-bad" in str(caught.value)
    assert server.paths() == ["/v3/projects"] * 2


def test_iam_failures_carry_the_iam_trace_id(server):
    server.respond = lambda request: Reply(403, {"error": {"code": 403, "message": "no permission", "title": "Forbidden"}},
                                           {"X-IAM-Trace-Id": "iam-trace-403"})
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url, max_retries=3)
    with pytest.raises(AuthenticationError) as caught:
        client.project_id()
    assert caught.value.request_id == "iam-trace-403" and "iam-trace-403" in str(caught.value)
    assert caught.value.error_msg == "no permission"
    assert len(server.requests) == 1


def test_iam_projects_without_an_id_do_not_count(server):
    server.respond = lambda request: Reply(200, {"projects": [{"name": REGION}]})
    with pytest.raises(ConfigurationError) as caught:
        make_client(server, project_id=None, region=REGION, iam_endpoint=server.url).project_id()
    assert "could not find the project ID" in str(caught.value) and len(server.requests) == 1


# ------------------------------------------------------------------------------------------------
# call(): any API path below the endpoint, for dms_api


def test_call_fills_in_the_project_id_and_sends_the_header(server):
    server.replies.append(Reply(200, {"job_id": "j1"}, {"X-Request-Id": "req-1"}))
    client = make_client(server)
    path = api_path("/v2/kafka/{project_id}/instances/%s/extend" % INSTANCE)
    answer = client.call("POST", path, [("force", "true")], {"oper_type": "storage", "new_storage_space": 600}, write=True)
    assert (answer.status, answer.body, answer.request_id, answer.error) == (200, {"job_id": "j1"}, "req-1", None)
    [request] = server.requests
    assert (request.method, request.path, request.query) == ("POST", "/v2/kafka/%s/instances/%s/extend" % (PROJECT, INSTANCE), [("force", "true")])
    assert request.headers["X-Project-Id"] == PROJECT
    assert json.loads(request.body.decode("utf-8")) == {"oper_type": "storage", "new_storage_space": 600}


def test_call_url_is_the_endpoint_the_path_and_the_signed_query(server):
    client = make_client(server)
    url = client.call_url(api_path("/v2/{project_id}/instances"), [("name", "a b"), ("engine", "kafka")])
    assert url == "%s/v2/%s/instances?engine=kafka&name=a%%20b" % (server.url, PROJECT)
    assert server.requests == []


def test_call_looks_the_project_id_up_once(server):
    serve_iam_and_dms(server, [{"id": "resolved-project", "name": REGION}])
    client = make_client(server, project_id=None, region=REGION, iam_endpoint=server.url)
    client.call("GET", api_path("/v2/{project_id}/instances"))
    client.call("GET", api_path("/v2/products"))
    assert [request.path for request in server.requests] == ["/v3/projects", "/v2/resolved-project/instances", "/v2/products"]
    assert server.requests[2].headers["X-Project-Id"] == "resolved-project"


def test_call_returns_a_refused_answer(server):
    server.replies.append(Reply(400, {"error_code": "DMS.00400017", "error_msg": "Job task is still running."}))
    answer = make_client(server).call("PUT", api_path("/v2/{project_id}/instances/%s/configs" % INSTANCE), body={}, write=True)
    assert (answer.status, answer.body["error_code"], answer.error.error_code) == (400, "DMS.00400017", "DMS.00400017")


def test_call_accepts_what_it_is_told_to(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022", "error_msg": "The instance does not exist."}))
    answer = make_client(server).call("GET", api_path("/v2/{project_id}/instances/%s" % INSTANCE), accepted={200, 404})
    assert (answer.status, answer.error) == (404, None)


# ------------------------------------------------------------------------------------------------
# Reading a whole listing a few pages at a time


def page_fetching_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith("ThreadPoolExecutor")]


def read(server, read_all, **options):
    listing = make_client(server, **options).list_tasks(INSTANCE, read_all=read_all)
    return [task["id"] for task in listing], (listing.held, listing.counted, listing.complete)


@pytest.mark.parametrize("history", [
    [api_task(n) for n in range(1050)],
    [api_task(n) for n in range(400)],  # an exact multiple of the page size
    [api_task(n) for n in range(60)],  # one page: nothing to fetch ahead
    [dated_task(n) for n in range(250)],  # oldest first: read whole, handed out newest first
], ids=["1050", "400", "60", "oldest-first"])
def test_a_whole_read_gives_what_reading_page_after_page_gives(server, history):
    serve_list(server, history)
    one_by_one = read(server, read_all=False)
    sequential_starts = sorted(int(query["start"]) for query in list_queries(server))
    del server.requests[:]
    assert read(server, read_all=True) == one_by_one
    assert sorted(int(query["start"]) for query in list_queries(server)) == sequential_starts  # no page more
    assert not page_fetching_threads()


def test_a_whole_read_without_task_count_reads_page_after_page(server):
    serve_list(server, [api_task(n) for n in range(250)], task_count=False)
    ids, accounting = read(server, read_all=True)
    assert (len(ids), accounting) == (250, (250, None, True))
    assert [query["start"] for query in list_queries(server)] == ["1", "101", "201"]


class ThirdPageFirstSession(requests.Session):
    """Sends the request for page 2 only once page 3 has been answered: pages in flight together, served out of order."""

    def __init__(self):
        super().__init__()
        self.third_page_answered = threading.Event()

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        start = dict(parse_qsl(urlsplit(request.url).query))["start"]
        if start == "101" and not self.third_page_answered.wait(10):
            raise AssertionError("page 3 was never asked for while page 2 was")
        response = super().send(request, **kwargs)
        if start == "201":
            self.third_page_answered.set()
        return response


def test_a_whole_read_loses_no_task_pushed_across_pages_served_out_of_order(server):
    """Page 3 is served, then 3 tasks are created, then page 2: old tasks 197-199 are on neither as served."""
    tasks = [api_task(n) for n in range(1000)]
    history = list(tasks)

    def respond(request):
        query = dict(request.query)
        if query["start"] == "101" and len(history) == len(tasks):
            history[0:0] = [api_task(5000 + n, "EXECUTING") for n in range(3)]
        first = int(query["start"]) - 1
        return Reply(200, {"task_count": str(len(history)), "tasks": history[first:first + PAGE_SIZE]})
    server.respond = respond
    listing = make_client(server, session=ThirdPageFirstSession()).list_tasks(INSTANCE, read_all=True)
    ids = [task["id"] for task in listing]
    assert ids == [task["id"] for task in tasks]  # each old task once, in order; the new ones are not part of it
    assert (listing.held, listing.counted, listing.complete) == (1000, 1000, True)
    starts = [query["start"] for query in list_queries(server)]
    assert starts.count("201") == 2, "page 3 counted fewer tasks than page 2: it was fetched again"
    assert sorted(set(starts), key=int) == [str(start) for start in range(1, 1002, PAGE_SIZE)]  # on to the short page


def test_a_task_deleted_while_pages_are_in_flight_leaves_a_whole_read_incomplete(server):
    """A deletion lowers the count like a page served out of order: fetched again, it still counts fewer.

    Page 4 and the pages after it are in flight too, and may be served before the deletion or after it: one task more
    or less is read, whichever way. What holds in every order: each task read is one of the history's, once; the
    listing says it is incomplete; page 2 (served after the deletion) is fetched again once, not in a loop.
    """
    tasks = [api_task(n) for n in range(1000)]
    history_ids = [task["id"] for task in tasks]

    def respond(request):
        query = dict(request.query)
        if query["start"] == "201" and len(tasks) == 1000:
            del tasks[50]  # task 100 moves onto page 1, read already
        first = int(query["start"]) - 1
        return Reply(200, {"task_count": str(len(tasks)), "tasks": tasks[first:first + PAGE_SIZE]})
    server.respond = respond
    listing = make_client(server, session=ThirdPageFirstSession()).list_tasks(INSTANCE, read_all=True)
    ids = [task["id"] for task in listing]
    assert len(ids) == len(set(ids)) and set(ids) <= set(history_ids)
    assert 998 <= len(ids) <= 999 and ids == sorted(ids, key=history_ids.index), "newest first, as listed"
    assert (listing.held, listing.counted, listing.complete) == (len(ids), 1000, False)
    assert [query["start"] for query in list_queries(server)].count("101") == 2, "fetched again once, not in a loop"


class GatedSession(requests.Session):
    """Holds the requests for pages after the first until ``wanted`` of them are in flight at once."""

    def __init__(self, wanted):
        super().__init__()
        self.gate = threading.Barrier(wanted, timeout=10)  # a read that never has ``wanted`` in flight breaks it: an error, not a hang
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if dict(parse_qsl(urlsplit(request.url).query))["start"] != "1":
                self.gate.wait()
            return super().send(request, **kwargs)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_a_whole_read_has_a_few_pages_in_flight_and_never_more(server):
    serve_list(server, [api_task(n) for n in range(100 + 100 * PAGES_IN_FLIGHT * 5)])
    session = GatedSession(PAGES_IN_FLIGHT)
    listing = make_client(server, session=session).list_tasks(INSTANCE, read_all=True)
    assert len(list(listing)) == 100 + 100 * PAGES_IN_FLIGHT * 5
    assert 1 < PAGES_IN_FLIGHT <= 5
    assert session.most_in_flight == PAGES_IN_FLIGHT
    assert listing.complete


def test_a_throttled_page_backs_off_and_is_read_again(server):
    history = [api_task(n) for n in range(1000)]
    throttled = []

    def respond(request):
        query = dict(request.query)
        if query["start"] == "301" and not throttled:
            throttled.append(request)
            return Reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"})
        first = int(query["start"]) - 1
        return Reply(200, {"task_count": str(len(history)), "tasks": history[first:first + PAGE_SIZE]})
    server.respond = respond
    clock = FakeClock()
    ids, accounting = read(server, read_all=True, clock=clock, max_retries=2)
    assert ids == [task["id"] for task in history] and accounting == (1000, 1000, True)
    assert len(clock.sleeps) == 1 and clock.sleeps[0] >= THROTTLED_MIN_PAUSE
    assert [query["start"] for query in list_queries(server)].count("301") == 2


def test_a_failing_page_fails_the_read_with_its_error_and_stops_the_threads(server):
    history = [api_task(n) for n in range(2000)]

    def respond(request):
        query = dict(request.query)
        if query["start"] == "501":
            return Reply(500, {"error_code": "DMS.00500000", "error_msg": "internal"})
        first = int(query["start"]) - 1
        return Reply(200, {"task_count": str(len(history)), "tasks": history[first:first + PAGE_SIZE]})
    server.respond = respond
    listing = make_client(server, max_retries=0).list_tasks(INSTANCE, read_all=True)
    consumed = []
    with pytest.raises(RetriesExhausted) as caught:
        consumed.extend(listing)
    assert isinstance(caught.value.last_error, ApiError) and caught.value.last_error.status == 500
    assert [task["id"] for task in consumed] == [task["id"] for task in history[:500]]  # nothing after the failed page
    assert listing.complete is None
    assert not page_fetching_threads()
    assert len(list_queries(server)) <= 5 + PAGES_IN_FLIGHT  # no page asked for after the failure was seen


def test_a_whole_read_stops_at_the_deadline(server):
    history = [api_task(n) for n in range(3000)]
    clock = FakeClock(start=100.0)

    def respond(request):
        query = dict(request.query)
        if query["start"] == "301":
            clock.now = 200.0  # the deadline passes while this page is served
        first = int(query["start"]) - 1
        return Reply(200, {"task_count": str(len(history)), "tasks": history[first:first + PAGE_SIZE]})
    server.respond = respond
    settings = client_settings(server)
    http = HttpClient(make_auth(settings), request_timeout=5.0, max_retries=3, clock=clock)
    listing = DmsClient(settings, http=http).list_tasks(INSTANCE, deadline=150.0, read_all=True)
    with pytest.raises(RetriesExhausted) as caught:
        list(listing)
    assert "deadline" in str(caught.value)
    assert len(list_queries(server)) <= 4 + PAGES_IN_FLIGHT  # pages asked for after the deadline are never sent
    assert not page_fetching_threads()


def test_a_whole_read_stopped_early_fetches_only_a_few_pages_ahead(server):
    serve_list(server, [api_task(n) for n in range(10000)])
    listing = make_client(server).list_tasks(INSTANCE, read_all=True)
    taken = list(islice(listing, 150))
    assert [task["id"] for task in taken] == ["task-%05d" % n for n in range(150)]
    assert listing.complete is None
    assert len(list_queries(server)) <= 1 + PAGES_IN_FLIGHT
    assert not page_fetching_threads()


def test_a_listing_without_read_all_fetches_no_page_ahead(server):
    serve_list(server, [api_task(n) for n in range(10000)])
    listing = make_client(server).list_tasks(INSTANCE)
    assert len(list(islice(listing, 150))) == 150
    assert [query["start"] for query in list_queries(server)] == ["1", "101"]
