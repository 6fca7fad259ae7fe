# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each documented error answer means (classify_api_error), and what the typed errors say."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, EndpointNotFoundError, IncompleteListingError, InstanceNotFoundError, MalformedAnswerError,
    MalformedIdError, NotFoundError, RetriesExhausted, TransportError, classify_api_error, failure_details,
)

RETRIED = True
FINAL = False

# (status, error code, error class, whether retrying may help): one row per documented answer, and the
# undocumented ones the rules must still place.
CLASSIFICATION = [
    # Authentication: never retried, whatever the status (repeated failures lock the key).
    (401, "APIG.0301", AuthenticationError, FINAL),
    (401, "APIGW.0301", AuthenticationError, FINAL),
    (400, "APIG.0301", AuthenticationError, FINAL),
    (400, "APIGW.0301", AuthenticationError, FINAL),
    (401, None, AuthenticationError, FINAL),
    (403, None, AuthenticationError, FINAL),
    (403, "APIG.0302", AuthenticationError, FINAL),
    (403, "DMS.00403001", AuthenticationError, FINAL),
    # Throttling: the gateway's 429 and DMS's flow control, which DMS sends as a 404.
    (429, "APIG.0308", ApiError, RETRIED),
    (429, None, ApiError, RETRIED),
    (404, "DMS.10240407", ApiError, RETRIED),
    (400, "DMS.10240407", ApiError, RETRIED),
    # Server errors, whatever their code.
    (500, "DMS.10000", ApiError, RETRIED),
    (502, None, ApiError, RETRIED),
    (503, "DMS.00404022", ApiError, RETRIED),
    (504, "APIG.0201", ApiError, RETRIED),
    # No such API at this URL: a configuration problem, not an absent task.
    (404, "APIG.0101", EndpointNotFoundError, FINAL),
    (404, "DMS.00404001", EndpointNotFoundError, FINAL),
    (404, "DMS.10240406", EndpointNotFoundError, FINAL),
    (400, "APIG.0101", EndpointNotFoundError, FINAL),
    # The instance does not exist.
    (404, "DMS.00404022", InstanceNotFoundError, FINAL),
    (400, "DMS.00404022", InstanceNotFoundError, FINAL),
    # An ID refused as malformed (only a 400 says so).
    (400, "DMS.00400070", MalformedIdError, FINAL),
    (400, "DMS.00400030", MalformedIdError, FINAL),
    (404, "DMS.00400070", NotFoundError, FINAL),
    # A DMS 404 about the task asked for: the only "no such task".
    (404, "DMS.00404030", NotFoundError, FINAL),
    (404, "DMS.99999999", NotFoundError, FINAL),
    # A 404 nobody in DMS vouches for (a proxy's page, an empty body, another service's code): retried, never "absent".
    (404, None, ApiError, RETRIED),
    (404, "", ApiError, RETRIED),
    (404, "APIG.9999", ApiError, RETRIED),
    (404, "dms.00404030", ApiError, RETRIED),
    # Other client errors: final.
    (400, None, ApiError, FINAL),
    (400, "DMS.00400026", ApiError, FINAL),
    (409, "DMS.00409001", ApiError, FINAL),
    (418, None, ApiError, FINAL),
]


@pytest.mark.parametrize("status, code, error_class, retried", CLASSIFICATION,
                         ids=["%s-%s" % (status, code) for status, code, _class, _retried in CLASSIFICATION])
def test_classify_api_error(status, code, error_class, retried):
    assert classify_api_error(status, code) == (error_class, retried)


def test_every_error_class_is_an_api_error():
    for _status, _code, error_class, _retried in CLASSIFICATION:
        assert issubclass(error_class, ApiError)


def test_not_found_kinds_are_told_apart():
    # A caller catching "no such task" must not swallow "no such instance" or "no such URL".
    assert not issubclass(InstanceNotFoundError, NotFoundError)
    assert not issubclass(EndpointNotFoundError, NotFoundError)


def test_malformed_answer_is_a_transport_error_naming_the_url():
    error = MalformedAnswerError("HTTP 200 with an answer of an unexpected shape", "GET", "https://dms.example/v2/p/tasks")
    assert isinstance(error, TransportError)
    assert str(error) == "GET https://dms.example/v2/p/tasks: HTTP 200 with an answer of an unexpected shape"


def test_incomplete_listing_names_both_numbers():
    error = IncompleteListingError(100, 250)
    assert (error.held, error.counted) == (100, 250)
    assert "100" in str(error) and "250" in str(error)


def test_endpoint_not_found_says_what_to_check():
    error = EndpointNotFoundError(404, "APIG.0101", "The API does not exist", "req-1", "GET", "https://dms.xx-east-9.example/v2/p/tasks")
    message = str(error)
    for part in ("APIG.0101", "https://dms.xx-east-9.example/v2/p/tasks", "req-1", "check endpoint and region"):
        assert part in message


@pytest.mark.parametrize("code, option", [("DMS.00400070", "task_id"), ("DMS.00400030", "instance_id")])
def test_malformed_id_names_its_option_and_value(code, option):
    error = MalformedIdError(400, code, "Invalid parameter", "req-2", "GET", "/v2/p/instances/i/tasks/x")
    assert error.option == option
    assert str(error).startswith("%s is malformed according to the API: HTTP 400 %s" % (option, code))
    named = error.about("bad id!")
    assert isinstance(named, MalformedIdError)
    assert (named.status, named.error_code, named.error_msg, named.request_id, named.method, named.path, named.value) == (
        400, code, "Invalid parameter", "req-2", "GET", "/v2/p/instances/i/tasks/x", "bad id!")
    assert str(named).startswith("%s 'bad id!' is malformed according to the API: " % option)
    assert "req-2" in str(named)


def test_api_error_message():
    assert str(ApiError(404, "DMS.00404030", "gone", "req-3", "GET", "/v2/p/tasks/t")) == (
        "HTTP 404 DMS.00404030: gone (GET /v2/p/tasks/t, request ID req-3)")
    assert str(ApiError(502)) == "HTTP 502"
    assert str(ApiError(400, request_id="req-4")) == "HTTP 400 (request ID req-4)"


def test_failure_details_reach_through_retries_exhausted():
    error = ApiError(503, "DMS.503", "busy", "req-5")
    expected = {"http_status": 503, "error_code": "DMS.503", "error_msg": "busy", "request_id": "req-5"}
    assert failure_details(error) == expected
    assert failure_details(RetriesExhausted(error, 3)) == expected
    assert failure_details(RetriesExhausted(MalformedAnswerError("bad body"), 3)) == {}


def test_transport_error_keeps_its_reason_apart():
    error = TransportError("ConnectTimeout (timed out)", "GET", "https://dms.example/v2/p/tasks")
    assert error.reason == "ConnectTimeout (timed out)"
    assert str(error) == "GET https://dms.example/v2/p/tasks: ConnectTimeout (timed out)"


def test_retries_exhausted_ends_with_its_hint():
    last = TransportError("ConnectTimeout (timed out)", "GET", "https://dms.example/v2/p/tasks")
    assert str(RetriesExhausted(last, 6)) == "gave up after 6 attempts: GET https://dms.example/v2/p/tasks: ConnectTimeout (timed out)"
    hinted = RetriesExhausted(last, 6, "check endpoint")
    assert str(hinted) == "gave up after 6 attempts: GET https://dms.example/v2/p/tasks: ConnectTimeout (timed out); check endpoint"
    assert (hinted.last_error, hinted.attempts, hinted.hint) == (last, 6, "check endpoint")


def test_with_hint_is_the_same_failure_saying_another_hint():
    last = ApiError(503, "DMS.503", "busy", "req-6")
    hinted = RetriesExhausted(last, 3, "check endpoint").with_hint("check region")
    assert type(hinted) is RetriesExhausted  # pylint: disable=unidiomatic-typecheck
    assert (hinted.last_error, hinted.attempts, hinted.hint) == (last, 3, "check region")
    assert str(hinted).endswith("; check region") and "check endpoint" not in str(hinted)
    assert failure_details(hinted)["request_id"] == "req-6"
