# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way of listing every task of an instance, run in a fresh interpreter by the listing benchmark.

    python -m ansible_collections.hwcloud.dms.tests.benchmarks.listing_clients WAY URL INSTANCE_ID

Prints one JSON line: tasks read, client CPU and wall seconds of the read alone (imports and set-up excluded), and the
process's peak RSS in MiB.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from ansible_collections.hwcloud.dms.tests.benchmarks.measure import ACCESS_KEY, PROJECT_ID, REGION, SECRET_KEY, connection

PAGE = 100


def floor_loop(url, instance):
    """What any client must do: a keep-alive session, each page signed, parsed, its IDs kept; nothing else."""
    import requests
    from ansible_collections.hwcloud.dms.plugins.module_utils.signing import AkSkSigner, canonical_query

    signer = AkSkSigner(ACCESS_KEY, SECRET_KEY)
    session = requests.Session()
    path = "%s/v2/%s/instances/%s/tasks" % (url, PROJECT_ID, instance)

    def read():
        seen, start = set(), 1
        while True:
            params = [("limit", str(PAGE)), ("start", str(start))]
            headers = signer.sign("GET", path, params, {"Content-Type": "application/json", "X-Project-Id": PROJECT_ID})
            body = session.get(path + "?" + canonical_query(params), headers=headers).json()
            seen.update(task["id"] for task in body["tasks"])
            if len(body["tasks"]) < PAGE or len(seen) >= int(body["task_count"]):
                return len(seen)
            start += PAGE
    return read


def collection_client(read_all):
    def prepare(url, instance):
        from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
        from ansible_collections.hwcloud.dms.plugins.module_utils.options import connection_settings

        settings = dict(connection(url), request_timeout=30, max_retries=5, validate_certs=True)
        client = DmsClient(connection_settings(settings))
        return lambda: len(list(client.list_tasks(instance, read_all=read_all)))
    return prepare


def sdk_loop(url, instance):
    """The official SDK's paging loop, at the API's largest page size."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.region.region import Region
    from huaweicloudsdkkafka.v2 import KafkaClient, ListBackgroundTasksRequest

    credentials = BasicCredentials(ACCESS_KEY, SECRET_KEY, PROJECT_ID)
    client = KafkaClient.new_builder().with_credentials(credentials).with_region(Region(REGION, url)).build()

    def read():
        seen, start = set(), 1
        while True:
            answer = client.list_background_tasks(ListBackgroundTasksRequest(instance_id=instance, start=start, limit=PAGE))
            page = answer.tasks or []
            seen.update(task.id for task in page)
            if len(page) < PAGE or len(seen) >= int(answer.task_count):
                return len(seen)
            start += PAGE
    return read


WAYS = {"floor": floor_loop, "ours": collection_client(False), "ours_read_all": collection_client(True), "sdk": sdk_loop}


def main(way, url, instance):
    read = WAYS[way](url, instance)
    cpu, wall = time.process_time(), time.perf_counter()
    count = read()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"tasks": count, "cpu": cpu, "wall": wall, "peak_mib": peak}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
