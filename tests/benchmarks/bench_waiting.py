# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks: figures and ratios, printed, never asserted.

1. How soon a finished task is noticed, and at what cost in API calls: wait_for_task's schedule against
   Terraform's task waiter (first check at 20 s, then every 30 s) and a playbook `until` loop with delay 10.
   Simulated time, so the figures are exact and repeatable.
2. Listing thousands of tasks from the emulator: our client against the official SDK with its default page
   size (what a user of the SDK gets without tuning), in requests and seconds.

Run from a collection tree importable as ansible_collections.hwcloud.dms (tests/run.sh does this).
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import datetime, timedelta, timezone

from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings
from ansible_collections.hwcloud.dms.plugins.module_utils.waiter import PollSchedule, make_tracker
from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

END_RANGES = ((2, 8), (8, 30), (30, 120), (120, 600), (600, 1800))
SAMPLES = 400
TASK_COUNT = 5000
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
ACCESS_KEY = "AKBENCH000000000001"
SECRET_KEY = "SKBENCH0000000000000000000000000000000001"


def ours(end):
    schedule = PollSchedule(10.0, rng=random.Random(7).random)
    now, calls = 0.0, 1
    while now < end:
        now += schedule.next_pause()
        calls += 1
    return now, calls


def fixed(first, every):
    def poll_times(end):
        now, calls = float(first), 1
        while now < end:
            now += every
            calls += 1
        return now, calls
    return poll_times


def detection_table():
    strategies = (("wait_for_task", ours), ("terraform 20s+30s", fixed(20, 30)), ("until delay=10", fixed(0, 10)))
    rng = random.Random(1)
    print("1. Noticing a task that ends at a random time in a range (simulated, %d samples a range):" % SAMPLES)
    print("   mean delay after the end / mean API calls. (An until loop also pays a module run per try.)")
    print("%12s  %s" % ("ends within", "  ".join("%26s" % name for name, _strategy in strategies)))
    late_sums = dict((name, 0.0) for name, _strategy in strategies)
    for low, high in END_RANGES:
        ends = [rng.uniform(low, high) for _sample in range(SAMPLES)]
        cells = []
        for name, strategy in strategies:
            outcomes = [strategy(end) for end in ends]
            late = sum(seen - end for (seen, _calls), end in zip(outcomes, ends)) / SAMPLES
            calls = sum(calls for _seen, calls in outcomes) / SAMPLES
            late_sums[name] += late
            cells.append("%26s" % ("%5.1f s late / %6.1f calls" % (late, calls)))
        print("%12s  %s" % ("%d-%d s" % (low, high), "  ".join(cells)))
    ours_late = late_sums["wait_for_task"]
    print("   mean delay over all ranges: wait_for_task %.1f s; terraform %.1fx that; until delay=10 %.1fx that" % (
        ours_late / len(END_RANGES), late_sums["terraform 20s+30s"] / ours_late, late_sums["until delay=10"] / ours_late))


def listing_table():
    scenario = {
        "project_id": PROJECT_ID, "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}],
        "instances": [{"id": INSTANCE_ID, "engine": "kafka", "generate": [{"count": TASK_COUNT}]}],
    }
    with tempfile.TemporaryDirectory() as workdir, Emulator(scenario, workdir) as emulator:
        settings = connection_settings({
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "project_id": PROJECT_ID, "endpoint": emulator.url,
            "request_timeout": 30, "max_retries": 0, "validate_certs": True,
        })
        started = time.perf_counter()
        count = len(list(DmsClient(settings).list_tasks(INSTANCE_ID)))
        ours_seconds, ours_requests = time.perf_counter() - started, emulator.count("list")
        emulator.reset()
        started = time.perf_counter()
        sdk_count = sdk_list_all(emulator.url)
        sdk_seconds, sdk_requests = time.perf_counter() - started, emulator.count("list")
    print("2. Listing %d tasks from the emulator on 127.0.0.1" % TASK_COUNT)
    print("   hwcloud.dms client: %d tasks, %d requests, %.2f s" % (count, ours_requests, ours_seconds))
    print("   official SDK, default page size: %d tasks, %d requests, %.2f s" % (sdk_count, sdk_requests, sdk_seconds))
    print("   ratio: %.1fx fewer requests, %.1fx faster" % (sdk_requests / ours_requests, sdk_seconds / ours_seconds))


def sdk_list_all(url):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.region.region import Region
    from huaweicloudsdkkafka.v2 import KafkaClient, ListBackgroundTasksRequest

    credentials = BasicCredentials(ACCESS_KEY, SECRET_KEY, PROJECT_ID)
    client = KafkaClient.new_builder().with_credentials(credentials).with_region(Region("ap-southeast-1", url)).build()
    seen, start = set(), 1
    while True:
        page = client.list_background_tasks(ListBackgroundTasksRequest(instance_id=INSTANCE_ID, start=start)).tasks or []
        seen.update(task.id for task in page)
        if len(page) < 10:
            return len(seen)
        start += len(page)


HISTORY = 1000
RUNNING_IDS = ["run%029d" % number for number in range(5)]


def requests_per_poll_table():
    """What each way of waiting costs per poll on an instance with a long history and a few running tasks."""
    running = [{"id": task_id, "name": "kafkaConfigModify", "created_offset": -30 - number, "status": "EXECUTING"}
               for number, task_id in enumerate(RUNNING_IDS)]
    scenario = {
        "project_id": PROJECT_ID, "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}],
        "instances": [{"id": INSTANCE_ID, "engine": "kafka", "tasks": running,
                       "generate": [{"count": HISTORY, "name": "restartInstance", "created_offset": -3600}]}],
    }
    started_before = datetime.now(timezone.utc) - timedelta(minutes=5)
    modes = (
        ("one task_id", {"task_ids": RUNNING_IDS[:1]}),
        ("five task_ids", {"task_ids": RUNNING_IDS}),
        ("two task_ids, one mistyped", {"task_ids": [RUNNING_IDS[0], "f" * 32]}),
        ("name, task running", {"name": "kafkaConfigModify"}),
        ("name, no such task yet", {"name": "kafkaClientQuotaCreate"}),
        ("name + created_after, none yet", {"name": "kafkaClientQuotaCreate", "created_after": started_before}),
        ("idle: true", {"idle": True}),
    )
    with tempfile.TemporaryDirectory() as workdir, Emulator(scenario, workdir) as emulator:
        settings = connection_settings({
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "project_id": PROJECT_ID, "endpoint": emulator.url,
            "request_timeout": 30, "max_retries": 0, "validate_certs": True,
        })
        print("3. Requests per poll over a history of %d tasks with %d running (check mode makes poll 1 only)" % (HISTORY, len(RUNNING_IDS)))
        print("   %-32s %8s %8s %8s" % ("mode", "poll 1", "poll 2", "poll 3"))
        for label, options in modes:
            client = DmsClient(settings)
            tracker = make_tracker(client, INSTANCE_ID, **options)
            costs = []
            for _poll in range(3):
                before = client.calls
                tracker.poll(deadline=None)
                costs.append(client.calls - before)
            print("   %-32s %8d %8d %8d" % (label, costs[0], costs[1], costs[2]))


if __name__ == "__main__":
    detection_table()
    print()
    listing_table()
    print()
    requests_per_poll_table()
