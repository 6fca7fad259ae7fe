# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source's logic without asyncio or HTTP: its args, what a poll reads, what counts as a change, what is
remembered, how outages are told and paced. A fake DMS on a fake clock; nothing sleeps."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ApiError, AuthenticationError, ConfigurationError, EndpointNotFoundError, IncompleteListingError, InstanceNotFoundError,
    RetriesExhausted,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import (
    MAX_OUTAGE_PAUSE, SOURCE_NAME, InstanceWatch, PollingStopped, SourceConfig, SourceStopped, TaskWatch, source_config,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import CLOCK_SKEW_ALLOWANCE
from ansible_collections.hwcloud.dms.tests.environment import clear_credentials
from ansible_collections.hwcloud.dms.tests.unit.fakes import INSTANCE, FakeClock, FakeDms, FakeTask, Listed

OTHER_INSTANCE = "66666666-7777-8888-9999-000000000000"
CANARY = "SKCANARY-never-print-me-4242424242424242"
CONNECTION = {"endpoint": "http://127.0.0.1:9", "project_id": "0123456789abcdef0123456789abcdef",
              "access_key": "AKEXAMPLE0000000000", "secret_key": CANARY}


def add(dms, task_id, status, created_ago, name="kafkaConfigModify"):
    """A task there from now on with ``status``, created ``created_ago`` seconds before now."""
    dms.tasks.append(FakeTask(task_id, name, [(dms.clock.t, status)], created=dms.clock.t - created_ago))


def set_status(dms, task_id, status):
    """The task has ``status`` from now on (None: DMS no longer has it)."""
    dms.task(task_id).set(dms.clock.t, status)


def take_requests(dms):
    """The requests sent since the last look, as (kind, detail)."""
    sent = [(kind, detail) for kind, detail, _t in dms.log]
    del dms.log[:]
    return sent


def never_stop():
    return None


@pytest.fixture(name="clock")
def clock_fixture():
    return FakeClock()


@pytest.fixture(name="dms")
def dms_fixture(clock):
    return FakeDms(clock)


def changes(watch, dms):
    return [(task["id"], previous, task["status"]) for task, previous in watch.poll(dms, dms.clock.wall, never_stop)]


def config(**overrides):
    values = {"settings": None, "instances": (INSTANCE,), "interval": 10.0, "statuses": None, "include_existing": False}
    values.update(overrides)
    return SourceConfig(**values)


# ---------------------------------------------------------------------------------------------------------
# What a poll reads and what counts as a change


def test_first_poll_reads_the_whole_history_once_and_tells_nothing_by_default(dms, clock):
    for number in range(1000):
        add(dms, "old-%d" % number, "SUCCESS", created_ago=3600 + number * 60)
    add(dms, "running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    assert changes(watch, dms) == []
    assert take_requests(dms) == [("list", page) for page in range(1, 12)]
    # Of a long history, only the running task is followed: the next poll shows it, and nothing else it listed before.
    clock.advance(15)
    assert changes(watch, dms) == []
    assert take_requests(dms) == [("since", 1), ("get", "running")]


def test_include_existing_tells_the_active_tasks_only(dms):
    add(dms, "done", "FAILED", created_ago=60)
    add(dms, "queued", "CREATED", created_ago=30)
    add(dms, "running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=True)
    assert changes(watch, dms) == [("running", None, "EXECUTING"), ("queued", None, "CREATED")]


def test_later_polls_list_what_was_created_since_and_show_only_older_running_tasks(dms, clock):
    for number in range(1000):
        add(dms, "old-%d" % number, "SUCCESS", created_ago=3600 + number * 60)
    add(dms, "running", "EXECUTING", created_ago=7200)
    add(dms, "recent", "EXECUTING", created_ago=60)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms)
    take_requests(dms)
    for _poll in range(3):
        clock.advance(15)
        assert changes(watch, dms) == []
        # One listing from the previous poll's start less the allowance; one show, for the running task it does not hold.
        assert take_requests(dms) == [("since", 1), ("get", "running")]
        assert dms.listings[-1] == Listed("since", clock.wall() - timedelta(seconds=15) - CLOCK_SKEW_ALLOWANCE, None, False)


def test_status_changes_and_new_tasks_are_told_once_with_their_previous_status(dms, clock):
    add(dms, "running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms)
    clock.advance(15)
    add(dms, "new", "CREATED", created_ago=5)
    add(dms, "quick", "FAILED", created_ago=4)  # created and ended between two polls: still news
    assert changes(watch, dms) == [("new", None, "CREATED"), ("quick", None, "FAILED")]
    clock.advance(15)
    set_status(dms, "new", "EXECUTING")
    set_status(dms, "running", "SUCCESS")
    assert changes(watch, dms) == [("running", "EXECUTING", "SUCCESS"), ("new", "CREATED", "EXECUTING")]
    clock.advance(15)
    assert changes(watch, dms) == []
    set_status(dms, "quick", "DELETED")  # still in the listing window: a change of a finished task is a change too
    clock.advance(15)
    assert changes(watch, dms) == [("quick", "FAILED", "DELETED")]


def test_finished_tasks_are_forgotten_once_no_listing_can_return_them(dms, clock):
    for number in range(1000):
        add(dms, "old-%d" % number, "SUCCESS", created_ago=3600 + number * 60)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms)
    # What is held between polls has no effect on the requests or events while it stays within the listing window, so
    # the memory bound is read where it is kept.
    assert watch._remembered == {}  # pylint: disable=protected-access
    clock.advance(15)
    for number in range(50):
        add(dms, "burst-%d" % number, "SUCCESS", created_ago=1)
    add(dms, "long", "EXECUTING", created_ago=1)
    assert len(changes(watch, dms)) == 51
    assert len(watch._remembered) == 51  # pylint: disable=protected-access
    clock.advance(CLOCK_SKEW_ALLOWANCE.total_seconds() + 60)
    changes(watch, dms)
    clock.advance(15)
    assert changes(watch, dms) == []
    assert list(watch._remembered) == ["long"]  # pylint: disable=protected-access
    assert take_requests(dms)[-1] == ("get", "long")


def test_a_task_that_vanishes_is_deleted_only_when_two_polls_say_so(dms, clock):
    add(dms, "running", "EXECUTING", created_ago=7200)
    add(dms, "flaky", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms)
    set_status(dms, "running", None)
    set_status(dms, "flaky", None)
    clock.advance(15)
    assert changes(watch, dms) == []
    set_status(dms, "flaky", "EXECUTING")  # back again: one "no such task" was no proof
    clock.advance(15)
    assert changes(watch, dms) == [("running", "EXECUTING", "DELETED")]
    take_requests(dms)
    clock.advance(15)
    assert changes(watch, dms) == []
    assert take_requests(dms) == [("since", 1), ("get", "flaky")], "the deleted task is no longer followed, the other one is"


def test_a_poll_that_fails_part_way_changes_nothing_and_the_next_tells_each_change_once(dms, clock):
    add(dms, "running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms)
    clock.advance(15)
    add(dms, "new", "CREATED", created_ago=5)
    set_status(dms, "running", "SUCCESS")
    dms.faults["get"] = RetriesExhausted(ApiError(503, "APIG.0202"), 6)
    with pytest.raises(RetriesExhausted):
        watch.poll(dms, clock.wall, never_stop)
    del dms.faults["get"]
    clock.advance(15)
    assert changes(watch, dms) == [("running", "EXECUTING", "SUCCESS"), ("new", None, "CREATED")]
    clock.advance(15)
    assert changes(watch, dms) == []


def test_a_truncated_first_listing_is_read_again(dms, clock):
    add(dms, "running", "EXECUTING", created_ago=7200)
    dms.task_count = 2  # the listing counts a task it does not hold
    watch = InstanceWatch(INSTANCE, include_existing=True)
    with pytest.raises(IncompleteListingError):
        watch.poll(dms, clock.wall, never_stop)
    dms.task_count = None
    assert changes(watch, dms) == [("running", None, "EXECUTING")]
    assert take_requests(dms) == [("list", 1), ("list", 1)]


def test_should_stop_is_asked_before_each_request(dms, clock):
    add(dms, "running", "EXECUTING", created_ago=7200)
    watch = InstanceWatch(INSTANCE, include_existing=False)
    changes(watch, dms)
    asked = []

    def stop_before_the_second_request():
        asked.append(dms.calls)
        if len(asked) == 2:
            raise PollingStopped()

    clock.advance(15)
    take_requests(dms)
    with pytest.raises(PollingStopped):
        watch.poll(dms, clock.wall, stop_before_the_second_request)
    assert dms.kinds() == ["since"]


# ---------------------------------------------------------------------------------------------------------
# TaskWatch: events, outages, pace, stopping


def test_events_carry_the_task_the_change_and_when_it_was_seen(dms, clock):
    watch = TaskWatch(config(), client=dms, clock=clock)
    assert watch.poll(watch.instances[0]) == []
    clock.advance(15)
    add(dms, "new", "FAILED", created_ago=5)
    [event] = watch.poll(watch.instances[0])
    assert event == {"dms_task": {"instance_id": INSTANCE, "task": dms.task("new").as_dict(clock), "previous_status": None, "status": "FAILED",
                                  "observed_at": "2024-05-01T12:00:15.000Z"}}


def test_statuses_filter_the_events_not_what_is_remembered(dms, clock):
    watch = TaskWatch(config(statuses=("FAILED",)), client=dms, clock=clock)
    watch.poll(watch.instances[0])
    add(dms, "new", "CREATED", created_ago=5)
    clock.advance(15)
    assert watch.poll(watch.instances[0]) == []
    set_status(dms, "new", "EXECUTING")
    clock.advance(15)
    assert watch.poll(watch.instances[0]) == []
    set_status(dms, "new", "FAILED")
    clock.advance(15)
    [event] = watch.poll(watch.instances[0])
    assert (event["dms_task"]["previous_status"], event["dms_task"]["status"]) == ("EXECUTING", "FAILED")


def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends(dms, clock, caplog):
    caplog.set_level(logging.INFO, logger=SOURCE_NAME)
    watch = TaskWatch(config(), client=dms, clock=clock)
    instance = watch.instances[0]
    watch.poll(instance)
    dms.faults["since"] = RetriesExhausted(ApiError(429, "APIG.0308", "throttled"), 6)
    for _poll in range(3):
        assert watch.poll(instance) == []
    dms.faults["since"] = RetriesExhausted(ApiError(503, "APIG.0202", "Backend unavailable."), 6)
    assert watch.poll(instance) == []
    del dms.faults["since"]
    watch.poll(instance)
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    infos = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert len(warnings) == 1 and "APIG.0308" in warnings[0] and INSTANCE in warnings[0]
    assert infos == ["%s: the tasks of instance %s can be read again, after 4 failed polls" % (SOURCE_NAME, INSTANCE)]


def test_the_pause_doubles_while_no_instance_answers_and_returns_to_the_interval(dms, clock):
    dms.instance_ids = (INSTANCE, OTHER_INSTANCE)
    watch = TaskWatch(config(instances=(INSTANCE, OTHER_INSTANCE), interval=10.0), client=dms, clock=clock)
    first, second = watch.instances
    watch.poll(first)
    watch.poll(second)
    assert watch.next_pause() == 10.0
    dms.faults["since"] = RetriesExhausted(ApiError(503, "APIG.0202"), 6)
    watch.poll(first)
    assert watch.next_pause() == 10.0  # one instance still answers: keep its pace
    pauses = []
    for _round in range(8):
        watch.poll(first)
        watch.poll(second)
        pauses.append(watch.next_pause())
    assert pauses == [20.0, 40.0, 80.0, 160.0, MAX_OUTAGE_PAUSE, MAX_OUTAGE_PAUSE, MAX_OUTAGE_PAUSE, MAX_OUTAGE_PAUSE]
    del dms.faults["since"]
    watch.poll(second)
    assert watch.next_pause() == 10.0


def test_an_interval_longer_than_the_outage_cap_is_kept(dms, clock):
    watch = TaskWatch(config(interval=3600.0), client=dms, clock=clock)
    dms.faults["list"] = RetriesExhausted(ApiError(503, "APIG.0202"), 6)
    for _round in range(3):
        watch.poll(watch.instances[0])
    assert watch.next_pause() == 3600.0


@pytest.mark.parametrize("error, hint", [
    (AuthenticationError(401, "APIG.0301", "Incorrect IAM authentication information: verify aksk signature fail"), "lock the access key"),
    (InstanceNotFoundError(404, "DMS.00404022", "The instance does not exist."), ""),
    (EndpointNotFoundError(404, "APIG.0101", "The API does not exist"), "check endpoint and region"),
    (ConfigurationError("could not find the project ID of region x through IAM (0 projects matched); set project_id"), ""),
])
def test_errors_no_retry_can_mend_stop_the_source(dms, clock, error, hint):
    watch = TaskWatch(config(), client=dms, clock=clock)
    dms.faults["list"] = error
    with pytest.raises(SourceStopped) as raised:
        watch.poll(watch.instances[0])
    message = str(raised.value)
    assert message.startswith("%s stopped: could not read the tasks of instance %s: " % (SOURCE_NAME, INSTANCE))
    assert str(error) in message and hint in message


def test_no_such_api_after_good_polls_is_a_hiccup(dms, clock):
    watch = TaskWatch(config(), client=dms, clock=clock)
    watch.poll(watch.instances[0])
    dms.faults["since"] = EndpointNotFoundError(404, "APIG.0101", "The API does not exist")
    assert watch.poll(watch.instances[0]) == []


def test_stop_ends_a_running_poll_at_its_next_request_or_retry_pause(dms, clock):
    watch = TaskWatch(config(), client=dms, clock=clock)
    watch.stop()
    with pytest.raises(PollingStopped):
        watch.poll(watch.instances[0])
    assert dms.calls == 0


def test_stop_wakes_the_retry_pause_of_the_http_client():
    watch = TaskWatch(config(settings=source_config(dict(CONNECTION, instances=[INSTANCE])).settings))
    watch.stop()
    with pytest.raises(PollingStopped):
        watch.client.http._clock.sleep(30)  # pylint: disable=protected-access


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
    clear_credentials(monkeypatch)
    with pytest.raises(ConfigurationError, match="no credentials: set access_key and secret_key .*HUAWEICLOUD_SDK_AK"):
        source_config({"instances": [INSTANCE], "endpoint": "http://127.0.0.1:9", "project_id": "p"})


def test_a_secret_never_shows_in_a_message():
    secret = "Secret_Given_As_Region_Too"
    with pytest.raises(ConfigurationError) as raised:
        source_config(dict(CONNECTION, instances=[INSTANCE], secret_key=secret, region=secret, endpoint=None))
    assert "region must look like" in str(raised.value)
    assert secret not in str(raised.value)
