# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.task_events: an ansible-rulebook event source, one event per status change of a DMS background task.

Only the asyncio glue lives here; what is read, what counts as a change and what is remembered are in
plugins/module_utils/task_watch.py, which uses the collection's own client, signer, options and task model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

DOCUMENTATION = r"""
---
short_description: Events from the background tasks of Huawei Cloud DMS instances
description:
  - An ansible-rulebook event source plugin that polls the background tasks (resize, restart, public IP binding,
    configuration change, ...) of Distributed Message Service instances (Kafka, RabbitMQ, RocketMQ) and sends one
    event per status change it observes, also of the changes nobody waits for, such as a resize started from the
    console that failed at night.
  - 'Each event is C({"dms_task": {"instance_id", "task", "previous_status", "status", "observed_at"}}). C(task) is the
    task as M(hwcloud.dms.dms_task_info) returns it (params parsed); C(previous_status) is V(null) for a task seen for
    the first time; C(observed_at) is when the poll saw the change, in UTC and the format of the API''s own times.'
  - The first poll reads the whole history of each instance once. Every later poll reads one listing of the tasks
    created since the poll before (usually one request), plus one request per older task that is still running,
    whatever the length of the history. Only the running tasks and the recent ones are remembered.
  - Throttling, server errors, dropped connections and timeouts are retried (O(max_retries) per request). A poll that
    still fails is logged once per outage, the pause between polls doubles while no instance answers (up to five
    minutes), and polling goes on.
  - An authentication failure stops the source at once, since repeated failures lock the access key. So do a wrong
    endpoint and an instance that does not exist at the first poll (a mistyped ID, most likely).
  - 'An instance that answered before and then does not exist (HTTP 404 C(DMS.00404022)) on two polls in a row is
    dropped from the watch with one last event, C({"dms_instance_gone": {"instance_id", "unfinished", "error",
    "msg", "observed_at"}}), whatever O(statuses) says; C(unfinished) holds its tasks last seen C(CREATED) or
    C(EXECUTING), whose ends will not be told. The other instances go on; once none is left the source ends.'
  - Secrets never appear in events or in the log.
  - A bad arg stops the source before any request, with a message that names it. The args are also described by the
    JSON Schema C(extensions/eda/plugins/event_source/schemas/task_events.json), generated from this documentation
    and the option tables.
  - 'Run as a script, the file prints the events, one JSON document a line, with the connection from the environment
    variables above: C(python task_events.py [--interval SECONDS] [--statuses STATUS ...] [--include-existing]
    INSTANCE_ID ...). It must be the copy inside an installed collection (C(ansible_collections/hwcloud/dms/)).'
version_added: 0.1.0
author:
  - hwcloud.dms contributors (@hwcloud)
requirements:
  - requests
  - ansible-core (present in decision environments)
options:
  instances:
    description:
      - IDs of the DMS instances to watch.
    type: list
    elements: str
    required: true
  interval:
    description:
      - Seconds from the start of one poll of the instances to the start of the next.
      - A number of seconds from 1 to 86400.
    type: float
    default: 15
  statuses:
    description:
      - Only a change to one of these statuses makes an event, for example V([FAILED, CANCELLED]).
      - By default every change makes an event.
    type: list
    elements: str
    choices: [CREATED, EXECUTING, SUCCESS, FAILED, CANCELLED, DELETED]
  include_existing:
    description:
      - Whether the tasks already CREATED or EXECUTING when the source starts make an event each (with
        C(previous_status) V(null)).
      - By default they do not, so that restarting a rulebook does not replay what it already handled; their later
        changes make events either way.
    type: bool
    default: false
  access_key:
    description:
      - Access key ID (AK) used to sign requests. Goes with O(secret_key); excludes O(auth_token).
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_AK), E(HW_ACCESS_KEY),
        E(ANSIBLE_HWC_ACCESS_KEY).'
    type: str
    aliases:
      - ak
  secret_key:
    description:
      - Secret access key (SK) used to sign requests. Never logged or returned.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_SK), E(HW_SECRET_KEY),
        E(ANSIBLE_HWC_SECRET_KEY).'
    type: str
    aliases:
      - sk
  security_token:
    description:
      - Security token of temporary AK/SK credentials, sent as C(X-Security-Token) and signed.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_SECURITY_TOKEN),
        E(HW_SECURITY_TOKEN).'
    type: str
  auth_token:
    description:
      - IAM token sent as C(X-Auth-Token) instead of signing with AK/SK.
      - Mutually exclusive with O(access_key), O(secret_key) and O(security_token).
      - 'If not set, the first of these environment variables that is set is used: E(HW_AUTH_TOKEN).'
    type: str
  region:
    description:
      - Region of the instance, for example V(ap-southeast-1).
      - Builds the default endpoints and finds the project ID when O(project_id) is not given.
      - 'If not set, the first of these environment variables that is set is used: E(HW_REGION_NAME), E(ANSIBLE_HWC_REGION).'
    type: str
  project_id:
    description:
      - Project ID. When not given it is looked up once from O(region) through IAM.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_PROJECT_ID),
        E(HW_PROJECT_ID), E(ANSIBLE_HWC_PROJECT_ID).'
    type: str
  cloud:
    description:
      - Domain of the cloud the default endpoints are built on.
      - Defaults to V(myhuaweicloud.com), or V(myhuaweicloud.eu) in region V(eu-west-101).
      - 'If not set, the first of these environment variables that is set is used: E(HW_CLOUD).'
    type: str
  endpoint:
    description:
      - Base URL of the DMS API, overriding C(https://dms.{region}.{cloud}).
      - For another cloud on the same stack, a proxy, or the bundled emulator.
      - 'If not set, the first of these environment variables that is set is used: E(HW_DMS_ENDPOINT).'
    type: str
  iam_endpoint:
    description:
      - Base URL of IAM, overriding C(https://iam.{region}.{cloud}). Used only to find the project ID.
      - As in the official SDK, Huawei Cloud regions without an IAM endpoint of their own (V(af-north-1), V(ap-southeast-5),
        V(cn-north-11), V(cn-south-4), V(cn-southwest-3), V(ru-northwest-2)) default to the global C(https://iam.myhuaweicloud.com)
        instead; with another O(cloud) the regional form applies.
      - 'If not set, the first of these environment variables that is set is used: E(HUAWEICLOUD_SDK_IAM_ENDPOINT).'
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the endpoints. Only turn this off against a test server.
      - 'If not set, the first of these environment variables that is set is used: E(HW_VALIDATE_CERTS).'
    type: bool
    default: true
  ca_path:
    description:
      - File of CA certificates (PEM) to verify the endpoints with, instead of the system's.
      - 'If not set, the first of these environment variables that is set is used: E(HW_CA_PATH).'
    type: path
  request_timeout:
    description:
      - Seconds to wait for each HTTP response.
      - A number of seconds greater than 0 and at most 600.
    type: float
    default: 30
  max_retries:
    description:
      - How many times a request is retried after a throttling (429), server error (500, 502, 503, 504), dropped
        connection, timeout or unreadable answer, with exponential backoff and jitter.
      - 'Authentication failures are never retried: repeated failed signatures lock the access key.'
      - An integer from 0 to 10.
      - 'If not set, the first of these environment variables that is set is used: E(HW_MAX_RETRIES).'
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Tell every change of two instances; credentials from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK
  hwcloud.dms.task_events:
    region: ap-southeast-1
    instances:
      - 11111111-2222-3333-4444-555555555555
      - 66666666-7777-8888-9999-000000000000

- name: Failed and cancelled tasks only, polled every minute
  hwcloud.dms.task_events:
    region: eu-west-101
    project_id: 0123456789abcdef0123456789abcdef
    access_key: "{{ hwcloud_access_key }}"
    secret_key: "{{ hwcloud_secret_key }}"
    instances:
      - "{{ kafka_instance_id }}"
    statuses: [FAILED, CANCELLED]
    interval: 60
"""


def _collections_root():
    """The folder that holds the ansible_collections/ tree this file is installed in, or None."""
    collection = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))
    tree = os.path.dirname(os.path.dirname(collection))
    return os.path.dirname(tree) if os.path.basename(tree) == "ansible_collections" else None


# ansible-rulebook runs this file with runpy.run_path, outside Ansible's plugin loader: the shared code of this very
# copy of the collection becomes importable once the root of its ansible_collections/ tree is on sys.path.
_ROOT = _collections_root()
if _ROOT and _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import DmsError  # noqa: E402
from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import SOURCE_NAME, TaskWatch, source_config  # noqa: E402


async def main(queue, args):
    """Poll the instances and put one event per observed change on ``queue`` until cancelled.

    Returns once no instance is left to watch (each was deleted); otherwise only by raising: ConfigurationError for
    bad args (before any request), SourceStopped for an error that no retry can mend. The blocking client runs in a
    worker thread, so the event loop never waits on the network.
    """
    watch = TaskWatch(source_config(args))
    loop = asyncio.get_running_loop()
    try:
        while watch.instances:
            round_started = loop.time()
            for instance in list(watch.instances):  # an instance found deleted leaves the list during the round
                for event in await asyncio.to_thread(watch.poll, instance):
                    await queue.put(event)
            if watch.instances:
                await asyncio.sleep(max(0.0, watch.next_pause() - (loop.time() - round_started)))
    finally:
        watch.stop()


class PrintingQueue(asyncio.Queue):
    """The queue ansible-rulebook would read, when the file runs as a script: each event is printed as a line of JSON."""

    async def put(self, item):
        print(json.dumps(item, sort_keys=True), flush=True)


def run_from_command_line(argv=None):
    """Run main() on the instance IDs and source args of the command line; the connection comes from the environment.

    Returns the exit status: 0 once every instance is gone, 1 on an error (its message, which carries no secret, on
    standard error), 130 on Ctrl-C.
    """
    parser = argparse.ArgumentParser(
        prog="task_events.py", description="Print the events of %s, one JSON document a line." % SOURCE_NAME,
        epilog="The connection comes from the environment variables of the options, for example HW_DMS_ENDPOINT or"
               " HW_REGION_NAME, HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID.")
    parser.add_argument("instances", nargs="+", metavar="INSTANCE_ID", help="an instance to watch")
    parser.add_argument("--interval", metavar="SECONDS", help="seconds between polls (default 15)")
    # One comma-separated value: a list of words would take the instance IDs after it as statuses too.
    parser.add_argument("--statuses", type=lambda text: [status.strip() for status in text.split(",")], metavar="STATUS[,STATUS...]",
                        help="only changes to these statuses, comma-separated (default: every change)")
    parser.add_argument("--include-existing", action="store_true", help="an event for each task already active at start")
    args = dict((name, value) for name, value in vars(parser.parse_args(argv)).items() if value not in (None, False))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")  # the outage lines, on standard error
    try:
        asyncio.run(main(PrintingQueue(), args))
    except DmsError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run_from_command_line())
