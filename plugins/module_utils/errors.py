# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by the DMS client.

Only the plugins turn these into failed results. No message ever carries a secret: errors are built from
the method, the URL's host and path (never the query or headers) and what the API said, with any token
the request carried masked.
"""

from __future__ import annotations


class DmsError(Exception):
    """Base of every error the client raises."""


class ConfigurationError(DmsError):
    """The options cannot work together (missing credentials, bad endpoint, bad time, ...)."""


class TransportError(DmsError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS failure, non-JSON body."""

    def __init__(self, message, method=None, path=None):
        self.method = method
        self.path = path  # scheme://host/path: which endpoint could not be reached matters here
        super().__init__("%s %s: %s" % (method, path, message) if method else message)


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
    """404: the instance or task does not exist."""


class RetriesExhausted(DmsError):
    """A transient failure persisted through every retry, or the caller's deadline came first."""

    def __init__(self, last_error, attempts):
        self.last_error = last_error
        self.attempts = attempts
        super().__init__("gave up after %d attempt%s: %s" % (attempts, "" if attempts == 1 else "s", last_error))


def failure_details(error):
    """What a failed result carries besides its message, so playbooks can branch on the API's answer."""
    if isinstance(error, RetriesExhausted):
        error = error.last_error
    if not isinstance(error, ApiError):
        return {}
    return {"http_status": error.status, "error_code": error.error_code, "error_msg": error.error_msg, "request_id": error.request_id}
