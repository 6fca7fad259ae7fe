# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HttpClient against a real HTTP server on 127.0.0.1: retries, backoff, Retry-After, deadlines, typed errors.

The clock is a fake (the client is built to take one), so no test waits for a backoff and no assertion
depends on how long anything took. Only the read-timeout tests spend real time (a 0.3 s request timeout).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import ssl
import struct
import threading
import types
from datetime import datetime, timezone
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
import yaml

from ansible_collections.hwcloud.dms.plugins.module_utils import http_client as http_module
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, EndpointNotFoundError, InstanceNotFoundError, MalformedAnswerError, NotFoundError, RetriesExhausted,
    TransportError, UnsafeToRetryError,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import (
    BACKOFF_CAP, COLLECTION_VERSION, MAX_RETRY_AFTER, THROTTLED_MIN_PAUSE, USER_AGENT, HttpAnswer, HttpClient, backoff_delay, error_fields,
    retry_after_seconds, unreachable_hint, url_location, url_origin,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.signing import AkSkSigner, TokenAuth, canonical_query
from ansible_collections.hwcloud.dms.tests.emulator.emulated_dms.certificates import write_certificates
from ansible_collections.hwcloud.dms.tests.unit.fakes import FakeClock
from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.scripted_server import Reply

# Canary credentials: if any of these shows up in an error message, a secret leaked.
AK = "AKCANARY0000000000000"
SK = "SKCANARY-secret-key-7f3a9c-must-never-be-printed"
SECURITY_TOKEN = "STCANARY-security-token-51d0e8-must-never-be-printed"
AUTH_TOKEN = "ATCANARY-auth-token-9b22c4-must-never-be-printed"
CANARIES = (SK, SECURITY_TOKEN, AUTH_TOKEN)
PATH = "/v2/0123456789abcdef/instances/inst-1/tasks"
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
GALAXY_YML = Path(__file__).resolve().parents[4] / "galaxy.yml"


class SpySession(requests.Session):
    """A real session that also records the keyword arguments each request was sent with."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        self.sent.append(kwargs)
        return super().send(request, **kwargs)


def make_http(fake, auth=None, rng=None, **kwargs):
    """An HttpClient on the fake clock; ``rng``: the source of its jitter, when not the clock's."""
    if rng is not None:
        fake.random = rng
    return HttpClient(auth or AkSkSigner(AK, SK, SECURITY_TOKEN), clock=fake, **kwargs)


def get(http, server, deadline=None, params=(("start", "1"), ("limit", "100"))):
    return http.request("GET", server.url + PATH, list(params), {"X-Project-Id": "0123456789abcdef"}, deadline)


OK = Reply(200, {"task_count": "0", "tasks": []})
TRANSIENT_REPLIES = {
    "429": Reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"}),
    "500": Reply(500, {"error_code": "DMS.10000", "error_msg": "internal"}),
    "502": Reply(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"}),
    "503": Reply(503, ""),
    "504": Reply(504, {"code": "APIG.0201", "message": "backend timeout"}),
    "dropped connection": Reply(drop=True),
    "html on a 200": Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"}),
    "truncated json on a 200": Reply(200, '{"tasks": [', {"Content-Type": "application/json"}),
    "json list on a 200": Reply(200, [], {"Content-Type": "application/json"}),
    "json string on a 200": Reply(200, '"ok"', {"Content-Type": "application/json"}),
    "404 without a body": Reply(404, ""),
    "404 proxy page": Reply(404, "<html>Not Found</html>", {"Content-Type": "text/html"}),
    "404 another service's code": Reply(404, {"error_code": "APIG.9999", "error_msg": "no route"}),
    "404 flow control": Reply(404, {"error_code": "DMS.10240407", "error_msg": "The request is too frequent."}),
}


# ------------------------------------------------------------------------------------------------
# What is retried, and how often


@pytest.mark.parametrize("failure", TRANSIENT_REPLIES.values(), ids=list(TRANSIENT_REPLIES))
def test_transient_failure_is_retried_then_succeeds(server, failure):
    fake = FakeClock()
    server.replies.extend([failure, OK])
    http = make_http(fake, max_retries=5)
    assert get(http, server) == {"task_count": "0", "tasks": []}
    assert len(server.requests) == 2
    assert len(fake.sleeps) == 1
    assert http.calls == 2


def test_read_timeout_is_retried(server):
    fake = FakeClock()
    server.replies.extend([Reply(200, {"late": True}, delay=30), OK])
    # Time enough for the prompt answer on a loaded machine; the late one never comes in time.
    http = make_http(fake, request_timeout=3, max_retries=1)
    assert get(http, server) == {"task_count": "0", "tasks": []}
    assert len(server.requests) == 2
    assert len(fake.sleeps) == 1


def test_read_timeouts_count_against_max_retries(server):
    fake = FakeClock()
    server.respond = lambda request: Reply(200, {"late": True}, delay=30)
    http = make_http(fake, request_timeout=0.3, max_retries=1)
    with pytest.raises(RetriesExhausted) as caught:
        get(http, server)
    assert isinstance(caught.value.last_error, TransportError)
    assert len(server.received(2)) == 2


def test_refused_connection_is_retried():
    with socket.socket() as probe:  # a port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeClock()
    http = make_http(fake, max_retries=2)
    with pytest.raises(RetriesExhausted) as caught:
        http.request("GET", "http://127.0.0.1:%d%s" % (port, PATH), [("start", "1")])
    assert caught.value.attempts == 3
    assert isinstance(caught.value.last_error, TransportError)
    assert len(fake.sleeps) == 2
    assert str(caught.value.last_error).startswith("GET http://127.0.0.1:%d%s: ConnectionError (" % (port, PATH))


@pytest.mark.parametrize("max_retries", [0, 1, 3, 5])
@pytest.mark.parametrize("failure", ["503", "dropped connection", "html on a 200"])
def test_max_retries_bounds_the_requests(server, max_retries, failure):
    fake = FakeClock()
    server.respond = lambda request: TRANSIENT_REPLIES[failure]
    http = make_http(fake, max_retries=max_retries)
    with pytest.raises(RetriesExhausted) as caught:
        get(http, server)
    assert len(server.requests) == max_retries + 1
    assert caught.value.attempts == max_retries + 1
    assert http.calls == max_retries + 1
    assert len(fake.sleeps) == max_retries


def test_exhausted_retries_keep_the_last_api_error(server):
    fake = FakeClock()
    server.respond = lambda request: Reply(503, {"error_code": "DMS.503", "error_msg": "busy"}, {"X-Request-Id": "req-503"})
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(fake, max_retries=2), server)
    last = caught.value.last_error
    assert isinstance(last, ApiError)
    assert (last.status, last.error_code, last.error_msg, last.request_id) == (503, "DMS.503", "busy", "req-503")
    assert "3 attempts" in str(caught.value) and "req-503" in str(caught.value)


FINAL_REPLIES = {
    "400": (Reply(400, {"error_code": "X.400", "error_msg": "no"}), ApiError),
    "401": (Reply(401, {"error_code": "X.401", "error_msg": "no"}), AuthenticationError),
    "403": (Reply(403, {"error_code": "X.403", "error_msg": "no"}), AuthenticationError),
    "400 APIGW.0301": (Reply(400, {"error_code": "APIGW.0301", "error_msg": "bad token"}), AuthenticationError),
    "404 DMS no such task": (Reply(404, {"error_code": "DMS.00404030", "error_msg": "no such task"}), NotFoundError),
    "404 DMS no such instance": (Reply(404, {"error_code": "DMS.00404022", "error_msg": "no such instance"}), InstanceNotFoundError),
    "404 APIG.0101": (Reply(404, {"error_code": "APIG.0101", "error_msg": "The API does not exist"}), EndpointNotFoundError),
    "404 DMS.00404001": (Reply(404, {"error_code": "DMS.00404001", "error_msg": "no such URL"}), EndpointNotFoundError),
    "404 DMS.10240406": (Reply(404, {"error_code": "DMS.10240406", "error_msg": "no such URL"}), EndpointNotFoundError),
}


@pytest.mark.parametrize("reply, error_class", FINAL_REPLIES.values(), ids=list(FINAL_REPLIES))
def test_client_errors_are_not_retried(server, reply, error_class):
    fake = FakeClock()
    # A success is queued behind the error: a retry would turn the error into a success.
    server.replies.extend([reply, OK])
    with pytest.raises(error_class) as caught:
        get(make_http(fake, max_retries=5), server)
    assert type(caught.value) is error_class  # pylint: disable=unidiomatic-typecheck
    assert caught.value.status == reply.status
    assert len(server.requests) == 1
    assert fake.sleeps == []


def test_401_reaches_the_caller_after_exactly_one_request(server):
    # Five failed signatures lock the AK/SK for five minutes: one try only, even with Retry-After and retries left.
    fake = FakeClock()
    server.respond = lambda request: Reply(401, {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information"},
                                           {"X-Request-Id": "req-401", "Retry-After": "1"})
    with pytest.raises(AuthenticationError) as caught:
        get(make_http(fake, max_retries=10), server)
    assert caught.value.error_code == "APIG.0301"
    assert len(server.requests) == 1
    assert fake.sleeps == []


def test_empty_success_is_none_and_not_retried(server):
    server.replies.extend([Reply(204), OK])
    fake = FakeClock()
    assert make_http(fake).request("DELETE", server.url + PATH + "/t1") is None
    assert len(server.requests) == 1


# ------------------------------------------------------------------------------------------------
# Pauses: Retry-After, full-jitter backoff, the caller's deadline


def test_retry_after_seconds_is_the_pause(server):
    fake = FakeClock()
    server.replies.extend([Reply(429, {"error_code": "APIG.0308"}, {"Retry-After": "7"}), OK])
    get(make_http(fake, rng=lambda: 0.5), server)
    assert fake.sleeps == [7.0]


def test_retry_after_is_capped(server):
    # A day-long Retry-After (a gateway's mistake, a daily quota) must not park the module for a day.
    assert MAX_RETRY_AFTER == 60.0
    fake = FakeClock()
    server.replies.extend([Reply(429, {"error_code": "APIG.0308"}, {"Retry-After": "86400"}), OK])
    assert get(make_http(fake), server) == OK.body
    assert fake.sleeps == [60.0]


def test_capped_retry_after_still_never_passes_the_deadline(server):
    fake = FakeClock()
    server.replies.extend([Reply(429, "", {"Retry-After": "86400"}), OK])
    with pytest.raises(RetriesExhausted):
        get(make_http(fake), server, deadline=fake.now + 59)
    assert fake.sleeps == []
    assert len(server.requests) == 1


def test_retry_after_http_date_is_the_pause(server, monkeypatch):
    wall_now = 1700000000.0
    monkeypatch.setattr(http_module, "time", types.SimpleNamespace(time=lambda: wall_now))
    fake = FakeClock()
    server.replies.extend([
        Reply(503, "", {"Retry-After": formatdate(wall_now + 42, usegmt=True)}),
        Reply(503, "", {"Retry-After": formatdate(wall_now - 60, usegmt=True)}),  # already past: no pause
        OK,
    ])
    get(make_http(fake, rng=lambda: 0.5), server)
    assert fake.sleeps == [42.0, 0.0]


def test_retry_after_parsing():
    now = 1700000000.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 3 ") == 3.0
    assert retry_after_seconds(formatdate(now + 10, usegmt=True), now=now) == 10.0
    for unreadable in (None, "", "soon", "-5", "1.5"):
        assert retry_after_seconds(unreadable) is None


def test_unreadable_retry_after_falls_back_to_backoff(server):
    fake = FakeClock()
    server.replies.extend([Reply(503, "", {"Retry-After": "soon"}), OK])
    get(make_http(fake, rng=lambda: 0.25), server)
    assert fake.sleeps == [0.25]


THROTTLING_REPLIES = {
    "429": Reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"}),
    "429 without a body": Reply(429, ""),
    "404 flow control": Reply(404, {"error_code": "DMS.10240407", "error_msg": "The request is too frequent."}),
    "429 unreadable Retry-After": Reply(429, "", {"Retry-After": "soon"}),
}


@pytest.mark.parametrize("throttled", THROTTLING_REPLIES.values(), ids=list(THROTTLING_REPLIES))
def test_throttling_without_retry_after_pauses_at_least_the_minimum(server, throttled):
    assert THROTTLED_MIN_PAUSE == 2.0  # the cloud's advice: come back after a few seconds
    fake = FakeClock()
    server.replies.extend([throttled, throttled, OK])
    assert get(make_http(fake, rng=lambda: 0.01, max_retries=5), server) == OK.body
    assert fake.sleeps == [THROTTLED_MIN_PAUSE] * 2
    assert len(server.requests) == 3


def test_throttling_pause_keeps_a_longer_backoff(server):
    fake = FakeClock()
    server.respond = lambda request: THROTTLING_REPLIES["404 flow control"]
    with pytest.raises(RetriesExhausted):
        get(make_http(fake, rng=lambda: 1.0, max_retries=4), server)
    assert fake.sleeps == [THROTTLED_MIN_PAUSE, THROTTLED_MIN_PAUSE, 4.0, 8.0]


def test_throttling_with_retry_after_pauses_as_asked(server):
    fake = FakeClock()
    server.replies.extend([Reply(404, {"error_code": "DMS.10240407"}, {"Retry-After": "0"}), OK])
    assert get(make_http(fake), server) == OK.body
    assert fake.sleeps == [0.0]


def test_flow_control_404_is_retried_then_succeeds(server):
    fake = FakeClock()
    server.replies.extend([Reply(404, {"error_code": "DMS.10240407", "error_msg": "The request is too frequent."}, {"X-Request-Id": "r-fc"}),
                           OK])
    assert get(make_http(fake, max_retries=3), server) == OK.body
    assert len(server.requests) == 2


def test_flow_control_404_exhausted_is_not_not_found(server):
    fake = FakeClock()
    server.respond = lambda request: Reply(404, {"error_code": "DMS.10240407", "error_msg": "too frequent"}, {"X-Request-Id": "r-fc"})
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(fake, max_retries=2), server)
    last = caught.value.last_error
    assert type(last) is ApiError  # pylint: disable=unidiomatic-typecheck
    assert (last.status, last.error_code, last.request_id) == (404, "DMS.10240407", "r-fc")
    assert len(server.requests) == 3


def test_backoff_doubles_up_to_the_cap(server):
    fake = FakeClock()
    server.respond = lambda request: TRANSIENT_REPLIES["503"]
    with pytest.raises(RetriesExhausted):
        get(make_http(fake, max_retries=7, rng=lambda: 1.0), server)  # rng at its maximum: the bound itself
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert len(server.requests) == 8


def test_backoff_is_full_jitter(server):
    fake = FakeClock()
    server.respond = lambda request: TRANSIENT_REPLIES["500"]
    draws = iter([0.5, 0.1, 0.9, 0.0])
    with pytest.raises(RetriesExhausted):
        get(make_http(fake, max_retries=4, rng=lambda: next(draws)), server)
    assert fake.sleeps == [0.5 * 1, 0.1 * 2, 0.9 * 4, 0.0 * 8]


def test_backoff_delay_stays_within_its_bound():
    rng = random.Random(20240131).random
    for attempt in range(12):
        bound = min(BACKOFF_CAP, 1.0 * 2 ** attempt)
        delays = [backoff_delay(attempt, rng) for _draw in range(200)]
        assert all(0 <= delay < bound for delay in delays)
        assert max(delays) > 0.8 * bound and min(delays) < 0.2 * bound  # jitter spreads over the whole range


def test_backoff_pause_never_passes_the_deadline(server):
    fake = FakeClock()
    server.respond = lambda request: TRANSIENT_REPLIES["503"]
    deadline = fake.now + 2.5
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(fake, max_retries=10, rng=lambda: 1.0), server, deadline=deadline)
    assert fake.sleeps == [1.0]  # the next pause (2 s) would end past the deadline
    assert fake.now <= deadline
    assert len(server.requests) == 2 == caught.value.attempts


def test_retry_after_past_the_deadline_gives_up_at_once(server):
    fake = FakeClock()
    server.replies.extend([Reply(429, "", {"Retry-After": "60"}), OK])
    with pytest.raises(RetriesExhausted):
        get(make_http(fake, max_retries=5), server, deadline=fake.now + 10)
    assert fake.sleeps == []
    assert len(server.requests) == 1


@pytest.mark.parametrize("seed", range(20))
def test_no_pause_ever_passes_the_deadline(server, seed):
    fake = FakeClock()
    rng = random.Random(seed)
    deadline = fake.now + rng.uniform(0.5, 40)
    server.respond = lambda request: TRANSIENT_REPLIES["502"]
    with pytest.raises(RetriesExhausted):
        get(make_http(fake, max_retries=20, rng=rng.random), server, deadline=deadline)
    assert fake.now < deadline


def test_no_request_once_the_deadline_has_passed(server):
    fake = FakeClock()
    server.respond = lambda request: OK
    with pytest.raises(RetriesExhausted):
        get(make_http(fake), server, deadline=fake.now - 1)
    assert server.requests == []


def test_request_timeout_is_cut_to_the_time_left(server):
    fake = FakeClock()
    session = SpySession()
    server.respond = lambda request: OK
    http = make_http(fake, request_timeout=30.0, session=session)
    # Seconds enough for the scripted server to answer on a loaded machine: the timeout is real, only the clock is fake.
    get(http, server, deadline=fake.now + 5.0)
    get(http, server)
    assert [sent["timeout"] for sent in session.sent] == [5.0, 30.0]


# ------------------------------------------------------------------------------------------------
# Typed errors and what their messages may say

ERROR_CODE = "DMS.00404030"
ERROR_MSG = "The task does not exist."
ERROR_BODIES = {
    "error_code/error_msg": {"error_code": ERROR_CODE, "error_msg": ERROR_MSG},
    "errorCode/errorMsg": {"errorCode": ERROR_CODE, "errorMsg": ERROR_MSG},
    "code/message": {"code": ERROR_CODE, "message": ERROR_MSG},
    "IAM error object": {"error": {"code": ERROR_CODE, "message": ERROR_MSG, "title": "Not Found"}},
    "nested error_code/error_msg": {"error": {"error_code": ERROR_CODE, "error_msg": ERROR_MSG}},
    "nested errorCode/errorMsg": {"error": {"errorCode": ERROR_CODE, "errorMsg": ERROR_MSG}},
    "errors list": {"errors": [{"error_code": ERROR_CODE, "error_msg": ERROR_MSG}, {"error_code": "X.2", "error_msg": "second"}]},
    "errors list code/message": {"errors": [{"code": ERROR_CODE, "message": ERROR_MSG}]},
    "empty flat fields beside a nested error": {"error_code": "", "error_msg": None, "error": {"code": ERROR_CODE, "message": ERROR_MSG}},
}


@pytest.mark.parametrize("status, error_class", [(400, ApiError), (401, AuthenticationError), (403, AuthenticationError), (404, NotFoundError)])
@pytest.mark.parametrize("body", ERROR_BODIES.values(), ids=list(ERROR_BODIES))
def test_typed_error_fields(server, status, error_class, body):
    server.replies.append(Reply(status, body, {"X-Request-Id": "0f1e2d3c-req"}))
    with pytest.raises(error_class) as caught:
        get(make_http(FakeClock()), server)
    error = caught.value
    assert type(error) is error_class  # pylint: disable=unidiomatic-typecheck
    assert (error.status, error.error_code, error.error_msg) == (status, ERROR_CODE, ERROR_MSG)
    assert (error.request_id, error.method, error.path) == ("0f1e2d3c-req", "GET", PATH)
    message = str(error)
    for part in (str(status), ERROR_CODE, ERROR_MSG, "0f1e2d3c-req", "GET", PATH):
        assert part in message
    assert "start=" not in message  # the path, not the query
    assert server.url not in message  # an API answer came from the right host: the path is enough


def test_error_without_a_json_body_keeps_the_text(server):
    server.replies.append(Reply(400, "<html>request rejected by WAF</html>", {"X-Request-Id": "r-html"}))
    with pytest.raises(ApiError) as caught:
        get(make_http(FakeClock()), server)
    assert caught.value.error_code is None
    assert "request rejected by WAF" in caught.value.error_msg
    assert caught.value.request_id == "r-html"


def test_error_page_echoing_the_token_does_not_carry_it(server):
    token = "TOKEN-CANARY-0123456789"
    server.replies.append(Reply(400, "<html>rejected: X-Auth-Token=%s</html>" % token))
    http = HttpClient(TokenAuth(token), max_retries=0, clock=FakeClock())
    with pytest.raises(ApiError) as caught:
        http.request("GET", server.url + "/v2/p/instances/i/tasks")
    assert "rejected" in caught.value.error_msg and token not in str(caught.value) and token not in caught.value.error_msg


def test_json_error_echoing_the_token_does_not_carry_it(server):
    server.replies.append(Reply(400, {"error_code": "APIG.0101", "error_msg": "bad header X-Auth-Token: %s" % AUTH_TOKEN}))
    with pytest.raises(ApiError) as caught:
        get(make_http(FakeClock(), auth=TokenAuth(AUTH_TOKEN)), server)
    assert caught.value.error_msg == "bad header X-Auth-Token: ********"
    assert AUTH_TOKEN not in str(caught.value)


@pytest.mark.parametrize("auth", ["token", "security token"])
def test_a_secret_quoted_by_requests_does_not_reach_the_message(server, auth):
    # requests refuses a header value with a newline and quotes it in its message, the newline escaped as \n.
    canary = "NLCANARY-4d7e21-must-never-be-printed"
    secret = "pasted-with-a-newline\n" + canary
    signer = TokenAuth(secret) if auth == "token" else AkSkSigner(AK, SK, secret)
    with pytest.raises(TransportError) as caught:
        get(make_http(FakeClock(), auth=signer), server)
    error = caught.value
    assert "header value" in str(error) and "********" in str(error)
    for text in (str(error), repr(error), repr(error.args)):
        assert canary not in text and "pasted-with" not in text
    assert server.requests == []  # refused before anything was sent


SECRET_PROBES = {
    "401": [Reply(401, {"error_code": "APIG.0301", "error_msg": "bad signature"})],
    "403": [Reply(403, {"error_code": "APIG.0302", "error_msg": "forbidden"})],
    "400": [Reply(400, "plain text")],
    "404": [Reply(404, {"code": "DMS.00404022", "message": "gone"})],
    "503 exhausted": [Reply(503, {"error_code": "DMS.503"})] * 2,
    "dropped exhausted": [Reply(drop=True)] * 2,
    "non-JSON exhausted": [Reply(200, "<html/>")] * 2,
    "timeout exhausted": [Reply(200, {}, delay=30)] * 2,
}


@pytest.mark.parametrize("auth", ["aksk", "token"])
@pytest.mark.parametrize("replies", SECRET_PROBES.values(), ids=list(SECRET_PROBES))
def test_error_messages_never_carry_a_secret(server, auth, replies):
    signer = AkSkSigner(AK, SK, SECURITY_TOKEN) if auth == "aksk" else TokenAuth(AUTH_TOKEN)
    server.replies.extend(replies)
    with pytest.raises((ApiError, RetriesExhausted)) as caught:
        get(make_http(FakeClock(), auth=signer, max_retries=1, request_timeout=0.3), server)
    # The secrets were on the wire (so the probe means something) ...
    sent = server.received(1)[0].headers
    assert (sent["X-Security-Token"] == SECURITY_TOKEN) if auth == "aksk" else (sent["X-Auth-Token"] == AUTH_TOKEN)
    # ... and appear in nothing a user or a log sees.
    error = caught.value
    texts = [str(error), repr(error), repr(error.args)]
    if isinstance(error, RetriesExhausted):
        texts += [str(error.last_error), repr(error.last_error)]
    for text in texts:
        for canary in CANARIES:
            assert canary not in text


def test_error_fields_of_every_body_shape():
    assert error_fields({"error_code": "A.1", "error_msg": "flat"}) == ("A.1", "flat")
    assert error_fields({"errorCode": 404, "errorMsg": "numbers become text"}) == ("404", "numbers become text")
    assert error_fields({"error": {"code": "B.2", "message": "nested"}}) == ("B.2", "nested")
    assert error_fields({"errors": [{"code": "C.3", "message": "first"}, {"code": "C.4"}]}) == ("C.3", "first")
    assert error_fields({"message": "a message alone"}) == (None, "a message alone")
    # Flat fields win over nested ones; empty, object and list values count as absent.
    assert error_fields({"code": "D.5", "error": {"code": "E.6"}}) == ("D.5", None)
    assert error_fields({"code": {"nested": 1}, "message": ["x"], "error": {"code": "F.7", "message": "m"}}) == ("F.7", "m")
    for no_fields in (None, [], "text", 7, {}, {"errors": []}, {"error": "a string"}, {"errors": ["a string"]}):
        assert error_fields(no_fields) == (None, None)


def test_404_without_a_dms_code_is_retried_and_never_not_found(server):
    fake = FakeClock()
    server.replies.extend([Reply(404, ""), Reply(404, "<html>Not Found</html>"), Reply(404, {"error_code": "APIG.9999"}), OK])
    assert get(make_http(fake, max_retries=5), server) == OK.body
    assert len(server.requests) == 4

    server.replies.clear()
    server.respond = lambda request: Reply(404, "", {"X-Request-Id": "r-404"})
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(FakeClock(), max_retries=1), server)
    assert type(caught.value.last_error) is ApiError  # pylint: disable=unidiomatic-typecheck
    assert caught.value.last_error.request_id == "r-404"


@pytest.mark.parametrize("code", ["APIG.0101", "DMS.00404001", "DMS.10240406"])
def test_no_such_api_is_final_and_names_the_whole_url(server, code):
    fake = FakeClock()
    server.replies.extend([Reply(404, {"error_code": code, "error_msg": "The API does not exist or has not been published"},
                                 {"X-Request-Id": "r-url"}), OK])
    with pytest.raises(EndpointNotFoundError) as caught:
        get(make_http(fake, max_retries=5), server)
    error = caught.value
    assert (error.status, error.error_code, error.request_id) == (404, code, "r-url")
    assert error.path == server.url + PATH  # scheme, host and port, path: a wrong region shows in the host
    message = str(error)
    for part in (server.url + PATH, code, "r-url", "check endpoint and region"):
        assert part in message
    assert "start=" not in message
    assert len(server.requests) == 1 and fake.sleeps == []


def test_iam_trace_id_is_the_request_id(server):
    server.replies.append(Reply(401, {"error": {"code": 401, "message": "The request you have made requires authentication.",
                                                "title": "Unauthorized"}}, {"X-IAM-Trace-Id": "iam-trace-401"}))
    with pytest.raises(AuthenticationError) as caught:
        make_http(FakeClock()).request("GET", server.url + "/v3/projects", [("name", "ap-southeast-1")])
    assert caught.value.request_id == "iam-trace-401"
    assert "iam-trace-401" in str(caught.value)
    assert caught.value.error_msg == "The request you have made requires authentication."

    server.replies.append(Reply(500, "", {"X-IAM-Trace-Id": "iam-trace-500"}))
    with pytest.raises(RetriesExhausted) as caught:
        make_http(FakeClock(), max_retries=0).request("GET", server.url + "/v3/projects")
    assert caught.value.last_error.request_id == "iam-trace-500"


def test_x_request_id_wins_over_the_iam_trace_id(server):
    server.replies.append(Reply(400, {"error_code": "X.400"}, {"X-Request-Id": "dms-req", "X-IAM-Trace-Id": "iam-trace"}))
    with pytest.raises(ApiError) as caught:
        get(make_http(FakeClock()), server)
    assert caught.value.request_id == "dms-req"


# ------------------------------------------------------------------------------------------------
# Success answers of the wrong shape: retried like a server error, then reported, never returned


def refuse_without_tasks(body):
    if not isinstance(body.get("tasks"), list):
        raise ValueError("'tasks' is not a list")


MALFORMED_SUCCESSES = {
    "empty": Reply(200, ""),
    "empty object": Reply(200, {}),
    "null tasks": Reply(200, {"tasks": None}),
    "json list": Reply(200, [{"tasks": []}]),
    "html": Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"}),
}


@pytest.mark.parametrize("reply", MALFORMED_SUCCESSES.values(), ids=list(MALFORMED_SUCCESSES))
def test_a_success_of_the_wrong_shape_is_retried_then_reported(server, reply):
    fake = FakeClock()
    server.respond = lambda request: reply._replace(headers={"X-Request-Id": "r-shape"})
    http = make_http(fake, max_retries=2)
    with pytest.raises(RetriesExhausted) as caught:
        http.request("GET", server.url + PATH, [("start", "1")], expect=refuse_without_tasks)
    error = caught.value.last_error
    assert isinstance(error, MalformedAnswerError)
    assert (error.method, error.path) == ("GET", server.url + PATH)
    assert "r-shape" in str(error) and "unexpected shape" in str(error)
    assert len(server.requests) == 3 and len(fake.sleeps) == 2


def test_a_success_of_the_wrong_shape_then_a_good_one_returns_the_good_one(server):
    server.replies.extend([Reply(200, {"tasks": None}), Reply(200, ""), OK])
    assert make_http(FakeClock()).request("GET", server.url + PATH, expect=refuse_without_tasks) == OK.body
    assert len(server.requests) == 3


def test_expect_says_what_is_wrong(server):
    def refuse(_body):
        raise ValueError("'tasks' is missing")
    server.replies.append(Reply(200, {"task_count": "3"}))
    with pytest.raises(RetriesExhausted) as caught:
        make_http(FakeClock(), max_retries=0).request("GET", server.url + PATH, expect=refuse)
    assert "'tasks' is missing" in str(caught.value.last_error)


def test_without_expect_any_json_object_is_returned(server):
    server.replies.extend([Reply(200, {}), Reply(200, {"anything": [1]})])
    http = make_http(FakeClock())
    assert http.request("GET", server.url + PATH) == {}
    assert http.request("GET", server.url + PATH) == {"anything": [1]}


def test_retries_and_timeout_can_be_set_per_request(server):
    fake = FakeClock()
    session = SpySession()
    server.respond = lambda request: TRANSIENT_REPLIES["503"]
    http = make_http(fake, max_retries=5, request_timeout=30.0, session=session)
    with pytest.raises(RetriesExhausted) as caught:
        http.request("GET", server.url + PATH, retries=0, timeout=4.0)
    assert caught.value.attempts == 1 and len(server.requests) == 1 and fake.sleeps == []
    assert [sent["timeout"] for sent in session.sent] == [4.0]
    with pytest.raises(RetriesExhausted):
        http.request("GET", server.url + PATH)
    assert len(server.requests) == 1 + 6  # the client's own max_retries again
    assert session.sent[-1]["timeout"] == 30.0


# ------------------------------------------------------------------------------------------------
# Secrets echoed in another spelling

ODD_TOKEN = 'ATODD/canary+token=="quoted"-\\-must-never-be-printed'


def test_odd_token_spellings_differ():
    # The probes below mean something only if each echoed spelling differs from the token as sent.
    assert quote(ODD_TOKEN, safe="") != ODD_TOKEN
    assert json.dumps(ODD_TOKEN)[1:-1] != ODD_TOKEN


ECHOES = {
    "url-encoded": lambda token: quote(token, safe=""),
    "url-encoded, slash kept": quote,  # safe="/" by default
    "url-encoded, lower-case escapes": lambda token: re.sub("%[0-9A-F]{2}", lambda escape: escape.group(0).lower(), quote(token, safe="")),
    "form-encoded": lambda token: quote_plus(token, safe=""),
    "json-escaped": lambda token: json.dumps(token)[1:-1],
    "json-escaped, slash escaped": lambda token: json.dumps(token)[1:-1].replace("/", "\\/"),
}


@pytest.mark.parametrize("echo", ECHOES.values(), ids=list(ECHOES))
@pytest.mark.parametrize("status", [400, 503])
def test_a_token_echoed_in_another_spelling_is_masked(server, echo, status):
    echoed = echo(ODD_TOKEN)
    # Non-JSON bodies are quoted as text; the JSON one carries the spelling inside a decoded string.
    bodies = ["<html>rejected: X-Auth-Token=%s</html>" % echoed, '{"debug": "headers {\\"X-Auth-Token\\": \\"%s\\"}"}' % echoed,
              {"error_code": "APIG.1000", "error_msg": "bad X-Auth-Token: %s" % echoed}]
    for body in bodies:
        server.replies.append(Reply(status, body))
        with pytest.raises((ApiError, RetriesExhausted)) as caught:
            make_http(FakeClock(), auth=TokenAuth(ODD_TOKEN), max_retries=0).request("GET", server.url + PATH)
        assert server.requests[-1].headers["X-Auth-Token"] == ODD_TOKEN  # the token was sent as is
        error = caught.value.last_error if isinstance(caught.value, RetriesExhausted) else caught.value
        texts = [str(caught.value), repr(caught.value), str(error.error_msg)]
        assert any("********" in text for text in texts)
        for text in texts:
            assert echoed not in text and ODD_TOKEN not in text and "canary" not in text


# ------------------------------------------------------------------------------------------------
# What goes on the wire


def test_user_agent_names_the_collection_and_its_galaxy_version(server):
    galaxy_version = yaml.safe_load(GALAXY_YML.read_text(encoding="utf-8"))["version"]
    assert COLLECTION_VERSION == galaxy_version
    server.replies.append(OK)
    get(make_http(FakeClock()), server)
    user_agent = server.requests[0].headers["User-Agent"]
    assert user_agent == USER_AGENT
    assert "hwcloud.dms/%s" % galaxy_version in user_agent


def test_one_keep_alive_connection_for_several_requests(server):
    server.replies.extend([OK, Reply(503, ""), OK, OK])  # a retry too stays on the connection
    http = make_http(FakeClock())
    for _request in range(3):
        get(http, server)
    assert len(server.requests) == 4
    assert len({request.port for request in server.requests}) == 1


def test_default_session_is_a_requests_session_reused(server):
    server.respond = lambda request: OK
    http = HttpClient(AkSkSigner(AK, SK), clock=FakeClock())
    for _request in range(3):
        http.request("GET", server.url + PATH)
    assert len({request.port for request in server.requests}) == 1


@pytest.mark.parametrize("validate_certs, ca_path, verify", [
    (True, None, True),
    (False, None, False),
    (True, "/etc/pki/my-ca.pem", "/etc/pki/my-ca.pem"),
    (False, "/etc/pki/my-ca.pem", False),  # validate_certs=false wins
])
def test_validate_certs_and_ca_path_set_session_verify(validate_certs, ca_path, verify):
    session = requests.Session()
    HttpClient(TokenAuth(AUTH_TOKEN), validate_certs=validate_certs, ca_path=ca_path, session=session)
    assert session.verify == verify


@pytest.mark.parametrize("validate_certs, ca_path, verify", [(False, None, False), (True, "/etc/pki/my-ca.pem", "/etc/pki/my-ca.pem")])
def test_ca_bundle_environment_does_not_override_the_options(server, monkeypatch, validate_certs, ca_path, verify):
    # requests lets REQUESTS_CA_BUNDLE replace session.verify unless verify is passed with each request.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/environment/bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/environment/bundle.pem")
    session = SpySession()
    server.replies.append(OK)
    get(make_http(FakeClock(), validate_certs=validate_certs, ca_path=ca_path, session=session), server)
    assert session.sent[0]["verify"] == verify


def test_request_is_signed_as_sent(server):
    params = [("start", "1"), ("limit", "100"), ("name", "a b/ü~*"), ("begin_time", "20240101000000")]
    server.replies.append(OK)
    get(make_http(FakeClock()), server, params=params)
    seen = server.requests[0]
    assert seen.raw_query == canonical_query(params)  # the query is sent exactly as it was signed
    assert seen.headers["X-Project-Id"] == "0123456789abcdef"
    authorization = seen.headers["Authorization"]
    assert authorization.startswith("SDK-HMAC-SHA256 Access=%s, SignedHeaders=" % AK)
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed == sorted(signed)
    for name in ("content-type", "host", "user-agent", "x-project-id", "x-sdk-date", "x-security-token"):
        assert name in signed
    assert all(seen.headers.get(name) is not None for name in signed)  # every signed header was sent
    # Re-signing what the server received reproduces the signature: nothing was changed after signing.
    now = datetime.strptime(seen.headers["X-Sdk-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    resigned = AkSkSigner(AK, SK, SECURITY_TOKEN).sign(
        "GET", server.url + seen.path, params, dict((name, seen.headers[name]) for name in signed), b"", now=now)
    assert resigned["Authorization"] == authorization


def test_token_auth_sends_the_token_and_no_signature(server):
    server.replies.append(OK)
    get(make_http(FakeClock(), auth=TokenAuth(AUTH_TOKEN)), server)
    headers = server.requests[0].headers
    assert headers["X-Auth-Token"] == AUTH_TOKEN
    assert headers.get("Authorization") is None


# ------------------------------------------------------------------------------------------------
# Where a transport error happened: the host too, so that a mistyped region or endpoint shows


def test_url_location_is_scheme_host_and_path():
    assert url_location("https://dms.ap-southeast-1.myhuaweicloud.com/v2/p/tasks") == "https://dms.ap-southeast-1.myhuaweicloud.com/v2/p/tasks"
    assert url_location("https://user:pass@proxy.example:8443/v2/p/tasks?start=1#top") == "https://proxy.example:8443/v2/p/tasks"
    assert url_location("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_an_unknown_host_is_named_in_the_message(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    not_found = socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def getaddrinfo(*_args, **_kwargs):
        raise not_found

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)  # no real DNS lookup: it may be slow or absent here
    url = "https://dms.xx-west-9.myhuaweicloud.com" + PATH
    with pytest.raises(RetriesExhausted) as caught:
        make_http(FakeClock(), max_retries=0).request("GET", url, [("start", "1"), ("limit", "100")])
    assert str(caught.value.last_error) == "GET %s: ConnectionError (%s)" % (url, not_found)


# ------------------------------------------------------------------------------------------------
# No HTTP answer ever: the final message says what to check


def test_url_origin_is_scheme_host_and_port():
    assert url_origin("https://dms.ap-southeast-1.myhuaweicloud.com/v2/p/tasks?start=1") == "https://dms.ap-southeast-1.myhuaweicloud.com"
    assert url_origin("http://user:pass@127.0.0.1:8080/v2") == "http://127.0.0.1:8080"


def test_the_unreachable_hint_names_the_origin_the_options_and_the_network():
    assert unreachable_hint("https://dms.xx-west-9.myhuaweicloud.com/v2/p/tasks?start=1") == (
        "no HTTP answer came from https://dms.xx-west-9.myhuaweicloud.com: check endpoint (its scheme and port) or the region it is built"
        " from, and the network access from where this task runs (proxy settings HTTP_PROXY, HTTPS_PROXY, NO_PROXY; firewall)")


def closed_port_url():
    with socket.socket() as probe:  # a port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % probe.getsockname()[1]


@pytest.fixture(name="blackhole")
def blackhole_fixture(monkeypatch):
    """The URL of a port that drops connection attempts, as a firewall that drops packets does: every connect times out.

    A listener whose accept queue is full (backlog 0, one connection waiting, never accepted): the kernel then drops
    the SYN of every further connection attempt.
    """
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        queued = []
        for _filler in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            queued.append(filler)
        try:
            yield "http://127.0.0.1:%d" % listener.getsockname()[1]
        finally:
            for filler in queued:
                filler.close()


def test_connect_timeouts_end_in_a_message_that_says_what_to_check(blackhole):
    fake = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        make_http(fake, request_timeout=0.2, max_retries=2).request("GET", blackhole + PATH, [("start", "1")])
    error = caught.value
    assert isinstance(error.last_error, TransportError) and error.attempts == 3 and len(fake.sleeps) == 2
    assert str(error) == "gave up after 3 attempts: GET %s%s: ConnectTimeout (timed out); %s" % (blackhole, PATH, unreachable_hint(blackhole))
    assert error.hint == unreachable_hint(blackhole)


def test_read_timeouts_end_in_a_message_that_says_what_to_check(server):
    server.respond = lambda request: Reply(200, {"late": True}, delay=30)
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(FakeClock(), request_timeout=0.3, max_retries=1), server)
    assert "timed out" in str(caught.value.last_error)
    assert str(caught.value).endswith("; " + unreachable_hint(server.url))
    assert len(server.received(2)) == 2


def test_refused_connections_end_in_a_message_that_says_what_to_check():
    url = closed_port_url()
    with pytest.raises(RetriesExhausted) as caught:
        make_http(FakeClock(), max_retries=1).request("GET", url + PATH)
    assert "Connection refused" in str(caught.value) and caught.value.hint == unreachable_hint(url)


def test_a_name_that_does_not_resolve_ends_in_a_message_that_says_what_to_check(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def getaddrinfo(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)  # no real DNS lookup: it may be slow or absent here
    with pytest.raises(RetriesExhausted) as caught:
        make_http(FakeClock(), max_retries=1).request("GET", "https://dms.xx-west-9.myhuaweicloud.com" + PATH)
    assert str(caught.value).endswith(
        "Name or service not known); no HTTP answer came from https://dms.xx-west-9.myhuaweicloud.com: check endpoint (its scheme and port)"
        " or the region it is built from, and the network access from where this task runs (proxy settings HTTP_PROXY, HTTPS_PROXY,"
        " NO_PROXY; firewall)")


def test_dropped_connections_are_no_answer_either(server):
    server.respond = lambda request: Reply(drop=True)
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(FakeClock(), max_retries=2), server)
    assert caught.value.hint == unreachable_hint(server.url)


NO_HINT_ENDINGS = {
    # case: (the replies, each answered once, then the one that answers the rest)
    "server errors": ([], TRANSIENT_REPLIES["503"]),
    "an answer of the wrong shape": ([], TRANSIENT_REPLIES["html on a 200"]),
    "throttled": ([], TRANSIENT_REPLIES["429"]),
    "a server error, then dropped connections": ([TRANSIENT_REPLIES["503"]], TRANSIENT_REPLIES["dropped connection"]),
}


@pytest.mark.parametrize("replies, rest", NO_HINT_ENDINGS.values(), ids=list(NO_HINT_ENDINGS))
def test_no_hint_once_the_endpoint_has_answered(server, replies, rest):
    """An HTTP answer, even an error, proves the endpoint right: the service, not the address, is failing."""
    server.replies.extend(replies)
    server.respond = lambda request: rest
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(FakeClock(), max_retries=2), server)
    assert caught.value.hint is None and "no HTTP answer" not in str(caught.value)
    assert str(caught.value) == "gave up after 3 attempts: %s" % caught.value.last_error


def test_no_hint_when_the_deadline_came_before_anything_was_sent(server):
    fake = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        get(make_http(fake), server, deadline=fake.now - 1)
    assert caught.value.hint is None and "deadline reached" in str(caught.value)


def test_a_write_that_timed_out_says_it_may_have_been_applied_not_what_to_check(server):
    server.replies.append(Reply(200, {"job_id": "late"}, delay=30))
    with pytest.raises(UnsafeToRetryError) as caught:
        put(make_http(FakeClock(), request_timeout=0.3, max_retries=5), server)
    assert "no HTTP answer" not in str(caught.value)


# ------------------------------------------------------------------------------------------------
# on_retry: what the caller hears before each pause


def test_on_retry_hears_each_failed_attempt_and_the_pause_before_it_is_taken(server):
    fake = FakeClock()
    notes = []
    server.replies.extend([Reply(503, {"error_code": "DMS.503", "error_msg": "busy"}), Reply(drop=True), OK])
    http = make_http(fake, max_retries=5, on_retry=lambda note: notes.append((note, list(fake.sleeps))))
    assert get(http, server) == {"task_count": "0", "tasks": []}
    where = "GET %s%s" % (server.url, PATH)
    assert notes == [
        ("%s: attempt 1 of 6 failed (HTTP 503 DMS.503); trying again in 0.5 s" % where, []),
        ("%s: attempt 2 of 6 failed (ConnectionError (Remote end closed connection without response)); trying again in 1.0 s" % where, [0.5]),
    ]
    assert fake.sleeps == [0.5, 1.0]


def test_on_retry_hears_the_pause_a_retry_after_asks_for(server):
    notes = []
    server.replies.extend([Reply(429, "", {"Retry-After": "7"}), OK])
    get(make_http(FakeClock(), max_retries=2, on_retry=notes.append), server)
    assert notes == ["GET %s%s: attempt 1 of 3 failed (HTTP 429); trying again in 7.0 s" % (server.url, PATH)]


def test_on_retry_counts_the_attempts_of_a_request_with_its_own_retries(server):
    notes = []
    server.respond = lambda request: TRANSIENT_REPLIES["503"]
    http = make_http(FakeClock(), max_retries=5, on_retry=notes.append)
    with pytest.raises(RetriesExhausted):
        http.request("GET", server.url + PATH, retries=1)
    assert len(notes) == 1 and "attempt 1 of 2 failed" in notes[0]


def test_on_retry_hears_every_timeout_of_a_blackholed_endpoint(blackhole):
    notes = []
    with pytest.raises(RetriesExhausted):
        make_http(FakeClock(), request_timeout=0.2, max_retries=2, on_retry=notes.append).request("GET", blackhole + PATH)
    assert notes == ["GET %s%s: attempt %d of 3 failed (ConnectTimeout (timed out)); trying again in %.1f s" % (blackhole, PATH, attempt, pause)
                     for attempt, pause in ((1, 0.5), (2, 1.0))]


def test_on_retry_hears_the_retries_of_call(server):
    notes = []
    server.replies.extend([TRANSIENT_REPLIES["502"], Reply(200, {"instances": []})])
    answer = call(make_http(FakeClock(), max_retries=5, on_retry=notes.append), server)
    assert answer.status == 200
    assert notes == ["GET %s%s: attempt 1 of 6 failed (HTTP 502); trying again in 0.5 s" % (server.url, CONFIGS_URL_PATH)]


def https_to_the_same_port(server):
    return server.url.replace("http://", "https://")


NEVER_RETRIED = {
    # case: (what the server answers, the scheme to use)
    "401": (Reply(401, {"error_code": "APIG.0301", "error_msg": "bad signature"}, {"Retry-After": "1"}), lambda server: server.url),
    "403": (Reply(403, {"error_code": "APIG.0302", "error_msg": "forbidden"}), lambda server: server.url),
    "400 APIGW.0301": (Reply(400, {"error_code": "APIGW.0301", "error_msg": "bad token"}), lambda server: server.url),
    "https to a plain http port": (OK, https_to_the_same_port),
}


@pytest.mark.parametrize("reply, base", NEVER_RETRIED.values(), ids=list(NEVER_RETRIED))
def test_on_retry_never_hears_of_what_is_never_retried(server, reply, base):
    """Authentication failures (repeated ones lock the key) and an https:// endpoint on a plain HTTP port fail at once."""
    fake = FakeClock()
    notes = []
    server.respond = lambda request: reply
    with pytest.raises((AuthenticationError, TransportError)):
        make_http(fake, max_retries=5, on_retry=notes.append).request("GET", base(server) + PATH)
    assert notes == [] and fake.sleeps == [] and len(server.requests) <= 1


BODY_MARKER = "BODYMARKER-never-in-a-note"
# Every answer echoes the secrets the request carried, in the body and the error code, beside a marker of the body.
ECHOING_REPLIES = {
    "503": lambda echo: Reply(503, {"error_code": echo, "error_msg": "%s %s" % (BODY_MARKER, echo)}),
    "429": lambda echo: Reply(429, {"error_code": "APIG.0308", "error_msg": "%s %s" % (BODY_MARKER, echo)}),
    "flow control 404": lambda echo: Reply(404, {"error_code": "DMS.10240407", "error_msg": "%s %s" % (BODY_MARKER, echo)}),
    "502 page": lambda echo: Reply(502, "<html>%s %s</html>" % (BODY_MARKER, echo), {"Content-Type": "text/html"}),
    "html on a 200": lambda echo: Reply(200, "<html>%s %s</html>" % (BODY_MARKER, echo), {"Content-Type": "text/html"}),
    "dropped": lambda echo: Reply(drop=True),
}


@pytest.mark.parametrize("auth", ["aksk", "token"])
@pytest.mark.parametrize("echoing", ECHOING_REPLIES.values(), ids=list(ECHOING_REPLIES))
def test_on_retry_never_hears_a_secret_a_header_or_a_body(server, auth, echoing):
    signer = AkSkSigner(AK, SK, SECURITY_TOKEN) if auth == "aksk" else TokenAuth(AUTH_TOKEN)
    sent_secret = SECURITY_TOKEN if auth == "aksk" else AUTH_TOKEN

    def respond(request):
        return echoing(request.headers.get("X-Security-Token") or request.headers.get("X-Auth-Token"))

    server.respond = respond
    notes = []
    with pytest.raises(RetriesExhausted):
        get(make_http(FakeClock(), auth=signer, max_retries=2, on_retry=notes.append), server)
    assert len(notes) == 2
    sent = server.received(3)
    assert sent[0].headers["X-Security-Token" if auth == "aksk" else "X-Auth-Token"] == sent_secret  # the probe means something
    signatures = [request.headers["Authorization"] for request in sent if request.headers.get("Authorization")]
    for note in notes:
        assert note.startswith("GET %s%s: attempt " % (server.url, PATH)) and "?" not in note
        for never in CANARIES + (BODY_MARKER,) + tuple(signatures) + tuple(signature.rpartition("Signature=")[2] for signature in signatures):
            assert never not in note


# ------------------------------------------------------------------------------------------------
# TLS: a refused certificate is final; a handshake cut short is retried like a dropped connection

TLS_ANSWER = {"ok": True}


class TlsServer:
    """A TLS endpoint on 127.0.0.1 that treats each connection as its script says, then answers 200 TLS_ANSWER.

    "eof": read the ClientHello, then shut its side (the client's handshake ends in an unexpected EOF);
    "reset": read it, then close with an RST (ECONNRESET);
    "garbage after the request": complete the handshake, read the request, then write bytes that are not TLS where
    the answer should be (the client's TLS layer fails while reading the answer, after the request arrived).
    ``connections`` counts the accepted connections, ``requests`` the requests read.
    """

    def __init__(self, cert_dir, script=()):
        certificate, key = write_certificates(str(cert_dir))
        self.ca_path = os.path.join(str(cert_dir), "ca.pem")
        self.script = list(script)
        self.connections = 0
        self.requests = 0
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certificate, key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so that the serving thread sees the stop flag
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.url = "https://127.0.0.1:%d" % self._listener.getsockname()[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except OSError:  # the timeout that lets the loop see the stop flag, or a client gone before accept()
                continue
            self.connections += 1  # before any byte goes back: the client cannot see an outcome before the count
            action = self.script.pop(0) if self.script else "answer"
            with connection:
                connection.settimeout(30)  # only a broken test waits for it
                try:
                    self._handle(connection, action)
                except OSError:  # ssl.SSLError included: the client refused the certificate, as some tests want
                    pass

    def _handle(self, connection, action):
        if action == "reset":
            connection.recv(65536)  # the ClientHello
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends an RST
            return
        if action == "eof":
            connection.recv(65536)  # the ClientHello
            connection.shutdown(socket.SHUT_WR)  # the client's handshake meets an EOF
            while connection.recv(65536):  # until the client hangs up: closing on unread data would send an RST instead
                pass
            return
        with self._context.wrap_socket(connection, server_side=True) as tls:
            _read_request(tls)
            self.requests += 1
            if action == "garbage after the request":
                with socket.socket(fileno=os.dup(tls.fileno())) as raw:  # the TCP stream under the TLS session
                    raw.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                return
            body = json.dumps(TLS_ANSWER).encode("utf-8")
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(body), body))


def _read_request(tls):
    """Read one whole request (head, then as many body bytes as Content-Length says): closing on unread data sends an RST."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += tls.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length.group(1)):
        body += tls.recv(65536)


@pytest.fixture(name="tls_server")
def tls_server_fixture(tmp_path, monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with TlsServer(tmp_path / "server") as running:
        yield running


class PoolOptionsAdapter(requests.adapters.HTTPAdapter):
    """An adapter that gives its urllib3 connection pools extra options (here: the hostname the certificate must name)."""

    def __init__(self, **pool_options):
        self._pool_options = pool_options
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):  # pylint: disable=arguments-differ
        super().init_poolmanager(*args, **dict(kwargs, **self._pool_options))


@pytest.mark.parametrize("cut", ["eof", "reset"])
def test_a_handshake_cut_short_is_retried(tls_server, cut):
    fake = FakeClock()
    tls_server.script.append(cut)
    http = make_http(fake, ca_path=tls_server.ca_path, max_retries=5)
    assert http.request("GET", tls_server.url + PATH) == TLS_ANSWER
    assert tls_server.connections == 2
    assert len(fake.sleeps) == 1


def test_handshakes_cut_short_exhaust_the_retries_without_the_certificate_hint(tls_server):
    fake = FakeClock()
    tls_server.script.extend(["eof"] * 3)
    with pytest.raises(RetriesExhausted) as caught:
        make_http(fake, ca_path=tls_server.ca_path, max_retries=2).request("GET", tls_server.url + PATH)
    message = str(caught.value.last_error)
    assert "EOF" in message  # the TLS failure itself (not an RST) was retried
    assert "ca_path" not in message and message.startswith("GET %s%s: SSLError (" % (tls_server.url, PATH))
    assert tls_server.connections == 3 and len(fake.sleeps) == 2


def test_a_tls_error_after_the_request_is_retried_for_a_read(tls_server):
    fake = FakeClock()
    tls_server.script.append("garbage after the request")
    assert make_http(fake, ca_path=tls_server.ca_path, max_retries=5).request("GET", tls_server.url + PATH) == TLS_ANSWER
    assert (tls_server.connections, tls_server.requests, len(fake.sleeps)) == (2, 2, 1)


def test_a_write_that_met_a_tls_error_after_it_was_sent_is_never_sent_again(tls_server):
    """The SSLError is the same kind as a failed handshake's; what tells them apart is that the request had gone."""
    fake = FakeClock()
    tls_server.script.append("garbage after the request")
    with pytest.raises(UnsafeToRetryError) as caught:
        make_http(fake, ca_path=tls_server.ca_path, max_retries=5).request(
            "PUT", tls_server.url + PATH, [], {}, None, body={"kafka_configs": []}, write=True)
    assert (tls_server.connections, tls_server.requests, fake.sleeps) == (1, 1, [])
    assert "SSLError" in str(caught.value) and "may have applied it" in str(caught.value)


@pytest.mark.parametrize("cut", ["eof", "reset"])
def test_a_write_whose_handshake_was_cut_short_is_sent_again(tls_server, cut):
    fake = FakeClock()
    tls_server.script.append(cut)
    http = make_http(fake, ca_path=tls_server.ca_path, max_retries=5)
    assert http.request("PUT", tls_server.url + PATH, [], {}, None, body={"kafka_configs": []}, write=True) == TLS_ANSWER
    assert (tls_server.connections, tls_server.requests, len(fake.sleeps)) == (2, 1, 1)


def test_a_write_on_a_session_that_records_no_phase_is_sent_again_only_after_a_connection_never_made(tls_server):
    """A session of another kind (here a plain one) cannot tell when a TLS error came: such a write is not sent again."""
    fake = FakeClock()
    tls_server.script.append("eof")
    with pytest.raises(UnsafeToRetryError):
        make_http(fake, ca_path=tls_server.ca_path, max_retries=5, session=requests.Session()).request(
            "PUT", tls_server.url + PATH, [], {}, None, body={}, write=True)
    assert (tls_server.connections, fake.sleeps) == (1, [])


def another_ca(tmp_path):
    write_certificates(str(tmp_path / "other"))
    return str(tmp_path / "other" / "ca.pem")


def not_a_ca_bundle(tmp_path):
    path = tmp_path / "not-a-bundle.pem"
    path.write_text("this is not a PEM file\n", encoding="utf-8")
    return str(path)


def expecting_hostname(**pool_options):
    session = requests.Session()
    session.mount("https://", PoolOptionsAdapter(**pool_options))
    return session


REFUSED_CERTIFICATES = {
    # case: (HttpClient options, from tmp_path and the server; what the message explains)
    "another CA": (lambda tmp_path, server: {"ca_path": another_ca(tmp_path)}, "certificate verify failed"),
    "default trust store": (lambda tmp_path, server: {}, "certificate verify failed"),
    "hostname mismatch (ssl's check)": (
        lambda tmp_path, server: {"ca_path": server.ca_path, "session": expecting_hostname(server_hostname="dms.other.example")},
        "certificate verify failed"),
    "hostname mismatch (urllib3's check)": (
        lambda tmp_path, server: {"ca_path": server.ca_path, "session": expecting_hostname(assert_hostname="dms.other.example")},
        "doesn't match"),
    "ca_path not a CA bundle": (lambda tmp_path, server: {"ca_path": not_a_ca_bundle(tmp_path)}, "no certificate"),
}


def test_https_to_a_plain_http_port_is_final_and_names_the_scheme(server):
    server.replies.extend([OK] * 6)
    https_url = server.url.replace("http://", "https://")
    with pytest.raises(TransportError) as caught:
        make_http(FakeClock(), max_retries=5).request("GET", https_url + PATH)
    message = str(caught.value)
    assert "TLS error: the endpoint does not answer TLS on this port (is it an http:// endpoint, or another port?)" in message, message
    assert not isinstance(caught.value, RetriesExhausted)


@pytest.mark.parametrize("options, explanation", REFUSED_CERTIFICATES.values(), ids=list(REFUSED_CERTIFICATES))
def test_a_certificate_problem_is_final_and_points_at_ca_path(tmp_path, tls_server, options, explanation):
    fake = FakeClock()
    with pytest.raises(TransportError) as caught:
        make_http(fake, max_retries=5, **options(tmp_path, tls_server)).request("GET", tls_server.url + PATH)
    message = str(caught.value)
    assert message.startswith("GET %s%s: TLS error (is ca_path the CA of this endpoint?): " % (tls_server.url, PATH)), message
    assert explanation in message
    # Not retried. (At most one connection: a ca_path that cannot be loaded fails before the server's accept() may have run.)
    assert fake.sleeps == [] and tls_server.connections <= 1


# ------------------------------------------------------------------------------------------------
# Writes: sent again only when the first try certainly never reached the service

BODY = {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]}


def put(http, server):
    return http.request("PUT", server.url + "/v2/0123456789abcdef/instances/inst-1/configs", [], {}, None, body=BODY, write=True)


def test_a_write_sends_its_body_as_json_and_signs_it(server):
    server.replies.append(Reply(200, {"job_id": "j1"}))
    http = make_http(FakeClock())
    assert put(http, server) == {"job_id": "j1"}
    [request] = server.requests
    assert json.loads(request.body.decode("utf-8")) == BODY
    signed = AkSkSigner(AK, SK, SECURITY_TOKEN).sign(
        "PUT", server.url + request.path, [], {"Content-Type": "application/json", "User-Agent": USER_AGENT},
        request.body, now=datetime.strptime(request.headers["X-Sdk-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc))
    assert request.headers["Authorization"] == signed["Authorization"]


@pytest.mark.parametrize("failure", ["500", "502", "503", "504", "dropped connection"])
def test_a_write_that_may_have_been_applied_is_never_sent_again(server, failure):
    server.replies.extend([TRANSIENT_REPLIES[failure], Reply(200, {"job_id": "twice"})])
    fake = FakeClock()
    with pytest.raises(UnsafeToRetryError) as caught:
        put(make_http(fake, max_retries=5), server)
    assert len(server.requests) == 1 and fake.sleeps == []
    assert "may have applied it" in str(caught.value)


def test_a_write_that_timed_out_is_never_sent_again(server):
    server.replies.extend([Reply(200, {"job_id": "late"}, delay=30), Reply(200, {"job_id": "twice"})])
    with pytest.raises(UnsafeToRetryError) as caught:
        put(make_http(FakeClock(), request_timeout=0.3, max_retries=5), server)
    assert len(server.received(1)) == 1 and isinstance(caught.value.error, TransportError)


def test_a_throttled_write_is_sent_again(server):
    server.replies.extend([TRANSIENT_REPLIES["429"], Reply(200, {"job_id": "j1"})])
    fake = FakeClock()
    assert put(make_http(fake, max_retries=5), server) == {"job_id": "j1"}
    assert len(server.requests) == 2 and fake.sleeps and fake.sleeps[0] >= THROTTLED_MIN_PAUSE


def test_a_write_whose_connection_was_refused_is_sent_again():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        make_http(fake, max_retries=2).request("POST", "http://127.0.0.1:%d/v2/p/instances/action" % port, [], {}, None, body={}, write=True)
    assert caught.value.attempts == 3 and len(fake.sleeps) == 2


@pytest.mark.parametrize("failure", ["503", "dropped connection"])
def test_a_read_is_still_retried(server, failure):
    server.replies.extend([TRANSIENT_REPLIES[failure], OK])
    assert get(make_http(FakeClock(), max_retries=5), server) == {"task_count": "0", "tasks": []}
    assert len(server.requests) == 2


# ------------------------------------------------------------------------------------------------
# call(): any answer, its status and body kept, for callers that decide themselves what succeeded

CONFIGS_URL_PATH = "/v2/0123456789abcdef/instances/inst-1/configs"


def call(http, server, method="GET", accepted=None, body=None):
    return http.call(method, server.url + CONFIGS_URL_PATH, [("limit", "10")], {"X-Project-Id": "0123456789abcdef"},
                     body=body, write=method != "GET", accepted=accepted)


def test_call_returns_an_accepted_answer_with_its_request_id(server):
    server.replies.append(Reply(200, {"job_id": "j1"}, {"X-Request-Id": "req-1"}))
    answer = call(make_http(FakeClock()), server, "PUT", body=BODY)
    assert answer == HttpAnswer(200, "req-1", {"job_id": "j1"}, None)
    [request] = server.requests
    assert (request.method, request.path, request.query) == ("PUT", CONFIGS_URL_PATH, [("limit", "10")])
    assert json.loads(request.body.decode("utf-8")) == BODY


def test_call_accepts_the_statuses_it_is_given(server):
    server.replies.append(Reply(404, {"error_code": "DMS.00404022", "error_msg": "The instance does not exist."}))
    answer = call(make_http(FakeClock()), server, accepted={200, 404})
    assert (answer.status, answer.body["error_code"], answer.error) == (404, "DMS.00404022", None)


def test_call_refuses_a_success_outside_the_accepted_statuses(server):
    server.replies.append(Reply(200, {"job_id": "j1"}))
    answer = call(make_http(FakeClock()), server, "POST", accepted={201}, body={})
    assert (answer.status, answer.body) == (200, {"job_id": "j1"})
    assert isinstance(answer.error, ApiError) and answer.error.status == 200
    assert len(server.requests) == 1


def test_call_returns_a_refused_answer_with_its_typed_error(server):
    server.replies.append(Reply(400, {"error_code": "DMS.00400017", "error_msg": "Job task is still running."}, {"X-Request-Id": "req-2"}))
    answer = call(make_http(FakeClock()), server, "PUT", body=BODY)
    assert (answer.status, answer.request_id, answer.body["error_code"]) == (400, "req-2", "DMS.00400017")
    assert isinstance(answer.error, ApiError)
    assert (answer.error.error_code, answer.error.request_id) == ("DMS.00400017", "req-2")
    assert len(server.requests) == 1


def test_call_never_retries_an_authentication_failure(server):
    server.replies.extend([Reply(401, {"error_code": "APIG.0301", "error_msg": "bad signature"}), Reply(200, {})])
    fake = FakeClock()
    answer = call(make_http(fake, max_retries=5), server)
    assert isinstance(answer.error, AuthenticationError) and answer.status == 401
    assert len(server.requests) == 1 and fake.sleeps == []


def test_call_retries_a_read_and_returns_the_answer_that_came(server):
    server.replies.extend([TRANSIENT_REPLIES["503"], TRANSIENT_REPLIES["dropped connection"], Reply(200, {"instances": []})])
    answer = call(make_http(FakeClock(), max_retries=5), server)
    assert (answer.status, answer.body, answer.error) == (200, {"instances": []}, None)
    assert len(server.requests) == 3


def test_call_returns_the_last_answer_once_retries_are_exhausted(server):
    server.respond = lambda request: Reply(503, {"error_code": "APIG.0202", "error_msg": "Backend unavailable."})
    answer = call(make_http(FakeClock(), max_retries=2), server)
    assert (answer.status, answer.body["error_code"]) == (503, "APIG.0202")
    assert isinstance(answer.error, RetriesExhausted) and answer.error.attempts == 3
    assert len(server.requests) == 3


def test_call_sends_a_throttled_write_again(server):
    server.replies.extend([TRANSIENT_REPLIES["429"], Reply(200, {"job_id": "j1"})])
    fake = FakeClock()
    answer = call(make_http(fake, max_retries=5), server, "POST", body=BODY)
    assert (answer.status, answer.body, answer.error) == (200, {"job_id": "j1"}, None)
    assert len(server.requests) == 2 and fake.sleeps[0] >= THROTTLED_MIN_PAUSE


@pytest.mark.parametrize("failure", ["500", "502", "503", "504"])
def test_call_never_sends_a_write_again_after_a_server_error_and_keeps_its_answer(server, failure):
    server.replies.extend([TRANSIENT_REPLIES[failure], Reply(200, {"job_id": "twice"})])
    fake = FakeClock()
    answer = call(make_http(fake, max_retries=5), server, "PUT", body=BODY)
    assert answer.status == int(failure)
    assert isinstance(answer.error, UnsafeToRetryError) and "may have applied it" in str(answer.error)
    assert len(server.requests) == 1 and fake.sleeps == []


def test_call_never_sends_a_write_again_after_a_dropped_connection(server):
    server.replies.extend([TRANSIENT_REPLIES["dropped connection"], Reply(200, {"job_id": "twice"})])
    with pytest.raises(UnsafeToRetryError):
        call(make_http(FakeClock(), max_retries=5), server, "DELETE")
    assert len(server.requests) == 1


def test_call_never_sends_a_write_again_after_a_timeout(server):
    server.replies.extend([Reply(200, {"job_id": "late"}, delay=30), Reply(200, {"job_id": "twice"})])
    with pytest.raises(UnsafeToRetryError) as caught:
        call(make_http(FakeClock(), request_timeout=0.3, max_retries=5), server, "POST", body=BODY)
    assert len(server.received(1)) == 1 and isinstance(caught.value.error, TransportError)


def test_call_sends_a_write_again_when_the_connection_was_never_made():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeClock()
    with pytest.raises(RetriesExhausted) as caught:
        make_http(fake, max_retries=2).call("POST", "http://127.0.0.1:%d/v2/p/instances/action" % port, body={}, write=True)
    assert caught.value.attempts == 3 and len(fake.sleeps) == 2


@pytest.mark.parametrize("auth", [TokenAuth(AUTH_TOKEN), AkSkSigner(AK, SK, SECURITY_TOKEN)], ids=["token", "security token"])
def test_call_masks_a_sent_token_echoed_in_any_answer(server, auth):
    echoed = {"error_code": "APIG.0301", "error_msg": "token %s and %s refused" % (AUTH_TOKEN, SECURITY_TOKEN)}
    server.replies.extend([Reply(200, {"echo": [AUTH_TOKEN, SECURITY_TOKEN]}), Reply(401, echoed)])
    http = make_http(FakeClock(), auth=auth)
    for answer in (call(http, server), call(http, server)):
        shown = json.dumps(answer.body) + str(answer.error)
        sent = AUTH_TOKEN if isinstance(auth, TokenAuth) else SECURITY_TOKEN
        assert sent not in shown and "********" in shown


def test_call_keeps_a_non_json_body_out_of_json(server):
    server.replies.append(Reply(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"}))
    answer = call(make_http(FakeClock(), max_retries=0), server)
    assert (answer.status, answer.body) == (502, None)
    assert "Bad Gateway" in str(answer.error)


# ------------------------------------------------------------------------------------------------
# Use from a few threads at once


def test_calls_are_counted_from_several_threads(server):
    server.respond = lambda request: OK
    http = make_http(FakeClock())
    threads = [threading.Thread(target=lambda: [get(http, server) for _request in range(25)]) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert http.calls == len(server.requests) == 200


def test_its_own_session_keeps_no_cookies(server):
    server.replies.append(Reply(200, {"task_count": "0", "tasks": []}, {"Set-Cookie": "lb=node-7; Path=/"}))
    server.respond = lambda request: OK
    http = make_http(FakeClock())
    get(http, server)
    get(http, server)
    assert "Cookie" not in server.requests[1].headers
