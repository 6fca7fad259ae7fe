# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requests and replies as the emulator's modules pass them around."""

from __future__ import annotations

import json
from urllib.parse import unquote


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.path, self.query = target.split("?", 1) if "?" in target else (target, "")
        self.headers = headers
        self.body = body


class Reply:
    """status None with drop: close the connection without answering; with ``garbage`` too, after writing bytes that
    are neither TLS nor HTTP on the raw connection (a TLS session that breaks where the answer should be)."""

    def __init__(self, status, body=b"", headers=None, drop=False, garbage=False):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.drop = drop
        self.garbage = garbage


def json_reply(status, document, headers=None):
    return Reply(status, json.dumps(document).encode("utf-8"), dict(headers or {}, **{"Content-Type": "application/json"}))


def error_reply(status, code, message, request_id=None):
    """DMS errors carry error_code/error_msg; the gateway (APIG.*, APIGW.*) adds the request ID to the body too."""
    body = {"error_code": code, "error_msg": message}
    if code.startswith(("APIG.", "APIGW.")) and request_id:
        body["request_id"] = request_id
    return json_reply(status, body)


def query_pairs(raw_query):
    """The decoded (key, value) pairs of a raw query string, in the order sent."""
    pairs = []
    for part in raw_query.split("&"):
        if part:
            key, value = part.split("=", 1) if "=" in part else (part, "")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def first_values(raw_query):
    """Query key -> value, the first value of a repeated key winning."""
    values = {}
    for key, value in query_pairs(raw_query):
        values.setdefault(key, value)
    return values
