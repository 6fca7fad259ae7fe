# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source hwcloud.dms.task_events: its main() with an asyncio queue, against the emulator over real HTTP.

The source file is loaded from its path as a module of its own, outside Ansible's plugin loader, as ansible-rulebook
loads it (tests/functional/eda runs the real ansible-rulebook). Each instance's clock starts at the first request that
names it, so timelines count from the source's first poll.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import time

import pytest
import yaml

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS, doc_fragment
from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import SOURCE_NAME, SOURCE_OPTIONS, SourceStopped
from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
SOURCE_PATH = os.path.join(COLLECTION, "extensions", "eda", "plugins", "event_source", "task_events.py")
SCHEMA_PATH = os.path.join(COLLECTION, "extensions", "eda", "plugins", "event_source", "schemas", "task_events.json")
SCHEMA_RENDERER = os.path.join(COLLECTION, "tests", "tooling", "render_event_source_schema.py")


def load_by_path(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_source():
    """The source's globals. Not runpy.run_path, which ansible-rulebook uses: under ansible-test, the collection
    loader's path hook claims every path, and run_path would then look for a __main__ module in it."""
    return vars(load_by_path("hwcloud_dms_task_events_source", SOURCE_PATH))


SOURCE = load_source()
ACCESS_KEY = "AKEVENTSOURCE000001"
# A canary: it must never show in an event or a log line.
SECRET_KEY = "SKCANARY-never-print-me-4242424242424242"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
INSTANCE = "11111111-2222-3333-4444-555555555555"
# Polls start about a second apart (the smallest interval); timelines change state half-way between two polls.
INTERVAL = 1
RUN_TIMEOUT = 30.0


def scenario(tasks=(), generate=None, faults=None):
    instance = {"id": INSTANCE, "tasks": list(tasks)}
    if generate:
        instance["generate"] = generate
    return {"project_id": PROJECT_ID, "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}],
            "instances": [instance], "faults": faults or [], "clock": "first_request"}


@pytest.fixture(name="emulator", scope="module")
def emulator_fixture(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture(name="connection")
def connection_fixture(emulator, monkeypatch):
    """The source's connection, all from the environment variables the modules read: the args name only instances."""
    for name in [var for entry in COMMON_OPTIONS.values() for var in entry.get("env", [])]:
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HW_DMS_ENDPOINT", emulator.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", ACCESS_KEY)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SECRET_KEY)
    return emulator


class SourceRun:
    """What one run of main() put on its queue, how it ended, and how long it took."""

    def __init__(self, events, error, seconds):
        self.events = events
        self.error = error
        self.seconds = seconds

    def changes(self):
        return [(event["dms_task"]["task"]["id"], event["dms_task"]["previous_status"], event["dms_task"]["status"])
                for event in self.events if "dms_task" in event]


def run_source(args, until=lambda events: False, seconds=RUN_TIMEOUT):
    """Run main() until ``until(events)`` holds, ``seconds`` pass or it raises; then cancel it, as ansible-rulebook does.

    The time includes the cancellation and asyncio.run's wait for the worker thread, so it shows how fast it stops.
    """
    async def drive():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(SOURCE["main"](queue, args))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        events, error = [], None
        try:
            while not until(events) and loop.time() < deadline:
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, source}, timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    events.append(getter.result())
                    continue
                getter.cancel()
                if source.done():
                    error = source.exception()
                    break
        finally:
            source.cancel()
            await asyncio.gather(source, return_exceptions=True)
        return events, error

    started = time.monotonic()
    events, error = asyncio.run(drive())
    return SourceRun(events, error, time.monotonic() - started)


def statuses_of(task_id, run):
    return [(previous, status) for ident, previous, status in run.changes() if ident == task_id]


def assert_no_secret(run, caplog):
    assert SECRET_KEY not in repr(run.events) + caplog.text + str(run.error)


# ---------------------------------------------------------------------------------------------------------


def test_each_status_change_is_one_event(connection, caplog):
    connection.load(scenario(tasks=[
        {"id": "t-running", "name": "restart", "created_offset": -3600, "timeline": [[-3600, "EXECUTING"], [1.5, "SUCCESS"]]},
        {"id": "t-change", "name": "kafkaConfigModify", "params": {"retention.ms": "3600000"}, "appear_after": 0.5,
         "timeline": [[0.5, "CREATED"], [1.5, "EXECUTING"], [2.5, "FAILED"]]},
    ], generate=[{"count": 30, "status": ["SUCCESS", "FAILED"]}]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL},
                     until=lambda events: any(event["dms_task"]["status"] == "FAILED" for event in events))
    assert run.error is None
    assert statuses_of("t-change", run) == [(None, "CREATED"), ("CREATED", "EXECUTING"), ("EXECUTING", "FAILED")]
    assert statuses_of("t-running", run) == [("EXECUTING", "SUCCESS")]
    assert len(run.events) == 4  # the history, FAILED tasks included, is never replayed
    event = run.events[-1]["dms_task"]
    assert event["instance_id"] == INSTANCE
    assert event["task"]["name"] == "kafkaConfigModify" and event["task"]["params"] == {"retention.ms": "3600000"}
    assert event["task"]["status"] == event["status"] == "FAILED"
    assert len(event["observed_at"]) == len("2020-06-23T03:00:03.471Z") and event["observed_at"].endswith("Z")
    assert_no_secret(run, caplog)


def test_include_existing_tells_the_tasks_active_at_start(connection):
    connection.load(scenario(tasks=[
        {"id": "t-running", "name": "restart", "created_offset": -3600, "status": "EXECUTING"},
        {"id": "t-queued", "name": "kafkaConfigModify", "created_offset": -10, "status": "CREATED"},
        {"id": "t-failed", "name": "bindInstancePublicIp", "created_offset": -20, "status": "FAILED"},
    ]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL, "include_existing": True}, until=lambda events: len(events) >= 2)
    assert run.changes() == [("t-running", None, "EXECUTING"), ("t-queued", None, "CREATED")]
    assert connection.count("list") == 1


def test_statuses_filter_the_events(connection):
    connection.load(scenario(tasks=[
        {"id": "t-change", "name": "kafkaConfigModify", "appear_after": 0.5,
         "timeline": [[0.5, "CREATED"], [1.5, "EXECUTING"], [2.5, "FAILED"]]},
    ]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL, "statuses": ["FAILED", "CANCELLED"]},
                     until=lambda events: len(events) >= 1)
    assert run.changes() == [("t-change", "EXECUTING", "FAILED")]


def test_outages_are_logged_once_each_and_nothing_is_lost(connection, caplog):
    caplog.set_level(logging.INFO, logger=SOURCE_NAME)
    # List calls: 1 fine; 2 throttled, 3 Backend unavailable (one outage); 4 fine; 5 dropped (another outage); 6 fine.
    connection.load(scenario(tasks=[
        {"id": "t-quick", "name": "kafkaConfigModify", "appear_after": 1.5, "timeline": [[1.5, "EXECUTING"], [2, "FAILED"]]},
        {"id": "t-late", "name": "restart", "appear_after": 7.5, "status": "SUCCESS"},
    ], faults=[
        {"kind": "list", "nth": 2, "status": 429},
        {"kind": "list", "nth": 3, "status": 503},
        {"kind": "list", "nth": 5, "drop": True},
    ]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL, "max_retries": 0},
                     until=lambda events: len(events) >= 2)
    assert run.error is None
    # The task that appeared and failed during the first outage is told once, when it can be seen again.
    assert run.changes() == [("t-quick", None, "FAILED"), ("t-late", None, "SUCCESS")]
    records = [record for record in caplog.records if record.name == SOURCE_NAME]
    warnings = [record.getMessage() for record in records if record.levelno == logging.WARNING]
    recovered = [record.getMessage() for record in records if record.levelno == logging.INFO]
    assert len(warnings) == 2, warnings
    assert "HTTP 429 APIG.0308" in warnings[0] and "dropped" not in warnings[0]
    assert INSTANCE in warnings[1]
    assert recovered == ["%s: the tasks of instance %s can be read again, after %s" % (SOURCE_NAME, INSTANCE, polls)
                         for polls in ("2 failed polls", "1 failed poll")]
    # While nothing answers, the pause doubles: 1 s, then 2 s, then 4 s between the starts of the list calls.
    clocks = [entry["clock"] for entry in connection.requests("list")]
    assert clocks[3] - clocks[2] >= 3.5 and clocks[2] - clocks[1] >= 1.5
    assert_no_secret(run, caplog)


def test_an_authentication_failure_stops_the_source_at_once(connection, monkeypatch, caplog):
    connection.load(scenario(tasks=[{"name": "restart", "status": "EXECUTING"}]))
    wrong_secret = "SKWRONG-also-never-printed-0000000000000"
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", wrong_secret)
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL})
    assert isinstance(run.error, SourceStopped)
    assert run.seconds < 5
    message = str(run.error)
    assert message.startswith("%s stopped: could not read the tasks of instance %s: HTTP 401 APIG.0301" % (SOURCE_NAME, INSTANCE))
    assert "lock the access key" in message
    [request] = connection.requests()  # exactly one request with the bad key: never a second one
    assert request["auth"] == "denied"
    assert wrong_secret not in message + caplog.text


GONE, OTHER = "22222222-3333-4444-5555-666666666666", "33333333-4444-5555-6666-777777777777"


def two_instances(gone_tasks, other_tasks):
    spec = scenario()
    spec["instances"] = [{"id": GONE, "tasks": gone_tasks, "deleted_after": 1.5}, {"id": OTHER, "tasks": other_tasks}]
    return spec


def test_a_deleted_instance_makes_one_last_event_and_the_others_go_on(connection, caplog):
    connection.load(two_instances(
        [{"id": "g-running", "name": "resizeInstance", "created_offset": -60, "status": "EXECUTING"}],
        [{"id": "o-change", "name": "kafkaConfigModify", "appear_after": 0.5, "timeline": [[0.5, "EXECUTING"], [4.5, "SUCCESS"]]}]))
    run = run_source({"instances": [GONE, OTHER], "interval": INTERVAL, "statuses": ["SUCCESS"]},
                     until=lambda events: ("o-change", "EXECUTING", "SUCCESS") in run_changes(events))
    assert run.error is None
    gone = [event["dms_instance_gone"] for event in run.events if "dms_instance_gone" in event]
    assert len(gone) == 1, run.events
    assert gone[0]["instance_id"] == GONE and [task["id"] for task in gone[0]["unfinished"]] == ["g-running"]
    assert gone[0]["error"]["error_code"] == "DMS.00404022" and gone[0]["error"]["http_status"] == 404
    assert gone[0]["msg"] == "instance %s no longer exists (two polls in a row answered DMS.00404022); it is no longer watched" % GONE
    assert run.changes() == [("o-change", "EXECUTING", "SUCCESS")]  # the statuses filter: the gone event comes anyway
    asked = [entry["status"] for entry in connection.requests() if entry["instance_id"] == GONE]
    assert asked[-2:] == [404, 404] and 404 not in asked[:-2], "dropped after its second 'no such instance', never asked again"
    warnings = [record.getMessage() for record in caplog.records if record.name == SOURCE_NAME and record.levelno == logging.WARNING]
    assert len(warnings) == 2 and "if the next poll says so too" in warnings[0] and "(1 instance left)" in warnings[1]


def test_one_not_found_answer_between_good_ones_drops_nothing(connection):
    spec = scenario(tasks=[{"id": "t-change", "name": "kafkaConfigModify", "appear_after": 0.5,
                            "timeline": [[0.5, "EXECUTING"], [3.5, "SUCCESS"]]}],
                    faults=[{"kind": "list", "nth": 2, "status": 404, "body": {"error_code": "DMS.00404022", "error_msg": "The instance does not exist."}}])
    connection.load(spec)
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL}, until=lambda events: len(events) >= 2)
    assert run.error is None and run.changes() == [("t-change", None, "EXECUTING"), ("t-change", "EXECUTING", "SUCCESS")]


def test_the_source_ends_once_every_instance_is_gone(connection):
    connection.load(dict(two_instances([], []), instances=[{"id": GONE, "deleted_after": 1.5}]))
    run = run_source({"instances": [GONE], "interval": INTERVAL})
    assert run.error is None and [list(event) for event in run.events] == [["dms_instance_gone"]]
    assert run.seconds < RUN_TIMEOUT / 2, "main() returned by itself"


def test_an_instance_unknown_from_the_start_stops_the_source(connection):
    connection.load(scenario())
    run = run_source({"instances": [INSTANCE, GONE], "interval": INTERVAL})
    assert isinstance(run.error, SourceStopped)
    assert str(run.error).startswith("%s stopped: could not read the tasks of instance %s: HTTP 404 DMS.00404022" % (SOURCE_NAME, GONE))


def run_changes(events):
    return SourceRun(events, None, 0).changes()


def test_bad_args_stop_the_source_before_any_request(connection):
    connection.load(scenario())
    run = run_source({"instances": [INSTANCE], "interval": 0})
    assert isinstance(run.error, ConfigurationError)
    assert str(run.error) == "%s: interval must be a number of seconds from 1 to 86400, got 0.0" % SOURCE_NAME
    assert connection.count() == 0


# Each bad arg, and the arg its message must name. Good otherwise: the instance, and the connection of the environment.
BAD_ARGS = [
    ({"instances": [INSTANCE], "intervall": 3}, "unknown arg intervall"),
    ({"instances": [INSTANCE], "interval": "soon"}, "interval"),
    ({"instances": [INSTANCE], "interval": 86401}, "interval"),
    ({"instances": [INSTANCE], "statuses": ["BOGUS"]}, "statuses"),
    ({"instances": [INSTANCE], "statuses": []}, "statuses"),
    ({}, "instances"),
    ({"instances": []}, "instances"),
    ({"instances": [INSTANCE], "include_existing": "perhaps"}, "include_existing"),
    ({"instances": [INSTANCE], "validate_certs": "maybe"}, "validate_certs"),
    ({"instances": [INSTANCE], "max_retries": 11}, "max_retries"),
    ({"instances": [INSTANCE], "request_timeout": 0}, "request_timeout"),
]
GOOD_ARGS = {"instances": [INSTANCE], "interval": 2.5, "statuses": ["FAILED"], "include_existing": True, "validate_certs": True,
             "ak": ACCESS_KEY, "sk": SECRET_KEY, "max_retries": 0, "request_timeout": 5}


@pytest.mark.parametrize("args, named", BAD_ARGS, ids=[case[1] for case in BAD_ARGS])
def test_a_bad_arg_is_refused_naming_it(connection, args, named):
    connection.load(scenario())
    run = run_source(args)
    assert isinstance(run.error, ConfigurationError), run.error
    message = str(run.error)
    assert message.startswith(SOURCE_NAME + ": ") and named in message, message
    assert connection.count() == 0


@pytest.mark.parametrize("args, named", BAD_ARGS, ids=[case[1] for case in BAD_ARGS])
def test_the_schema_refuses_what_the_source_refuses(args, named):
    jsonschema = pytest.importorskip("jsonschema")  # comes with ansible-rulebook
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        schema = json.load(handle)
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    assert list(validator.iter_errors(args)), "the schema accepts %r, which the source refuses naming %s" % (args, named)
    assert not list(validator.iter_errors(GOOD_ARGS))


def test_the_schema_accepts_what_the_source_accepts(connection):
    connection.load(scenario(tasks=[{"id": "t-change", "name": "restart", "appear_after": 0.5, "timeline": [[0.5, "EXECUTING"], [1.5, "FAILED"]]}]))
    run = run_source(GOOD_ARGS, until=lambda events: len(events) >= 1)
    assert run.error is None and run.changes() == [("t-change", None, "FAILED")]


def test_the_schema_file_is_generated_from_the_documentation_and_the_tables():
    renderer = load_by_path("hwcloud_dms_render_event_source_schema", SCHEMA_RENDERER)
    assert renderer.source_documentation() == SOURCE["DOCUMENTATION"]
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        assert handle.read() == renderer.render(renderer.argument_schema(SOURCE["DOCUMENTATION"])), \
            "run: python3 tests/tooling/render_event_source_schema.py"


def test_meta_extensions_shows_galaxy_the_event_source():
    with open(os.path.join(COLLECTION, "meta", "extensions.yml"), encoding="utf-8") as handle:
        extensions = yaml.safe_load(handle)
    # As galaxy-importer reads it (file_parser.ExtensionsFileParser); it lists only these kinds of folder.
    ext_dirs = [extension["args"]["ext_dir"] for extension in extensions["extensions"]]
    assert ext_dirs == ["eda/plugins/event_source"]
    assert set(ext_dirs) <= {"eda/plugins/event_source", "eda/plugins/event_filter"}
    sources = os.listdir(os.path.join(COLLECTION, "extensions", ext_dirs[0]))
    assert "task_events.py" in sources


def test_cancelled_while_waiting_for_the_next_poll(connection):
    connection.load(scenario(tasks=[{"name": "restart", "status": "SUCCESS"}]))
    run = run_source({"instances": [INSTANCE], "interval": 60}, seconds=1.0)
    assert run.error is None and run.events == []
    assert run.seconds < 2.0
    assert connection.count("list") == 1


def test_cancelled_while_the_client_waits_to_retry(connection):
    # Every list call fails: the client pauses between retries (exponential backoff) in the worker thread.
    connection.load(scenario(faults=[{"kind": "list", "status": 503}]))
    run = run_source({"instances": [INSTANCE], "max_retries": 10}, seconds=2.0)
    assert run.events == [] and run.error is None
    # The pause is cut short: cancelling (and asyncio.run's wait for the worker thread) takes far less than the backoff.
    assert run.seconds < 3.5
    sent = connection.count("list")
    time.sleep(1.5)
    assert connection.count("list") == sent  # nothing is sent after the source was cancelled


def test_requests_per_poll_stay_bounded_on_a_long_history(connection):
    connection.load(scenario(tasks=[
        {"id": "t-running", "name": "restart", "created_offset": -7200, "timeline": [[-7200, "EXECUTING"], [2.5, "SUCCESS"]]},
        {"id": "t-new", "name": "kafkaConfigModify", "appear_after": 1.5, "status": "CREATED"},
    ], generate=[{"count": 1000, "created_offset": -60, "interval": 60}]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL}, until=lambda events: len(events) >= 2, seconds=15)
    assert run.changes() == [("t-new", None, "CREATED"), ("t-running", "EXECUTING", "SUCCESS")]
    requests = [entry for entry in connection.requests() if entry["kind"] in ("list", "show")]
    history = [entry["query"]["start"] for entry in requests[:11]]
    assert history == [str(start) for start in range(1, 1002, 100)]  # the whole history, once
    polls = []
    for entry in requests[11:]:
        if entry["kind"] == "list":
            polls.append([])
        polls[-1].append((entry["kind"], entry["query"].get("start"), entry["task_id"]))
    assert len(polls) >= 2
    for poll in polls:
        # One page of the tasks created lately, and one show-one call for the older task that still ran.
        assert poll == [("list", "1", None), ("show", None, "t-running")]


def test_the_documentation_matches_the_option_table():
    documented = yaml.safe_load(SOURCE["DOCUMENTATION"])["options"]
    assert set(documented) == set(SOURCE_OPTIONS) | set(COMMON_OPTIONS)
    for name, option in doc_fragment()["options"].items():
        assert documented[name] == option, name
    for name, option in SOURCE_OPTIONS.items():
        shown = dict((key, value) for key, value in documented[name].items() if key != "description")
        assert shown == option, name
    for example in yaml.safe_load(SOURCE["EXAMPLES"]):
        assert set(example[SOURCE_NAME]) <= set(documented)


@pytest.mark.parametrize("name", ["kafka_remediation.yml", "remediate.yml", "emulator_rulebook.yml"])
def test_the_docs_show_the_files_they_name_as_they_are(name):
    with open(os.path.join(COLLECTION, "docs", "eda", name), encoding="utf-8") as handle:
        text = handle.read()
    with open(os.path.join(COLLECTION, "docs", "eda.md"), encoding="utf-8") as handle:
        assert "```yaml\n%s```" % text in handle.read()
