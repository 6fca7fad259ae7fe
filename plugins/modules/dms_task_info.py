#!/usr/bin/python
# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dms_task_info
short_description: List the background tasks of a Huawei Cloud DMS instance
version_added: 0.1.0
description:
  - Reads the background tasks (resize, restart, public IP binding, configuration change, ...) of one
    Distributed Message Service instance (Kafka, RabbitMQ or RocketMQ, which share this API) and returns
    them as clean data, newest first.
  - Pages through the API 100 tasks at a time and stops as soon as it holds what was asked for.
  - Filters on O(status) and O(name) apply to what the API returns. O(begin_time) and O(end_time) are also
    sent to the API so that it returns less, widened by a day on each side (the API documents neither their
    time zone nor whether its bounds are inclusive); the exact filter is applied to what comes back.
  - An answer of an unexpected shape (an empty body, no list of tasks) is retried like a server error and then
    reported as an error; it is never read as "no tasks".
  - To block until a task has ended, use M(hwcloud.dms.wait_for_task).
author:
  - hwcloud.dms contributors (@hwcloud)
options:
  instance_id:
    description: ID of the DMS instance.
    type: str
    required: true
  task_id:
    description:
      - Return only these tasks, each read by its ID (for example the C(job_id) a change returned).
      - A task that DMS says does not exist is left out of RV(tasks); it is not an error. An ID the API refuses
        as malformed, or a 404 from the gateway (no such API; check O(endpoint) and O(region)), is.
    type: list
    elements: str
  status:
    description: Keep only tasks in these statuses.
    type: list
    elements: str
    choices: [CREATED, EXECUTING, SUCCESS, FAILED, DELETED, CANCELLED]
  name:
    description: Keep only tasks with these names, for example V(bindInstancePublicIp) or V(kafkaConfigModify).
    type: list
    elements: str
  begin_time:
    description:
      - Keep only tasks created at or after this time.
      - V(YYYYMMDDHHmmss) or ISO-8601 such as V(2024-05-01T08:00:00+02:00) (a time without a zone is UTC); or a
        duration back from now on the host the module runs on, a whole number and a unit, V(s), V(m) (minutes),
        V(h), V(d) or V(w), such as V(7d) for the last week.
    type: str
  end_time:
    description:
      - Keep only tasks created at or before this time. Same formats as O(begin_time), and not before it.
    type: str
  limit:
    description:
      - Return at most this many tasks, the newest first. Paging stops as soon as it has them.
      - From 1 to 100000.
    type: int
extends_documentation_fragment:
  - hwcloud.dms.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: none
  async:
    support: full
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: "Runs wherever C(requests) is installed, usually on the controller with C(delegate_to: localhost)."
notes:
  - This module is in the action group C(hwcloud.dms.dms), so C(module_defaults) for C(group/hwcloud.dms.dms)
    can hold the connection options of every task.
seealso:
  - module: hwcloud.dms.wait_for_task
requirements:
  - requests
"""

EXAMPLES = r"""
- name: List the newest tasks of a Kafka instance
  hwcloud.dms.dms_task_info:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    limit: 20
  delegate_to: localhost
  register: recent

- name: Show what is still running
  ansible.builtin.debug:
    msg: "{{ recent.tasks | selectattr('status', 'in', ['CREATED', 'EXECUTING']) | map(attribute='name') | list }}"

- name: Failed public IP bindings since the start of May
  hwcloud.dms.dms_task_info:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    status: [FAILED]
    name: [bindInstancePublicIp]
    begin_time: "2024-05-01T00:00:00Z"
  delegate_to: localhost
  register: failed_binds

- name: Read the task behind the job_id that a change returned
  hwcloud.dms.dms_task_info:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    task_id: "{{ resize.json.job_id }}"
  delegate_to: localhost
  register: resize_task

- name: Connection options once for every DMS task; credentials from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK
  module_defaults:
    group/hwcloud.dms.dms:
      region: ap-southeast-1
      project_id: "{{ project_id }}"
  block:
    - name: Executing tasks of the RabbitMQ instance
      hwcloud.dms.dms_task_info:
        instance_id: "{{ rabbitmq_instance_id }}"
        status: [EXECUTING]
      delegate_to: localhost
      register: busy
"""

RETURN = r"""
tasks:
  description: The selected tasks, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Task ID.
      type: str
      sample: ff80808272dcc90f0172df1e490f41b0
    name:
      description: Task name.
      type: str
      sample: bindInstancePublicIp
    status:
      description: One of C(CREATED), C(EXECUTING), C(SUCCESS), C(FAILED), C(DELETED), C(CANCELLED).
      type: str
      sample: SUCCESS
    user_name:
      description: Name of the user who started the task.
      type: str
      sample: dms_test
    user_id:
      description: ID of the user who started the task.
      type: str
      sample: 0a1b2c3d93ff484a828144c6a1b2c3d4
    params:
      description: The task parameters, parsed; empty when the API sent none or not a JSON object.
      type: dict
      sample: {"public_ip_id": "06a13350-4305-4338-9f0e-6b322bb1413d", "enable_public_ip": true}
    params_raw:
      description: The task parameters exactly as the API sent them (a JSON document in a string).
      type: str
      sample: '{"public_ip_id":"06a13350-4305-4338-9f0e-6b322bb1413d","enable_public_ip":true}'
    created_at:
      description: Creation time, UTC.
      type: str
      sample: "2020-06-23T03:00:03.471Z"
    updated_at:
      description: Time of the last status change, UTC.
      type: str
      sample: "2020-06-23T03:00:08.130Z"
task_count:
  description: Number of tasks in RV(tasks).
  returned: always
  type: int
  sample: 1
complete:
  description:
    - Whether the listing read every task the API counted (its C(task_count)). V(false) when paging ended short
      of it (a server that ignores the paging position, or a listing that would not advance); a warning then
      gives both numbers, and RV(tasks) may miss tasks.
    - V(true) when tasks were read by O(task_id), or when O(limit) stopped paging early.
  returned: always
  type: bool
  sample: true
error:
  description: What the API answered, when the module failed on an API error.
  returned: on API failure
  type: dict
  contains:
    http_status:
      description: HTTP status code.
      type: int
      sample: 404
    error_code:
      description: The API's error code.
      type: str
      sample: DMS.00404022
    error_msg:
      description: The API's error message.
      type: str
      sample: The instance does not exist.
    request_id:
      description: The request ID to quote to support.
      type: str
      sample: 5b7fd8b1b1b04f8c9a1f2f9d6ad6a8e1
"""

from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.dms_module import run_module
from ansible_collections.hwcloud.dms.plugins.module_utils.options import argument_spec
from ansible_collections.hwcloud.dms.plugins.module_utils.selection import info_selection, read_tasks
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import STATUSES

ARGUMENT_SPEC = argument_spec(
    instance_id=dict(type="str", required=True),
    task_id=dict(type="list", elements="str"),
    status=dict(type="list", elements="str", choices=list(STATUSES)),
    name=dict(type="list", elements="str"),
    begin_time=dict(type="str"),
    end_time=dict(type="str"),
    limit=dict(type="int"),
)


def nothing_read(_params):
    return {"tasks": [], "task_count": 0, "complete": False}


def reading(params):
    return "Could not read the tasks of instance %s" % str(params.get("instance_id")).strip()


def run(module, client):
    tasks, listing = read_tasks(client, info_selection(module.params, SYSTEM_CLOCK.wall()))
    complete = listing is None or listing.complete is not False
    if not complete:
        module.warn("The listing of instance %s stopped at %d of the %d tasks the API counted: tasks may be missing from the result"
                    % (module.params["instance_id"].strip(), listing.held, listing.counted))
    return {"changed": False, "tasks": tasks, "task_count": len(tasks), "complete": complete}


def main():
    run_module(ARGUMENT_SPEC, run, nothing_read, reading)


if __name__ == "__main__":
    main()
