# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin's own parts: its options against its documentation, and the progress lines it prints."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, quote_plus

import pytest
import yaml

from ansible_collections.hwcloud.dms.plugins.action import dms_api as api_action
from ansible_collections.hwcloud.dms.plugins.action import wait_for_task as action
from ansible_collections.hwcloud.dms.plugins.doc_fragments.common import ModuleDocFragment
from ansible_collections.hwcloud.dms.plugins.modules import dms_api as api_stub
from ansible_collections.hwcloud.dms.plugins.modules import wait_for_task as stub
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import WaitPhase
from ansible_collections.hwcloud.dms.plugins.plugin_utils import live_lines
from ansible_collections.hwcloud.dms.tests.unit.plugins.action.running import run_plugin


@pytest.mark.parametrize("plugin, doc_stub", [(action, stub), (api_action, api_stub)], ids=["wait_for_task", "dms_api"])
def test_the_validated_options_are_the_documented_ones(plugin, doc_stub):
    """The spec is read from the doc stub and the option table: every documented option, with what it documents."""
    documented = yaml.safe_load(doc_stub.DOCUMENTATION)["options"]
    documented.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    spec_of = plugin.ActionModule.ARGUMENT_SPEC
    assert set(documented) == set(spec_of)
    for name, spec in spec_of.items():
        doc = documented[name]
        assert doc["type"] == spec["type"], name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("elements") == spec.get("elements"), name
        assert bool(doc.get("required")) == bool(spec.get("required")), name


def listener(display):
    return live_lines.DisplayListener("wait_for_task [web1]"), display


def task(status, name="kafkaConfigModify", task_id="t1"):
    return {"id": task_id, "name": name, "status": status}


def test_status_change_line_with_progress(display):
    progress_listener, recording = listener(display)
    progress_listener.status_changed(task("EXECUTING"), "CREATED", 3.04, {"progress_percentage": 45, "remain_time": 120})
    assert recording.lines == [(0, "wait_for_task [web1]: kafkaConfigModify (ID t1) CREATED -> EXECUTING 45%, about 120 s left [3.0 s]")]


def test_first_sighting_line_without_progress(display):
    progress_listener, recording = listener(display)
    progress_listener.status_changed(task("CREATED"), None, 0.0, None)
    assert recording.lines == [(0, "wait_for_task [web1]: kafkaConfigModify (ID t1) CREATED [0.0 s]")]


def test_lines_of_a_change_queued_behind_a_busy_instance_say_so_and_count_from_the_run(display):
    queued = live_lines.DisplayListener("dms_api [web1]").phase(WaitPhase.QUEUED, 10.0)
    queued.status_changed(task("EXECUTING", name="resizeInstance"), "CREATED", 2.0, {"progress_percentage": 40, "remain_time": 85})
    queued.instance_changed("RESTARTING", None, 3.0)
    queued.instance_changed("RUNNING", "RESTARTING", 4.0)
    queued.still_waiting([task("EXECUTING", name="resizeInstance")], 70.0, {"t1": 24.6})
    assert [text for _level, text in display.lines] == [
        "dms_api [web1]: queued behind resizeInstance (ID t1) CREATED -> EXECUTING 40%, about 85 s left [12.0 s]",
        "dms_api [web1]: queued behind instance RESTARTING [13.0 s]",
        "dms_api [web1]: instance RESTARTING -> RUNNING [14.0 s]",
        "dms_api [web1]: still queued behind: resizeInstance (ID t1) EXECUTING, about 25 s left by its progress [80.0 s]",
    ]


def test_a_refusal_and_a_retry_are_lines_of_their_own(display):
    lines = live_lines.DisplayListener("dms_api [web1]")
    lines.refused_for_now("DMS.00400017 (another task of the instance is still running)", 2, True, 30.0)
    lines.retrying("GET https://dms/x: attempt 1 of 6 failed (HTTP 503); trying again in 1.0 s")
    own = lines.phase(WaitPhase.OWN_TASK, 31.0)
    own.status_changed(task("CREATED"), None, 0.5, None)
    assert [text for _level, text in display.lines] == [
        "dms_api [web1]: refused for now (2 times): DMS.00400017 (another task of the instance is still running); waiting until the"
        " instance is free to send it again [30.0 s]",
        "dms_api [web1]: GET https://dms/x: attempt 1 of 6 failed (HTTP 503); trying again in 1.0 s",
        "dms_api [web1]: kafkaConfigModify (ID t1) CREATED [31.5 s]",
    ]


def test_heartbeat_names_only_unfinished_tasks(display):
    progress_listener, recording = listener(display)
    tasks = [task("EXECUTING", task_id="a"), task("SUCCESS", task_id="b")]
    progress_listener.still_waiting(tasks, 61.0, {})
    assert recording.lines == [(0, "wait_for_task [web1]: still waiting: kafkaConfigModify (ID a) EXECUTING [61.0 s]")]


def test_failed_poll_is_shown_and_polls_only_at_v(display):
    progress_listener, recording = listener(display)
    progress_listener.poll_failed("HTTP 503", 5.0)
    progress_listener.polled([task("EXECUTING")], 5.5, 4)
    assert recording.lines == [
        (0, "wait_for_task [web1]: poll failed, will try again: HTTP 503 [5.0 s]"),
        (1, "wait_for_task [web1]: polled 1 task(s), 4 API call(s) so far [5.5 s]"),
    ]


# ---------------------------------------------------------------------------------------------------------
# ActionModule.run itself, on a task object as ansible-core hands it over, with the waiter faked

INSTANCE = "11111111-2222-3333-4444-555555555555"
TOKEN = "MIIE-token/with+slash=and\"quote'canary"
CONNECTION = {"region": "ap-southeast-1", "project_id": "0123456789abcdef0123456789abcdef",
              "access_key": "AKUNIT0000000000001", "secret_key": "SKUNIT-canary-0000000000000000"}
ALWAYS = {"msg", "tasks", "history", "elapsed", "polls", "api_calls", "timed_out", "changed"}


class FakeOutcome:
    def __init__(self, result):
        self._result = result
        self.timed_out = result.get("timed_out", False)
        self.failed = result.get("failed", False)
        self.single_task = False  # no change record: that is change_record.py's, tested on its own

    def as_result(self):
        return dict(self._result)


class FakeWaiter:
    """Records what the plugin asked for; answers with ``outcome``."""

    made = []
    outcome = {"msg": "done", "tasks": [], "history": [], "polls": 1, "api_calls": 1, "elapsed": 0.1, "timed_out": False, "failed": False}

    def __init__(self, client, tracker, limits, fail_on_status=None, listener=None):
        FakeWaiter.made.append(dict(tracker, timeout=limits.timeout, delay=limits.delay, max_pause=limits.max_pause,
                                    fail_on_status=fail_on_status))

    def wait(self):
        return FakeOutcome(FakeWaiter.outcome)

    check = wait

    def describe_target(self):
        return "the target"


@pytest.fixture
def run_action(monkeypatch, display):
    FakeWaiter.made = []
    monkeypatch.setattr(action, "TaskWaiter", FakeWaiter)
    # What the plugin asked to wait for, as the fake waiter's tracker.
    monkeypatch.setattr(action, "make_tracker", lambda client, instance_id, **target: dict(target, instance_id=instance_id))
    monkeypatch.setattr(action, "DmsClient", lambda settings, on_retry=None: object())

    def run(args, timeout=0, check_mode=False, with_connection=True):
        return run_plugin(action, "hwcloud.dms.wait_for_task", dict(CONNECTION, **args) if with_connection else args,
                          check_mode=check_mode, timeout=timeout)

    return run


def assert_refused(result, *words):
    assert result["failed"] is True and ALWAYS <= set(result)
    assert result["tasks"] == [] and result["polls"] == 0 and result["api_calls"] == 0
    for word in words:
        assert word in result["msg"]
    assert FakeWaiter.made == []


@pytest.mark.parametrize("task_id", [None, "", "  ", [], [""], ["t1", None], ["t1", " "]],
                         ids=["null", "empty", "blank", "empty-list", "empty-member", "null-member", "blank-member"])
def test_an_empty_task_id_never_turns_into_the_gate(run_action, task_id):
    result = run_action({"instance_id": INSTANCE, "task_id": task_id})
    assert_refused(result, "task_id", "job ID", "idle: true")


@pytest.mark.parametrize("args, words", [
    ({}, ["task_id", "name", "idle: true"]),
    ({"idle": False}, ["idle: false"]),
    ({"idle": True, "task_id": "t1"}, ["task_id and idle", "exactly one"]),
    ({"name": "x", "task_id": ["t1"]}, ["task_id and name", "exactly one"]),
    ({"created_after": "2024-01-01T00:00:00Z", "task_id": "t1"}, ["created_after", "name"]),
], ids=["nothing", "idle-false", "id-and-idle", "id-and-name", "created-after-alone"])
def test_what_to_wait_for_is_asked_explicitly(run_action, args, words):
    result = run_action(dict({"instance_id": INSTANCE}, **args))
    assert_refused(result, *words)


@pytest.mark.parametrize("args, option", [
    ({"timeout": 10 ** 400}, "timeout"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": 604801}, "timeout"),
    ({"delay": 10 ** 10}, "delay"),
    ({"timeout": 5, "delay": 5}, "delay"),
    ({"sleep": 0}, "sleep"),
    ({"sleep": 3601}, "sleep"),
    ({"request_timeout": float("nan")}, "request_timeout"),
    ({"request_timeout": float("inf")}, "request_timeout"),
    ({"request_timeout": 1e300}, "request_timeout"),
    ({"max_retries": 2 ** 63}, "max_retries"),
    ({"request_timeout": 10 ** 400}, "request_timeout"),
    ({"sleep": float("inf")}, "sleep"),
    ({"instance_id": ".."}, "instance_id"),
    ({"task_id": ["t1", "."]}, "task_id"),
    ({"created_after": "2024-01-01T00:00:00+25:00", "task_id": None, "name": "x"}, "created_after"),
], ids=lambda value: str(value)[:40])
def test_values_out_of_range_are_refused_naming_the_option(run_action, args, option):
    base = {"instance_id": INSTANCE, "task_id": "t1"}
    base.update(args)
    base = dict((key, value) for key, value in base.items() if value is not None)
    result = run_action(base)
    assert_refused(result, option)
    assert "Traceback" not in result["msg"]


def test_the_task_keyword_timeout_ends_the_wait_before_ansible_kills_it(run_action):
    FakeWaiter.outcome = dict(FakeWaiter.outcome, timed_out=True, failed=True, msg="Timed out after 5 s")
    try:
        result = run_action({"instance_id": INSTANCE, "task_id": "t1", "timeout": 600}, timeout=8)
    finally:
        FakeWaiter.outcome = dict(FakeWaiter.outcome, timed_out=False, failed=False, msg="done")
    [made] = FakeWaiter.made
    assert made["timeout"] == 5.0
    assert result["timed_out"] is True and "task keyword timeout of 8 s" in result["msg"]


@pytest.mark.parametrize("budget, expected", [(0, 600.0), (3600, 600.0), (2, 1.0)])
def test_the_wait_keeps_its_own_timeout_when_the_task_allows_it(run_action, budget, expected):
    run_action({"instance_id": INSTANCE, "task_id": "t1", "timeout": 600}, timeout=budget)
    assert FakeWaiter.made[0]["timeout"] == pytest.approx(expected)


def in_seconds(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def test_a_deadline_before_the_timeout_ends_the_wait_then_and_says_so(run_action):
    deadline = in_seconds(100)
    FakeWaiter.outcome = dict(FakeWaiter.outcome, timed_out=True, failed=True, msg="Timed out after 100 s")
    try:
        result = run_action({"instance_id": INSTANCE, "task_id": "t1", "timeout": 600, "deadline": deadline})
    finally:
        FakeWaiter.outcome = dict(FakeWaiter.outcome, timed_out=False, failed=False, msg="done")
    assert FakeWaiter.made[0]["timeout"] == pytest.approx(100, abs=5)
    assert result["msg"].endswith("(the deadline %s)" % deadline)


def test_a_deadline_after_the_timeout_changes_nothing(run_action):
    result = run_action({"instance_id": INSTANCE, "task_id": "t1", "timeout": 600, "deadline": in_seconds(3600)})
    assert FakeWaiter.made[0]["timeout"] == 600.0 and result["msg"] == "done"


@pytest.mark.parametrize("deadline, words", [("2020-01-01T04:00:00Z", "has passed"), ("tonight", "must be a time")], ids=["passed", "no time"])
def test_a_deadline_that_passed_or_is_no_time_is_refused_before_any_request(run_action, deadline, words):
    assert_refused(run_action({"instance_id": INSTANCE, "task_id": "t1", "deadline": deadline}), "deadline", words)


def test_each_mode_reaches_the_waiter(run_action):
    run_action({"instance_id": INSTANCE, "idle": True})
    run_action({"instance_id": INSTANCE, "name": "kafkaConfigModify", "created_after": "2024-01-01T00:00:00Z"})
    run_action({"instance_id": INSTANCE, "task_id": ["a", "b"]})
    gate, by_name, by_ids = FakeWaiter.made
    assert gate["idle"] is True and gate["task_ids"] == [] and gate["name"] is None
    assert by_name["idle"] is False and by_name["name"] == "kafkaConfigModify" and by_name["created_after"].year == 2024
    assert by_ids["task_ids"] == ["a", "b"] and by_ids["idle"] is False


@pytest.mark.parametrize("echo", [
    TOKEN, quote(TOKEN, safe=""), quote_plus(TOKEN), quote(TOKEN, safe="/"), json.dumps(TOKEN)[1:-1], repr(TOKEN)[1:-1],
], ids=["raw", "url", "url-plus", "url-slash", "json", "repr"])
def test_every_form_of_a_sent_secret_is_masked_in_the_result(run_action, echo):
    FakeWaiter.outcome = dict(FakeWaiter.outcome, msg="gateway said: bad token %s" % echo, history=[{"note": echo}])
    try:
        args = {"instance_id": INSTANCE, "task_id": "t1", "auth_token": TOKEN, "region": "ap-southeast-1",
                "project_id": CONNECTION["project_id"]}
        result = run_action(args, with_connection=False)
    finally:
        FakeWaiter.outcome = dict(FakeWaiter.outcome, msg="done", history=[])
    assert echo not in json.dumps(result) and echo not in repr(result)
    assert "gateway said: bad token" in result["msg"]


def test_check_mode_names_the_instance_as_it_is_read(run_action):
    result = run_action({"instance_id": "  %s " % INSTANCE, "task_id": "t1"}, check_mode=True)
    assert result["msg"] == "Check mode: would wait for the target on instance %s" % INSTANCE
    assert FakeWaiter.made[-1]["instance_id"] == INSTANCE
