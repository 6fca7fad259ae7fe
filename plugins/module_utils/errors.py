# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by the DMS client, and the one place that says what an API error answer means.

Only the plugins turn these into failed results. No message ever carries a secret: errors are built from
the method, the URL's host and path (never the query or headers) and what the API said, with any token
the request carried masked.
"""

from __future__ import annotations

# 404 answers that say nothing about the task asked for: the gateway found no such API (a wrong host or
# path), or the service was asked for a URL it does not have.
URL_NOT_FOUND_CODES = frozenset(("APIG.0101", "DMS.00404001", "DMS.10240406"))
# DMS sends its flow control ("request is too frequent") as a 404; the gateway's throttling is a 429.
FLOW_CONTROL_CODES = frozenset(("DMS.10240407", "APIG.0308"))
# The gateway's authentication failures; their codes appear with both spellings.
AUTHENTICATION_CODES = frozenset(("APIG.0301", "APIGW.0301"))
INSTANCE_NOT_FOUND = "DMS.00404022"
# 400 answers that refuse one of our IDs, and the option that carried it.
MALFORMED_ID_CODES = {"DMS.00400070": "task_id", "DMS.00400030": "instance_id"}
SERVER_ERROR_STATUSES = frozenset((500, 502, 503, 504))
# What stands between a host that never answers and the machine that asks, for the hints that name what to check.
NETWORK_ACCESS = "the network access from where this task runs (proxy settings HTTP_PROXY, HTTPS_PROXY, NO_PROXY; firewall)"


class DmsError(Exception):
    """Base of every error the client raises."""

    def module_failure(self, doing):
        """What a failed module result carries for this error: ``msg``, what was being done (``doing``) and why it failed,
        and, where the API answered, ``error`` with what it said (see failure_details)."""
        return dict({"msg": "%s: %s" % (doing, self)}, **error_result(self))


class ConfigurationError(DmsError):
    """The options cannot work together (missing credentials, bad endpoint, bad time, ...)."""

    def module_failure(self, doing):
        return {"msg": str(self)}  # bad input, refused before anything was done: the message says it all


class TransportError(DmsError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS failure."""

    def __init__(self, message, method=None, path=None):
        self.method = method
        self.path = path  # scheme://host/path: which endpoint could not be reached matters here
        self.reason = message
        super().__init__("%s %s: %s" % (method, path, message) if method else message)


class MalformedAnswerError(TransportError):
    """A success status with a body of another shape than the call answers: never read as "no tasks"."""


class IncompleteListingError(DmsError):
    """Paging ended with fewer distinct tasks than the API counted, so the listing cannot prove an absence."""

    def __init__(self, held, counted):
        self.held = held
        self.counted = counted
        super().__init__("the listing stopped at %d of the %d tasks the API counted" % (held, counted))


class ApiError(DmsError):
    """The API answered with an error status."""

    def __init__(self, status, error_code=None, error_msg=None, request_id=None, method=None, path=None):
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self):
        parts = ["HTTP %s" % self.status]
        if self.error_code:
            parts.append(self.error_code)
        text = " ".join(parts)
        if self.error_msg:
            text += ": %s" % self.error_msg
        if self.method and self.path:
            text += " (%s %s" % (self.method, self.path)
            text += ", request ID %s)" % self.request_id if self.request_id else ")"
        elif self.request_id:
            text += " (request ID %s)" % self.request_id
        return text


class AuthenticationError(ApiError):
    """401/403: bad signature, token or permissions. Never retried: repeated failures lock the key."""


class NotFoundError(ApiError):
    """A DMS 404 about the task asked for: the service has no such task (or no progress for it)."""


class InstanceNotFoundError(ApiError):
    """The instance does not exist (in this project and region)."""


class EndpointNotFoundError(ApiError):
    """No such API at this URL: a mistyped endpoint or region, or a call this engine does not have."""

    def _describe(self):
        return "%s: no such API at this URL; check endpoint and region" % super()._describe()


class MalformedIdError(ApiError):
    """The API refused an ID we sent as malformed; ``option`` names the option that carried it."""

    def __init__(self, *args, **kwargs):
        self.value = kwargs.pop("value", None)
        super().__init__(*args, **kwargs)

    @property
    def option(self):
        return MALFORMED_ID_CODES[self.error_code]

    def about(self, value):
        """The same error, naming the value that was refused."""
        return MalformedIdError(self.status, self.error_code, self.error_msg, self.request_id, self.method, self.path, value=value)

    def _describe(self):
        shown = " '%s'" % self.value if self.value is not None else ""
        return "%s%s is malformed according to the API: %s" % (self.option, shown, super()._describe())


class RetriesExhausted(DmsError):
    """A transient failure persisted through every retry, or the caller's deadline came first.

    ``hint`` says what to check, where the failures point at the configuration or the network rather than at the
    service: when no attempt ever got an HTTP answer (see http_client.unreachable_hint).
    """

    def __init__(self, last_error, attempts, hint=None):
        self.last_error = last_error
        self.attempts = attempts
        self.hint = hint
        message = "gave up after %d attempt%s: %s" % (attempts, "" if attempts == 1 else "s", last_error)
        super().__init__("%s; %s" % (message, hint) if hint else message)

    def with_hint(self, hint):
        """The same failure, saying ``hint`` instead: for a caller that knows better what the URL was for."""
        return RetriesExhausted(self.last_error, self.attempts, hint)


class UnsafeToRetryError(DmsError):
    """A write failed in a way that leaves open whether the service applied it: sending it again could apply it twice."""

    def __init__(self, error):
        self.error = error
        super().__init__("%s (not sent again: the service may have applied it; check before retrying)" % error)


class NotSentError(DmsError):
    """A change was not sent, because a read that comes before it failed with ``error``."""

    def __init__(self, error):
        self.error = error
        super().__init__(str(error))


def classify_api_error(status, error_code):
    """(error class, whether retrying may help) for an error answer: what each documented answer means.

    A 404 means "no such task" only when DMS itself says so; the gateway's and the service's "no such URL"
    codes are a configuration problem, flow control is throttling, and a 404 with no DMS code at all (a proxy's
    page, an empty body) is an answer we cannot read, worth another try, never evidence of absence.
    """
    if status in (401, 403) or error_code in AUTHENTICATION_CODES:
        return AuthenticationError, False
    if status == 429 or error_code in FLOW_CONTROL_CODES:
        return ApiError, True
    if status in SERVER_ERROR_STATUSES:
        return ApiError, True
    if error_code in URL_NOT_FOUND_CODES:
        return EndpointNotFoundError, False
    if error_code == INSTANCE_NOT_FOUND:
        return InstanceNotFoundError, False
    if status == 400 and error_code in MALFORMED_ID_CODES:
        return MalformedIdError, False
    if status == 404:
        if error_code and error_code.startswith("DMS."):
            return NotFoundError, False
        return ApiError, True
    return ApiError, False


def worth_another_poll(error, good_polls, answered=True):
    """Whether a later poll may succeed where this one failed with ``error``, after ``good_polls`` good ones.

    Retries that all failed are worth another poll only once the endpoint has ``answered`` at all; a listing cut short
    always is; and "no such API" from calls that have worked before is the gateway's hiccup, not a wrong endpoint.
    Anything else (authentication, a missing instance, a malformed ID) no later poll mends.
    """
    if isinstance(error, RetriesExhausted):
        return answered
    if isinstance(error, IncompleteListingError):
        return True
    return isinstance(error, EndpointNotFoundError) and good_polls > 0


def no_answer(error):
    """Whether a failed request got no HTTP answer at all: the connection failed, timed out or was dropped, every time."""
    last = error.last_error if isinstance(error, RetriesExhausted) else error
    return isinstance(last, TransportError) and not isinstance(last, MalformedAnswerError)


def error_result(error):
    """The ``error`` key of a failed result: what the API answered, when it did; nothing otherwise."""
    details = failure_details(error)
    return {"error": details} if details else {}


def failure_details(error):
    """What a failed result carries besides its message, so playbooks can branch on the API's answer."""
    if isinstance(error, NotSentError):
        error = error.error
    if isinstance(error, RetriesExhausted):
        error = error.last_error
    if isinstance(error, UnsafeToRetryError):
        error = error.error
    if not isinstance(error, ApiError):
        return {}
    return {"http_status": error.status, "error_code": error.error_code, "error_msg": error.error_msg, "request_id": error.request_id}
