# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source hwcloud.dms.task_events: its main() with an asyncio queue, against the emulator over real HTTP.

The source file is loaded from its path as a module of its own, outside Ansible's plugin loader, as ansible-rulebook
loads it (tests/functional/eda runs the real ansible-rulebook). Each instance's clock starts at the first request that
names it, so timelines count from the source's first poll.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import logging
import os
import threading

import pytest
import yaml

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS, doc_fragment
from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import SOURCE_NAME, SOURCE_OPTIONS, PollingStopped, SourceStopped
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
# Polls start about a second apart (the smallest interval). A state a test must see lasts two polls and changes half-way
# between two, so that a poll may come a second and a half late on a loaded machine without missing it.
INTERVAL = 1
# Only a run that goes wrong lasts this long: a run ends when its test's condition holds or main() ends.
RUN_TIMEOUT = 30.0
# How often a run checks its test's condition while no event comes.
CHECK_EVERY = 0.1


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


class Workers(concurrent.futures.ThreadPoolExecutor):
    """The event loop's default executor during a run: main() polls in it (asyncio.to_thread). Keeps every call."""

    def __init__(self):
        super().__init__(thread_name_prefix="task-events-poll")
        self.calls = []

    def submit(self, *args, **kwargs):
        call = super().submit(*args, **kwargs)
        self.calls.append(call)
        return call

    def busy(self):
        return any(not call.done() for call in self.calls)


class SourceRun:
    """One run of main(), filled in as it goes: what it put on its queue and how it ended."""

    def __init__(self):
        self.events = []
        self.workers = Workers()
        self.error = None  # what main() raised by itself
        self.returned = False  # main() ended by itself (returned or raised), before the run cancelled it
        self.cancelled = False  # main() ended as cancelled, once the run cancelled it
        self.left_running = False  # a poll still ran in a worker thread once main() had ended
        self.threads_left = []  # threads the run started that outlived it

    def changes(self):
        return [(event["dms_task"]["task"]["id"], event["dms_task"]["previous_status"], event["dms_task"]["status"])
                for event in self.events if "dms_task" in event]

    def poll_errors(self):
        """The exceptions the polls ended with, in the order they were started."""
        return [call.exception() for call in self.workers.calls if call.exception() is not None]


def run_source(args, until=lambda run: False, seconds=RUN_TIMEOUT):
    """Run main() until ``until(run)`` holds (checked on each event and every CHECK_EVERY seconds) or main() ends by
    itself; then cancel it, as ansible-rulebook does. ``seconds`` only bounds a run whose condition never comes."""
    run = SourceRun()

    async def drive():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(run.workers)
        queue = asyncio.Queue()
        source = asyncio.ensure_future(SOURCE["main"](queue, args))
        deadline = loop.time() + seconds
        try:
            while not source.done() and not until(run) and loop.time() < deadline:
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, source}, timeout=min(CHECK_EVERY, deadline - loop.time()), return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    run.events.append(getter.result())
                else:
                    getter.cancel()
        finally:
            run.returned = source.done()
            source.cancel()
            await asyncio.gather(source, return_exceptions=True)
        run.left_running = run.workers.busy()
        while not queue.empty():
            run.events.append(queue.get_nowait())
        run.cancelled = source.cancelled()
        if run.returned and not run.cancelled:
            run.error = source.exception()

    threads = set(threading.enumerate())
    asyncio.run(drive())  # which also waits for the worker threads to end
    run.threads_left = [thread for thread in threading.enumerate() if thread not in threads]
    return run


def statuses_of(task_id, run):
    return [(previous, status) for ident, previous, status in run.changes() if ident == task_id]


def assert_no_secret(run, caplog):
    assert SECRET_KEY not in repr(run.events) + caplog.text + str(run.error)


# ---------------------------------------------------------------------------------------------------------


def test_each_status_change_is_one_event(connection, caplog):
    connection.load(scenario(tasks=[
        {"id": "t-running", "name": "restart", "created_offset": -3600, "timeline": [[-3600, "EXECUTING"], [1.5, "SUCCESS"]]},
        {"id": "t-change", "name": "kafkaConfigModify", "params": {"retention.ms": "3600000"}, "appear_after": 0.5,
         "timeline": [[0.5, "CREATED"], [2.5, "EXECUTING"], [4.5, "FAILED"]]},
    ], generate=[{"count": 30, "status": ["SUCCESS", "FAILED"]}]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL},
                     until=lambda run: any(event["dms_task"]["status"] == "FAILED" for event in run.events))
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
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL, "include_existing": True}, until=lambda run: len(run.events) >= 2)
    assert run.changes() == [("t-running", None, "EXECUTING"), ("t-queued", None, "CREATED")]
    assert connection.count("list") == 1


def test_statuses_filter_the_events(connection):
    connection.load(scenario(tasks=[
        {"id": "t-change", "name": "kafkaConfigModify", "appear_after": 0.5,
         "timeline": [[0.5, "CREATED"], [2.5, "EXECUTING"], [4.5, "FAILED"]]},
    ]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL, "statuses": ["FAILED", "CANCELLED"]},
                     until=lambda run: len(run.events) >= 1)
    assert run.changes() == [("t-change", "EXECUTING", "FAILED")]


def test_outages_are_logged_once_each_and_nothing_is_lost(connection, caplog):
    caplog.set_level(logging.INFO, logger=SOURCE_NAME)
    # List calls: 1 fine; 2 throttled, 3 Backend unavailable (one outage); 4 fine; 5 dropped (another outage); 6 fine.
    # They start at about 0, 1, 3, 7, 8 and 10 s; t-late appears between the 4th and the 6th, a second and a half from each.
    connection.load(scenario(tasks=[
        {"id": "t-quick", "name": "kafkaConfigModify", "appear_after": 1.5, "timeline": [[1.5, "EXECUTING"], [2, "FAILED"]]},
        {"id": "t-late", "name": "restart", "appear_after": 8.5, "status": "SUCCESS"},
    ], faults=[
        {"kind": "list", "nth": 2, "status": 429},
        {"kind": "list", "nth": 3, "status": 503},
        {"kind": "list", "nth": 5, "drop": True},
    ]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL, "max_retries": 0},
                     until=lambda run: len(run.events) >= 2)
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
    assert run.returned and isinstance(run.error, SourceStopped)
    message = str(run.error)
    assert message.startswith("%s stopped: could not read the tasks of instance %s: HTTP 401 APIG.0301" % (SOURCE_NAME, INSTANCE))
    assert "lock the access key" in message
    [request] = connection.requests()  # exactly one request with the bad key: neither retried nor polled again
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
                     until=lambda run: ("o-change", "EXECUTING", "SUCCESS") in run.changes())
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
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL}, until=lambda run: len(run.events) >= 2)
    assert run.error is None and run.changes() == [("t-change", None, "EXECUTING"), ("t-change", "EXECUTING", "SUCCESS")]


def test_the_source_ends_once_every_instance_is_gone(connection):
    connection.load(dict(two_instances([], []), instances=[{"id": GONE, "deleted_after": 1.5}]))
    run = run_source({"instances": [GONE], "interval": INTERVAL})
    assert run.error is None and [list(event) for event in run.events] == [["dms_instance_gone"]]
    assert run.returned, "main() returned by itself, not cancelled"


def test_an_instance_unknown_from_the_start_stops_the_source(connection):
    connection.load(scenario())
    run = run_source({"instances": [INSTANCE, GONE], "interval": INTERVAL})
    assert isinstance(run.error, SourceStopped)
    assert str(run.error).startswith("%s stopped: could not read the tasks of instance %s: HTTP 404 DMS.00404022" % (SOURCE_NAME, GONE))


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
    run = run_source(GOOD_ARGS, until=lambda run: len(run.events) >= 1)
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
    run = run_source({"instances": [INSTANCE], "interval": 60}, until=lambda run: run.workers.calls and not run.workers.busy())
    assert run.cancelled and run.error is None and run.events == []
    # Cancelled between polls, it ends with no poll left running: asyncio.run has no worker thread to wait for.
    assert not run.left_running
    assert connection.count("list") == 1


def test_cancelled_while_the_client_waits_to_retry(connection):
    # Every list call fails: the client pauses between retries (exponential backoff) in the worker thread.
    connection.load(scenario(faults=[{"kind": "list", "status": 503}]))
    run = run_source({"instances": [INSTANCE], "max_retries": 10}, until=lambda run: connection.count("list") >= 2)
    assert run.cancelled and run.error is None and run.events == []
    # The pause is cut short: the poll gives up at once, with retries left (max_retries 10: up to 11 list calls).
    assert [type(error) for error in run.poll_errors()] == [PollingStopped]
    assert connection.count("list") < 11
    assert run.threads_left == [], "nothing is left to send a request after the source was cancelled"


def test_requests_per_poll_stay_bounded_on_a_long_history(connection):
    connection.load(scenario(tasks=[
        {"id": "t-running", "name": "restart", "created_offset": -7200, "timeline": [[-7200, "EXECUTING"], [3.5, "SUCCESS"]]},
        {"id": "t-new", "name": "kafkaConfigModify", "appear_after": 1.5, "status": "CREATED"},
    ], generate=[{"count": 1000, "created_offset": -60, "interval": 60}]))
    run = run_source({"instances": [INSTANCE], "interval": INTERVAL}, until=lambda run: len(run.events) >= 2)
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
