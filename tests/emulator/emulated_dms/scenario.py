# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenario model: instances, their status, their tasks and timelines, and the options that choose between guesses."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re

from .clock import Clock, iso_ms
from .configs import DEFAULT_KAFKA_PARAMETERS, Configuration, Parameter

STATUSES = ("CREATED", "EXECUTING", "SUCCESS", "FAILED", "DELETED", "CANCELLED")
FINAL_STATUSES = ("SUCCESS", "FAILED", "DELETED", "CANCELLED")
# The instance statuses of the "Instance Status" appendix of each engine's API reference.
INSTANCE_STATUSES = ("CREATING", "CREATEFAILED", "RUNNING", "ERROR", "RESTARTING", "STARTING", "EXTENDING", "EXTENDEDFAILED", "FROZEN",
                     "FREEZING", "UPGRADING", "ROLLINGBACK", "DELETING")
ENGINES = ("kafka", "rabbitmq", "rocketmq")
DEFAULT_STEPS = ("Check the request", "Apply the change", "Verify the instance")

DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_CREDENTIAL = {"access_key": "AKEXAMPLE0000000000", "secret_key": "SKEXAMPLE0000000000000000000000000000000"}

CLOCK_STARTS = ("load", "first_request")
DELETED_TASK_MODES = ("vanish", "listed")
DELETE_ACTIVE_MODES = ("refuse", "allow")
AUTH_ERROR_CODES = ("APIG.0301", "APIGW.0301")
DEFAULT_TASK_ID_PATTERN = "[0-9a-f]{32}"
ERROR_ANSWER_KEYS = ("status", "error_code", "error_msg")
UNKNOWN_TASK_ANSWER = {"status": 404, "error_code": "DMS.00404000", "error_msg": "The task does not exist."}
# Progress "can be queried only during Kafka capacity expansion"; the answer for other tasks is undocumented: a guess.
NO_PROGRESS_ANSWER = {"status": 400, "error_code": "DMS.00400000", "error_msg": "The task has no progress information."}
# The task each write call creates. kafkaConfigModify is the documented name; the other two are guesses (write_tasks).
WRITE_TASK_NAMES = {"modify_configs": "kafkaConfigModify", "resize": "resizeInstance", "restart": "restartInstance"}
DEFAULT_WRITE_TIMELINE = ((0, "CREATED"), (1, "EXECUTING"), (5, "SUCCESS"))
# The status an instance is in while the task of a write call runs (a guess at how long: until the task ends).
# A configuration change leaves the status alone.
WRITE_INSTANCE_STATUSES = {"restart": "RESTARTING", "resize": "EXTENDING"}
# Progress "can be queried only during Kafka capacity expansion": of the write calls, only a resize has it.
WRITE_CALLS_WITH_PROGRESS = ("resize",)
# A scenario's own configuration parameter: the fields of the InstanceConfig model but the value.
CONFIG_PARAMETER_KEYS = ("name", "valid_values", "default_value", "config_type", "value_type")


class ScenarioError(ValueError):
    """The scenario does not describe a state the emulator can serve."""


def check_keys(mapping, allowed, where):
    """Reject unknown keys, so that a typo in a scenario fails loudly instead of being ignored."""
    if not isinstance(mapping, dict):
        raise ScenarioError("%s must be a mapping" % where)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ScenarioError("%s: unknown key(s) %s (allowed: %s)" % (where, ", ".join(unknown), ", ".join(allowed)))
    return mapping


def check_choice(value, choices, where):
    if value not in choices:
        raise ScenarioError("%s: %r is not one of %s" % (where, value, ", ".join(map(str, choices))))
    return value


def check_status(status, where):
    if status not in STATUSES:
        raise ScenarioError("%s: status %r is not one of %s" % (where, status, ", ".join(STATUSES)))
    return status


def check_instance_status(status, where):
    if status not in INSTANCE_STATUSES:
        raise ScenarioError("%s: instance status %r is not one of %s" % (where, status, ", ".join(INSTANCE_STATUSES)))
    return status


def instance_timeline(entries, where):
    """[seconds, instance status] pairs, sorted by time; of two entries at the same second the later one counts."""
    if not isinstance(entries, list) or not all(isinstance(entry, list) and len(entry) == 2 for entry in entries):
        raise ScenarioError("%s: give a list of [seconds, status] pairs" % where)
    timeline = []
    for at, status in entries:
        if isinstance(at, bool) or not isinstance(at, (int, float)):
            raise ScenarioError("%s: %r is not a number of seconds" % (where, at))
        timeline.append((float(at), check_instance_status(status, where)))
    return sorted(timeline, key=lambda entry: entry[0])


def error_answer(spec, default, where):
    """(status, error_code, error_msg) from a mapping of those keys, each missing one taken from `default`."""
    merged = dict(default, **check_keys(spec, ERROR_ANSWER_KEYS, where))
    return int(merged["status"]), str(merged["error_code"]), str(merged["error_msg"])


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


def config_text(value, where):
    """A scenario's configuration value as the API writes it: a string (YAML's true and 72 become "true" and "72")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ScenarioError("%s: %r is not a configuration value" % (where, value))


def config_parameter(spec, where):
    check_keys(spec, CONFIG_PARAMETER_KEYS, where)
    missing = [key for key in CONFIG_PARAMETER_KEYS if key not in spec]
    if missing:
        raise ScenarioError("%s: a configuration parameter needs %s" % (where, ", ".join(missing)))
    parameter = Parameter(*(config_text(spec[key], "%s.%s" % (where, key)) for key in CONFIG_PARAMETER_KEYS))
    problem = parameter.problem()
    if problem:
        raise ScenarioError("%s: %s" % (where, problem))
    return parameter


def kafka_configuration(spec, where):
    """The default parameters, with the scenario's ``config_parameters`` added (one named as a default one replaces it),
    each at its default value but those ``configs`` sets."""
    parameters = {parameter.name: parameter for parameter in DEFAULT_KAFKA_PARAMETERS}
    extra = spec.get("config_parameters") or []
    if not isinstance(extra, list):
        raise ScenarioError("%s.config_parameters: give a list of parameters" % where)
    for index, parameter_spec in enumerate(extra):
        parameter = config_parameter(parameter_spec, "%s.config_parameters[%d]" % (where, index))
        parameters[parameter.name] = parameter
    values = {}
    for name, value in check_keys(spec.get("configs") or {}, tuple(parameters), where + ".configs").items():
        values[name] = config_text(value, "%s.configs.%s" % (where, name))
        if not parameters[name].accepts(values[name]):
            raise ScenarioError("%s.configs: %s is not within the valid_values of %s (%s)" % (where, values[name], name, parameters[name].valid_values))
    return Configuration(parameters.values(), values)


def task_id_for(instance_id, serial):
    """Stable 32-hex task IDs, shaped like the cloud's, so the same scenario always yields the same IDs."""
    return hashlib.sha256(("%s/%d" % (instance_id, serial)).encode()).hexdigest()[:32]


def params_text(params):
    """The API sends params as a JSON document inside a string; a scenario may give a mapping or the string."""
    if isinstance(params, str):
        return params
    return json.dumps(params, separators=(",", ":"))


class Task:
    """One background task. Times are seconds on its instance's clock (negative: before the clock started)."""

    KEYS = ("id", "name", "status", "timeline", "created_at", "created_offset", "duration", "appear_after", "vanish_after",
            "user_name", "user_id", "params", "progress", "steps")

    def __init__(self, spec, task_id, defaults, origin_wall, where):
        """origin_wall: the wall time at 0 on the clock, which places a fixed created_at on it."""
        check_keys(spec, self.KEYS, where)
        if "name" not in spec:
            raise ScenarioError("%s: a task needs a name" % where)
        self.id = str(spec.get("id", task_id))
        self.name = str(spec["name"])
        self.user_name = str(spec.get("user_name", defaults["user_name"]))
        self.user_id = str(spec.get("user_id", defaults["user_id"]))
        self.params = params_text(spec.get("params", {}))
        self.has_progress = bool(spec.get("progress", False))
        if "steps" in spec and not self.has_progress:
            raise ScenarioError("%s: steps are the steps of the progress answer; add progress: true" % where)
        self.steps = [str(step) for step in spec.get("steps", DEFAULT_STEPS)] or list(DEFAULT_STEPS)
        self.appear_after = float(spec.get("appear_after", max(0.0, float(spec.get("created_offset", 0)))))
        if "created_at" in spec:
            self.created_offset = parse_iso(spec["created_at"], where + ".created_at") - origin_wall
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
        self.vanished = False

    def visible_at(self, now):
        return not self.vanished and self.appear_after <= now and (self.vanish_after is None or now < self.vanish_after)

    def entry_at(self, now):
        """The timeline entry in effect at `now` (the first one until the timeline starts)."""
        current = self.timeline[0]
        for entry in self.timeline:
            if entry[0] <= now:
                current = entry
        return current

    def delete(self, now, keep_listed):
        """Gone from list and show, or (keep_listed) still there with status DELETED from now on. Either way its timeline
        ends DELETED now, so that a task deleted while it ran never counts as succeeded (its change is never applied)."""
        self.vanished = not keep_listed
        if self.entry_at(now)[1] != "DELETED":
            self.timeline = [entry for entry in self.timeline if entry[0] <= now] + [(now, "DELETED")]

    def outcome_at(self, now):
        """The first final status the task reached by `now`, or None while it has not ended."""
        return next((status for at, status in self.timeline if status in FINAL_STATUSES and at <= now), None)

    def to_api(self, now, clock):
        changed_at, status = self.entry_at(now)
        updated = max(self.created_offset, changed_at) if changed_at <= now else self.created_offset
        return {
            "id": self.id,
            "name": self.name,
            "user_name": self.user_name,
            "user_id": self.user_id,
            "params": self.params,
            "status": status,
            "created_at": iso_ms(clock.wall(self.created_offset)),
            "updated_at": iso_ms(clock.wall(updated)),
        }

    def execution_window(self):
        """(begin, end) of the work on the clock: first EXECUTING entry to first final entry (end None: never ends)."""
        begin = next((at for at, status in self.timeline if status == "EXECUTING"), self.timeline[0][0])
        end = next((at for at, status in self.timeline if status in FINAL_STATUSES), None)
        return begin, end

    def progress_at(self, now, clock):
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
            step_begin = clock.wall(begin + index * span)
            steps.append({
                "name": name,
                "statue": statue,
                # A time the step has not reached is null, not 0.
                "start_time": None if statue == "WAITING" else int(step_begin * 1000),
                "end_time": int((step_begin + span) * 1000) if statue in ("COMPLETED", "FAILED") else None,
            })
        return {"progress_percentage": percent, "remain_time": remain, "step_list": steps}


class Instance:
    KEYS = ("id", "engine", "status", "status_timeline", "tasks", "generate", "deleted_after", "configs", "config_parameters")
    GENERATE_KEYS = ("count", "name", "status", "created_offset", "interval", "duration", "params", "user_name", "user_id")

    def __init__(self, spec, defaults, clock, where):
        check_keys(spec, self.KEYS, where)
        if "id" not in spec:
            raise ScenarioError("%s: an instance needs an id" % where)
        self.id = str(spec["id"])
        self.engine = check_choice(str(spec.get("engine", "kafka")).lower(), ENGINES, where + ".engine")
        deleted_after = spec.get("deleted_after")
        if deleted_after is not None and (isinstance(deleted_after, bool) or not isinstance(deleted_after, (int, float))):
            raise ScenarioError("%s.deleted_after: give the second on the instance's clock from which it no longer exists" % where)
        self.deleted_after = deleted_after
        if "status_timeline" in spec:
            if "status" in spec or not spec["status_timeline"]:
                raise ScenarioError("%s: give either a status or a non-empty status_timeline" % where)
            self.status_timeline = instance_timeline(spec["status_timeline"], where + ".status_timeline")
        else:
            self.status_timeline = [(0.0, check_instance_status(spec.get("status", "RUNNING"), where + ".status"))]
        if self.engine != "kafka" and ("configs" in spec or "config_parameters" in spec):
            raise ScenarioError("%s: configs and config_parameters are for a Kafka instance (the configs calls exist for Kafka only)" % where)
        # None for another engine: its configs calls do not exist.
        self.configuration = kafka_configuration(spec, where) if self.engine == "kafka" else None
        self.spec = spec
        self.defaults = defaults
        self.clock = clock
        self.where = where
        self.lay_out()

    def lay_out(self):
        """Build the tasks on the clock (a fixed created_at lands where the clock's start puts it)."""
        self.serial = 0
        self.tasks = []
        for index, task_spec in enumerate(self.spec.get("tasks") or []):
            self.tasks.append(Task(task_spec, self.next_id(), self.defaults, self.clock.origin_wall, "%s.tasks[%d]" % (self.where, index)))
        for index, generator in enumerate(self.spec.get("generate") or []):
            self.tasks.extend(self.generated(generator, "%s.generate[%d]" % (self.where, index)))
        seen = set()
        for task in self.tasks:
            if task.id in seen:
                raise ScenarioError("%s: task id %s appears twice" % (self.where, task.id))
            seen.add(task.id)

    def exists(self):
        """Whether the instance still exists (it was not deleted, ``deleted_after``, by now on its clock)."""
        return self.deleted_after is None or self.clock.now() < self.deleted_after

    def status_at(self, now):
        """The instance's status at `now`: the last entry at or before it (the first entry's before the timeline starts)."""
        current = self.status_timeline[0][1]
        for at, status in self.status_timeline:
            if at <= now:
                current = status
        return current

    def follow_status(self, now, timeline):
        """From `now` on the status follows `timeline` ([seconds after now, status]) instead of the entries after now."""
        if timeline:
            kept = [entry for entry in self.status_timeline if entry[0] <= now] or [(now, self.status_at(now))]
            self.status_timeline = kept + [(now + at, status) for at, status in timeline]

    def reach(self):
        """A request reaches the instance: a clock that waits for the first request starts, and the tasks move onto it."""
        if not self.clock.started:
            self.clock.start()
            self.lay_out()

    def next_id(self):
        self.serial += 1
        return task_id_for(self.id, self.serial)

    def generated(self, spec, where):
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
                 self.next_id(), self.defaults, self.clock.origin_wall, where)
            for n in range(int(spec.get("count", 0)))
        ]

    def insert(self, spec):
        """New tasks created now, at the head of the list (a fault that shifts pages under a paging client)."""
        self.reach()
        now = self.clock.now()
        for _number in range(int(spec.get("count", 1))):
            task_spec = {"name": spec.get("name", "kafkaConfigModify"), "created_offset": now}
            if "timeline" in spec:
                task_spec["timeline"] = [[now + float(at), status] for at, status in spec["timeline"]]
            else:
                task_spec["status"] = spec.get("status", "SUCCESS")
            self.tasks.insert(0, Task(task_spec, self.next_id(), self.defaults, self.clock.origin_wall, "insert"))

    def visible_tasks(self, now):
        """Newest first; tasks created at the same moment keep their scenario order (inserted ones first)."""
        return sorted((task for task in self.tasks if task.visible_at(now)), key=lambda task: -task.created_offset)

    def find(self, task_id, now):
        return next((task for task in self.tasks if task.id == task_id and task.visible_at(now)), None)


class WriteTask:
    """What one write call does: create a task of this name (with progress steps or without) whose timeline counts
    seconds from the call, and move the instance's status along ``instance_status``."""

    KEYS = ("name", "timeline", "progress", "steps", "instance_status")

    def __init__(self, call, spec, where):
        check_keys(spec, self.KEYS, where)
        self.name = str(spec.get("name", WRITE_TASK_NAMES[call]))
        timeline = spec.get("timeline", DEFAULT_WRITE_TIMELINE)
        if not timeline or not all(isinstance(entry, (list, tuple)) and len(entry) == 2 for entry in timeline):
            raise ScenarioError("%s.timeline: give a non-empty list of [seconds after the call, status] pairs" % where)
        self.timeline = sorted((float(at), check_status(status, where)) for at, status in timeline)
        self.has_progress = bool(spec.get("progress", call in WRITE_CALLS_WITH_PROGRESS))
        if "steps" in spec and not self.has_progress:
            raise ScenarioError("%s: steps are the steps of the progress answer; add progress: true" % where)
        self.steps = [str(step) for step in spec.get("steps", DEFAULT_STEPS)] or list(DEFAULT_STEPS)
        if "instance_status" in spec:
            self.instance_status = instance_timeline(spec["instance_status"], where + ".instance_status")
            if any(at < 0 for at, _status in self.instance_status):
                raise ScenarioError("%s.instance_status: seconds count from the call and cannot be negative" % where)
        else:
            self.instance_status = self.default_instance_status(call)

    def default_instance_status(self, call):
        """Restart and resize: their transitional status from the call until the task's first final status, then RUNNING."""
        if call not in WRITE_INSTANCE_STATUSES:
            return []
        end = next((at for at, status in self.timeline if status in FINAL_STATUSES), None)
        return [(0.0, WRITE_INSTANCE_STATUSES[call])] + ([] if end is None else [(end, "RUNNING")])

    def task_spec(self, now, params):
        """The spec of the task the call creates at ``now`` on its instance's clock."""
        spec = {"name": self.name, "created_offset": now, "timeline": [[now + at, status] for at, status in self.timeline],
                "params": params, "progress": self.has_progress}
        if self.has_progress:
            spec["steps"] = self.steps
        return spec


class Scenario:
    """Everything a scenario document describes. Request history (log, fault state, lockouts) lives elsewhere."""

    KEYS = ("region", "project_id", "domain_id", "user_name", "user_id", "credentials", "users", "token_ttl", "max_clock_skew",
            "lockout", "iam_projects", "instances", "faults", "clock", "task_id_pattern", "check_instance_ids", "unknown_task",
            "task_without_progress", "deleted_tasks", "delete_active", "auth_error_code", "write_tasks")

    def __init__(self, spec):
        check_keys(spec, self.KEYS, "scenario")
        self.clock = Clock()  # since the load: the lockout, the health endpoint and requests that name no known instance
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
        self.auth_error_code = check_choice(spec.get("auth_error_code", AUTH_ERROR_CODES[0]), AUTH_ERROR_CODES, "auth_error_code")
        self.check_instance_ids = bool(spec.get("check_instance_ids", False))
        try:
            self.task_id_pattern = re.compile(str(spec.get("task_id_pattern", DEFAULT_TASK_ID_PATTERN)))
        except re.error as error:
            raise ScenarioError("task_id_pattern: %s" % error) from None
        self.unknown_task = error_answer(spec.get("unknown_task", {}), UNKNOWN_TASK_ANSWER, "unknown_task")
        without_progress = spec.get("task_without_progress", {})
        self.task_without_progress = None if without_progress == "empty" else error_answer(
            without_progress, NO_PROGRESS_ANSWER, "task_without_progress (empty, or a mapping of %s)" % ", ".join(ERROR_ANSWER_KEYS))
        self.keep_deleted_tasks = check_choice(spec.get("deleted_tasks", "vanish"), DELETED_TASK_MODES, "deleted_tasks") == "listed"
        self.refuse_active_deletes = check_choice(spec.get("delete_active", "refuse"), DELETE_ACTIVE_MODES, "delete_active") == "refuse"
        clock_start = check_choice(spec.get("clock", "load"), CLOCK_STARTS, "clock")
        defaults = {"user_name": spec.get("user_name", "dms_test"), "user_id": spec.get("user_id", "a1b2c3d4e5f60718293a4b5c6d7e8f90")}
        self.instances = {}
        for index, instance_spec in enumerate(spec.get("instances") or []):
            clock = self.clock if clock_start == "load" else Clock(started=False)
            instance = Instance(instance_spec, defaults, clock, "instances[%d]" % index)
            self.instances[instance.id] = instance
        self.declared_task_ids = {task.id for instance in self.instances.values() for task in instance.tasks}
        self.fault_specs = spec.get("faults") or []
        write_tasks = check_keys(spec.get("write_tasks") or {}, tuple(WRITE_TASK_NAMES), "write_tasks")
        self.write_tasks = {call: WriteTask(call, write_tasks.get(call) or {}, "write_tasks." + call) for call in WRITE_TASK_NAMES}

    def task_id_well_formed(self, task_id):
        """Shaped like the cloud's IDs, or declared by the scenario (so tests may use readable IDs)."""
        return task_id in self.declared_task_ids or self.task_id_pattern.fullmatch(task_id) is not None


def load_scenario_text(text, where="scenario"):
    """A scenario document: JSON, or YAML (PyYAML comes with ansible-core) when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        try:
            import yaml  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise ScenarioError("%s is not JSON, and reading YAML needs PyYAML: run the emulator with the Python that runs"
                                " ansible-core (it brings PyYAML), or give a JSON scenario" % where) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ScenarioError("%s: neither JSON nor YAML: %s" % (where, error)) from None
