# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local stand-in for the Huawei Cloud DMS background-task API and the two IAM calls the collection makes.

Start it by hand (docs/emulator.md describes scenarios, faults, admin endpoints and the request log):

    python3 tests/emulator/dms_emulator.py --scenario tests/emulator/scenarios/demo.yaml --port 8080

It is strict where the cloud is strict: every API call must carry a valid SDK-HMAC-SHA256 signature or
X-Auth-Token. The signature check is written here from the algorithm's description, on purpose independent
of the collection's signer, so that a bug in one cannot hide in the other.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

STATUSES = ("CREATED", "EXECUTING", "SUCCESS", "FAILED", "DELETED", "CANCELLED")
FINAL_STATUSES = ("SUCCESS", "FAILED", "DELETED", "CANCELLED")
ENGINES = ("kafka", "rabbitmq", "rocketmq")
ENGINES_WITH_PROGRESS = ("kafka", "rocketmq")
KINDS = ("list", "show", "delete", "progress", "iam_projects", "iam_token")
RULE_KINDS = KINDS + ("iam", "any")
DEFAULT_STEPS = ("Check the request", "Apply the change", "Verify the instance")

SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
AUTHORIZATION_RE = re.compile(r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$")
ADMIN_PREFIX = "/_emulator/"
NOT_JSON_BODY = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"

DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_CREDENTIAL = {"access_key": "AKEXAMPLE0000000000", "secret_key": "SKEXAMPLE0000000000000000000000000000000"}

TASK_ROUTE = r"^/v2/(?P<project_id>[^/]+)/instances/(?P<instance_id>[^/]+)/tasks"
ROUTES = (
    ("GET", re.compile(TASK_ROUTE + "$"), "list"),
    ("GET", re.compile(TASK_ROUTE + r"/(?P<task_id>[^/]+)$"), "show"),
    ("DELETE", re.compile(TASK_ROUTE + r"/(?P<task_id>[^/]+)$"), "delete"),
    ("GET", re.compile(TASK_ROUTE + r"/(?P<task_id>[^/]+)/progress$"), "progress"),
    ("GET", re.compile(r"^/v3/projects$"), "iam_projects"),
    ("POST", re.compile(r"^/v3/auth/tokens$"), "iam_token"),
)

# Fault statuses the cloud's gateway answers itself carry APIG bodies; any other status gets a DMS-style body.
GATEWAY_ERRORS = {
    429: ("APIG.0308", "The throttling threshold has been reached: policy user over ratelimit, limit:20, time:1 second"),
    502: ("APIG.0202", "Backend unavailable."),
    503: ("APIG.0202", "Backend unavailable."),
    504: ("APIG.0201", "Backend timeout."),
}


class ScenarioError(ValueError):
    """The scenario does not describe a state the emulator can serve."""


# ---------------------------------------------------------------------------------------------------------
# Time helpers. All timestamps are UTC; the scenario clock counts seconds since the scenario was loaded.

def iso_ms(epoch):
    """Epoch seconds as the API writes timestamps: 2020-06-23T03:00:03.471Z."""
    millis = int(round(epoch * 1000))
    moment = datetime.datetime.fromtimestamp(millis // 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (millis % 1000)


def parse_iso(value, where):
    """A scenario timestamp (ISO-8601 string or a YAML timestamp; naive means UTC) as epoch seconds."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError("%s: %r is not an ISO-8601 time" % (where, value)) from None
    if not isinstance(value, datetime.datetime):
        raise ScenarioError("%s: %r is not an ISO-8601 time" % (where, value))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


def parse_api_time(value):
    """A YYYYMMDDHHmmss (UTC) query value as epoch seconds, or None when malformed."""
    if not re.match(r"^[0-9]{14}$", value):
        return None
    try:
        moment = datetime.datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


# ---------------------------------------------------------------------------------------------------------
# SDK-HMAC-SHA256, written from the algorithm's description (see the module docstring for why).

def encode(text):
    return quote(text, safe="~")


def canonical_uri(raw_path):
    """Each segment decoded then re-encoded with only ~ kept, and a trailing slash the request did not send."""
    uri = "/".join(encode(segment) for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


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


def canonical_query(raw_query):
    return "&".join("%s=%s" % (encode(key), encode(value)) for key, value in sorted(query_pairs(raw_query)))


def payload_hash(body, content_sha256=None):
    """SHA-256 of the body; a client may declare its own (X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD)."""
    if not body:
        return hashlib.sha256(b"").hexdigest()
    return content_sha256 or hashlib.sha256(body).hexdigest()


def canonical_request(method, raw_path, raw_query, signed_headers, header_values, body_hash):
    """signed_headers: lowercase names in signing order; header_values: lowercase name -> value as sent."""
    headers = "".join("%s:%s\n" % (name, header_values[name].strip()) for name in signed_headers)
    return "\n".join((method.upper(), canonical_uri(raw_path), canonical_query(raw_query), headers, ";".join(signed_headers), body_hash))


def signature(secret_key, sdk_date, canonical):
    string_to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (sdk_date, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    return hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def header_value(headers, name):
    """A header as the client meant it: http.server decodes header bytes as Latin-1, clients send UTF-8."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


# ---------------------------------------------------------------------------------------------------------
# Scenario model

def check_keys(mapping, allowed, where):
    """Reject unknown keys, so that a typo in a scenario fails loudly instead of being ignored."""
    if not isinstance(mapping, dict):
        raise ScenarioError("%s must be a mapping" % where)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ScenarioError("%s: unknown key(s) %s (allowed: %s)" % (where, ", ".join(unknown), ", ".join(allowed)))
    return mapping


def check_status(status, where):
    if status not in STATUSES:
        raise ScenarioError("%s: status %r is not one of %s" % (where, status, ", ".join(STATUSES)))
    return status


def task_id_for(instance_id, serial):
    """Stable 32-hex task IDs, shaped like the cloud's, so the same scenario always yields the same IDs."""
    return hashlib.sha256(("%s/%d" % (instance_id, serial)).encode()).hexdigest()[:32]


def params_text(params):
    """The API sends params as a JSON document inside a string; a scenario may give a mapping or the string."""
    if isinstance(params, str):
        return params
    return json.dumps(params, separators=(",", ":"))


class Task:
    """One background task. Times are seconds on the scenario clock (negative: before the scenario started)."""

    KEYS = ("id", "name", "status", "timeline", "created_at", "created_offset", "duration", "appear_after", "vanish_after",
            "user_name", "user_id", "params", "steps")

    def __init__(self, spec, task_id, defaults, clock_wall, where):
        check_keys(spec, self.KEYS, where)
        if "name" not in spec:
            raise ScenarioError("%s: a task needs a name" % where)
        self.id = str(spec.get("id", task_id))
        self.name = str(spec["name"])
        self.user_name = str(spec.get("user_name", defaults["user_name"]))
        self.user_id = str(spec.get("user_id", defaults["user_id"]))
        self.params = params_text(spec.get("params", {}))
        self.steps = [str(step) for step in spec.get("steps", DEFAULT_STEPS)] or list(DEFAULT_STEPS)
        self.appear_after = float(spec.get("appear_after", max(0.0, float(spec.get("created_offset", 0)))))
        if "created_at" in spec:
            self.created_offset = parse_iso(spec["created_at"], where + ".created_at") - clock_wall
        else:
            self.created_offset = float(spec.get("created_offset", self.appear_after))
        vanish_after = spec.get("vanish_after")
        self.vanish_after = None if vanish_after is None else float(vanish_after)
        if "timeline" in spec:
            if "status" in spec or not spec["timeline"]:
                raise ScenarioError("%s: give either a status or a non-empty timeline" % where)
            if not all(isinstance(entry, list) and len(entry) == 2 for entry in spec["timeline"]):
                raise ScenarioError("%s: timeline entries are [seconds, status] pairs" % where)
            self.timeline = sorted((float(at), check_status(status, where)) for at, status in spec["timeline"])
        else:
            # A task that never changes is a one-step timeline that ended `duration` seconds after creation.
            ended = self.created_offset + float(spec.get("duration", 0))
            self.timeline = [(ended, check_status(spec.get("status", "SUCCESS"), where))]
        self.deleted = False

    def visible_at(self, now):
        return not self.deleted and self.appear_after <= now and (self.vanish_after is None or now < self.vanish_after)

    def entry_at(self, now):
        """The timeline entry in effect at `now` (the first one until the timeline starts)."""
        current = self.timeline[0]
        for entry in self.timeline:
            if entry[0] <= now:
                current = entry
        return current

    def to_api(self, now, clock_wall):
        changed_at, status = self.entry_at(now)
        updated = max(self.created_offset, changed_at) if changed_at <= now else self.created_offset
        return {
            "id": self.id,
            "name": self.name,
            "user_name": self.user_name,
            "user_id": self.user_id,
            "params": self.params,
            "status": status,
            "created_at": iso_ms(clock_wall + self.created_offset),
            "updated_at": iso_ms(clock_wall + updated),
        }

    def execution_window(self):
        """(begin, end) of the work on the clock: first EXECUTING entry to first final entry (end None: never ends)."""
        begin = next((at for at, status in self.timeline if status == "EXECUTING"), self.timeline[0][0])
        end = next((at for at, status in self.timeline if status in FINAL_STATUSES), None)
        return begin, end

    def progress_at(self, now, clock_wall):
        """The progress call's answer: steps share the execution window equally; a failed task failed in its last step."""
        status = self.entry_at(now)[1]
        begin, end = self.execution_window()
        count = len(self.steps)
        if status == "SUCCESS":
            done, percent = count, 100
        elif status in FINAL_STATUSES:
            done, percent = count - 1, 100 * (count - 1) // count
        elif status == "EXECUTING" and end is not None and end > begin:
            fraction = min(max((now - begin) / (end - begin), 0.0), 0.99)
            done, percent = int(fraction * count), int(fraction * 100)
        else:
            done, percent = 0, 0
        remain = max(0, int(math.ceil(end - now))) if end is not None and status not in FINAL_STATUSES else 0
        span = ((begin if end is None else end) - begin) / count
        steps = []
        for index, name in enumerate(self.steps):
            if index < done:
                statue = "COMPLETED"
            elif index == done and status == "EXECUTING":
                statue = "IN_PROGRESS"
            elif index == done and status in FINAL_STATUSES:
                statue = "FAILED"
            else:
                statue = "WAITING"
            step_begin = clock_wall + begin + index * span
            steps.append({
                "name": name,
                "statue": statue,
                "start_time": 0 if statue == "WAITING" else int(step_begin * 1000),
                "end_time": int((step_begin + span) * 1000) if statue in ("COMPLETED", "FAILED") else 0,
            })
        return {"progress_percentage": percent, "remain_time": remain, "step_list": steps}


class Instance:
    KEYS = ("id", "engine", "tasks", "generate")
    GENERATE_KEYS = ("count", "name", "status", "created_offset", "interval", "duration", "params", "user_name", "user_id")

    def __init__(self, spec, defaults, clock_wall, where):
        check_keys(spec, self.KEYS, where)
        if "id" not in spec:
            raise ScenarioError("%s: an instance needs an id" % where)
        self.id = str(spec["id"])
        self.engine = str(spec.get("engine", "kafka")).lower()
        if self.engine not in ENGINES:
            raise ScenarioError("%s: engine %r is not one of %s" % (where, self.engine, ", ".join(ENGINES)))
        self.defaults = defaults
        self.serial = 0
        self.tasks = []
        for index, task_spec in enumerate(spec.get("tasks") or []):
            self.tasks.append(Task(task_spec, self.next_id(), defaults, clock_wall, "%s.tasks[%d]" % (where, index)))
        for index, generator in enumerate(spec.get("generate") or []):
            self.tasks.extend(self.generated(generator, clock_wall, "%s.generate[%d]" % (where, index)))
        self.check_unique_ids(where)

    def next_id(self):
        self.serial += 1
        return task_id_for(self.id, self.serial)

    def generated(self, spec, clock_wall, where):
        """`count` tasks, the first created at `created_offset` and each next one `interval` seconds earlier."""
        check_keys(spec, self.GENERATE_KEYS, where)
        names = spec.get("name", "kafkaConfigModify")
        statuses = spec.get("status", "SUCCESS")
        names = names if isinstance(names, list) else [names]
        statuses = statuses if isinstance(statuses, list) else [statuses]
        newest, interval = float(spec.get("created_offset", -60)), float(spec.get("interval", 60))
        common = {key: spec[key] for key in ("duration", "params", "user_name", "user_id") if key in spec}
        return [
            Task(dict(common, name=names[n % len(names)], status=statuses[n % len(statuses)], created_offset=newest - n * interval),
                 self.next_id(), self.defaults, clock_wall, where)
            for n in range(int(spec.get("count", 0)))
        ]

    def check_unique_ids(self, where):
        seen = set()
        for task in self.tasks:
            if task.id in seen:
                raise ScenarioError("%s: task id %s appears twice" % (where, task.id))
            seen.add(task.id)

    def insert(self, spec, now):
        """New tasks created now, at the head of the list (a fault that shifts pages under a paging client)."""
        for _number in range(int(spec.get("count", 1))):
            task_spec = {"name": spec.get("name", "kafkaConfigModify"), "status": spec.get("status", "SUCCESS"), "created_offset": now}
            self.tasks.insert(0, Task(task_spec, self.next_id(), self.defaults, 0.0, "insert"))

    def visible_tasks(self, now):
        """Newest first; tasks created at the same moment keep their scenario order (inserted ones first)."""
        return sorted((task for task in self.tasks if task.visible_at(now)), key=lambda task: -task.created_offset)

    def find(self, task_id, now):
        return next((task for task in self.tasks if task.id == task_id and task.visible_at(now)), None)


class FaultRule:
    """When the rule fires: kind (+ instance), then nth / every / rate (none of them: always), at most `times` times."""

    KEYS = ("kind", "instance", "nth", "every", "rate", "seed", "times", "delay", "status", "body", "headers", "retry_after",
            "drop", "non_json", "insert")

    def __init__(self, spec, index):
        where = "faults[%d]" % index
        check_keys(spec, self.KEYS, where)
        self.index = index
        self.kind = spec.get("kind", "any")
        if self.kind not in RULE_KINDS:
            raise ScenarioError("%s: kind %r is not one of %s" % (where, self.kind, ", ".join(RULE_KINDS)))
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
        self.retry_after = spec.get("retry_after", 1 if self.status == 429 else None)
        self.drop = bool(spec.get("drop", False))
        self.non_json = bool(spec.get("non_json", False))
        self.insert = spec.get("insert")
        if self.insert is not None:
            check_keys(self.insert, ("count", "name", "status", "instance"), where + ".insert")
        if not self.actions():
            raise ScenarioError("%s: give at least one action (delay, status, drop, non_json, insert)" % where)

    def actions(self):
        flags = (("delay", self.delay > 0), ("insert", self.insert is not None), ("drop", self.drop),
                 ("non_json", self.non_json), ("status", self.status is not None and not self.non_json))
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

    def reply(self, request_id):
        """The answer that replaces the real one, or None when the rule only delays or inserts."""
        if self.drop:
            return Reply(None, drop=True)
        if self.non_json:
            return Reply(self.status or 200, NOT_JSON_BODY, {"Content-Type": "text/html"})
        if self.status is None:
            return None
        if self.body is None:
            reply = error_reply(self.status, *default_error(self.status), request_id=request_id)
        elif isinstance(self.body, str):
            reply = Reply(self.status, self.body.encode("utf-8"), {"Content-Type": "text/plain"})
        else:
            reply = json_reply(self.status, self.body)
        if self.retry_after is not None:
            reply.headers["Retry-After"] = str(self.retry_after)
        reply.headers.update(self.headers)
        return reply


def kind_matches(rule_kind, kind):
    return rule_kind in ("any", kind) or (rule_kind == "iam" and kind.startswith("iam_"))


def default_error(status):
    if status in GATEWAY_ERRORS:
        return GATEWAY_ERRORS[status]
    return "DMS.00%d000" % status, "Emulated failure (HTTP %d)." % status


class Scenario:
    """Everything a scenario file describes, laid out on a clock that starts when the scenario is loaded."""

    KEYS = ("region", "project_id", "domain_id", "user_name", "user_id", "credentials", "users", "token_ttl", "max_clock_skew",
            "lockout", "iam_projects", "instances", "faults")

    def __init__(self, spec):
        check_keys(spec, self.KEYS, "scenario")
        self.spec = spec
        self.clock_mono = time.monotonic()
        self.clock_wall = time.time()
        self.region = str(spec.get("region", "ap-southeast-1"))
        self.project_id = str(spec.get("project_id", DEFAULT_PROJECT_ID))
        self.domain_id = str(spec.get("domain_id", "d0000000000000000000000000000000"))
        self.credentials = {}
        for index, credential in enumerate(spec.get("credentials") or [DEFAULT_CREDENTIAL]):
            check_keys(credential, ("access_key", "secret_key", "security_token"), "credentials[%d]" % index)
            self.credentials[str(credential["access_key"])] = credential
        self.users = {}
        for index, user in enumerate(spec.get("users") or []):
            check_keys(user, ("name", "password"), "users[%d]" % index)
            self.users[str(user["name"])] = str(user["password"])
        self.token_ttl = float(spec.get("token_ttl", 86400))
        self.max_clock_skew = float(spec.get("max_clock_skew", 900))
        lockout = check_keys(spec.get("lockout") or {}, ("failures", "seconds"), "lockout")
        self.lockout_failures = int(lockout.get("failures", 5))
        self.lockout_seconds = float(lockout.get("seconds", 300))
        self.iam_projects = spec.get("iam_projects", [{"id": self.project_id, "name": self.region}])
        defaults = {"user_name": spec.get("user_name", "dms_test"), "user_id": spec.get("user_id", "a1b2c3d4e5f60718293a4b5c6d7e8f90")}
        self.instances = {}
        for index, instance_spec in enumerate(spec.get("instances") or []):
            instance = Instance(instance_spec, defaults, self.clock_wall, "instances[%d]" % index)
            self.instances[instance.id] = instance
        self.reset()

    def reset(self):
        """Forget the request history: log, counters, fault rule state and failed signatures (so locked keys unlock).

        The clock runs on."""
        self.faults = [FaultRule(rule, index) for index, rule in enumerate(self.spec.get("faults") or [])]
        self.counts = {}
        self.log = []
        self.failures = {}

    def now(self):
        return time.monotonic() - self.clock_mono

    def pick_fault(self, kind, instance_id):
        for rule in self.faults:
            number = sum(count for counted, count in self.counts.items() if kind_matches(rule.kind, counted))
            if rule.fires(kind, instance_id, number):
                return rule
        return None


def load_scenario_text(text, where="scenario"):
    """A scenario document: JSON, or YAML (PyYAML comes with ansible-core) when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        import yaml  # pylint: disable=import-outside-toplevel
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ScenarioError("%s: neither JSON nor YAML: %s" % (where, error)) from None


# ---------------------------------------------------------------------------------------------------------
# Replies

class Reply:
    def __init__(self, status, body=b"", headers=None, drop=False):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.drop = drop


def json_reply(status, document, headers=None):
    return Reply(status, json.dumps(document).encode("utf-8"), dict(headers or {}, **{"Content-Type": "application/json"}))


def error_reply(status, code, message, request_id=None):
    """DMS errors carry error_code/error_msg; the gateway (APIG.*) adds the request ID to the body too."""
    body = {"error_code": code, "error_msg": message}
    if code.startswith("APIG.") and request_id:
        body["request_id"] = request_id
    return json_reply(status, body)


def iam_unauthorized(message):
    """IAM's own error shape, which differs from the gateway's and the services'."""
    return json_reply(401, {"error": {"code": 401, "title": "Unauthorized", "message": message}})


# ---------------------------------------------------------------------------------------------------------
# The emulator: routing, authentication, faults, answers, request log

class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.path, self.query = target.split("?", 1) if "?" in target else (target, "")
        self.headers = headers
        self.body = body


def route(method, path):
    for route_method, pattern, kind in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return kind, {name: unquote(value) for name, value in match.groupdict().items()}
    return "unknown", {}


class Emulator:
    def __init__(self, scenario_spec, log_path=None):
        self.lock = threading.Lock()
        self.scenario = Scenario(scenario_spec)
        # Tokens are IAM state, not scenario state: they outlive loads and resets (token -> time.monotonic() deadline).
        self.tokens = {}
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None  # pylint: disable=consider-using-with

    def load(self, scenario_spec):
        """Replace the scenario and restart its clock; history and lockouts start afresh, issued tokens stay valid."""
        scenario = Scenario(scenario_spec)
        with self.lock:
            self.scenario = scenario

    def reset(self):
        with self.lock:
            self.scenario.reset()

    def requests(self, kind=None):
        with self.lock:
            return [entry for entry in self.scenario.log if kind is None or kind_matches(kind, entry["kind"])]

    def counts(self):
        with self.lock:
            return {"total": sum(self.scenario.counts.values()), "by_kind": dict(self.scenario.counts)}

    def close(self):
        if self.log_file:
            self.log_file.close()

    def handle(self, request):
        request_id = uuid.uuid4().hex
        kind, params = route(request.method, request.path)
        with self.lock:
            scenario = self.scenario
            scenario.counts[kind] = scenario.counts.get(kind, 0) + 1
            auth, auth_error = self.authenticate(scenario, kind, request)
            rule = scenario.pick_fault(kind, params.get("instance_id"))
        reply = None
        if rule is not None:
            if rule.delay:
                time.sleep(rule.delay)
            if rule.insert is not None:
                self.insert_tasks(scenario, rule.insert, params.get("instance_id"))
            reply = rule.reply(request_id)
        if reply is None:
            with self.lock:
                reply = self.answer(scenario, kind, params, request, auth, auth_error, request_id)
        if not reply.drop:
            reply.headers["X-Request-Id"] = request_id
        self.record(scenario, request, kind, params, reply, auth, auth_error, rule, request_id)
        return reply

    def insert_tasks(self, scenario, spec, instance_id):
        with self.lock:
            instance = scenario.instances.get(spec.get("instance", instance_id))
            if instance is not None:
                instance.insert(spec, scenario.now())

    def record(self, scenario, request, kind, params, reply, auth, auth_error, rule, request_id):
        query = {}  # a repeated key maps to the list of its values
        for key, value in query_pairs(request.query):
            if key not in query:
                query[key] = value
            elif isinstance(query[key], list):
                query[key].append(value)
            else:
                query[key] = [query[key], value]
        with self.lock:
            entry = {
                "seq": len(scenario.log) + 1,
                "time": iso_ms(time.time()),
                "clock": round(scenario.now(), 3),
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "query": query,
                "kind": kind,
                "instance_id": params.get("instance_id"),
                "task_id": params.get("task_id"),
                "status": reply.status,
                "auth": auth if auth else ("denied" if auth_error else None),
                "auth_error": auth_error,
                "fault": "+".join(rule.actions()) if rule else None,
                "fault_rule": rule.index if rule else None,
            }
            scenario.log.append(entry)
            if self.log_file:
                self.log_file.write(json.dumps(entry) + "\n")
                self.log_file.flush()

    # -- authentication ---------------------------------------------------------------------------------

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
            return None, "Incorrect IAM authentication information: x-auth-token not found"
        deadline = self.tokens.get(token)
        if deadline is None:
            return None, "Incorrect IAM authentication information: decrypt token fail"
        if time.monotonic() >= deadline:
            return None, "Incorrect IAM authentication information: token expires, expires_at: %s" % iso_ms(time.time() + deadline - time.monotonic())
        return "token", None

    def verify_aksk(self, scenario, request):
        match = AUTHORIZATION_RE.match(request.headers.get("Authorization", ""))
        if not match:
            return None, "Incorrect IAM authentication information: Authorization is not an SDK-HMAC-SHA256 signature"
        access_key, signed_list, given = match.groups()
        credential = scenario.credentials.get(access_key)
        if credential is None:
            return None, "Incorrect IAM authentication information: Get secretKey failed"
        failures, locked_until = scenario.failures.get(access_key, (0, None))
        if locked_until is not None and scenario.now() < locked_until:
            return None, "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden"
        problem = self.signature_problem(scenario, credential, request, signed_list.split(";"), given.lower())
        if problem is None:
            scenario.failures.pop(access_key, None)
            return "aksk", None
        # Like the cloud: after `failures` consecutive failures the key is refused for `seconds`, even when right.
        failures = 0 if locked_until is not None else failures
        failures += 1
        lock = failures >= scenario.lockout_failures > 0
        scenario.failures[access_key] = (failures, scenario.now() + scenario.lockout_seconds if lock else None)
        return None, "Incorrect IAM authentication information: " + problem

    @staticmethod
    def signature_problem(scenario, credential, request, signed, given):
        for required in ("host", "x-sdk-date"):
            if required not in signed:
                return "%s is not among the signed headers" % required
        values = {name: header_value(request.headers, name) for name in signed}
        missing = [name for name, value in values.items() if value is None]
        if missing:
            return "signed header(s) %s missing from the request" % ", ".join(missing)
        try:
            sent = datetime.datetime.strptime(values["x-sdk-date"], SDK_DATE_FORMAT).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return "X-Sdk-Date %r is not YYYYMMDDTHHMMSSZ" % values["x-sdk-date"]
        if abs(time.time() - sent.timestamp()) > scenario.max_clock_skew:
            return "X-Sdk-Date %s is more than %d seconds off the server clock" % (values["x-sdk-date"], scenario.max_clock_skew)
        expected_token = credential.get("security_token")
        if expected_token and values.get("x-security-token") != expected_token:
            return "temporary credentials need their X-Security-Token, sent and signed"
        if not expected_token and request.headers.get("X-Security-Token") is not None:
            return "X-Security-Token sent with a permanent access key"
        body_hash = payload_hash(request.body, header_value(request.headers, "X-Sdk-Content-Sha256"))
        canonical = canonical_request(request.method, request.path, request.query, signed, values, body_hash)
        if not hmac.compare_digest(signature(str(credential["secret_key"]), values["x-sdk-date"], canonical), given):
            return "verify aksk signature fail"
        return None

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

    # -- answers ----------------------------------------------------------------------------------------

    def answer(self, scenario, kind, params, request, auth, auth_error, request_id):
        if kind == "unknown":
            return error_reply(404, "APIG.0101", "The API does not exist or has not been published in the environment.", request_id)
        if auth_error:
            if kind == "iam_token" and not request.headers.get("Authorization"):
                return iam_unauthorized(auth_error)
            return error_reply(401, "APIG.0301", auth_error, request_id)
        if kind == "iam_projects":
            return self.answer_projects(scenario, request)
        if kind == "iam_token":
            return self.answer_token(scenario, auth)
        header_project = request.headers.get("X-Project-Id")
        if params["project_id"] != scenario.project_id or header_project not in (None, scenario.project_id):
            return error_reply(403, "APIG.0302", "The IAM user is not authorized to access the API: the project ID does not match the credential.",
                               request_id)
        instance = scenario.instances.get(params["instance_id"])
        if instance is None:
            return error_reply(404, "DMS.00404022", "The instance does not exist.")
        if kind == "progress" and instance.engine not in ENGINES_WITH_PROGRESS:
            return error_reply(404, "APIG.0101", "The API does not exist or has not been published in the environment.", request_id)
        now = scenario.now()
        if kind == "list":
            return self.answer_list(scenario, instance, request, now)
        task = instance.find(params["task_id"], now)
        if task is None:
            return error_reply(404, "DMS.00404000", "The task does not exist.")
        if kind == "show":
            return json_reply(200, {"task_count": "1", "tasks": [task.to_api(now, scenario.clock_wall)]})
        if kind == "delete":
            task.deleted = True
            return Reply(204)
        return json_reply(200, task.progress_at(now, scenario.clock_wall))

    @staticmethod
    def answer_list(scenario, instance, request, now):
        query = first_values(request.query)
        numbers = {}
        for name, default, lowest, highest in (("start", 1, 1, None), ("limit", 10, 1, 100)):
            text = query.get(name, str(default))
            if not re.match(r"^[0-9]+$", text) or int(text) < lowest or (highest is not None and int(text) > highest):
                allowed = "from %d to %d" % (lowest, highest) if highest else "of at least %d" % lowest
                return error_reply(400, "DMS.00400000", "Invalid parameter %s=%r: must be an integer %s." % (name, text, allowed))
            numbers[name] = int(text)
        window = []
        for name in ("begin_time", "end_time"):
            value = query.get(name)
            moment = None if value is None else parse_api_time(value)
            if value is not None and moment is None:
                return error_reply(400, "DMS.00400000", "Invalid parameter %s=%r: must be YYYYMMDDHHmmss." % (name, value))
            window.append(moment)
        begin, end = window
        tasks = [
            task for task in instance.visible_tasks(now)
            if (begin is None or scenario.clock_wall + task.created_offset >= begin)
            and (end is None or scenario.clock_wall + task.created_offset < end + 1)
        ]
        first = numbers["start"] - 1
        page = tasks[first:first + numbers["limit"]]
        return json_reply(200, {"task_count": str(len(tasks)), "tasks": [task.to_api(now, scenario.clock_wall) for task in page]})

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


# ---------------------------------------------------------------------------------------------------------
# HTTP server

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' sessions expect
    server_version = "dms-emulator"
    timeout = 120  # an idle keep-alive connection frees its thread after this

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in the connection's thread, not in the accept loop

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith(ADMIN_PREFIX):
            self.send(self.admin(body))
            return
        reply = self.server.emulator.handle(Request(self.command, self.path, self.headers, body))
        if reply.drop:
            # A dropped connection: no status line at all, as when a gateway or load balancer resets it.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send(reply)

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def send(self, reply):
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def admin(self, body):
        """The unauthenticated /_emulator/ endpoints the tests use; never counted or logged as API calls."""
        emulator = self.server.emulator
        path, query = self.path.split("?", 1) if "?" in self.path else (self.path, "")
        action = (self.command, path[len(ADMIN_PREFIX):])
        if action == ("GET", "health"):
            return json_reply(200, {"status": "ok", "clock": round(emulator.scenario.now(), 3)})
        if action == ("GET", "requests"):
            return json_reply(200, {"requests": emulator.requests(first_values(query).get("kind"))})
        if action == ("GET", "counts"):
            return json_reply(200, emulator.counts())
        if action == ("POST", "reset"):
            emulator.reset()
            return json_reply(200, {"status": "ok"})
        if action == ("POST", "scenario"):
            try:
                emulator.load(load_scenario_text(body.decode("utf-8")))
            except (ScenarioError, UnicodeError, KeyError, TypeError, ValueError) as error:
                return json_reply(400, {"error": str(error)})
            return json_reply(200, {"status": "ok"})
        return json_reply(404, {"error": "no admin endpoint %s %s" % action})

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the JSON request log is the record."""


class Server(ThreadingHTTPServer):
    def __init__(self, address, emulator, tls=None):
        super().__init__(address, Handler)
        self.emulator = emulator
        self.tls = tls

    def get_request(self):
        connection, address = super().get_request()
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def handle_error(self, request, client_address):
        # Clients that time out, reset, or refuse the certificate are part of the tests, not server errors.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, socket.timeout)):
            super().handle_error(request, client_address)


def write_certificates(cert_dir):
    """A throw-away CA and a server certificate for 127.0.0.1, ::1 and localhost. Returns (cert, key) paths."""
    # Imported here: only --https needs it (cryptography comes with ansible-core).
    import ipaddress  # pylint: disable=import-outside-toplevel
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # pylint: disable=import-outside-toplevel

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DMS emulator test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    os.makedirs(cert_dir, exist_ok=True)
    paths = {name: os.path.join(cert_dir, name) for name in ("ca.pem", "server.pem", "server-key.pem")}
    with open(paths["ca.pem"], "wb") as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as handle:
        handle.write(server_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server-key.pem"], "wb") as handle:
        handle.write(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths["server.pem"], paths["server-key.pem"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Emulate the Huawei Cloud DMS background-task API on a local port.")
    parser.add_argument("--scenario", required=True, help="scenario file (YAML or JSON), see docs/emulator.md")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--port-file", help="write the port here once listening (useful with --port 0)")
    parser.add_argument("--https", action="store_true", help="serve HTTPS with a freshly generated certificate")
    parser.add_argument("--cert-dir", default=".", help="with --https: where ca.pem, server.pem and server-key.pem are written")
    parser.add_argument("--log", help="append one JSON line per API request to this file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        with open(args.scenario, encoding="utf-8") as handle:
            emulator = Emulator(load_scenario_text(handle.read(), args.scenario), args.log)
    except (OSError, ScenarioError, KeyError, TypeError, ValueError) as error:
        print("dms_emulator: cannot load %s: %s" % (args.scenario, error), file=sys.stderr)
        return 2
    tls = None
    if args.https:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*write_certificates(args.cert_dir))
    server = Server((args.host, args.port), emulator, tls)
    port = server.server_address[1]
    if args.port_file:
        # Written whole then renamed, so a reader never sees a half-written port.
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)

    def stop(signum, frame):  # pylint: disable=unused-argument
        # shutdown() waits for serve_forever() to return, so it must run outside this (serving) thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("DMS emulator listening on %s://%s:%d (scenario %s)" % ("https" if tls else "http", args.host, port, args.scenario), flush=True)
    server.serve_forever(poll_interval=0.1)  # how soon a stop request is noticed
    server.server_close()
    emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
