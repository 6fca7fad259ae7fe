# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault rules: which requests a rule fires on, and what it does to them."""

from __future__ import annotations

import random

from .messages import Reply, error_reply, json_reply
from .routing import KIND_FILTERS, kind_matches
from .scenario import ScenarioError, check_choice, check_keys, check_status

NOT_JSON_BODY = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"

# Fault statuses the cloud's gateway answers itself carry APIG bodies; any other status gets a DMS-style body.
GATEWAY_ERRORS = {
    429: ("APIG.0308", "The throttling threshold has been reached: policy user over ratelimit, limit:20, time:1 second"),
    502: ("APIG.0202", "Backend unavailable."),
    503: ("APIG.0202", "Backend unavailable."),
    504: ("APIG.0201", "Backend timeout."),
}
# How a handled request's answer can be lost: the connection closed instead, or a TLS error where the answer should be.
ANSWER_LOSSES = ("drop", "tls_error")
# DMS's own flow control answers 404, not 429.
FLOW_CONTROL = (404, "DMS.10240407", "The request is too frequent. Please try again later.")


def default_error(status):
    if status in GATEWAY_ERRORS:
        return GATEWAY_ERRORS[status]
    return "DMS.00%d000" % status, "Emulated failure (HTTP %d)." % status


class FaultRule:
    """When the rule fires: kind (+ instance), then nth / every / rate (none of them: always), at most `times` times."""

    KEYS = ("kind", "instance", "nth", "every", "rate", "seed", "times", "delay", "status", "body", "headers", "retry_after",
            "drop", "non_json", "flow_control", "insert", "ignore_start", "answer_lost")

    def __init__(self, spec, index):
        where = "faults[%d]" % index
        check_keys(spec, self.KEYS, where)
        self.index = index
        self.kind = check_choice(spec.get("kind", "any"), KIND_FILTERS, where + ".kind")
        self.instance = spec.get("instance")
        nth = spec.get("nth")
        self.nth = None if nth is None else set(nth if isinstance(nth, list) else [nth])
        self.every = spec.get("every")
        self.rate = spec.get("rate")
        self.random = random.Random(spec.get("seed", 0))
        self.times = spec.get("times")
        self.fired = 0
        self.delay = float(spec.get("delay", 0))
        self.status = spec.get("status")
        self.body = spec.get("body")
        self.headers = dict(spec.get("headers") or {})
        self.retry_after = spec.get("retry_after")
        self.drop = bool(spec.get("drop", False))
        self.non_json = bool(spec.get("non_json", False))
        self.flow_control = bool(spec.get("flow_control", False))
        if self.flow_control and (self.status is not None or self.body is not None or self.non_json):
            raise ScenarioError("%s: flow_control brings its own status and body; drop status, body and non_json" % where)
        self.answer_lost = spec.get("answer_lost")
        if self.answer_lost is not None:
            check_choice(self.answer_lost, ANSWER_LOSSES, where + ".answer_lost")
            if self.status is not None or self.body is not None or self.drop or self.non_json or self.flow_control:
                raise ScenarioError("%s: answer_lost loses the real answer; drop status, body, drop, non_json and flow_control" % where)
        self.ignore_start = bool(spec.get("ignore_start", False))
        if self.ignore_start and self.kind != "list":
            raise ScenarioError("%s: ignore_start changes list answers: give kind: list" % where)
        self.insert = spec.get("insert")
        if self.insert is not None:
            check_keys(self.insert, ("count", "name", "status", "timeline", "instance"), where + ".insert")
            if "status" in self.insert and "timeline" in self.insert:
                raise ScenarioError("%s.insert: give status or timeline, not both" % where)
            timeline = self.insert.get("timeline", [[0, self.insert.get("status", "SUCCESS")]])
            if not timeline or not all(isinstance(entry, list) and len(entry) == 2 for entry in timeline):
                raise ScenarioError("%s.insert.timeline: give a non-empty list of [seconds after the insertion, status] pairs" % where)
            for _at, status in timeline:
                check_status(status, where + ".insert")
        if not self.actions():
            raise ScenarioError("%s: give at least one action (delay, insert, ignore_start, drop, non_json, flow_control, status, answer_lost)" % where)

    def actions(self):
        flags = (("delay", self.delay > 0), ("insert", self.insert is not None), ("ignore_start", self.ignore_start), ("drop", self.drop),
                 ("non_json", self.non_json), ("flow_control", self.flow_control), ("status", self.status is not None and not self.non_json),
                 ("answer_lost", self.answer_lost is not None))
        return [name for name, on in flags if on]

    def fires(self, kind, instance_id, number):
        """number: how many requests of this rule's kind arrived since the last load or reset, this one included."""
        if not kind_matches(self.kind, kind) or (self.instance and self.instance != instance_id):
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.nth is not None:
            hit = number in self.nth
        elif self.every:
            hit = number % self.every == 0
        elif self.rate is not None:
            hit = self.random.random() < self.rate
        else:
            hit = True
        self.fired += hit
        return hit

    def lose(self, reply):
        """What reaches the client of ``reply``, the real answer (the request was handled, a write applied)."""
        if self.answer_lost is None:
            return reply
        return Reply(None, drop=True, garbage=self.answer_lost == "tls_error")

    def reply(self, request_id):
        """The answer that replaces the real one, or None when the rule lets the request be answered (delay, insert,
        ignore_start, answer_lost)."""
        if self.drop:
            return Reply(None, drop=True)
        if self.non_json:
            return Reply(self.status or 200, NOT_JSON_BODY, {"Content-Type": "text/html"})
        if self.flow_control:
            reply = error_reply(*FLOW_CONTROL)
        elif self.status is None:
            return None
        elif self.body is None:
            reply = error_reply(self.status, *default_error(self.status), request_id=request_id)
        elif isinstance(self.body, str):
            reply = Reply(self.status, self.body.encode("utf-8"), {"Content-Type": "text/plain"})
        else:
            reply = json_reply(self.status, self.body)
        if self.retry_after is not None:
            reply.headers["Retry-After"] = str(self.retry_after)
        reply.headers.update(self.headers)
        return reply


class Faults:
    """A scenario's fault rules and their state: request numbers per kind, `times` used, random generators."""

    def __init__(self, specs):
        self.rules = [FaultRule(spec, index) for index, spec in enumerate(specs)]
        self.arrived = {}

    def pick(self, kind, instance_id):
        """Count the request in, and return the first rule that fires on it (or None)."""
        self.arrived[kind] = self.arrived.get(kind, 0) + 1
        for rule in self.rules:
            number = sum(count for counted, count in self.arrived.items() if kind_matches(rule.kind, counted))
            if rule.fires(kind, instance_id, number):
                return rule
        return None
