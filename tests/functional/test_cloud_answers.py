# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both plugins in real ansible-playbook runs against the answers a cloud gives that a friendly server would not.

A mistyped endpoint path, IDs the API refuses, gateway 404s and DMS flow control in the middle of a wait,
success answers without a list of tasks, a server that ignores the paging position, a gateway that echoes
the token it was sent, slow or failing progress calls; and the options that must be refused before any
request. Each test is one playbook run (several independent tasks, each on its own instance or task ID) and
reads the emulator's request log; instance clocks start at the first request naming them, so clock values
in the log count from the first poll of the wait on that instance.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from urllib.parse import quote, quote_plus

from ansible_collections.hwcloud.dms.tests.functional.conftest import (
    INSTANCE_ID, assert_no_traceback, instance_id, instances_scenario, logged, scenario, yaml_scalar,
)

WAIT = "hwcloud.dms.wait_for_task"
INFO = "hwcloud.dms.dms_task_info"
NAME = "kafkaConfigModify"
WRONG_URL_ADVICE = "no such API at this URL; check endpoint and region"
# Well-formed (32 hex digits) but not a task of the instance: a typo in a real job ID.
MISTYPED_TASK_ID = "ff80808272dcc90f0172df1e490f41b1"
MALFORMED_TASK_ID = "not-a-task-id"
# A running task that never ends on its own.
ENDLESS = [[0, "EXECUTING"]]


def wait(title, instance, **options):
    return {"name": title, WAIT: dict(options, instance_id=instance)}


def info(title, instance, **options):
    return {"name": title, INFO: dict(options, instance_id=instance)}


def statuses_and_faults(entries):
    return [(entry["status"], entry["fault"]) for entry in entries]


def settle(emulator, instance, count, seconds=10.0):
    """Wait until the emulator has logged ``count`` requests of the instance: it logs a delayed answer when it sends it."""
    deadline = time.monotonic() + seconds
    while len(logged(emulator, instance=instance)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return logged(emulator, instance=instance)


# ---------------------------------------------------------------------------------------------------------
# Configuration errors: fail at once, naming what to fix


def test_a_wrong_url_or_a_malformed_id_fails_at_once_naming_what_to_fix(emulator, playbook):
    """A mistyped endpoint path reaches the gateway's "no such API"; a malformed task ID gets DMS.00400070. Neither is retried."""
    wrong_url, malformed, mixed = instance_id(1), instance_id(2), instance_id(3)
    emulator.load(instances_scenario({
        wrong_url: [{"id": "w-running", "name": NAME, "timeline": ENDLESS}],
        malformed: [{"id": "m-running", "name": NAME, "timeline": ENDLESS}],
        mixed: [{"id": "x-running", "name": NAME, "timeline": ENDLESS}],
    }))
    wrong_endpoint = emulator.url + "/wrong"
    run = playbook.run([
        info("List through a mistyped endpoint path", wrong_url, endpoint=wrong_endpoint),
        wait("Wait by ID through a mistyped endpoint path", wrong_url, task_id="w-running", timeout=60, endpoint=wrong_endpoint),
        wait("Gate through a mistyped endpoint path", wrong_url, idle=True, timeout=60, endpoint=wrong_endpoint),
        info("Read a malformed task ID", malformed, task_id=MALFORMED_TASK_ID),
        wait("Wait for a malformed task ID", malformed, task_id=MALFORMED_TASK_ID, timeout=60),
        wait("Wait for a good and a malformed task ID", mixed, task_id=["x-running", MALFORMED_TASK_ID], timeout=60),
    ])
    listing, by_id, gate, info_malformed, wait_malformed, wait_mixed = run.results

    # The mistyped path: a failure (never "no tasks", never a pass), naming the URL and the two options to check.
    unknown = [entry for entry in emulator.requests() if entry["kind"] == "unknown"]
    assert statuses_and_faults(unknown) == [(404, None)] * 3, "one request per task, not retried"
    assert all(entry["path"].startswith("/wrong/v2/") for entry in unknown)
    for result in (listing, by_id, gate):
        assert result["failed"] is True, result
        assert wrong_endpoint + "/v2/" in result["msg"] and WRONG_URL_ADVICE in result["msg"], result["msg"]
        assert "APIG.0101" in result["msg"] and result["error"]["error_code"] == "APIG.0101"
        assert_no_traceback(run, result)
    assert listing["tasks"] == [] and listing["complete"] is False
    for result in (by_id, gate):
        assert result["polls"] == result["api_calls"] == 1 and result["timed_out"] is False

    # The malformed ID: a failure naming the option and the value, after the one request that the API refused.
    for result in (info_malformed, wait_malformed, wait_mixed):
        assert result["failed"] is True, result
        assert "task_id '%s' is malformed according to the API" % MALFORMED_TASK_ID in result["msg"], result["msg"]
        assert result["error"]["error_code"] == "DMS.00400070"
        assert_no_traceback(run, result)
    for instance in (malformed, mixed):
        refused = logged(emulator, instance=instance, task_id=MALFORMED_TASK_ID)
        assert [(entry["kind"], entry["status"]) for entry in refused] == [("show", 400)] * (2 if instance == malformed else 1)
    assert wait_malformed["polls"] == wait_mixed["polls"] == 1 and wait_mixed["timed_out"] is False
    assert [entry["task_id"] for entry in logged(emulator, instance=mixed, kind="show")] == ["x-running", MALFORMED_TASK_ID]


REFUSED_OPTIONS = [
    # (case, plugin, options, words the message must contain)
    ("task_id null", WAIT, {"task_id": None}, ["task_id", "job ID"]),
    ("task_id empty list", WAIT, {"task_id": []}, ["task_id", "job ID"]),
    ("task_id omitted by default(omit)", WAIT, {"task_id": "{{ none_var | default(omit) }}"}, ["task_id"]),
    ("task_id from a null variable", WAIT, {"task_id": "{{ none_var | default(omit) }}", "vars": {"none_var": None}}, ["task_id", "job ID"]),
    ("instance_id ..", WAIT, {"task_id": "t-any", "instance_id": ".."}, ["instance_id", "'..'"]),
    ("task_id .", WAIT, {"task_id": "."}, ["task_id", "'.'"]),
    ("instance_id .. (info)", INFO, {"instance_id": ".."}, ["instance_id", "'..'"]),
    ("task_id . (info)", INFO, {"task_id": ["t-any", "."]}, ["task_id", "'.'"]),
    ("timeout infinite", WAIT, {"task_id": "t-any", "timeout": yaml_scalar("1.0e+400")}, ["timeout"]),
    ("timeout huge", WAIT, {"task_id": "t-any", "timeout": 10 ** 400}, ["timeout"]),
    ("sleep huge", WAIT, {"task_id": "t-any", "sleep": 10 ** 30}, ["sleep"]),
    ("request_timeout nan", WAIT, {"task_id": "t-any", "request_timeout": yaml_scalar(".nan")}, ["request_timeout"]),
    ("request_timeout inf", WAIT, {"task_id": "t-any", "request_timeout": yaml_scalar(".inf")}, ["request_timeout"]),
    ("max_retries huge", WAIT, {"task_id": "t-any", "max_retries": 10 ** 400}, ["max_retries"]),
    ("request_timeout nan (info)", INFO, {"request_timeout": yaml_scalar(".nan")}, ["request_timeout"]),
    ("limit huge (info)", INFO, {"limit": 10 ** 400}, ["limit"]),
    ("limit infinite (info)", INFO, {"limit": yaml_scalar("1.0e+400")}, ["limit"]),
    ("UTC offset beyond +14:00", WAIT, {"name": NAME, "created_after": "2024-05-01T08:00:00+14:30"}, ["created_after", "+14:30"]),
    ("UTC offset beyond -14:00 (info)", INFO, {"begin_time": "2024-05-01T08:00:00-15:00"}, ["begin_time", "-15:00"]),
]


def test_unusable_options_are_refused_before_any_request(emulator, playbook):
    """Empty task IDs (a change that answered no job ID must not pass a gate), dot segments, non-finite or huge numbers."""
    emulator.load(scenario(tasks=[{"id": "t-any", "name": NAME, "timeline": ENDLESS}]))
    tasks = []
    for case, plugin, options, _words in REFUSED_OPTIONS:
        options = dict(options)
        task_vars = options.pop("vars", None)
        task = {"name": case, plugin: dict({"instance_id": INSTANCE_ID}, **options)}
        if task_vars:
            task["vars"] = task_vars
        tasks.append(task)
    run = playbook.run(tasks)
    for (case, _plugin, _options, words), result in zip(REFUSED_OPTIONS, run.results):
        assert result.get("failed") is True, "%s: %r" % (case, result)
        for word in words:
            assert word in result["msg"], "%s: %r not in %r" % (case, word, result["msg"])
        assert_no_traceback(run, result)
    assert emulator.requests() == [], "nothing was sent"


# ---------------------------------------------------------------------------------------------------------
# Answers that are not what they seem: gateway 404s and flow control, success answers without tasks, paging


def test_flow_control_and_gateway_404s_during_a_wait_are_retried_never_read_as_deleted(emulator, playbook):
    """DMS flow control (a 404), the gateway's "no such API" after good polls, and one lone DMS "no such task" answer."""
    flaky = instance_id(11)
    emulator.load(instances_scenario({flaky: [{"id": "f-running", "name": NAME, "timeline": [[0, "EXECUTING"], [5, "SUCCESS"]]}]}, faults=[
        {"kind": "show", "instance": flaky, "nth": 1, "flow_control": True},
        {"kind": "show", "instance": flaky, "nth": 3, "status": 404,
         "body": {"error_code": "APIG.0101", "error_msg": "The API does not exist or has not been published in the environment."}},
        {"kind": "show", "instance": flaky, "nth": 4, "status": 404, "body": {"error_code": "DMS.00404000", "error_msg": "The task does not exist."}},
    ]))
    run = playbook.run([wait("Wait through flow control and 404s", flaky, task_id="f-running", timeout=60)])
    result = run.result
    assert not result.get("failed"), result["msg"]
    assert result["status"] == "SUCCESS" and result["timed_out"] is False
    assert [entry["status"] for entry in result["history"]] == ["EXECUTING", "SUCCESS"], "never DELETED"

    requests = logged(emulator, instance=flaky)
    shows = [entry for entry in requests if entry["kind"] == "show"]
    assert statuses_and_faults(shows[:4]) == [(404, "flow_control"), (200, None), (404, "status"), (404, "status")], shows
    assert all(entry["status"] == 200 for entry in shows[4:]) and shows[4:], "the wait went on after each of them"
    # Flow control is throttling: retried within the first poll, after the throttling pause.
    assert shows[1]["clock"] - shows[0]["clock"] >= 1.9
    assert result["polls"] == len(shows) - 1 and result["api_calls"] == len(requests)
    assert any("will try again" in line and "APIG.0101" in line for line in run.output.splitlines()), run.output


def test_success_answers_without_a_list_of_tasks_are_never_no_tasks(emulator, playbook):
    """200 with an empty body, {} or {"tasks": null}: dms_task_info fails (page 2 of 250 included), the gate waits for a good answer.

    And a server that ignores ``start``: dms_task_info says it is incomplete, the gate never reports idle on it.
    """
    page_two, empty, no_tasks, null_tasks, gate, ignores_start = (instance_id(number) for number in range(21, 27))
    history = [{"count": 3, "name": NAME}]
    bad_answers = [("", empty), ({}, no_tasks), ({"task_count": "3", "tasks": None}, null_tasks)]
    faults = [{"kind": "list", "instance": page_two, "nth": 2, "status": 200, "body": ""}]  # its task runs first: list call 2 is its page 2
    faults += [{"kind": "list", "instance": instance, "status": 200, "body": body} for body, instance in bad_answers]
    faults += [{"kind": "list", "instance": gate, "times": 1, "status": 200, "body": body} for body, _instance in bad_answers]
    faults += [{"kind": "list", "instance": ignores_start, "ignore_start": True}]
    emulator.load(instances_scenario({
        page_two: {"generate": [{"count": 250, "name": NAME}]},
        empty: {"generate": history}, no_tasks: {"generate": history}, null_tasks: {"generate": history},
        gate: {"generate": history},
        ignores_start: {"generate": [{"count": 250, "name": NAME}]},
    }, faults=faults))
    run = playbook.run([
        info("Page 2 of 250 answers an empty body", page_two, max_retries=0),
        info("Empty body", empty, max_retries=1),
        info("No tasks key", no_tasks, max_retries=1),
        info("Tasks null", null_tasks, max_retries=1),
        wait("Gate through three bad answers", gate, idle=True, timeout=60, max_retries=0),
        info("A server that ignores start", ignores_start),
        wait("Gate on a server that ignores start", ignores_start, idle=True, timeout=3),
    ])
    page_two_result, empty_result, no_tasks_result, null_result, gate_result, partial, partial_gate = run.results

    assert page_two_result["failed"] is True and page_two_result["tasks"] == [], "not the 100 tasks of page 1"
    assert "unexpected shape" in page_two_result["msg"], page_two_result["msg"]
    # Page 2 is fetched once (never retried with max_retries 0); pages after it may have been fetched alongside it.
    page_two_starts = [entry["query"]["start"] for entry in logged(emulator, instance=page_two)]
    assert page_two_starts[0] == "1" and page_two_starts.count("101") == 1 and set(page_two_starts) <= {"1", "101", "201"}
    for result, (_body, instance) in zip((empty_result, no_tasks_result, null_result), bad_answers):
        assert result["failed"] is True and result["tasks"] == [] and result["task_count"] == 0, result
        assert "unexpected shape" in result["msg"], result["msg"]
        assert statuses_and_faults(logged(emulator, instance=instance)) == [(200, "status")] * 2, "retried once (max_retries 1), then failed"
        assert_no_traceback(run, result)

    # The gate read nothing from the three bad answers (each ended a poll: max_retries 0), and passed on the good
    # history and the tasks created since the wait began.
    assert not gate_result.get("failed"), gate_result["msg"]
    assert "idle" in gate_result["msg"] and gate_result["tasks"] == []
    # The good poll: the history, the tasks created since, and the instance, RUNNING.
    assert statuses_and_faults(logged(emulator, instance=gate)) == [(200, "status")] * 3 + [(200, None)] * 3
    assert (gate_result["polls"], gate_result["api_calls"], gate_result["instance_status"]) == (4, 6, "RUNNING")

    # Paging that ends short of task_count: said in the result and a warning, and no gate passes on it.
    assert not partial.get("failed"), partial["msg"]
    assert partial["complete"] is False and partial["task_count"] == 100
    assert "stopped at 100 of the 250 tasks the API counted" in " ".join(run.output.split()), run.output
    assert partial_gate["failed"] is True and partial_gate["timed_out"] is True, partial_gate
    assert "idle" not in partial_gate["msg"] and partial_gate["polls"] >= 2
    assert partial_gate["api_calls"] == len(logged(emulator, instance=ignores_start)) - 3, "its listing read 3 pages before the gate"


# ---------------------------------------------------------------------------------------------------------
# Reads per poll do not grow with the history; the task keyword timeout


def test_reads_per_poll_are_bounded_and_the_task_keyword_timeout_is_reported(emulator, playbook):
    """A gate over 1,000 tasks (one running) reads every page once, then one page per poll; two IDs cost two show calls per poll.

    The second wait never ends on its own: with the task keyword ``timeout: 8`` it ends itself before ansible-core
    would kill it, and the registered result says what it saw.
    """
    long_history, two_ids = instance_id(31), instance_id(32)
    emulator.load(instances_scenario({
        long_history: {"tasks": [{"id": "h-running", "name": NAME, "timeline": [[0, "EXECUTING"], [3, "SUCCESS"]]}],
                       "generate": [{"count": 999, "name": ["kafkaClientQuotaCreate", NAME], "status": ["SUCCESS", "FAILED"]}]},
        two_ids: [{"id": "k-endless", "name": NAME, "timeline": ENDLESS}],
    }))
    run = playbook.run([
        wait("Gate over a long history", long_history, idle=True, timeout=60),
        dict(wait("Two IDs, one mistyped, under the task keyword timeout", two_ids, task_id=["k-endless", MISTYPED_TASK_ID], timeout=600),
             timeout=8),
    ])
    gate, keyword = run.results

    assert not gate.get("failed"), gate["msg"]
    assert [(task["id"], task["status"]) for task in gate["tasks"]] == [("h-running", "SUCCESS")]
    requests = logged(emulator, instance=long_history)
    lists = [entry for entry in requests if entry["kind"] == "list"]
    first_poll, later_polls = lists[:10], lists[10:]
    # The pages after the first are fetched a few at a time, so the log may hold them in another order.
    assert sorted(int(entry["query"]["start"]) for entry in first_poll) == list(range(1, 1001, 100)), "every page once"
    assert not any("begin_time" in entry["query"] for entry in first_poll)
    # Every poll, the first included, reads one page of the tasks created since the wait began.
    assert later_polls and all(entry["query"]["start"] == "1" and "begin_time" in entry["query"] for entry in later_polls), "one page per poll"
    # A listed task needs no show call. Its progress call comes after a read of the instance (its engine), and the
    # gate passes on a read of the instance once the task has ended.
    assert [entry["kind"] for entry in requests if entry["kind"] != "list"] == ["instance", "progress", "instance"]
    assert gate["polls"] == len(later_polls) and gate["api_calls"] == len(requests)

    assert keyword["failed"] is True and keyword["timed_out"] is True, keyword
    assert "task keyword timeout" in keyword["msg"], keyword["msg"]
    assert [entry["id"] for entry in keyword["history"]] == ["k-endless"] and keyword["history"][0]["status"] == "EXECUTING"
    shows = logged(emulator, instance=two_ids, kind="show")
    assert [entry["task_id"] for entry in shows] == ["k-endless", MISTYPED_TASK_ID] * keyword["polls"], "two show calls per poll"
    assert {entry["status"] for entry in shows if entry["task_id"] == MISTYPED_TASK_ID} == {404}
    # It ended itself min(3, 8 / 2) s before the budget, the last poll at most 1 s past that (plus 1 s for the answer).
    assert shows[-1]["clock"] - shows[0]["clock"] <= 8 - 3 + 1 + 1, [entry["clock"] for entry in shows]


# ---------------------------------------------------------------------------------------------------------
# Secrets echoed back by a gateway


SYNTHETIC_TOKEN = "MIIEsynthetic+token/with=reserved~characters"
PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def token_forms(token):
    """The spellings a gateway or proxy may echo a token in: as sent, URL-encoded either way, JSON-escaped."""
    forms = {token, quote(token, safe=""), quote(token), quote_plus(token, safe=""), json.dumps(token)[1:-1].replace("/", "\\/")}
    forms.update([lower_case_escapes(form) for form in forms])
    return sorted(forms)


def lower_case_escapes(text):
    """%2F as %2f: percent escapes are case-insensitive, and some encoders write them in lower case."""
    return PERCENT_ESCAPE.sub(lambda match: match.group(0).lower(), text)


def echoing_body(token, code):
    """An error body that quotes the request back, the token in several spellings, as some gateways do."""
    return {"error_code": code, "error_msg": "Incorrect IAM authentication information: rejected GET ...?X-Auth-Token=%s (token %s, %s, %s)" % (
        quote(token, safe=""), token, lower_case_escapes(quote_plus(token, safe="")), json.dumps(token)[1:-1])}


def test_a_token_echoed_by_the_gateway_is_masked_in_every_form(emulator, playbook):
    """At -vvvv, with and without no_log: a real token from the emulator's IAM, and one with characters that URL-encoding changes."""
    emulator.load(scenario(users=[{"name": "dms_tester", "password": "tester-password"}]))
    issued = iam_token(emulator, "dms_tester", "tester-password")  # tokens stay valid across scenario loads
    with_issued, with_synthetic = instance_id(41), instance_id(42)
    emulator.load(instances_scenario({
        with_issued: [{"id": "e-issued", "name": NAME, "timeline": ENDLESS}],
        with_synthetic: [{"id": "e-synthetic", "name": NAME, "timeline": ENDLESS}],
    }, faults=[
        {"kind": "show", "instance": with_issued, "status": 401, "body": echoing_body(issued, "APIG.0301")},
        {"kind": "show", "instance": with_synthetic, "status": 401, "body": echoing_body(SYNTHETIC_TOKEN, "APIGW.0301")},
        {"kind": "list", "instance": with_synthetic, "status": 403, "body": echoing_body(SYNTHETIC_TOKEN, "APIG.0302")},
    ]))
    tasks = []
    for no_log in (False, True):
        for token, instance, task_id in ((issued, with_issued, "e-issued"), (SYNTHETIC_TOKEN, with_synthetic, "e-synthetic")):
            tasks.append(dict(wait("Wait, no_log %s" % no_log, instance, task_id=task_id, timeout=30, auth_token=token), no_log=no_log))
        tasks.append(dict(info("List, no_log %s" % no_log, with_synthetic, auth_token=SYNTHETIC_TOKEN), no_log=no_log))
    run = playbook.run(tasks, defaults=playbook.connection(access_key=None, secret_key=None), args=["-vvvv"])

    assert "ESTABLISH LOCAL CONNECTION" in run.output or "task path" in run.output.lower(), "the run was at -vvvv"
    assert all(result.get("failed") is True for result in run.results), run.results
    for result in run.results[:3]:  # without no_log: the answer is reported, the token masked
        assert "********" in result["msg"] and ("401" in result["msg"] or "403" in result["msg"]), result["msg"]
    assert len(emulator.requests()) == len(tasks) and all(entry["fault"] == "status" for entry in emulator.requests()), "never retried"
    saved = json.dumps(run.results)
    for token in (issued, SYNTHETIC_TOKEN):
        for form in token_forms(token):
            assert form not in run.output, "%r in the output" % form
            assert form not in saved, "%r in a registered result" % form


def iam_token(emulator, user, password):
    """A token from the emulator's IAM, by the password form of POST /v3/auth/tokens."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "password": password}}}}}
    request = urllib.request.Request(emulator.url + "/v3/auth/tokens", data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Subject-Token"]


# ---------------------------------------------------------------------------------------------------------
# Progress only decorates


PROGRESS_ENDS = 8.0
PROGRESS_DELAY = 3.0  # past the request_timeout of 1 s the wait gives the progress calls
# Seconds a loaded machine may add between two requests of a wait, beyond its pauses and timeouts.
BUSY_MACHINE_MARGIN = 2.0


def test_failing_or_slow_progress_never_delays_noticing_the_end(emulator, playbook):
    """Three tasks with progress ending at 8 s; the first progress call fails (503), the others hang past request_timeout.

    At most one progress call per poll, none retried, and the end is seen on the normal schedule: the first show call
    after 8 s follows the last one before by no more than the longest pause (sleep, 10 s), one hung progress call
    (request_timeout, 1 s) and a margin for a busy machine: never a pause plus several hung or retried calls.
    """
    busy = instance_id(51)
    timeline = [[0, "CREATED"], [2, "EXECUTING"], [PROGRESS_ENDS, "SUCCESS"]]
    later = [[0, "CREATED"], [4, "EXECUTING"], [PROGRESS_ENDS, "SUCCESS"]]
    emulator.load(instances_scenario({busy: [
        {"id": "p-first", "name": NAME, "timeline": timeline, "progress": True},
        {"id": "p-second", "name": "bindInstancePublicIp", "timeline": timeline, "progress": True},
        {"id": "p-third", "name": "kafkaClientQuotaCreate", "timeline": later, "progress": True},
    ]}, faults=[
        {"kind": "progress", "nth": 1, "status": 503},
        {"kind": "progress", "delay": PROGRESS_DELAY},
    ]))
    run = playbook.run([wait("Wait with failing progress", busy, task_id=["p-first", "p-second", "p-third"], timeout=60, request_timeout=1)])
    result = run.result
    assert not result.get("failed"), result["msg"]
    assert sorted(task["status"] for task in result["tasks"]) == ["SUCCESS"] * 3

    # A hung progress call is logged when the emulator answers it, after its delay: order the log by arrival.
    requests = settle(emulator, busy, result["api_calls"])
    assert len(requests) == result["api_calls"]
    requests.sort(key=lambda entry: entry["clock"] - (PROGRESS_DELAY if entry["fault"] == "delay" else 0))
    # Every poll reads the three tasks (they end together), p-first first: a poll is the requests from one "show p-first" to the next.
    polls = []
    for entry in requests:
        if entry["kind"] == "show" and entry["task_id"] == "p-first":
            polls.append([])
        polls[-1].append(entry)
    assert len(polls) == result["polls"]
    assert all(len([entry for entry in poll if entry["kind"] == "progress"]) <= 1 for poll in polls), "at most one progress call per poll"
    progress = [entry for entry in requests if entry["kind"] == "progress"]
    assert progress and len(progress) == len(set(entry["task_id"] for entry in progress)), "none retried"
    assert progress[0]["status"] == 503 and all(entry["fault"] == "delay" for entry in progress[1:])
    for task_id in ("p-first", "p-second", "p-third"):
        shows = [entry for entry in requests if entry["task_id"] == task_id and entry["kind"] == "show"]
        before_end = [entry for entry in shows if entry["clock"] < PROGRESS_ENDS]
        after_end = [entry for entry in shows if entry["clock"] >= PROGRESS_ENDS]
        assert before_end and after_end, [entry["clock"] for entry in requests]
        assert after_end[0]["clock"] - before_end[-1]["clock"] <= 10 + 1 + BUSY_MACHINE_MARGIN, [entry["clock"] for entry in requests]
