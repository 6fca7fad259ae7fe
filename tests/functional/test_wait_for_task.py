# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.wait_for_task end to end: real ansible-playbook runs against the DMS emulator on 127.0.0.1.

Every run goes through ``module_defaults: group/hwcloud.dms.dms`` (the harness puts the connection options
there, never on the task), so each test also shows that the action group works.

Runs are few and short: a run holds several independent waits, each on its own task ID or its own instance,
so that the emulator's request log tells the waits apart. No assertion measures wall-clock time; the tests
look at what the plugin returned (``elapsed``, ``polls``, ``api_calls``, ``timed_out``) and at the emulator's
request log. Each instance's clock starts at the first request naming it (``clock: first_request``), so a
timeline is played from the wait's first poll however long ansible-playbook took to start; the log's clock
values are read on that clock.
"""

from __future__ import annotations

import itertools
import re
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.functional.conftest import (
    ACCESS_KEY, INSTANCE_ID, PROJECT_ID, SECRET_KEY, Playbook, PlaybookRun, assert_no_traceback, instance_id, instances_scenario, logged, scenario,
)

WAIT = "hwcloud.dms.wait_for_task"
NAME = "kafkaConfigModify"
ORDER = ("CREATED", "EXECUTING", "SUCCESS")
# A time with its unit, as the plugin writes elapsed seconds: "4.8 s", "3s".
SECONDS = re.compile(r"(\d+(?:\.\d+)?) ?s\b")
# The canary in a form that survives partial printing (a truncated or re-encoded secret still contains it).
CANARY_CORE = SECRET_KEY.split("-", 1)[1]
# How long after computing an answer the emulator may read the clock its log entry shows (statuses_served).
ANSWER_TO_LOG = 0.25


def wait(title, **options):
    """One wait_for_task task; connection options come from module_defaults unless given here."""
    options.setdefault("instance_id", INSTANCE_ID)
    return {"name": title, WAIT: options}


def kinds(entries):
    return sorted(set(entry["kind"] for entry in entries))


def status_at(timeline, clock):
    """The status the emulator serves at a scenario clock value for a timeline [[seconds, STATUS], ...]."""
    current = timeline[0][1]
    for at, status in timeline:
        if at <= clock:
            current = status
    return current


def statuses_served(timeline, clock):
    """The statuses a call logged at ``clock`` may have served: the log reads the clock just after the answer was
    computed (microseconds later; ANSWER_TO_LOG allows for an emulator preempted on a loaded machine)."""
    earliest = clock - ANSWER_TO_LOG
    return changes_in([status_at(timeline, earliest)] + [status for at, status in timeline if earliest < at <= clock])


def changes_in(statuses):
    """The first status, then each one that differs from the one before: what a wait's history tells of them."""
    return [status for index, status in enumerate(statuses) if index == 0 or status != statuses[index - 1]]


def lines_naming(output, text):
    return [line for line in output.splitlines() if text in line]


def seconds_in(text):
    """The first 'N s' / 'N.N s' number in a message."""
    match = SECONDS.search(text)
    assert match, "no elapsed seconds in %r" % text
    return float(match.group(1))


def assert_wait_returns(result):
    """The return values every wait has, also on failure and timeout."""
    assert result["changed"] is False
    assert isinstance(result["elapsed"], float)
    for count in ("polls", "api_calls"):
        assert isinstance(result[count], int) and not isinstance(result[count], bool)
    assert isinstance(result["timed_out"], bool)
    assert isinstance(result["tasks"], list)
    assert isinstance(result["history"], list)
    for entry in result["history"]:
        assert set(entry) == {"id", "status", "seen_at"}
        assert datetime.fromisoformat(entry["seen_at"].replace("Z", "+00:00")).tzinfo is not None


def assert_history_order(history, task_id, final):
    """One entry per observed change, in timeline order, ending with ``final``."""
    statuses = [entry["status"] for entry in history if entry["id"] == task_id]
    assert statuses, "task %s not in history %r" % (task_id, history)
    assert statuses[-1] == final
    assert statuses == sorted(statuses, key=ORDER.index), statuses  # also: no status twice, so no repeated entries
    seen_at = [entry["seen_at"] for entry in history if entry["id"] == task_id]
    assert seen_at == sorted(seen_at)
    return statuses


def calls_of_wait(entries):
    """The requests of a wait by ID whose log entries naming its tasks are ``entries``: those, and the read of the instance
    (which names no task) that tells its engine before its first progress call."""
    return len(entries) + (1 if any(entry["kind"] == "progress" for entry in entries) else 0)


def assert_progress_once_per_task(requests, task_ids):
    """Progress reads only decorate a task's change to EXECUTING: at most once per task, never retried."""
    progress = [entry["task_id"] for entry in requests if entry["kind"] == "progress"]
    assert set(progress) <= set(task_ids) and len(progress) == len(set(progress)), progress


def assert_gate_reads(requests, task_ids):
    """A gate over a short history: the whole history once (one page), then one "created since" page per poll (the first
    poll included), no show; the instance read on the polls that find no task running, and once for its engine before
    the first progress call.

    The tracked tasks were created during the wait, so they are on each of those pages and need no read of their own.
    """
    assert "show" not in kinds(requests), "tasks listed as created since the wait began need no show call"
    lists = [entry for entry in requests if entry["kind"] == "list"]
    assert lists and all(entry["query"].get("start", "1") == "1" for entry in lists), "one page per poll: %r" % [e["query"] for e in lists]
    assert "begin_time" not in lists[0]["query"], "the first poll reads the whole history"
    assert all("begin_time" in entry["query"] for entry in lists[1:]), "later polls read only what was created since"
    assert_progress_once_per_task(requests, task_ids)
    assert len(lists) + len([entry for entry in requests if entry["kind"] in ("progress", "instance")]) == len(requests)
    assert requests[-1]["kind"] == "instance", "the gate passes on a read of the instance, after its tasks"


def shared_run(tmp_path_factory, run_once, name, tasks_scenario, tasks, args=()):
    """One playbook run of ``tasks`` against ``tasks_scenario``, shared by the tests that read it: (PlaybookRun, request log)."""
    def produce():
        workdir = tmp_path_factory.mktemp(name)
        with Emulator(tasks_scenario, workdir) as emulator:
            run = Playbook(workdir, emulator).run(tasks, args=args)
            return {"run": run.as_data(), "requests": emulator.requests()}

    data = run_once(name, produce)
    return PlaybookRun(**data["run"]), data["requests"]


# ---------------------------------------------------------------------------------------------------------
# Success, progress lines, no_log

SUCCESS_TIMELINE = [[0, "CREATED"], [1, "EXECUTING"], [5, "SUCCESS"]]


def test_success_single_id(emulator, playbook):
    """CREATED -> EXECUTING -> SUCCESS: the full result, polls matching the log, only show calls, progress lines."""
    emulator.load(scenario(tasks=[
        {"id": "t-success", "name": NAME, "timeline": SUCCESS_TIMELINE, "progress": True},
        {"id": "t-secretive", "name": "kafkaClientQuotaCreate", "timeline": [[0, "EXECUTING"], [1, "SUCCESS"]]},
        {"name": NAME, "status": "SUCCESS", "created_offset": -600, "duration": 30},
    ]))
    run = playbook.run([
        wait("Wait for one task", task_id="t-success", timeout=60),
        dict(wait("Wait for a task under no_log", task_id="t-secretive", timeout=60), no_log=True),
    ])
    assert run.returncode == 0, run.output
    result = run.results[0]
    assert_wait_returns(result)
    assert not result.get("failed")
    assert result["timed_out"] is False
    assert result["status"] == "SUCCESS"
    assert result["task"]["id"] == "t-success" and result["task"]["name"] == NAME and result["task"]["status"] == "SUCCESS"
    assert result["tasks"] == [result["task"]]

    requests = logged(emulator, task_id="t-success")
    assert result["polls"] == len(logged(emulator, task_id="t-success", kind="show")), "one show call per poll"
    assert result["api_calls"] == calls_of_wait(requests)
    assert kinds(requests) in (["show"], ["progress", "show"])
    assert run.results[1]["api_calls"] == calls_of_wait(logged(emulator, task_id="t-secretive"))
    assert logged(emulator, kind="list") == [] and logged(emulator, kind="iam") == []
    assert len(logged(emulator)) == result["api_calls"] + run.results[1]["api_calls"]

    # History: the first status seen, then one entry per change the polls observed. The timeline is on the clock the
    # request log gives each show call, so the log tells what each poll was served.
    statuses = assert_history_order(result["history"], "t-success", "SUCCESS")
    served = [statuses_served(SUCCESS_TIMELINE, entry["clock"]) for entry in requests if entry["kind"] == "show" and entry["status"] == 200]
    assert ["EXECUTING"] in served, "the EXECUTING window (1 s to 5 s) holds the second poll (about 2 s): %r" % served
    assert any(changes_in(list(choice)) == statuses for choice in itertools.product(*served)), (
        "the history %r is not the changes in what the show calls were served, %r" % (statuses, served))

    # Progress at default verbosity: one line per history entry, with name, ID, status and elapsed time.
    lines = lines_naming(run.output, "t-success")
    assert len(lines) == len(statuses), run.output
    for line, status in zip(lines, statuses):
        assert NAME in line and status in line and SECONDS.search(line), line
    executing = lines[statuses.index("EXECUTING")]
    assert re.search(r"\d+ ?%", executing), "a Kafka task's progress percentage: %r" % executing

    # no_log: the wait works and prints nothing about its task.
    assert not run.results[1].get("failed")
    assert lines_naming(run.output, "t-secretive") == [], run.output


# ---------------------------------------------------------------------------------------------------------
# How waits end: failing statuses, fail_on_status: [], timeout (one run, read by three tests)

ENDINGS = [
    # (title, task, options, expected final status)
    ("vanishes", {"id": "t-vanishes", "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"]], "vanish_after": 5}, {}, "DELETED"),
    ("failed", {"id": "t-failed", "name": "bindInstancePublicIp", "timeline": [[0, "EXECUTING"], [1, "FAILED"]]}, {}, "FAILED"),
    ("cancelled", {"id": "t-cancelled", "name": "kafkaResetConsumerOffset", "status": "CANCELLED"}, {}, "CANCELLED"),
    ("deleted", {"id": "t-deleted", "name": "kafkaClientQuotaDelete", "status": "DELETED"}, {}, "DELETED"),
    ("tolerated", {"id": "t-tolerated", "name": "kafkaClientQuotaModify", "status": "FAILED"}, {"fail_on_status": []}, "FAILED"),
    ("succeeded", {"id": "t-succeeded", "name": "kafkaClientQuotaCreate", "timeline": [[0, "EXECUTING"], [5, "SUCCESS"]]}, {}, "SUCCESS"),
    ("timeout", {"id": "t-endless", "name": "unbindInstancePublicIp", "timeline": [[0, "EXECUTING"]]}, {"timeout": 3}, "EXECUTING"),
]


@pytest.fixture(scope="module")
def endings(tmp_path_factory, run_once):
    tasks = [wait(title, task_id=task["id"], **dict({"timeout": 30}, **options)) for title, task, options, _status in ENDINGS]
    tasks_scenario = scenario(tasks=[task for _title, task, _options, _status in ENDINGS])
    run, requests = shared_run(tmp_path_factory, run_once, "wait_for_task_endings", tasks_scenario, tasks, args=["-vvvv"])  # also the secret check below
    return run, dict((title, result) for (title, _task, _options, _status), result in zip(ENDINGS, run.results)), requests


@pytest.mark.parametrize("title", ["vanishes", "failed", "cancelled", "deleted"])
@pytest.mark.every_core
def test_failing_status_fails_naming_task_id_status_and_elapsed(endings, title):
    run, results, requests = endings
    task, expected = next((task, status) for name, task, _options, status in ENDINGS if name == title)
    result = results[title]
    assert_wait_returns(result)
    assert result["failed"] is True
    assert result["timed_out"] is False
    assert result["status"] == expected and result["task"]["id"] == task["id"]
    message = result["msg"]
    for part in (task["name"], task["id"], expected):
        assert part in message, "%r not in %r" % (part, message)
    assert abs(seconds_in(message) - result["elapsed"]) <= 0.1, message
    of_task = [entry for entry in requests if entry["task_id"] == task["id"]]
    assert result["polls"] == len([entry for entry in of_task if entry["kind"] == "show"])
    assert result["api_calls"] == calls_of_wait(of_task)
    assert_no_traceback(run, result)


def test_task_seen_then_gone_counts_as_deleted_on_the_second_not_found(endings):
    """One "no such task" is not proof: DELETED only after DMS said so on two polls in a row."""
    _run, results, requests = endings
    result = results["vanishes"]
    assert [entry["status"] for entry in result["history"]] == ["EXECUTING", "DELETED"]
    shows = [entry for entry in requests if entry["task_id"] == "t-vanishes" and entry["kind"] == "show"]
    statuses = [entry["status"] for entry in shows]
    assert statuses == [200] * (len(statuses) - 2) + [404, 404] and statuses[0] == 200, statuses
    assert shows[-2]["clock"] >= 5, "the task vanishes at 5 s on its instance's clock"


def test_empty_fail_on_status_returns_the_final_status(endings):
    _run, results, _requests = endings
    result = results["tolerated"]
    assert_wait_returns(result)
    assert not result.get("failed")
    assert result["status"] == "FAILED" and result["task"]["status"] == "FAILED"
    assert result["timed_out"] is False


def test_timeout_fails_naming_task_last_status_and_timeout(endings):
    run, results, requests = endings
    result = results["timeout"]
    assert_wait_returns(result)
    assert result["failed"] is True
    assert result["timed_out"] is True
    assert result["status"] == "EXECUTING"
    for part in ("unbindInstancePublicIp", "t-endless", "EXECUTING"):
        assert part in result["msg"], result["msg"]
    assert re.search(r"\b3(\.0)? ?s\b", result["msg"]), "the timeout in the message: %r" % result["msg"]
    assert result["elapsed"] >= 3.0
    of_task = [entry for entry in requests if entry["task_id"] == "t-endless"]
    shows = len([entry for entry in of_task if entry["kind"] == "show"])
    # On a busy machine the poll due at the deadline may start after its grace: it then sends nothing, and counts.
    assert shows <= result["polls"] <= shows + 1
    assert result["api_calls"] == calls_of_wait(of_task)
    # The last poll may start up to FINAL_POLL_GRACE (1 s) after the deadline, never later (plus 1 s for the answer).
    assert of_task[-1]["clock"] - of_task[0]["clock"] <= 3 + 1 + 1, [entry["clock"] for entry in of_task]
    assert_no_traceback(run, result)
    # The other endings did not hold the run up: every wait of the run has a result.
    assert len(run.results) == len(ENDINGS)


# ---------------------------------------------------------------------------------------------------------
# What to wait for: by name, several IDs, the gate

APPEARS = 4  # late, yet after the first poll even on a loaded machine
NEW_TIMELINE = [[APPEARS, "CREATED"], [APPEARS + 1, "EXECUTING"], [APPEARS + 2.5, "SUCCESS"]]


def test_by_name_waits_for_a_late_task_and_ignores_an_older_one(emulator, playbook):
    started = datetime.now(timezone.utc)
    emulator.load(scenario(tasks=[
        {"id": "t-new", "name": NAME, "appear_after": APPEARS, "created_offset": APPEARS, "timeline": NEW_TIMELINE},
        {"id": "t-old", "name": NAME, "status": "FAILED", "created_offset": -60, "duration": 20},
        {"id": "t-other", "name": "kafkaClientQuotaCreate", "status": "SUCCESS", "created_offset": -30},
    ]))
    run = playbook.run([
        wait("Wait by name, ISO-8601", name=NAME, created_after=started.isoformat(), timeout=60),
        wait("Wait by name, YYYYMMDDHHmmss", name=NAME, created_after=started.strftime("%Y%m%d%H%M%S"), timeout=60),
    ])
    first, second = run.results
    for result in (first, second):
        assert_wait_returns(result)
        assert not result.get("failed"), result["msg"]
        assert result["status"] == "SUCCESS" and result["task"]["id"] == "t-new"
        assert [task["id"] for task in result["tasks"]] == ["t-new"]
        assert all(entry["id"] == "t-new" for entry in result["history"])
    assert_history_order(first["history"], "t-new", "SUCCESS")

    requests = emulator.requests()
    assert first["api_calls"] + second["api_calls"] == len(requests)
    first_requests, second_requests = requests[:first["api_calls"]], requests[first["api_calls"]:]
    for result, of_wait in ((first, first_requests), (second, second_requests)):
        assert result["polls"] == len([entry for entry in of_wait if entry["kind"] not in ("progress", "instance")]), "one read per poll"
        lists = [entry for entry in of_wait if entry["kind"] == "list"]
        # Until it is seen: only the tasks created since created_after (sent a day wider), one page; then by ID.
        assert lists and all(entry["query"].get("begin_time") == (started - timedelta(days=1)).strftime("%Y%m%d%H%M%S") for entry in lists)
        assert all(entry["query"]["start"] == "1" for entry in lists)
        assert kinds(of_wait[len(lists):]) in ([], ["show"], ["instance", "progress", "show"]), "the listing stops once the task is seen"
    assert first_requests[0]["kind"] == "list" and first_requests[0]["clock"] < APPEARS, "the wait began before the task appeared"
    assert logged(emulator, task_id="t-old") == []


def test_several_ids_cost_one_show_call_per_unfinished_task_per_poll(emulator, playbook):
    emulator.load(scenario(
        tasks=[
            {"id": "t-first", "name": NAME, "timeline": [[0, "EXECUTING"], [1, "SUCCESS"]]},
            {"id": "t-second", "name": "bindInstancePublicIp", "timeline": [[0, "CREATED"], [1.5, "EXECUTING"], [10, "SUCCESS"]]},
            {"id": "t-unrelated", "name": "kafkaClientQuotaCreate", "timeline": [[0, "EXECUTING"]]},
        ],
        # 150 older tasks: reading tasks by ID costs the same whatever the history.
        generate=[{"count": 150, "name": ["kafkaClientQuotaCreate", "kafkaClientQuotaDelete"], "created_offset": -60, "interval": 60}],
    ))
    run = playbook.run([wait("Wait for two tasks", task_id=["t-first", "t-second"], timeout=60)])
    result = run.result
    assert_wait_returns(result)
    assert not result.get("failed"), result["msg"]
    assert result["timed_out"] is False
    assert sorted((task["id"], task["status"]) for task in result["tasks"]) == [("t-first", "SUCCESS"), ("t-second", "SUCCESS")]
    assert "t-unrelated" not in [entry["id"] for entry in result["history"]]
    assert_history_order(result["history"], "t-first", "SUCCESS")
    assert_history_order(result["history"], "t-second", "SUCCESS")

    requests = emulator.requests()
    assert result["api_calls"] == len(requests)
    assert kinds(requests) in (["show"], ["instance", "progress", "show"]), "never a listing"
    assert_progress_once_per_task(requests, ["t-first", "t-second"])
    first, second = logged(emulator, task_id="t-first", kind="show"), logged(emulator, task_id="t-second", kind="show")
    # Each poll reads every task that has not ended, in the order given: t-first until it was seen SUCCESS, t-second to the end.
    shows = [entry["task_id"] for entry in requests if entry["kind"] == "show"]
    assert shows == ["t-first", "t-second"] * len(first) + ["t-second"] * (len(second) - len(first)), shows
    assert result["polls"] == len(second)
    assert len(second) > len(first) >= 1, "t-first ends 9 s before t-second and is not read after it was seen ended"
    assert first[-1]["clock"] >= 1 and all(entry["clock"] < 1.5 for entry in first[:-1]), [entry["clock"] for entry in first]
    assert all(entry["status"] == 200 for entry in requests if entry["kind"] != "progress"), "progress is refused outside a resize"


GATE_FIRST = [[0, "EXECUTING"], [3, "SUCCESS"]]


@pytest.mark.edge_cores
def test_gate_waits_until_nothing_runs_and_returns_at_once_when_idle(emulator, playbook):
    busy, idle = instance_id(1), instance_id(2)
    history = {"generate": [{"count": 20, "name": [NAME, "kafkaClientQuotaCreate"], "status": ["SUCCESS", "FAILED"], "created_offset": -120}]}
    emulator.load(instances_scenario({
        busy: dict(history, tasks=[
            {"id": "g-first", "name": NAME, "timeline": GATE_FIRST},
            {"id": "g-second", "name": "bindInstancePublicIp", "timeline": [[0, "CREATED"], [1, "EXECUTING"], [5, "SUCCESS"]]},
        ]),
        idle: dict(history, tasks=[]),
    }))
    run = playbook.run([
        wait("Gate on a busy instance", instance_id=busy, idle=True, timeout=60),
        wait("Gate on an idle instance", instance_id=idle, idle=True, timeout=60),
    ])
    gate, at_once = run.results
    assert_wait_returns(gate)
    assert not gate.get("failed"), "old FAILED tasks do not fail the gate: %s" % gate["msg"]
    busy_requests = logged(emulator, instance=busy)
    # The gate tracks the tasks it sees active: both, as the first poll comes at the start of their timelines.
    assert busy_requests[0]["clock"] < GATE_FIRST[1][0]
    assert all(task["status"] == "SUCCESS" for task in gate["tasks"])
    assert sorted(task["id"] for task in gate["tasks"]) == ["g-first", "g-second"]
    assert gate["api_calls"] == len(busy_requests)
    assert gate["polls"] == len([entry for entry in busy_requests if entry["kind"] == "list"]) - 1 >= 2
    assert_gate_reads(busy_requests, ["g-first", "g-second"])

    assert_wait_returns(at_once)
    assert not at_once.get("failed"), at_once["msg"]
    assert at_once["tasks"] == [] and at_once["history"] == [] and at_once["timed_out"] is False
    idle_requests = logged(emulator, instance=idle)
    assert [(entry["kind"], "begin_time" in entry["query"]) for entry in idle_requests] == [
        ("list", False), ("list", True), ("instance", False)]
    assert (at_once["polls"], at_once["api_calls"], at_once["instance_status"]) == (1, 3, "RUNNING")


def test_gate_never_says_idle_while_a_task_created_during_its_first_read_runs(emulator, playbook):
    """A task created while the gate pages through a long history lands on page 1, read already: the history's listing
    leaves it out. The gate reads the tasks created since it began before it may pass."""
    started_late = [[0, "EXECUTING"], [4, "SUCCESS"]]
    emulator.load(scenario(generate=[{"count": 1000, "created_offset": -3600}], faults=[
        {"kind": "list", "nth": 3, "insert": {"name": "resizeInstance", "timeline": started_late}}]))
    run = playbook.run([wait("Gate", idle=True, timeout=60)])
    gate = run.result
    assert_wait_returns(gate)
    assert not gate.get("failed"), gate["msg"]
    [task] = gate["tasks"]
    assert (task["name"], task["status"]) == ("resizeInstance", "SUCCESS")
    assert [entry["status"] for entry in gate["history"]] == ["EXECUTING", "SUCCESS"]
    lists = logged(emulator, kind="list")
    assert gate["polls"] >= 2 and lists[-1]["clock"] >= started_late[1][0]
    # The first poll: the whole history (ten full pages and the empty eleventh), then the tasks created since it began.
    history = [entry for entry in lists if "begin_time" not in entry["query"]]
    assert len(history) >= 11 and "begin_time" in lists[len(history)]["query"]


def test_gate_waits_through_a_restart_that_runs_no_task(emulator, playbook):
    restarting = [[0, "RESTARTING"], [6, "RUNNING"]]
    emulator.load(instances_scenario({INSTANCE_ID: {"tasks": [{"name": NAME, "status": "SUCCESS", "created_offset": -600}],
                                                    "status_timeline": restarting}}))
    run = playbook.run([wait("Gate", idle=True, timeout=120)])
    gate = run.result
    assert_wait_returns(gate)
    assert not gate.get("failed"), gate["msg"]
    assert gate["instance_status"] == "RUNNING" and gate["tasks"] == [] and "RUNNING, and no task is CREATED or EXECUTING" in gate["msg"]
    reads = logged(emulator, kind="instance")
    assert len(reads) == gate["polls"] >= 2 and reads[-1]["clock"] >= 6 > reads[0]["clock"]
    assert lines_naming(run.output, "instance RESTARTING") and lines_naming(run.output, "instance RESTARTING -> RUNNING")


LONG_RESIZE = [[0, "EXECUTING"], [148, "SUCCESS"]]


def test_a_wait_or_gate_that_the_tasks_progress_outlasts_fails_at_once(emulator, playbook):
    """The progress answer's remain_time says the resize ends about 148 s in: a wait with less time left, by timeout or by
    deadline, fails on the poll that read it, naming the task and the predicted end."""
    emulator.load(scenario(tasks=[{"id": "t-long", "name": "resizeInstance", "timeline": LONG_RESIZE, "progress": True}]))
    # Time enough for ansible-playbook to start on a loaded machine: progress is not asked in a wait's last 5 s.
    in_60_s = (datetime.now(timezone.utc) + timedelta(seconds=60)).isoformat()
    run = playbook.run([
        wait("Wait with 20 s", task_id="t-long", timeout=20),
        wait("Gate with 20 s", idle=True, timeout=20),
        wait("Wait until a deadline in 60 s", task_id="t-long", timeout=600, deadline=in_60_s),
    ])
    for result in run.results:
        assert_wait_returns(result)
        assert result["failed"] is True and result["timed_out"] is False
        assert "Task resizeInstance (ID t-long) cannot end in time: its progress says about " in result["msg"]
        predicted = datetime.fromisoformat(result["predicted_end"])
        assert result["elapsed"] < 10
    # The predicted end is the timeline's, on the emulator's clock anchored at the first request.
    progress = logged(emulator, kind="progress")
    assert len(progress) == 3 and all(entry["status"] == 200 for entry in progress)
    assert logged(emulator)[-1]["clock"] < 20, "every wait ended at once, not at its end"
    assert abs((predicted - datetime.fromisoformat(progress[-1]["time"])).total_seconds() - (148 - progress[-1]["clock"])) < 3


@pytest.mark.edge_cores
def test_gate_fails_at_once_on_a_frozen_instance(emulator, playbook):
    emulator.load(instances_scenario({INSTANCE_ID: {"tasks": [], "status": "FROZEN"}}))
    run = playbook.run([wait("Gate", idle=True, timeout=600)])
    gate = run.result
    assert_wait_returns(gate)
    assert gate["failed"] is True and gate["timed_out"] is False and gate["polls"] == 1 and gate["instance_status"] == "FROZEN"
    assert gate["msg"].startswith("Instance %s is FROZEN: " % INSTANCE_ID) and "failed at once" in gate["msg"]
    assert len(logged(emulator, kind="instance")) == 1


def test_a_wait_on_a_rabbitmq_task_asks_no_progress(emulator, playbook):
    emulator.load(scenario(engine="rabbitmq", tasks=[{"id": "r" * 32, "name": "rabbitmqPluginModify",
                                                      "timeline": [[0, "CREATED"], [1, "EXECUTING"], [5, "SUCCESS"]]}]))
    run = playbook.run([wait("Wait", task_id="r" * 32, timeout=60)])
    assert run.result["status"] == "SUCCESS", run.result["msg"]
    assert emulator.count("progress") == 0 and len(logged(emulator, kind="instance")) == 1


# ---------------------------------------------------------------------------------------------------------
# Faults during the wait

def closed_port():
    """A port of 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_endpoint_that_never_answers_fails_after_the_clients_retries_not_at_the_timeout(emulator, playbook):
    """An unreachable port, and an IAM host that does not resolve: no poll ever gets an HTTP answer, so the wait ends
    after the client's own retries (max_retries 3 here) with the transport error, long before timeout."""
    emulator.load(scenario(tasks=[{"id": "t-running", "name": NAME, "timeline": [[0, "EXECUTING"]]}]))
    wrong_port = "http://127.0.0.1:%d" % closed_port()
    run = playbook.run([
        wait("Wrong port", task_id="t-running", timeout=1800, endpoint=wrong_port),
        wait("Gate on a wrong port", idle=True, timeout=1800, endpoint=wrong_port),
        wait("IAM host that does not resolve", task_id="t-running", timeout=1800, project_id="", iam_endpoint="https://iam.dms-test.invalid"),
    ])
    for result, where in zip(run.results, (wrong_port + "/v2/", wrong_port + "/v2/", "https://iam.dms-test.invalid/v3/projects")):
        assert_wait_returns(result)
        assert result["failed"] is True and result["timed_out"] is False and result["polls"] == 1, result
        assert result["msg"].startswith("Could not read the tasks of instance %s: gave up after 4 attempts: GET %s" % (INSTANCE_ID, where)), result["msg"]
        assert_no_traceback(run, result)
    assert "Connection refused" in run.results[0]["msg"] and "ConnectionError" in run.results[2]["msg"]
    assert run.results[0]["api_calls"] == run.results[1]["api_calls"] == 4
    assert emulator.requests() == []


FAULTED = {"throttled": instance_id(11), "unavailable": instance_id(12), "dropped": instance_id(13), "slow": instance_id(14)}


def test_transient_faults_are_retried_within_the_timeout(emulator, playbook):
    """429 + Retry-After (mid-wait), 503 (retried by the waiter itself: max_retries 0), a dropped connection, a slow answer.

    Retries inside a poll are requests, not polls: ``api_calls`` counts them, ``polls`` does not.
    """
    tasks = {
        FAULTED["throttled"]: [{"id": "f-throttled", "name": NAME, "timeline": [[0, "EXECUTING"], [5, "SUCCESS"]]}],
        FAULTED["unavailable"]: [{"id": "f-unavailable-1", "name": NAME, "status": "SUCCESS"},
                                 {"id": "f-unavailable-2", "name": "bindInstancePublicIp", "status": "SUCCESS"}],
        FAULTED["dropped"]: [{"id": "f-dropped", "name": NAME, "status": "SUCCESS"}],
        FAULTED["slow"]: [{"id": "f-slow", "name": NAME, "status": "SUCCESS"}],
    }
    emulator.load(instances_scenario(tasks, faults=[
        # The throttled wait runs first, so the 2nd show call of the run is its 2nd poll, after the task was seen.
        {"kind": "show", "instance": FAULTED["throttled"], "nth": 2, "status": 429, "retry_after": 2},
        {"kind": "show", "instance": FAULTED["unavailable"], "times": 1, "status": 503},
        {"kind": "show", "instance": FAULTED["dropped"], "times": 1, "drop": True},
        {"kind": "show", "instance": FAULTED["slow"], "times": 1, "delay": 2},
    ]))
    run = playbook.run([
        wait("Throttled", instance_id=FAULTED["throttled"], task_id="f-throttled", timeout=20),
        wait("Unavailable", instance_id=FAULTED["unavailable"], task_id=["f-unavailable-1", "f-unavailable-2"], timeout=20, max_retries=0),
        wait("Dropped", instance_id=FAULTED["dropped"], task_id="f-dropped", timeout=20),
        wait("Slow", instance_id=FAULTED["slow"], task_id="f-slow", timeout=20, request_timeout=1),
    ])
    assert run.returncode == 0, run.output
    # The emulator logs the delayed answer when it sends it, which may be after the playbook has ended.
    settle = time.monotonic() + 30  # a bound for a busy machine, not a measure
    while len(logged(emulator, instance=FAULTED["slow"])) < 2 and time.monotonic() < settle:
        time.sleep(0.1)
    expected_fault = {"throttled": "status", "unavailable": "status", "dropped": "drop", "slow": "delay"}
    for (label, instance), result in zip(FAULTED.items(), run.results):
        assert_wait_returns(result)
        assert not result.get("failed"), "%s: %s" % (label, result.get("msg"))
        assert result["timed_out"] is False
        assert all(task["status"] == "SUCCESS" for task in result["tasks"]) and result["tasks"]
        requests = logged(emulator, instance=instance)
        assert [entry["fault"] for entry in requests if entry["fault"]] == [expected_fault[label]], "%s: %r" % (label, requests)
        assert result["api_calls"] == len(requests), label
        # Progress is refused outside a capacity expansion; every read of the tasks and the instance succeeded.
        assert all(entry["status"] == 200 for entry in requests if not entry["fault"] and entry["kind"] != "progress"), label
    # Dropped and slow: one failed attempt, then the retry inside the same poll (the slow answer was given up after
    # request_timeout). Unavailable, with max_retries 0: the failed poll read nothing more, the next one read both tasks.
    for label in ("dropped", "slow"):
        assert [entry["kind"] for entry in logged(emulator, instance=FAULTED[label])] == ["show", "show"], label
        assert run.results[list(FAULTED).index(label)]["polls"] == 1, label
    unavailable = logged(emulator, instance=FAULTED["unavailable"])
    assert [(entry["task_id"], entry["status"]) for entry in unavailable] == [
        ("f-unavailable-1", 503), ("f-unavailable-1", 200), ("f-unavailable-2", 200)]
    assert run.results[1]["polls"] == 2

    throttled = [entry for entry in logged(emulator, instance=FAULTED["throttled"]) if entry["kind"] == "show"]
    statuses = [entry["status"] for entry in throttled]
    assert statuses[:2] == [200, 429], statuses
    assert run.results[0]["polls"] == len(throttled) - 1, "the throttled read was retried within its poll"
    assert throttled[2]["clock"] - throttled[1]["clock"] >= 1.9, "Retry-After: 2 is honoured"
    assert_history_order(run.results[0]["history"], "f-throttled", "SUCCESS")
    assert run.results[0]["history"][0]["status"] == "EXECUTING"


# ---------------------------------------------------------------------------------------------------------
# Bad input (no request at all), async, and a wrong secret key (one request, no retry): one run

INPUT_CASES = [
    # (case, options, words the message must contain)
    ("task_id and name", {"task_id": "t-any", "name": NAME}, ["task_id", "name"]),
    ("created_after without name", {"task_id": "t-any", "created_after": "2024-01-31T08:00:00Z"}, ["created_after", "name"]),
    ("malformed created_after", {"name": NAME, "created_after": "yesterday"}, ["created_after", "yesterday"]),
    ("timeout 0", {"task_id": "t-any", "timeout": 0}, ["timeout"]),
    ("unknown fail_on_status", {"task_id": "t-any", "fail_on_status": ["FAILED", "EXPLODED"]}, ["fail_on_status", "EXPLODED"]),
    ("empty instance_id", {"task_id": "t-any", "instance_id": ""}, ["instance_id"]),
    ("blank task_id", {"task_id": ["t-any", " "]}, ["task_id"]),
    ("delay not below timeout", {"task_id": "t-any", "timeout": 5, "delay": 5}, ["delay"]),
    ("sleep 0", {"task_id": "t-any", "sleep": 0}, ["sleep"]),
    ("no access key", {"task_id": "t-any", "access_key": ""}, ["access_key"]),
    ("no secret key", {"task_id": "t-any", "secret_key": ""}, ["secret_key"]),
]
INPUT_CASES_COUNT = len(INPUT_CASES)
WRONG_SECRET = "SKWRONG-0000000000000000000000000000000000"


@pytest.fixture(scope="module")
def input_run(tmp_path_factory, run_once):
    tasks = [wait(case, **options) for case, options, _words in INPUT_CASES]
    tasks.append(wait("Wrong secret key", task_id="t-any", secret_key=WRONG_SECRET, timeout=30))
    tasks.append(dict(wait("Async", task_id="t-any", timeout=30), **{"async": 30, "poll": 1}))
    tasks_scenario = scenario(tasks=[{"id": "t-any", "name": NAME, "timeline": [[0, "EXECUTING"]]}])
    run, requests = shared_run(tmp_path_factory, run_once, "wait_for_task_input", tasks_scenario, tasks)
    return run, run.results, requests


@pytest.mark.parametrize("case, words", [(case, words) for case, _options, words in INPUT_CASES], ids=[case for case, _o, _w in INPUT_CASES])
@pytest.mark.every_core
def test_bad_input_fails_naming_the_option_without_any_request(input_run, case, words):
    run, results, _requests = input_run
    result = results[[name for name, _options, _words in INPUT_CASES].index(case)]
    assert result["failed"] is True, result
    assert result["changed"] is False
    for word in words:
        assert word in result["msg"], "%s: %r not in %r" % (case, word, result["msg"])
    assert_no_traceback(run, result)
    assert SECRET_KEY not in str(result)


def test_bad_input_makes_no_request_and_a_wrong_secret_key_exactly_one(input_run):
    _run, results, requests = input_run
    wrong = results[INPUT_CASES_COUNT]
    assert wrong["failed"] is True
    assert "401" in wrong["msg"], wrong["msg"]
    # Every case before it sent nothing; the wrong key fails on its first request, which is never retried.
    assert len(requests) == 1, requests
    assert requests[0]["status"] == 401 and requests[0]["auth"] == "denied"
    assert WRONG_SECRET not in str(wrong)


def test_a_wait_ended_by_an_api_error_still_returns_its_wait_values(input_run):
    """Returns are documented "also on failure and timeout": a 401 during the wait is a failure of the wait."""
    _run, results, _requests = input_run
    wrong = results[INPUT_CASES_COUNT]
    assert_wait_returns(wrong)
    assert wrong["polls"] == 1
    assert wrong["timed_out"] is False


@pytest.mark.every_core
def test_async_is_not_supported(input_run):
    run, results, requests = input_run
    result = results[INPUT_CASES_COUNT + 1]
    assert result["failed"] is True
    assert "async" in result["msg"] and "not support" in result["msg"], result["msg"]
    assert len(requests) == 1, "the async task sent no request"
    assert_no_traceback(run, result)


# ---------------------------------------------------------------------------------------------------------
# Check mode

@pytest.mark.edge_cores
def test_check_mode_reads_once_and_never_waits_or_fails(emulator, playbook):
    other = instance_id(21)
    emulator.load(instances_scenario({
        INSTANCE_ID: [
            {"id": "c-running", "name": NAME, "timeline": [[0, "EXECUTING"], [30, "SUCCESS"]]},
            {"id": "c-failed", "name": "bindInstancePublicIp", "status": "FAILED"},
        ],
        other: [{"id": "c-gate", "name": NAME, "timeline": [[0, "EXECUTING"], [30, "SUCCESS"]]}],
    }))
    run = playbook.run([
        wait("Check a running task", task_id="c-running", timeout=600),
        wait("Check a failed task", task_id="c-failed", timeout=600),
        wait("Check the gate", instance_id=other, idle=True, timeout=600),
    ], check=True)
    assert run.returncode == 0, run.output
    running, failed, gate = run.results
    for result, task_id in ((running, "c-running"), (failed, "c-failed")):
        assert_wait_returns(result)
        assert not result.get("failed"), result["msg"]
        assert result["changed"] is False and result["timed_out"] is False
        assert task_id in result["msg"], "says what it would wait for: %r" % result["msg"]
        requests = logged(emulator, task_id=task_id)
        assert [entry["kind"] for entry in requests] == ["show"], "one read, no progress call"
        assert result["polls"] == result["api_calls"] == 1
    assert running["status"] == "EXECUTING", "no waiting for the 30 s task"
    assert failed["status"] == "FAILED"

    assert not gate.get("failed"), gate["msg"]
    reads = logged(emulator, instance=other)
    assert [(entry["kind"], "begin_time" in entry["query"]) for entry in reads] == [("list", False), ("list", True)], "one poll"
    assert (gate["polls"], gate["api_calls"]) == (1, 2)
    assert [task["id"] for task in gate["tasks"]] == ["c-gate"] and gate["tasks"][0]["status"] == "EXECUTING"


# ---------------------------------------------------------------------------------------------------------
# Secrets at -vvvv, and credentials from the environment

@pytest.mark.every_core
def test_secret_key_never_printed_at_vvvv(endings):
    """The endings run is at -vvvv, with successful, failing and timed-out waits and the secret in module_defaults."""
    run, results, _requests = endings
    assert_really_verbose(run)
    assert results["succeeded"]["status"] == "SUCCESS" and not results["succeeded"].get("failed")
    assert lines_naming(run.output, "t-succeeded"), "progress lines were printed"
    assert_canary_absent(run)


def test_environment_credentials_work_and_stay_secret(emulator, playbook):
    emulator.load(scenario(tasks=[
        {"id": "s-ok", "name": NAME, "timeline": [[0, "EXECUTING"], [1.5, "SUCCESS"]]},
        {"id": "s-failed", "name": "bindInstancePublicIp", "status": "FAILED"},
    ]))
    run = playbook.run(
        [wait("Successful wait", task_id="s-ok", timeout=30), wait("Failing wait", task_id="s-failed", timeout=30)],
        defaults=playbook.connection(access_key=None, secret_key=None, project_id=None),
        env={"HUAWEICLOUD_SDK_AK": ACCESS_KEY, "HUAWEICLOUD_SDK_SK": SECRET_KEY, "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID},
        args=["-vvvv"],
    )
    assert_really_verbose(run)
    ok, failed = run.results
    assert not ok.get("failed") and ok["status"] == "SUCCESS" and ok["task"]["id"] == "s-ok", ok.get("msg")
    assert failed["failed"] is True and failed["status"] == "FAILED"
    assert lines_naming(run.output, "s-ok"), "progress lines were printed"
    requests = emulator.requests()
    assert requests and all(entry["auth"] == "aksk" for entry in requests)
    assert all(entry["status"] == 200 for entry in requests if entry["kind"] != "progress"), "progress is refused outside a resize"
    assert_canary_absent(run)


def assert_really_verbose(run):
    assert "ESTABLISH LOCAL CONNECTION" in run.output or "task path" in run.output.lower(), "the run was at -vvvv"


def assert_canary_absent(run):
    for text in (SECRET_KEY, CANARY_CORE):
        assert text not in run.output
        assert text not in str(run.results)
