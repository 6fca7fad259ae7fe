# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP for the DMS client: one keep-alive session, signing per attempt, retries with backoff, typed errors.

No Ansible imports. The clock (clock.py: time, sleep and jitter) and the session are injectable so that the
retry rules are tested without waiting. One HttpClient may serve a few threads at once (see HttpClient).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections import namedtuple
from http.cookiejar import DefaultCookiePolicy
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    FLOW_CONTROL_CODES, NETWORK_ACCESS, ApiError, EndpointNotFoundError, MalformedAnswerError, RetriesExhausted, TransportError,
    UnsafeToRetryError, classify_api_error,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.redaction import redact, secret_forms
from ansible_collections.hwcloud.dms.plugins.module_utils.send_tracking import (
    CONNECTING, SENDING, attempt_phase, begin_attempt, mount_phase_recording,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.signing import canonical_query

try:
    import requests
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # reported by the plugins as a missing requirement
    requests = None
    REQUESTS_IMPORT_ERROR = exc

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "hwcloud.dms/%s (Ansible collection)" % COLLECTION_VERSION
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# A Retry-After of hours (a gateway's mistake, or a daily quota) must not park a module for hours: ask again after this.
MAX_RETRY_AFTER = 60.0
THROTTLED_MIN_PAUSE = 2.0
# Headers whose values are secrets: no message may carry them, even when a gateway or a library echoes them.
SECRET_HEADERS = ("x-auth-token", "x-security-token")
# IAM names its request ID differently from the services.
REQUEST_ID_HEADERS = ("X-Request-Id", "X-IAM-Trace-Id")
# urllib3's errors for a connection that was never made.
CONNECTION_NOT_MADE = ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError")
# How a refused certificate reads in ssl's reason code and message, and in pyOpenSSL's message.
CERTIFICATE_REFUSED = re.compile(r"certificate[ _]verify[ _]failed", re.IGNORECASE)
# How OpenSSL names a handshake answered by something that is not TLS (a plain HTTP server).
NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE")


def backoff_delay(attempt, rng, base=BACKOFF_BASE, cap=BACKOFF_CAP):
    """Full-jitter exponential backoff: a random pause in [0, min(cap, base * 2**attempt)).

    Jitter spreads out clients that were throttled together, so they do not come back together.
    """
    return rng() * min(cap, base * 2 ** attempt)


def retry_after_seconds(value, now=None):
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    now = now if now is not None else time.time()
    return max(0.0, moment.timestamp() - now)


def error_fields(body):
    """(error_code, error_msg) from any of the error body shapes the gateways use, flat or nested one level."""
    if not isinstance(body, dict):
        return None, None
    candidates = [body]
    for key in ("error", "errors"):
        nested = body.get(key)
        if isinstance(nested, list) and nested:
            nested = nested[0]
        if isinstance(nested, dict):  # IAM wraps its errors
            candidates.append(nested)
    for candidate in candidates:
        code = _first_present(candidate, ("error_code", "errorCode", "code"))
        message = _first_present(candidate, ("error_msg", "errorMsg", "message"))
        if code is not None or message is not None:
            return code, message
    return None, None


def _first_present(mapping, keys):
    value = next((mapping[key] for key in keys if mapping.get(key) not in (None, "")), None)
    return None if value is None or isinstance(value, (dict, list)) else str(value)


class HttpAnswer(namedtuple("HttpAnswer", ["status", "request_id", "body", "error"])):
    """An HTTP answer as it came, for callers that read any answer (HttpClient.call).

    ``body`` is the parsed JSON, or None for an empty or non-JSON body. ``error`` is None when the status was
    accepted; otherwise the typed error that says why not: an ApiError, or RetriesExhausted / UnsafeToRetryError
    wrapping one when retrying did not help or was not safe.
    """
    __slots__ = ()


class _Transient(Exception):
    """One failed attempt that may succeed if tried again; ``unsent`` when it certainly never reached the service.

    ``answer`` is the HttpAnswer behind it, for callers that read any answer; None when there was no answer.
    ``unanswered`` when the attempt went out and no HTTP answer came back (the connection failed, timed out or was dropped).
    """

    def __init__(self, error, retry_after=None, throttled=False, unsent=False, answer=None, unanswered=False):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.throttled = throttled
        self.unsent = unsent
        self.answer = answer
        self.unanswered = unanswered

    def give_up(self, error):
        """The end of retrying with ``error`` (the wrapped failure): the answer carrying it, or the error raised."""
        if self.answer is None:
            raise error from None
        return self.answer._replace(error=error)


class HttpClient:
    """Sends signed JSON requests and returns parsed bodies, retrying what is worth retrying.

    Safe to use from a few threads at once: ``calls`` is counted under a lock, and the session it makes keeps no
    cookies, the only state of a requests session that its requests change (the connection pool has its own locks).

    ``on_retry(note)``, when given, is called before each pause between two attempts, in the thread that sends the
    request (several at once when a listing fetches pages in parallel), with one line of plain text: the method and
    URL (never the query), which attempt of how many failed and why (a transport error's reason, or the HTTP status and
    error code: never a header, nor a message an answer carried), and the pause in seconds. What it raises ends the request.
    """

    def __init__(self, auth, request_timeout=30.0, max_retries=5, validate_certs=True, ca_path=None,
                 session=None, clock=SYSTEM_CLOCK, on_retry=None):
        self._auth = auth
        self._request_timeout = request_timeout
        self._max_retries = max_retries
        self._clock = clock
        self._on_retry = on_retry
        if session is None:
            if requests is None:
                raise TransportError("the Python library 'requests' is required: %s" % REQUESTS_IMPORT_ERROR)
            session = requests.Session()  # keep-alive across pages and polls; proxies from the environment
            mount_phase_recording(session)  # so that a failed write tells whether it had begun to leave
            # Every request is signed: the API needs no cookies, and a jar that threads fill while others read it is a race.
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        # validate_certs=false wins over ca_path (as in Ansible's own modules)
        session.verify = (ca_path or True) if validate_certs else False
        self._session = session
        self._calls = 0
        self._calls_lock = threading.Lock()

    @property
    def calls(self):
        """HTTP requests sent so far, retries included, from every thread."""
        return self._calls

    def request(self, method, url, params=(), headers=None, deadline=None, expect=None, retries=None, timeout=None,
                body=None, write=False):
        """Send METHOD url?params (with ``body`` as JSON) and return the JSON answer (None for an empty one where none is expected).

        ``deadline`` is a value of the clock's monotonic time after which no attempt starts and no pause ends.
        ``expect`` checks a success body and raises ValueError saying what is wrong with it: such an answer is
        retried like a server error, then reported, never returned. ``retries`` and ``timeout`` override the
        client's for this one request. A ``write`` is sent again only after a failure that certainly did not reach
        the service (a 429, a connection never made): after a timeout, a dropped connection or a 5xx it may have
        been applied, and UnsafeToRetryError says so.
        Raises the ApiError subclasses of errors.py, TransportError, RetriesExhausted or UnsafeToRetryError.
        """
        payload = _json_payload(body)
        return self._with_retries(
            lambda: self._attempt(method, url, list(params or ()), headers or {}, deadline, timeout or self._request_timeout, payload,
                                  lambda response, secrets: self._read(response, method, url, secrets, expect)),
            method, url, deadline, self._max_retries if retries is None else retries, write)

    def call(self, method, url, params=(), headers=None, body=None, write=False, accepted=None, deadline=None):
        """Send METHOD url?params (with ``body`` as JSON) and return the HttpAnswer, whatever its status.

        ``accepted`` is the collection of statuses the caller takes as success (default: any 2xx). Any other status
        is retried as ``request`` retries it (``write`` as well) and then returned with its typed error in
        ``error``, so the caller still sees its status and body. Only a request that got no answer at all raises:
        TransportError, RetriesExhausted or UnsafeToRetryError.
        """
        payload = _json_payload(body)
        return self._with_retries(
            lambda: self._attempt(method, url, list(params or ()), headers or {}, deadline, self._request_timeout, payload,
                                  lambda response, secrets: self._read_any(response, method, url, secrets, accepted)),
            method, url, deadline, self._max_retries, write)

    def _with_retries(self, attempt_once, method, url, deadline, max_retries, write):
        attempt = 0
        every_attempt_unanswered = True
        while True:
            try:
                return attempt_once()
            except _Transient as failure:
                if write and not failure.unsent:
                    return failure.give_up(UnsafeToRetryError(failure.error))
                attempt += 1
                every_attempt_unanswered = every_attempt_unanswered and failure.unanswered
                # A host that never answered points at the endpoint or the network, not at the service: say what to check.
                hint = unreachable_hint(url) if every_attempt_unanswered else None
                if attempt > max_retries:
                    return failure.give_up(RetriesExhausted(failure.error, attempt, hint))
                pause = backoff_delay(attempt - 1, self._clock.random)
                if failure.retry_after is not None:
                    pause = min(failure.retry_after, MAX_RETRY_AFTER)
                elif failure.throttled:
                    # Throttling answers carry no Retry-After; the cloud's advice is to come back after a few seconds.
                    pause = max(pause, THROTTLED_MIN_PAUSE)
                if deadline is not None and self._clock.monotonic() + pause >= deadline:
                    return failure.give_up(RetriesExhausted(failure.error, attempt, hint))
                if self._on_retry is not None:
                    self._on_retry(retry_note(method, url, attempt, max_retries + 1, failure.error, pause))
                self._clock.sleep(pause)

    def _attempt(self, method, url, params, headers, deadline, timeout, payload, read):
        """One attempt; ``read(response, secrets)`` turns the answer into the result (or raises)."""
        # Transport errors name the host too: a mistyped region or endpoint must be recognisable.
        where = url_location(url)
        if deadline is not None:
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                raise _Transient(TransportError("deadline reached before the request was sent", method, where), unsent=True)
            timeout = min(timeout, remaining)
        base_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        base_headers.update(headers)
        signed = self._auth.sign(method, url, params, base_headers, payload)
        secrets = secret_forms(value for name, value in signed.items() if name.lower() in SECRET_HEADERS)
        full_url = url + ("?" + canonical_query(params) if params else "")
        with self._calls_lock:
            self._calls += 1
        begin_attempt()
        try:
            # verify is passed per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override session.verify,
            # which would silently turn validate_certs=false (and ca_path) back into the environment's bundle.
            response = self._session.request(method, full_url, headers=signed, data=payload or None, timeout=timeout,
                                             allow_redirects=False, verify=self._session.verify)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            # requests' SSLError is a ConnectionError: a TLS handshake cut short is as transient as a dropped connection.
            reason = redact(_reason(exc), secrets)
            if _certificate_problem(exc):
                raise TransportError("TLS error (is ca_path the CA of this endpoint?): %s" % reason, method, where) from None
            if _not_tls(exc):
                raise TransportError("TLS error: the endpoint does not answer TLS on this port (is it an http:// endpoint, or another"
                                     " port?): %s" % reason, method, where) from None
            raise _Transient(TransportError(reason, method, where), unsent=_never_sent(exc, attempt_phase()), unanswered=True) from None
        except requests.exceptions.RequestException as exc:
            # e.g. requests rejects a header value and quotes it in its message: a token with a stray newline.
            raise TransportError(redact(_reason(exc), secrets), method, where) from None
        return read(response, secrets)

    def _read(self, response, method, url, secrets, expect):
        status = response.status_code
        request_id = _request_id(response)
        body = _json_or_none(response)
        if 200 <= status < 300:
            if not response.content and expect is None:
                return None
            try:
                if not isinstance(body, dict):
                    raise ValueError("the body is %s, not a JSON object" % ("empty" if not response.content else "not JSON"))
                if expect is not None:
                    expect(body)
            except ValueError as problem:
                raise _Transient(MalformedAnswerError(
                    "HTTP %s with an answer of an unexpected shape: %s (request ID %s)" % (status, redact(str(problem), secrets), request_id),
                    method, url_location(url))) from None
            return body
        raise self._refusal(response, body, request_id, method, url, secrets)

    def _read_any(self, response, method, url, secrets, accepted):
        status = response.status_code
        request_id = _request_id(response)
        # A gateway may echo the tokens we sent in any body, a success's included.
        answer = HttpAnswer(status, request_id, redact(_json_or_none(response), secrets), None)
        if (200 <= status < 300) if accepted is None else status in accepted:
            return answer
        refusal = self._refusal(response, answer.body, request_id, method, url, secrets)
        if isinstance(refusal, _Transient):
            refusal.answer = answer
            raise refusal
        return answer._replace(error=refusal)

    @staticmethod
    def _refusal(response, body, request_id, method, url, secrets):
        """The typed error of an answer refused by its status, or the _Transient wrapping it when retrying may help."""
        status = response.status_code
        code, message = error_fields(body)
        if code is None and message is None and response.content:
            message = response.text[:200].strip()
        # A gateway's error page (or error JSON) may echo request headers: the tokens we sent must not reach a message.
        code, message = redact(code, secrets), redact(message, secrets)
        error_class, transient = classify_api_error(status, code)
        # A wrong URL is recognised by its host as much as by its path.
        where = url_location(url) if error_class is EndpointNotFoundError else url_path(url)
        error = error_class(status, code, message, request_id, method, where)
        if transient:
            throttled = status == 429 or code in FLOW_CONTROL_CODES
            # A 429 is the gateway's refusal to pass the request on; a 5xx may come after the service acted.
            return _Transient(error, retry_after_seconds(response.headers.get("Retry-After")), throttled, unsent=status == 429)
        return error


def url_path(url):
    """The path of a URL, for error messages (never the query: it is not secret, but it is noise)."""
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def url_location(url):
    """scheme://host[:port]/path of a URL, for transport error messages: never the query (noise) nor user:password@."""
    return url_origin(url) + urlsplit(url).path


def url_origin(url):
    """scheme://host[:port] of a URL: what an endpoint option sets, never user:password@."""
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc.rpartition("@")[2])


def unreachable_hint(url):
    """What to check when no attempt at ``url`` ever got an HTTP answer (timeouts, refused or dropped connections, an
    unknown name): the scheme, host and port that were tried, the options that make them, and the network."""
    return "no HTTP answer came from %s: check endpoint (its scheme and port) or the region it is built from, and %s" % (
        url_origin(url), NETWORK_ACCESS)


def retry_note(method, url, attempt, attempts, error, pause):
    """What on_retry is told before a pause (see HttpClient): the URL without its query, and the error's reason (masked
    like every message) or its status and error code; never a header, nor an error message a gateway may fill with what it
    was sent."""
    if isinstance(error, ApiError):
        failed = "HTTP %s%s" % (error.status, " " + error.error_code if error.error_code else "")
    else:
        failed = error.reason
    return "%s %s: attempt %d of %d failed (%s); trying again in %.1f s" % (method, url_location(url), attempt, attempts, failed, pause)


def _certificate_problem(exc):
    """Whether a failed request is a certificate problem, which no retry can mend.

    That is the endpoint's certificate refused (untrusted, expired, another host's) or a trust store (ca_path) that
    cannot be loaded, anywhere in the exception's cause chain. Every other TLS failure (a handshake cut by a reset or
    an EOF, as an overloaded load balancer does) is worth another try.
    """
    while exc is not None:
        if isinstance(exc, ssl.SSLCertVerificationError) or type(exc).__name__ == "CertificateError":  # urllib3's own hostname check
            return True
        if isinstance(exc, ssl.SSLError) and exc.library in ("PEM", "X509"):  # ca_path is not a CA bundle
            return True
        if CERTIFICATE_REFUSED.search(str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _not_tls(exc):
    """Whether the TLS handshake got an answer that is no TLS at all, as from a plain HTTP port: the same on every try.

    OpenSSL names it WRONG_VERSION_NUMBER (before 3.2) or RECORD_LAYER_FAILURE, anywhere in the cause chain.
    """
    while exc is not None:
        if isinstance(exc, ssl.SSLError) and exc.reason in NOT_TLS_REASONS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _never_sent(exc, phase):
    """Whether a failed request certainly never reached the service: it failed before any byte of it was written.

    The connections of our own session say so (``phase``, see send_tracking): a failure while connecting (refused,
    timed out, name not resolved, TLS handshake failed) came before the request; any failure once it was being
    written may come after the service applied it, a TLS error while reading the answer included. Where no
    connection of ours recorded the attempt, only the failures that by their kind happen before a connection exists
    count as never sent.
    """
    if phase == SENDING:
        return False
    if phase == CONNECTING:
        return True
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, requests.exceptions.ConnectTimeout) or type(current).__name__ in CONNECTION_NOT_MADE:
            return True
        pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__] + list(current.args))
    return False


def _request_id(response):
    return next((response.headers[name] for name in REQUEST_ID_HEADERS if response.headers.get(name)), None)


def _json_payload(body):
    return b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _reason(exc):
    """The innermost cause of a requests exception, which is what a user can act on."""
    reason = exc
    while reason.__cause__ is not None or reason.__context__ is not None:
        reason = reason.__cause__ or reason.__context__
    text = str(reason) or exc.__class__.__name__
    return text if reason is exc else "%s (%s)" % (exc.__class__.__name__, text)
