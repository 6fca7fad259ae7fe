# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source's logic without asyncio or HTTP: its args, what a poll reads, what counts as a change, what is
remembered, how outages are told and paced. A fake DMS on a fake wall clock; nothing sleeps."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, ConfigurationError, EndpointNotFoundError, IncompleteListingError, InstanceNotFoundError,
    RetriesExhausted,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import (
    MAX_OUTAGE_PAUSE, SOURCE_NAME, InstanceWatch, PollingStopped, SourceConfig, SourceStopped, TaskWatch, api_timestamp,
    source_config,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.trackers import CLOCK_SKEW_ALLOWANCE

INSTANCE = "11111111-2222-3333-4444-555555555555"
OTHER_INSTANCE = "66666666-7777-8888-9999-000000000000"
CANARY = "SKCANARY-never-print-me-4242424242424242"
CONNECTION = {"endpoint": "http://127.0.0.1:9", "project_id": "0123456789abcdef0123456789abcdef",
              "access_key": "AKEXAMPLE0000000000", "secret_key": CANARY}
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


class FakeWall:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def api_time(moment):
    return api_timestamp(moment)


class FakeListing:
    def __init__(self, tasks, complete=True):
        self._tasks = tasks
        self._complete = complete

    def __iter__(self):
        return iter(self._tasks)

    def require_complete(self):
        if not self._complete:
            raise IncompleteListingError(len(self._tasks), len(self._tasks) + 1)


class FakeDms:
    """Tasks by ID (normalised form), newest first by creation; records each call; ``fail`` makes the next calls raise."""

    def __init__(self, wall):
        self.wall = wall
        self.tasks = {}
        self.calls = []
        self.fail = {}  # call kind -> error raised by every such call while set
        self.complete = True

    def add(self, task_id, status, created_ago, name="kafkaConfigModify"):
        created = api_time(self.wall() - timedelta(seconds=created_ago))
        self.tasks[task_id] = {"id": task_id, "name": name, "status": status, "created_at": created, "updated_at": created,
                               "user_name": "dms_test", "user_id": "u", "params": {}, "params_raw": "{}"}

    def set(self, task_id, status):
        self.tasks[task_id] = dict(self.tasks[task_id], status=status)

    def _newest_first(self):
        return sorted(self.tasks.values(), key=lambda task: task["created_at"], reverse=True)

    def _call(self, kind, detail=None):
        self.calls.append((kind, detail))
        if kind in self.fail:
            raise self.fail[kind]

    def list_tasks(self, instance_id):
        self._call("list")
        return FakeListing([dict(task) for task in self._newest_first()], self.complete)

    def tasks_created_since(self, instance_id, moment):
        self._call("since", moment)
        since = api_time(moment.replace(microsecond=0))
        return [dict(task) for task in self._newest_first() if task["created_at"] >= since]

    def get_task(self, instance_id, task_id):
        self._call("show", task_id)
        task = self.tasks.get(task_id)
        return dict(task) if task else None

    def take_calls(self):
        calls, self.calls = self.calls, []
        return calls


def never_stop():
    return None


@pytest.fixture(name="wall")
def wall_fixture():
    return FakeWall()


@pytest.fixture(name="dms")
def dms_fixture(wall):
    return FakeDms(wall)


def changes(watch, dms, wall):
    return [(task["id"], previous, task["status"]) for task, previous in watch.poll(dms, wall, never_stop)]


def config(**overrides):
    values = {"settings": None, "instances": (INSTANCE,), "interval": 10.0, "statuses": None, "include_existing": False}
    values.update(overrides)
    return SourceConfig(**values)


# ---------------------------------------------------------------------------------------------------------
# What a poll reads and what counts as a change


def test_first_poll_reads_the_whole_history_once_and_tells_nothing_by_default(dms, wall):
    for number in range(1000):
        dms.add("old-%d" % number, "SUCCESS", created_ago=3600 + number * 60)
    dms.add("running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    assert changes(watch, dms, wall) == []
    assert dms.take_calls() == [("list", None)]
    # Only the running task is remembered from a long history.
    assert [task["id"] for task in watch.remembered()] == ["running"]


def test_include_existing_tells_the_active_tasks_only(dms, wall):
    dms.add("done", "FAILED", created_ago=60)
    dms.add("queued", "CREATED", created_ago=30)
    dms.add("running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=True)
    assert changes(watch, dms, wall) == [("running", None, "EXECUTING"), ("queued", None, "CREATED")]


def test_later_polls_list_what_was_created_since_and_show_only_older_running_tasks(dms, wall):
    for number in range(1000):
        dms.add("old-%d" % number, "SUCCESS", created_ago=3600 + number * 60)
    dms.add("running", "EXECUTING", created_ago=7200)
    dms.add("recent", "EXECUTING", created_ago=60)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms, wall)
    dms.take_calls()
    for _poll in range(3):
        wall.advance(15)
        assert changes(watch, dms, wall) == []
        calls = dms.take_calls()
        # One listing from the previous poll's start less the allowance; one show, for the running task it does not hold.
        assert calls == [("since", wall.now - timedelta(seconds=15) - CLOCK_SKEW_ALLOWANCE), ("show", "running")]


def test_status_changes_and_new_tasks_are_told_once_with_their_previous_status(dms, wall):
    dms.add("running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms, wall)
    wall.advance(15)
    dms.add("new", "CREATED", created_ago=5)
    dms.add("quick", "FAILED", created_ago=4)  # created and ended between two polls: still news
    assert changes(watch, dms, wall) == [("new", None, "CREATED"), ("quick", None, "FAILED")]
    wall.advance(15)
    dms.set("new", "EXECUTING")
    dms.set("running", "SUCCESS")
    assert changes(watch, dms, wall) == [("running", "EXECUTING", "SUCCESS"), ("new", "CREATED", "EXECUTING")]
    wall.advance(15)
    assert changes(watch, dms, wall) == []
    dms.set("quick", "DELETED")  # still in the listing window: a change of a finished task is a change too
    wall.advance(15)
    assert changes(watch, dms, wall) == [("quick", "FAILED", "DELETED")]


def test_finished_tasks_are_forgotten_once_no_listing_can_return_them(dms, wall):
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms, wall)
    wall.advance(15)
    for number in range(50):
        dms.add("burst-%d" % number, "SUCCESS", created_ago=1)
    dms.add("long", "EXECUTING", created_ago=1)
    assert len(changes(watch, dms, wall)) == 51
    assert len(watch.remembered()) == 51
    wall.advance(CLOCK_SKEW_ALLOWANCE.total_seconds() + 60)
    changes(watch, dms, wall)
    wall.advance(15)
    assert changes(watch, dms, wall) == []
    assert [task["id"] for task in watch.remembered()] == ["long"]
    assert dms.take_calls()[-1] == ("show", "long")


def test_a_task_that_vanishes_is_deleted_only_when_two_polls_say_so(dms, wall):
    dms.add("running", "EXECUTING", created_ago=7200)
    dms.add("flaky", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms, wall)
    running, flaky = dms.tasks.pop("running"), dms.tasks.pop("flaky")
    wall.advance(15)
    assert changes(watch, dms, wall) == []
    dms.tasks["flaky"] = flaky  # back again: one "no such task" was no proof
    wall.advance(15)
    assert changes(watch, dms, wall) == [("running", "EXECUTING", "DELETED")]
    assert [task["id"] for task in watch.remembered()] == ["flaky"]
    assert running["status"] == "EXECUTING"


def test_a_poll_that_fails_part_way_changes_nothing_and_the_next_tells_each_change_once(dms, wall):
    dms.add("running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms, wall)
    wall.advance(15)
    dms.add("new", "CREATED", created_ago=5)
    dms.set("running", "SUCCESS")
    dms.fail["show"] = RetriesExhausted(ApiError(503, "APIG.0202"), 6)
    with pytest.raises(RetriesExhausted):
        watch.poll(dms, wall, never_stop)
    del dms.fail["show"]
    wall.advance(15)
    assert changes(watch, dms, wall) == [("running", "EXECUTING", "SUCCESS"), ("new", None, "CREATED")]
    wall.advance(15)
    assert changes(watch, dms, wall) == []


def test_a_truncated_first_listing_is_read_again(dms, wall):
    dms.add("running", "EXECUTING", created_ago=7200)
    dms.complete = False
    watch = InstanceWatch(INSTANCE, include_existing=True)
    with pytest.raises(IncompleteListingError):
        watch.poll(dms, wall, never_stop)
    dms.complete = True
    assert changes(watch, dms, wall) == [("running", None, "EXECUTING")]
    assert dms.take_calls() == [("list", None), ("list", None)]


def test_should_stop_is_asked_before_each_request(dms, wall):
    dms.add("running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms, wall)
    asked = []

    def stop_before_the_second_request():
        asked.append(len(dms.calls))
        if len(asked) == 2:
            raise PollingStopped()

    wall.advance(15)
    dms.take_calls()
    with pytest.raises(PollingStopped):
        watch.poll(dms, wall, stop_before_the_second_request)
    assert [kind for kind, _detail in dms.calls] == ["since"]


# ---------------------------------------------------------------------------------------------------------
# TaskWatch: events, outages, pace, stopping


def test_events_carry_the_task_the_change_and_when_it_was_seen(dms, wall):
    watch = TaskWatch(config(), client=dms, wall=wall)
    assert watch.poll(watch.instances[0]) == []
    wall.advance(15)
    dms.add("new", "FAILED", created_ago=5)
    [event] = watch.poll(watch.instances[0])
    assert event == {"dms_task": {"instance_id": INSTANCE, "task": dms.tasks["new"], "previous_status": None, "status": "FAILED",
                                  "observed_at": "2024-05-01T12:00:15.000Z"}}


def test_statuses_filter_the_events_not_what_is_remembered(dms, wall):
    watch = TaskWatch(config(statuses=("FAILED",)), client=dms, wall=wall)
    watch.poll(watch.instances[0])
    dms.add("new", "CREATED", created_ago=5)
    wall.advance(15)
    assert watch.poll(watch.instances[0]) == []
    dms.set("new", "EXECUTING")
    wall.advance(15)
    assert watch.poll(watch.instances[0]) == []
    dms.set("new", "FAILED")
    wall.advance(15)
    [event] = watch.poll(watch.instances[0])
    assert (event["dms_task"]["previous_status"], event["dms_task"]["status"]) == ("EXECUTING", "FAILED")


def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends(dms, wall, caplog):
    caplog.set_level(logging.INFO, logger=SOURCE_NAME)
    watch = TaskWatch(config(), client=dms, wall=wall)
    instance = watch.instances[0]
    watch.poll(instance)
    dms.fail["since"] = RetriesExhausted(ApiError(429, "APIG.0308", "throttled"), 6)
    for _poll in range(3):
        assert watch.poll(instance) == []
    dms.fail["since"] = RetriesExhausted(ApiError(503, "APIG.0202", "Backend unavailable."), 6)
    assert watch.poll(instance) == []
    del dms.fail["since"]
    watch.poll(instance)
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    infos = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert len(warnings) == 1 and "APIG.0308" in warnings[0] and INSTANCE in warnings[0]
    assert infos == ["%s: the tasks of instance %s can be read again, after 4 failed polls" % (SOURCE_NAME, INSTANCE)]


def test_the_pause_doubles_while_no_instance_answers_and_returns_to_the_interval(dms, wall):
    watch = TaskWatch(config(instances=(INSTANCE, OTHER_INSTANCE), interval=10.0), client=dms, wall=wall)
    first, second = watch.instances
    watch.poll(first)
    watch.poll(second)
    assert watch.next_pause() == 10.0
    dms.fail["since"] = RetriesExhausted(ApiError(503, "APIG.0202"), 6)
    watch.poll(first)
    assert watch.next_pause() == 10.0  # one instance still answers: keep its pace
    pauses = []
    for _round in range(8):
        watch.poll(first)
        watch.poll(second)
        pauses.append(watch.next_pause())
    assert pauses == [20.0, 40.0, 80.0, 160.0, MAX_OUTAGE_PAUSE, MAX_OUTAGE_PAUSE, MAX_OUTAGE_PAUSE, MAX_OUTAGE_PAUSE]
    del dms.fail["since"]
    watch.poll(second)
    assert watch.next_pause() == 10.0


def test_an_interval_longer_than_the_outage_cap_is_kept(dms, wall):
    watch = TaskWatch(config(interval=3600.0), client=dms, wall=wall)
    dms.fail["list"] = RetriesExhausted(ApiError(503, "APIG.0202"), 6)
    for _round in range(3):
        watch.poll(watch.instances[0])
    assert watch.next_pause() == 3600.0


@pytest.mark.parametrize("error, hint", [
    (AuthenticationError(401, "APIG.0301", "Incorrect IAM authentication information: verify aksk signature fail"), "lock the access key"),
    (InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist."), ""),
    (EndpointNotFoundError(404, "APIG.0101", "The API does not exist"), "check endpoint and region"),
    (ConfigurationError("could not find the project ID of region x through IAM (0 projects matched); set project_id"), ""),
])
def test_errors_no_retry_can_mend_stop_the_source(dms, wall, error, hint):
    watch = TaskWatch(config(), client=dms, wall=wall)
    dms.fail["list"] = error
    with pytest.raises(SourceStopped) as raised:
        watch.poll(watch.instances[0])
    message = str(raised.value)
    assert message.startswith("%s stopped: could not read the tasks of instance %s: " % (SOURCE_NAME, INSTANCE))
    assert str(error) in message and hint in message


def test_no_such_api_after_good_polls_is_a_hiccup(dms, wall):
    watch = TaskWatch(config(), client=dms, wall=wall)
    watch.poll(watch.instances[0])
    dms.fail["since"] = EndpointNotFoundError(404, "APIG.0101", "The API does not exist")
    assert watch.poll(watch.instances[0]) == []


def test_stop_ends_a_running_poll_at_its_next_request_or_retry_pause(dms, wall):
    watch = TaskWatch(config(), client=dms, wall=wall)
    watch.stop()
    with pytest.raises(PollingStopped):
        watch.poll(watch.instances[0])
    assert dms.calls == []


def test_stop_wakes_the_retry_pause_of_the_http_client(wall):
    watch = TaskWatch(config(settings=source_config(dict(CONNECTION, instances=[INSTANCE])).settings), wall=wall)
    watch.stop()
    with pytest.raises(PollingStopped):
        watch.client.http._sleep(30)  # pylint: disable=protected-access


# ---------------------------------------------------------------------------------------------------------
# Args


def test_defaults_and_every_instance_once():
    checked = source_config(dict(CONNECTION, instances=[INSTANCE, " %s " % INSTANCE, OTHER_INSTANCE]))
    assert checked.instances == (INSTANCE, OTHER_INSTANCE)
    assert (checked.interval, checked.statuses, checked.include_existing) == (15.0, None, False)
    assert checked.settings.endpoint == "http://127.0.0.1:9" and checked.settings.max_retries == 5


def test_connection_args_fall_back_to_the_same_environment_variables_as_the_modules(monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AKFROMENVIRONMENT000")
    monkeypatch.setenv("HW_SECRET_KEY", CANARY)
    monkeypatch.setenv("HW_DMS_ENDPOINT", "http://127.0.0.1:10")
    monkeypatch.setenv("HW_PROJECT_ID", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("HW_MAX_RETRIES", "2")
    checked = source_config({"instances": [INSTANCE], "interval": "2.5", "statuses": ["FAILED"], "include_existing": "yes"})
    settings = checked.settings
    assert (settings.access_key, settings.secret_key, settings.endpoint, settings.max_retries) == (
        "AKFROMENVIRONMENT000", CANARY, "http://127.0.0.1:10", 2)
    assert (checked.interval, checked.statuses, checked.include_existing) == (2.5, ("FAILED",), True)
    assert CANARY not in repr(checked)


@pytest.mark.parametrize("args, message", [
    ({}, "missing required arguments: instances"),
    ({"instances": []}, "instances must list at least one instance ID"),
    ({"instances": [".."]}, "instances must not be '..'"),
    ({"instances": [INSTANCE], "interval": 0}, "interval must be a number of seconds from 1 to 86400, got 0"),
    ({"instances": [INSTANCE], "interval": "often"}, re.compile(r"argument 'interval' is of type (str|<class 'str'>) and we were unable to convert to float")),
    ({"instances": [INSTANCE], "request_timeout": 10 ** 400}, "request_timeout must be a number of seconds greater than 0"),
    ({"instances": [INSTANCE], "statuses": ["FAILED", "BROKEN"]}, "value of statuses must be one or more of"),
    ({"instances": [INSTANCE], "statuses": []}, "statuses must name at least one status"),
    ({"instances": [INSTANCE], "include_existing": "maybe"},
     re.compile(r"argument 'include_existing' is of type (str|<class 'str'>) and we were unable to convert to bool")),
    ({"instances": [INSTANCE], "intervall": 5, "feedback": True}, "unknown args feedback, intervall; the args are access_key, "),
    ({"instances": [INSTANCE], "endpoint": "ftp://x"}, "endpoint must be an http(s) URL"),
])
def test_bad_args_are_refused_naming_the_arg(args, message):
    with pytest.raises(ConfigurationError) as raised:
        source_config(dict(CONNECTION, **args) if args else {})
    assert str(raised.value).startswith(SOURCE_NAME + ": ")
    # ansible-core before 2.16 writes a type as <class 'str'>.
    assert message.search(str(raised.value)) if isinstance(message, re.Pattern) else message in str(raised.value)


def test_no_credentials_names_the_args_and_their_environment_variables(monkeypatch):
    for name in ("HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "ANSIBLE_HWC_ACCESS_KEY", "HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY",
                 "ANSIBLE_HWC_SECRET_KEY", "HW_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="no credentials: set access_key and secret_key .*HUAWEICLOUD_SDK_AK"):
        source_config({"instances": [INSTANCE], "endpoint": "http://127.0.0.1:9", "project_id": "p"})


def test_a_secret_never_shows_in_a_message():
    secret = "Secret_Given_As_Region_Too"
    with pytest.raises(ConfigurationError) as raised:
        source_config(dict(CONNECTION, instances=[INSTANCE], secret_key=secret, region=secret, endpoint=None))
    assert "region must look like" in str(raised.value)
    assert secret not in str(raised.value)
