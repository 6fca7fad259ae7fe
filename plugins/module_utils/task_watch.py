# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source hwcloud.dms.task_events without its asyncio glue: its args, what it reads on a poll, what counts
as a change, what it remembers, and how an outage is told.

Requests per poll of an instance, whatever the length of its history: the whole history once (the first poll), then
one listing of the tasks created since the previous poll began (less CLOCK_SKEW_ALLOWANCE: usually one page) plus one
show-one call per remembered unfinished task that was not on it. What is remembered: the unfinished tasks, and the
finished ones that the next listing can still return (to tell that they have not changed); nothing older.

Plain Python on an injected wall clock; the client is any object with the DmsClient calls.
"""

from __future__ import annotations

import logging
import threading
from collections import namedtuple
from datetime import timezone

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient, make_auth
from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK, Clock
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    AuthenticationError, ConfigurationError, DmsError, InstanceNotFoundError, failure_details, worth_another_poll,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import HttpClient
from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS, argument_spec, connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.redaction import redact, secret_forms
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import CLOCK_SKEW_ALLOWANCE, STATUSES, created_before, is_active, newest_first
from ansible_collections.hwcloud.dms.plugins.module_utils.trackers import Absences
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import NumberRange, path_segment_option

SOURCE_NAME = "hwcloud.dms.task_events"
SOURCE_OPTIONS = {
    "instances": {"type": "list", "elements": "str", "required": True},
    "interval": {"type": "float", "default": 15},
    "statuses": {"type": "list", "elements": "str", "choices": list(STATUSES)},
    "include_existing": {"type": "bool", "default": False},
}
# More often than once a second only spends the API's rate limit; a day apart, a change is no longer news.
INTERVAL_RANGE = NumberRange(1, 86400, unit="seconds")
# While every instance fails to answer, the pause between polls doubles up to this (or the interval, if longer).
MAX_OUTAGE_PAUSE = 300.0
_MAX_DOUBLINGS = 16

logger = logging.getLogger(SOURCE_NAME)


class SourceConfig(namedtuple("SourceConfig", ["settings", "instances", "interval", "statuses", "include_existing"])):
    """The checked args: ConnectionSettings, instance IDs (each once), seconds between polls, the statuses that make an
    event (None: every change), and whether the tasks already active at start make events."""
    __slots__ = ()


class PollingStopped(Exception):
    """The source is stopping: a poll still running in its thread gives up at its next request or pause."""


class SourceStopped(DmsError):
    """An error that no retry can mend (authentication, a wrong instance or endpoint): the source stops."""


def source_config(args, environ=None):
    """The source's args checked as the modules check theirs, from the same option table and environment variables.

    Raises ConfigurationError naming the arg; no secret is ever part of the message.
    """
    args = dict(args)
    secrets = [args.get(name) for name in _no_log_names() if isinstance(args.get(name), str)]
    spec = argument_spec(**SOURCE_OPTIONS)
    try:
        try:
            result = ArgumentSpecValidator(spec).validate(args)
        except OverflowError:
            # ansible-core's float conversion overflows on an integer beyond any float instead of refusing it: take
            # the numbers as given, so that the range checks below refuse them naming the arg.
            result = ArgumentSpecValidator(_numbers_as_given(spec)).validate(args)
        params = result.validated_parameters
        secrets += [params.get(name) for name in COMMON_OPTIONS if COMMON_OPTIONS[name].get("no_log") and params.get(name)]
        if result.unsupported_parameters:
            raise ConfigurationError("unknown arg%s %s; the args are %s" % (
                "s" if len(result.unsupported_parameters) > 1 else "", ", ".join(sorted(result.unsupported_parameters)),
                ", ".join(sorted(spec))))
        if result.error_messages:
            raise ConfigurationError("; ".join(result.error_messages))
        return _checked(params, environ)
    except ConfigurationError as error:
        raise ConfigurationError("%s: %s" % (SOURCE_NAME, redact(str(error), secret_forms(secrets)))) from None


def _checked(params, environ):
    settings = connection_settings(params, environ)
    if not params["instances"]:
        raise ConfigurationError("instances must list at least one instance ID")
    instances = tuple(dict.fromkeys(path_segment_option("instances", value) for value in params["instances"]))
    interval = INTERVAL_RANGE.check("interval", params["interval"])
    statuses = params["statuses"]
    if statuses is not None and not statuses:
        raise ConfigurationError("statuses must name at least one status; leave it out to be told of every change")
    return SourceConfig(settings, instances, interval, tuple(statuses) if statuses else None, bool(params["include_existing"]))


def _no_log_names():
    for name, entry in COMMON_OPTIONS.items():
        if entry.get("no_log"):
            yield name
            yield from entry.get("aliases", [])


def _numbers_as_given(spec):
    return dict((name, dict(option, type="raw") if option.get("type") in ("int", "float") else option) for name, option in spec.items())


def api_timestamp(moment):
    """A time as the API writes its own, e.g. 2020-06-23T03:00:03.471Z, so that events compare with task times."""
    utc = moment.astimezone(timezone.utc)
    return "%s.%03dZ" % (utc.strftime("%Y-%m-%dT%H:%M:%S"), utc.microsecond // 1000)


def task_event(instance_id, task, previous_status, observed_at):
    """The event of one observed change, as ansible-rulebook puts it on its queue."""
    return {"dms_task": {
        "instance_id": instance_id, "task": task, "previous_status": previous_status, "status": task["status"],
        "observed_at": api_timestamp(observed_at),
    }}


def instance_gone_event(instance_id, error, unfinished, observed_at):
    """The event of an instance that DMS says no longer exists, after it had answered: the last one about it."""
    return {"dms_instance_gone": {
        "instance_id": instance_id, "unfinished": unfinished, "error": failure_details(error), "observed_at": api_timestamp(observed_at),
        "msg": "instance %s no longer exists (two polls in a row answered %s); it is no longer watched" % (instance_id, error.error_code),
    }}


class InstanceWatch:
    """One instance's tasks between polls: what the next poll reads, and the status each remembered task had."""

    def __init__(self, instance_id, include_existing):
        self.instance_id = instance_id
        self._include_existing = include_existing
        self._remembered = {}  # task ID -> the task as last seen
        self._absences = Absences()  # of its tasks
        self._absence = Absences()  # of the instance itself
        self._listed_since = None  # None until the whole history has been read
        self.failed_polls = 0  # in a row
        self.good_polls = 0

    def unfinished(self):
        """The remembered tasks last seen CREATED or EXECUTING."""
        return [task for task in self._remembered.values() if is_active(task)]

    def poll(self, client, wall, should_stop):
        """Read the instance once; return its changes as (task, previous status or None) pairs, oldest task first.

        Nothing is kept from a poll that fails part-way: the next one reads the same window again, so a change is
        neither lost nor told twice. ``should_stop`` is called before each request and raises PollingStopped.
        """
        read_at = wall()
        next_since = read_at - CLOCK_SKEW_ALLOWANCE
        first_poll = self._listed_since is None
        should_stop()
        if first_poll:
            listing = client.list_tasks(self.instance_id)
            seen = [task for task in listing if is_active(task) or not created_before(task, next_since)]
            listing.require_complete()  # an active task beyond a truncated listing would never be followed
        else:
            seen = list(client.tasks_created_since(self.instance_id, self._listed_since))
        listed = set(task["id"] for task in seen)
        gone = []
        for task_id, task in self._remembered.items():
            if task_id in listed or not is_active(task):
                continue
            should_stop()
            current = client.get_task(self.instance_id, task_id)
            if current is None:
                gone.append(task_id)
            else:
                seen.append(current)
        changes, remembered = [], {}
        for task in reversed(newest_first(seen)):
            self._absences.seen(task["id"])
            previous = self._remembered.get(task["id"])
            previous_status = previous["status"] if previous else None
            if first_poll:
                if self._include_existing and is_active(task):
                    changes.append((task, None))
            elif previous_status != task["status"]:
                changes.append((task, previous_status))
            if is_active(task) or not created_before(task, next_since):
                remembered[task["id"]] = task
        for task_id in gone:
            last_seen = self._remembered[task_id]
            if self._absences.said_gone(task_id):
                changes.append((dict(last_seen, status="DELETED"), last_seen["status"]))
            else:
                remembered[task_id] = last_seen
        self._remembered, self._listed_since = remembered, next_since
        return changes

    def said_gone(self):
        """DMS answered that the instance does not exist: True when the poll before said so too (it is gone then)."""
        return self._absence.said_gone(self.instance_id)

    def answered(self):
        """A poll had a good answer: the instance exists."""
        self._absence.seen(self.instance_id)


class TaskWatch:
    """Every instance one source watches: one client, the polls, the events, and one log line per outage.

    ``poll`` runs in a worker thread; ``stop`` may be called from any thread and makes a running poll give up at its
    next request or retry pause, so that a cancelled source does not leave a thread sleeping through retries.
    ``instances`` are the ones still watched: an instance that DMS says no longer exists, on two polls in a row after
    it had answered, is dropped with one last event (the others go on).
    """

    def __init__(self, config, client=None, clock=SYSTEM_CLOCK):
        self._stop = threading.Event()
        settings = config.settings
        self.client = client or DmsClient(settings, http=HttpClient(
            make_auth(settings), request_timeout=settings.request_timeout, max_retries=settings.max_retries,
            validate_certs=settings.validate_certs, ca_path=settings.ca_path, clock=StoppableClock(self._stop),
        ))
        self.instances = [InstanceWatch(instance_id, config.include_existing) for instance_id in config.instances]
        self._interval = config.interval
        self._statuses = config.statuses
        self._wall = clock.wall

    def stop(self):
        self._stop.set()

    def poll(self, instance):
        """Poll one InstanceWatch; return its events. A transient failure is logged when an outage begins and the
        source goes on; any other error raises SourceStopped."""
        try:
            changes = instance.poll(self.client, self._wall, self._check_stop)
        except InstanceNotFoundError as error:
            if not instance.good_polls:
                raise SourceStopped(_stop_message(instance.instance_id, error)) from None  # a mistyped ID, most likely
            return self._not_found(instance, error)
        except DmsError as error:
            if not worth_another_poll(error, instance.good_polls):
                raise SourceStopped(_stop_message(instance.instance_id, error)) from None
            instance.failed_polls += 1
            if instance.failed_polls == 1:
                logger.warning("%s: could not read the tasks of instance %s; trying again (less often while it fails),"
                               " and saying so again only after it has worked: %s", SOURCE_NAME, instance.instance_id, error)
            return []
        if instance.failed_polls:
            logger.info("%s: the tasks of instance %s can be read again, after %d failed poll%s", SOURCE_NAME,
                        instance.instance_id, instance.failed_polls, "" if instance.failed_polls == 1 else "s")
        instance.failed_polls = 0
        instance.good_polls += 1
        instance.answered()
        observed_at = self._wall()
        return [task_event(instance.instance_id, task, previous, observed_at) for task, previous in changes
                if self._statuses is None or task["status"] in self._statuses]

    def _not_found(self, instance, error):
        """An instance that had answered now says it does not exist: one answer is no proof, two in a row drop it."""
        if not instance.said_gone():
            logger.warning("%s: instance %s answers that it does not exist (%s); it is no longer watched if the next poll says so too",
                           SOURCE_NAME, instance.instance_id, error)
            return []
        self.instances.remove(instance)
        logger.warning("%s: instance %s no longer exists; it is no longer watched (%d instance%s left)", SOURCE_NAME,
                       instance.instance_id, len(self.instances), "" if len(self.instances) == 1 else "s")
        return [instance_gone_event(instance.instance_id, error, instance.unfinished(), self._wall())]

    def next_pause(self):
        """Seconds from the start of one round of polls to the next: the interval, doubled for each round in a row in
        which no instance could be read, up to MAX_OUTAGE_PAUSE."""
        doublings = min([instance.failed_polls for instance in self.instances] + [_MAX_DOUBLINGS])
        return min(self._interval * 2 ** doublings, max(self._interval, MAX_OUTAGE_PAUSE))

    def _check_stop(self):
        if self._stop.is_set():
            raise PollingStopped()


class StoppableClock(Clock):
    """The system's clock, whose pauses (the client's retries) end at once, raising PollingStopped, when the source stops."""

    def __init__(self, stopped):
        self._stopped = stopped  # a threading.Event

    def sleep(self, seconds):
        if self._stopped.wait(seconds):
            raise PollingStopped()


def _stop_message(instance_id, error):
    message = "%s stopped: could not read the tasks of instance %s: %s" % (SOURCE_NAME, instance_id, error)
    if isinstance(error, AuthenticationError):
        message += " (not retried: repeated authentication failures lock the access key; check the credentials)"
    return message
