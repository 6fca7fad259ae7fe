# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Performance against what users would run instead, on the emulator on 127.0.0.1: figures and ratios, never asserted.

    python tests/benchmarks/bench_performance.py          # the quick subset (under a minute; tests/run.sh runs it)
    python tests/benchmarks/bench_performance.py --full   # every table of docs/performance.md (about 30 minutes)

Run from a collection tree importable as ansible_collections.hwcloud.dms, with ansible-core and the official SDK
installed (tests/benchmarks/run.sh sets this up). Each table prints medians over its repeats and the targets beside
the ratios.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import TaskWaiter, WaitLimits, make_tracker
from ansible_collections.hwcloud.dms.tests.benchmarks.measure import (
    USER_NAME, USER_PASSWORD, connection, finish_playbook, finish_playbooks, instance_id, load_note, median, p90, python_module, scenario, start_playbook,
    table, verdict,
)
from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

TASK_ID = "0123456789abcdef0123456789abcdef"
FINAL = ["SUCCESS", "FAILED", "CANCELLED", "DELETED"]
WAIT_SLEEP = 10  # wait_for_task's default sleep, and the delay of the until: loop it is held against
LIST_LATENCY = 0.1
SIMULATED_LENGTHS = (5, 20, 60, 300, 1800)
QUICK = {
    "listing": (2000, 1), "first_read": (2000, 1), "simulated": 400, "waits": ((5,), 1, ("wait_for_task", "until dms_task_info delay=5", "pause")),
    "scale": ((10,), (20,), (False,), ("wait_for_task",), 5),
}
FULL = {
    "listing": (10000, 5), "first_read": (10000, 3), "simulated": 2000,
    "waits": ((5, 60), 3, ("wait_for_task", "until dms_task_info delay=5", "until dms_task_info delay=10", "until uri delay=5",
                           "until uri delay=10", "pause")),
    "scale": ((1, 10, 100, 200), (20, 50), (False, True), ("wait_for_task", "until dms_task_info delay=10"), 10),
}


def history_scenario(count, faults=None):
    return scenario([{"id": instance_id(0), "engine": "kafka", "generate": [{"count": count}]}], faults)


# ------------------------------------------------------------------------------------------------
# Listing


def listing_table(workdir, count, repeats):
    ways = (("floor: signed keep-alive requests loop", "floor"), ("hwcloud.dms client, page after page", "ours"),
            ("hwcloud.dms client, read_all (4 in flight)", "ours_read_all"), ("official SDK loop, limit=100", "sdk"))
    figures = dict((way, []) for _label, way in ways)
    playbook = []
    with Emulator(history_scenario(count), workdir) as emulator:
        for _repeat in range(repeats):
            for _label, way in ways:
                emulator.reset()
                measured = python_module("listing_clients", workdir, way, emulator.url, instance_id(0))
                figures[way].append(dict(measured.result, requests=emulator.count("list")))
            emulator.reset()
            play = {"hosts": "localhost", "gather_facts": False, "tasks": [
                {"hwcloud.dms.dms_task_info": dict(connection(emulator.url), instance_id=instance_id(0)), "register": "listed"},
                {"ansible.builtin.assert": {"that": ["listed.tasks | length == %d" % count]}}]}
            measured = finish_playbook(start_playbook(workdir, "listing", [play]))
            playbook.append({"cpu": measured.cpu, "wall": measured.wall, "requests": emulator.count("list")})
    floor_cpu = median([run["cpu"] for run in figures["floor"]])
    rows = []
    for label, way in ways:
        runs = figures[way]
        cpu = median([run["cpu"] for run in runs])
        rows.append([label, "%d" % median([run["tasks"] for run in runs]), "%d" % median([run["requests"] for run in runs]),
                     "%.2f" % cpu, "%.2fx" % (cpu / floor_cpu), "%.2f" % median([run["wall"] for run in runs]),
                     "%.0f" % median([run["peak_mib"] for run in runs])])
    rows.append(["dms_task_info in a playbook (whole process tree)", "%d" % count, "%d" % median([run["requests"] for run in playbook]),
                 "%.2f" % median([run["cpu"] for run in playbook]), "", "%.2f" % median([run["wall"] for run in playbook]), ""])
    ours = median([run["cpu"] for run in figures["ours"]]) / floor_cpu
    table("Listing %d tasks (median of %d; client CPU and wall of the read alone, peak RSS of the process)" % (count, repeats),
          ["way", "tasks", "requests", "CPU s", "CPU/floor", "wall s", "peak MiB"], rows,
          ["target: hwcloud.dms client CPU <= 1.2x the floor: %.2fx, %s" % (ours, verdict(ours, 1.2))])


def first_read_table(workdir, count, repeats):
    """A whole read with LIST_LATENCY of latency per list request, page after page against a few pages in flight."""
    runs = {"ours": [], "ours_read_all": []}
    with Emulator(history_scenario(count, [{"kind": "list", "delay": LIST_LATENCY}]), workdir) as emulator:
        for _repeat in range(repeats):
            for way, results in runs.items():
                emulator.reset()
                measured = python_module("listing_clients", workdir, way, emulator.url, instance_id(0))
                results.append(dict(measured.result, requests=emulator.count("list")))
    sequential, concurrent = (median([run["wall"] for run in runs[way]]) for way in ("ours", "ours_read_all"))
    same = all(run["tasks"] == count for way in runs for run in runs[way])
    rows = [[label, "%d" % median([run["tasks"] for run in runs[way]]), "%d" % median([run["requests"] for run in runs[way]]),
             "%.2f" % median([run["wall"] for run in runs[way]]), "%.2f" % median([run["cpu"] for run in runs[way]])]
            for label, way in (("page after page", "ours"), ("read_all: 4 pages in flight", "ours_read_all"))]
    ratio = concurrent / sequential
    table("First complete read of %d tasks with %d ms of latency per request (median of %d)" % (count, LIST_LATENCY * 1000, repeats),
          ["read", "tasks", "requests", "wall s", "CPU s"], rows,
          ["target: wall <= 0.35x page after page, same result: %.2fx, %s; same tasks: %s" % (ratio, verdict(ratio, 0.35), "yes" if same else "NO")])


# ------------------------------------------------------------------------------------------------
# Waiting, in simulated time


class SimulatedClock:
    """Simulated time: sleeping moves it on at once; ``random`` is the jitter of the run's random source."""

    def __init__(self, rng):
        self.now = 0.0
        self.random = rng.random

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def wall(self):
        return self.wall_at(self.now)

    @staticmethod
    def wall_at(seconds):
        return datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)


class SimulatedListing(list):
    """A listing of one page, complete."""

    def require_complete(self):
        """A page of fewer than 100 tasks is all there is."""


class SimulatedDms:
    """One task that runs from 0 until ``end``: what wait_for_task reads, counted as the API would count it.

    ``remain_time``: whether progress answers say how long is left (as Kafka's do), rounded up to the second.
    ``past``: durations of the instance's earlier SUCCESS tasks of the same name, listed below the running one.
    """

    def __init__(self, clock, end, remain_time=False, past=()):
        self._clock = clock
        self._end = end
        self._remain_time = remain_time
        self._past = list(past)
        self.calls = 0

    def _task(self, task_id=TASK_ID):
        status = "SUCCESS" if self._clock.now >= self._end else "EXECUTING"
        return {"id": task_id, "name": "kafkaConfigModify", "status": status, "created_at": api_time(self._clock.wall_at(0)),
                "updated_at": api_time(self._clock.wall_at(min(self._clock.now, self._end)))}

    def get_task(self, _instance_id, task_id, deadline=None):  # pylint: disable=unused-argument
        self.calls += 1
        return self._task(task_id)

    def list_tasks(self, _instance_id, deadline=None, read_all=False):  # pylint: disable=unused-argument
        self.calls += 1
        past = [{"id": "past%028d" % number, "name": "kafkaConfigModify", "status": "SUCCESS",
                 "created_at": api_time(self._clock.wall_at(-3600.0 * (number + 1))),
                 "updated_at": api_time(self._clock.wall_at(-3600.0 * (number + 1) + duration))} for number, duration in enumerate(self._past)]
        return SimulatedListing([self._task()] + past)

    def get_instance(self, instance_id, deadline=None):  # pylint: disable=unused-argument
        self.calls += 1
        return {"instance_id": instance_id, "status": "RUNNING", "engine": "kafka"}

    def get_task_progress(self, _instance_id, _task_id, deadline=None):  # pylint: disable=unused-argument
        self.calls += 1
        remain = max(0, math.ceil(self._end - self._clock.now)) if self._remain_time else 0
        return {"progress_percentage": 50, "remain_time": remain, "step_list": []}


def api_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def simulate_wait_for_task(remain_time=False, past_spread=None, **target):
    """wait_for_task on a SimulatedDms; ``past_spread``: five earlier tasks took this run's time within +- that share."""
    target = target or {"task_ids": [TASK_ID]}

    def wait(end, rng):
        clock = SimulatedClock(rng)
        past = [end * (1 + past_spread * step / 2.0) for step in (-2, -1, 0, 1, 2)] if past_spread is not None else ()
        dms = SimulatedDms(clock, end, remain_time, past)
        # A timeout no simulated task reaches: the table is about how a wait ends, not about when it gives up.
        tracker = make_tracker(dms, instance_id(0), clock, **target)
        outcome = TaskWaiter(dms, tracker, WaitLimits(4 * end + 60, max_pause=WAIT_SLEEP), clock=clock).wait()
        return outcome.elapsed - end, dms.calls
    return wait


def simulate_until(delay, setup_requests=0):
    """An until: loop: a try at once, then one every ``delay`` seconds (each try also costs a module run, not counted here)."""
    def poll(end, _rng):
        tries = 1
        while (tries - 1) * delay < end:
            tries += 1
        return (tries - 1) * delay - end, tries + setup_requests
    return poll


# Requests a wait may spend beyond the until: loop's: its first short pauses and its polls around a foreseen end, and
# the one read of the instance that tells whether its engine has a progress call (RabbitMQ has none).
EXTRA_REQUESTS = 3 + 1
# The ways that know when the end is coming, and the target of their mean lag.
INFORMED = ("wait_for_task, remain_time", "wait_for_task by name, 5 past +-2%")
INFORMED_LAG_TARGET = 1.5


def simulated_table(samples):
    strategies = (("wait_for_task (sleep=10)", simulate_wait_for_task()),
                  ("wait_for_task, remain_time", simulate_wait_for_task(remain_time=True)),
                  ("wait_for_task by name, 5 past +-2%", simulate_wait_for_task(past_spread=0.02, name="kafkaConfigModify")),
                  ("wait_for_task by name, 5 past +-20%", simulate_wait_for_task(past_spread=0.2, name="kafkaConfigModify")),
                  ("until dms_task_info delay=5", simulate_until(5)),
                  ("until dms_task_info delay=10", simulate_until(10)), ("until uri delay=5 (+1 token)", simulate_until(5, 1)),
                  ("until uri delay=10 (+1 token)", simulate_until(10, 1)))
    rows, checks = [], []
    for length in SIMULATED_LENGTHS:
        rng = random.Random(length)
        # Ends spread evenly over +-20% of the length: the means carry no sampling noise, only the jitter's.
        ends = [length * (0.8 + 0.4 * (sample + 0.5) / samples) for sample in range(samples)]
        figures = {}
        for label, strategy in strategies:
            outcomes = [strategy(end, rng) for end in ends]
            lags = [lag for lag, _requests in outcomes]
            requests = sum(requests for _lag, requests in outcomes) / float(samples)
            figures[label] = (sum(lags) / samples, requests)
            rows.append(["%d s" % length, label, "%.1f" % requests, "%.1f" % (sum(lags) / samples), "%.1f" % p90(lags)])
        ours_lag, ours_requests = figures["wait_for_task (sleep=10)"]
        loop_lag, loop_requests = figures["until dms_task_info delay=10"]
        # The lag is compared as printed: at the cap both poll every 10 s, and their mean lags are the same.
        checks.append("%d s: requests %.1f vs %.1f + %d (%s); mean lag %.1f vs %.1f s (%s)" % (
            length, ours_requests, loop_requests, EXTRA_REQUESTS, verdict(ours_requests, loop_requests + EXTRA_REQUESTS), ours_lag, loop_lag,
            verdict(round(ours_lag, 1), round(loop_lag, 1))))
        for label in INFORMED:
            lag, requests = figures[label]
            checks.append("%d s, %s: mean lag %.1f s <= %.1f (%s); requests %.1f vs %.1f + %d (%s)" % (
                length, label, lag, INFORMED_LAG_TARGET, verdict(round(lag, 1), INFORMED_LAG_TARGET), requests, loop_requests,
                EXTRA_REQUESTS, verdict(requests, loop_requests + EXTRA_REQUESTS)))
    table("Waiting, simulated: tasks ending within +-20%% of %s s (%d samples each)" % (", ".join(str(length) for length in SIMULATED_LENGTHS), samples),
          ["task", "way", "requests", "lag mean s", "lag p90 s"], rows,
          ["targets: wait_for_task at most the until: loop with delay=%d plus %d requests (3, and the read of the instance's engine),"
           " a mean lag no worse; where it knows when the end comes (remain_time, or past tasks of the name), a mean lag of at most"
           " %.1f s:" % (WAIT_SLEEP, EXTRA_REQUESTS, INFORMED_LAG_TARGET)]
          + ["  " + check for check in checks])


# ------------------------------------------------------------------------------------------------
# Waiting, real runs


def wait_play(way, url, instance, length, hosts="localhost"):
    """A play in which each host waits for its instance's task, the ``way`` a user would write it."""
    options = dict(connection(url), instance_id=instance)
    if way == "pause":
        tasks = [{"ansible.builtin.pause": {"seconds": length}}]
    elif way == "wait_for_task":
        tasks = [{"hwcloud.dms.wait_for_task": dict(options, task_id=TASK_ID)}]
    elif way.startswith("until dms_task_info"):
        tasks = [{"hwcloud.dms.dms_task_info": dict(options, task_id=[TASK_ID]), "register": "info",
                  "until": "info.tasks | length > 0 and info.tasks[0].status in %s" % FINAL, "retries": 400, "delay": int(way.split("=")[1])}]
    else:
        # uri cannot sign a request: a user of uri gets a token once, then polls with it.
        password = {"user": {"name": USER_NAME, "password": USER_PASSWORD}}
        tasks = [
            {"ansible.builtin.uri": {"url": url + "/v3/auth/tokens", "method": "POST", "status_code": 201, "body_format": "json",
                                     "body": {"auth": {"identity": {"methods": ["password"], "password": password}}}},
             "register": "token"},
            {"ansible.builtin.uri": {"url": "%s/v2/%s/instances/%s/tasks/%s" % (url, connection(url)["project_id"], instance, TASK_ID),
                                     "headers": {"X-Auth-Token": "{{ token.x_subject_token }}"}}, "register": "shown",
             "until": "shown.json.tasks[0].status in %s" % FINAL, "retries": 400, "delay": int(way.split("=")[1])},
        ]
    return {"hosts": hosts, "gather_facts": False, "tasks": tasks}


def task_of(instance, length):
    return {"id": instance, "engine": "kafka", "tasks": [{"id": TASK_ID, "name": "kafkaConfigModify", "timeline": [[0, "EXECUTING"], [length, "SUCCESS"]]}]}


def detection_lag(emulator, instance, length):
    """How late the first read of the task after its end came (the request log's clock is the instance's)."""
    seen = [entry["clock"] for entry in emulator.requests() if entry["instance_id"] == instance and entry["kind"] == "show" and entry["clock"] >= length]
    return min(seen) - length if seen else float("nan")


def real_waits_table(workdir, lengths, repeats, ways):
    """Every way waits at once, each on its own instance, so that a repeat lasts one task's length."""
    rows, checks = [], []
    for length in lengths:
        figures = dict((way, []) for way in ways)
        instances = dict((way, instance_id(number + 1)) for number, way in enumerate(ways))
        with Emulator(scenario([task_of(instance, length) for instance in instances.values()]), workdir) as emulator:
            for _repeat in range(repeats):
                emulator.load(scenario([task_of(instance, length) for instance in instances.values()]))
                started = dict((way, start_playbook(workdir, "wait-%d" % number, [wait_play(way, emulator.url, instances[way], length)]))
                               for number, way in enumerate(ways))
                measured = finish_playbooks(started)
                log = emulator.requests()
                for way in ways:
                    requests = sum(1 for entry in log if entry["instance_id"] == instances[way]) + (1 if way.startswith("until uri") else 0)
                    lag = detection_lag(emulator, instances[way], length) if way != "pause" else 0.0
                    figures[way].append({"cpu": measured[way].cpu, "wall": measured[way].wall, "requests": requests, "lag": lag})
        floor = median([run["cpu"] for run in figures["pause"]])
        for way in ways:
            runs = figures[way]
            cpu = median([run["cpu"] for run in runs])
            lags = [run["lag"] for run in runs]
            rows.append(["%d s" % length, way, "%.2f" % cpu, "%.2fx" % (cpu / floor), "%d" % median([run["requests"] for run in runs]),
                         "" if way == "pause" else "%.1f" % (sum(lags) / len(lags)), "" if way == "pause" else "%.1f" % p90(lags),
                         "%.1f" % median([run["wall"] for run in runs])])
        ours = median([run["cpu"] for run in figures["wait_for_task"]]) / floor
        checks.append("%d s: wait_for_task CPU %.2fx the pause floor (target <= 1.2x: %s)" % (length, ours, verdict(ours, 1.2)))
        loop = "until dms_task_info delay=%d" % WAIT_SLEEP
        if loop in figures:
            ours_requests, loop_requests = (median([run["requests"] for run in figures[way]]) for way in ("wait_for_task", loop))
            ours_lag, loop_lag = (sum(run["lag"] for run in figures[way]) / repeats for way in ("wait_for_task", loop))
            checks.append("%d s: requests %d vs %d + %d (%s); mean lag %.1f vs %.1f s (%s)" % (
                length, ours_requests, loop_requests, EXTRA_REQUESTS, verdict(ours_requests, loop_requests + EXTRA_REQUESTS), ours_lag, loop_lag,
                verdict(ours_lag, loop_lag)))
    table("Waiting, real runs: one task ending after %s s (median of %d; CPU of the whole ansible-playbook process tree)"
          % (" and ".join(str(length) for length in lengths), repeats),
          ["task", "way", "CPU s", "CPU/pause", "requests", "lag mean s", "lag p90 s", "wall s"], rows, ["targets:"] + ["  " + check for check in checks])


# ------------------------------------------------------------------------------------------------
# Scale


def scale_table(workdir, host_counts, fork_counts, throttling, ways, length):
    rows = []
    for throttled in throttling:
        for hosts in host_counts:
            for forks in fork_counts:
                if hosts <= min(fork_counts) and forks != min(fork_counts):
                    continue  # every host has its own fork already: more forks change nothing
                for way in ways:
                    if throttled and way != "wait_for_task":
                        continue
                    names = ["host%03d" % number for number in range(hosts)]
                    faults = [{"kind": "any", "rate": 0.1, "seed": 7, "status": 429}] if throttled else []
                    instances = [task_of(instance_id(number + 1), length) for number in range(hosts)]
                    with Emulator(scenario(instances, faults), workdir) as emulator:
                        play = wait_play(way, emulator.url, "{{ instance }}", length, hosts="bench")
                        play["vars"] = {"instance": "{{ '%s' | format(groups['bench'].index(inventory_hostname) + 1) }}"
                                        % (instance_id(0)[:-12] + "%012d")}
                        measured = finish_playbook(start_playbook(workdir, "scale", [play], names, forks))
                        requests = emulator.count()
                    rows.append([str(hosts), str(forks), "10%" if throttled else "none", way, "%.1f" % measured.wall,
                                 "%.2f" % (measured.cpu / hosts), "%.1f" % (requests / float(hosts))])
    table("Scale: each host waits for its own instance's task, which ends after %d s" % length,
          ["hosts", "forks", "throttled", "way", "wall s", "CPU s per wait", "requests per wait"], rows)


# ------------------------------------------------------------------------------------------------
# Requests per poll, by mode


HISTORY = 1000
RUNNING_IDS = ["run%029d" % number for number in range(5)]


def requests_per_poll_table(workdir):
    """What each way of waiting costs per poll on an instance with a long history and a few running tasks."""
    running = [{"id": task_id, "name": "kafkaConfigModify", "created_offset": -30 - number, "status": "EXECUTING"}
               for number, task_id in enumerate(RUNNING_IDS)]
    history = [{"count": HISTORY, "name": "restartInstance", "created_offset": -3600}]
    document = scenario([{"id": instance_id(0), "engine": "kafka", "tasks": running, "generate": history},
                         {"id": instance_id(1), "engine": "kafka", "tasks": [], "generate": history}])
    started_before = datetime.now(timezone.utc) - timedelta(minutes=5)
    modes = (
        ("one task_id", 0, {"task_ids": RUNNING_IDS[:1]}),
        ("five task_ids", 0, {"task_ids": RUNNING_IDS}),
        ("name, task running", 0, {"name": "kafkaConfigModify"}),
        ("name, no such task yet", 0, {"name": "kafkaClientQuotaCreate"}),
        ("name + created_after, none yet", 0, {"name": "kafkaClientQuotaCreate", "created_after": started_before}),
        ("idle: true", 0, {"idle": True}),
        # A poll that finds no task running reads the instance too: its status must be RUNNING.
        ("idle: true, nothing running", 1, {"idle": True}),
    )
    rows = []
    with Emulator(document, workdir) as emulator:
        settings = connection_settings(dict(connection(emulator.url), request_timeout=30, max_retries=0, validate_certs=True))
        for label, instance, options in modes:
            client = DmsClient(settings)
            tracker = make_tracker(client, instance_id(instance), **options)
            costs = []
            for _poll in range(3):
                before = client.calls
                tracker.poll(deadline=None)
                costs.append(str(client.calls - before))
            rows.append([label] + costs)
    table("Requests per poll over a history of %d tasks with %d running" % (HISTORY, len(RUNNING_IDS)), ["mode", "poll 1", "poll 2", "poll 3"], rows)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--full", action="store_true", help="every table of docs/performance.md (about 30 minutes) instead of the quick subset")
    plan = FULL if parser.parse_args(argv).full else QUICK
    print("hwcloud.dms benchmarks (%s), %s" % ("full" if plan is FULL else "quick subset; --full for every table", load_note()))
    print()
    with tempfile.TemporaryDirectory() as workdir:
        simulated_table(plan["simulated"])
        listing_table(workdir, *plan["listing"])
        first_read_table(workdir, *plan["first_read"])
        real_waits_table(workdir, *plan["waits"])
        scale_table(workdir, *plan["scale"])
        requests_per_poll_table(workdir)
    print("done, %s" % load_note())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main(sys.argv[1:])
