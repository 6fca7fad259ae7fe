# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM: who a request comes from (signature, token or password, with the cloud's lockout), and the two IAM answers."""

from __future__ import annotations

import json
import secrets
import time

from .clock import iso_ms
from .messages import first_values, json_reply
from .signature import parse_authorization, signature_problem

AUTH_PREFIX = "Incorrect IAM authentication information: "


def iam_unauthorized(message):
    """IAM's own error shape, which differs from the gateway's and the services'."""
    return json_reply(401, {"error": {"code": 401, "title": "Unauthorized", "message": message}})


class Iam:
    """Tokens outlive scenario loads and resets (they are IAM state); failed-signature counts do not."""

    def __init__(self):
        self.tokens = {}  # token -> time.monotonic() deadline
        self.failures = {}  # access key -> (consecutive failures, time.monotonic() when its lock ends, or None)

    def unlock_all(self):
        self.failures = {}

    def authenticate(self, scenario, kind, request):
        """(method, None) when the caller is who it claims, (None, reason) when not, (None, None) when not checked."""
        if kind == "unknown":
            return None, None
        if request.headers.get("Authorization"):
            return self.verify_aksk(scenario, request)
        if kind == "iam_token":
            return self.verify_password(scenario, request.body)
        token = request.headers.get("X-Auth-Token")
        if not token:
            return None, AUTH_PREFIX + "x-auth-token not found"
        deadline = self.tokens.get(token)
        if deadline is None:
            return None, AUTH_PREFIX + "decrypt token fail"
        if time.monotonic() >= deadline:
            return None, AUTH_PREFIX + "token expires, expires_at: %s" % iso_ms(time.time() + deadline - time.monotonic())
        return "token", None

    def verify_aksk(self, scenario, request):
        parsed = parse_authorization(request.headers.get("Authorization"))
        if parsed is None:
            return None, AUTH_PREFIX + "Authorization is not an SDK-HMAC-SHA256 signature"
        access_key, signed, given = parsed
        credential = scenario.credentials.get(access_key)
        if credential is None:
            return None, AUTH_PREFIX + "Get secretKey failed"
        failures, locked_until = self.failures.get(access_key, (0, None))
        if locked_until is not None and time.monotonic() < locked_until:
            return None, AUTH_PREFIX + "AK access failed to reach the limit,forbidden"
        problem = signature_problem(request, credential, signed, given, scenario.max_clock_skew)
        if problem is None:
            self.failures.pop(access_key, None)
            return "aksk", None
        # Like the cloud: after `failures` consecutive failures the key is refused for `seconds`, even when right.
        failures = 0 if locked_until is not None else failures
        failures += 1
        lock = failures >= scenario.lockout_failures > 0
        self.failures[access_key] = (failures, time.monotonic() + scenario.lockout_seconds if lock else None)
        return None, AUTH_PREFIX + problem

    @staticmethod
    def verify_password(scenario, body):
        try:
            identity = json.loads(body.decode("utf-8"))["auth"]["identity"]
            user = identity["password"]["user"]
            name, password = str(user["name"]), str(user["password"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None, "The request you have made requires authentication."
        if "password" not in identity.get("methods", []) or scenario.users.get(name) != password:
            return None, "The username or password is wrong."
        return "password", None

    @staticmethod
    def answer_projects(scenario, request):
        name = first_values(request.query).get("name")
        projects = [
            {"id": project["id"], "name": project["name"], "domain_id": scenario.domain_id, "parent_id": scenario.domain_id,
             "enabled": True, "is_domain": False, "description": ""}
            for project in scenario.iam_projects if name is None or project["name"] == name
        ]
        return json_reply(200, {"projects": projects, "links": {"self": request.path, "next": None, "previous": None}})

    def answer_token(self, scenario, method):
        token = "MIIE" + secrets.token_urlsafe(48)
        self.tokens[token] = time.monotonic() + scenario.token_ttl
        body = {"token": {
            "methods": [method],
            "issued_at": iso_ms(time.time()),
            "expires_at": iso_ms(time.time() + scenario.token_ttl),
            "project": {"id": scenario.project_id, "name": scenario.region, "domain": {"id": scenario.domain_id}},
        }}
        return json_reply(201, body, {"X-Subject-Token": token})
