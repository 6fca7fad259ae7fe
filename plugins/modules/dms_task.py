#!/usr/bin/python
# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dms_task
short_description: Delete finished background tasks of a Huawei Cloud DMS instance
version_added: 0.1.0
description:
  - Deletes the records of finished background tasks (resize, restart, public IP binding, configuration change, ...)
    of one Distributed Message Service instance (Kafka, RabbitMQ or RocketMQ, which share this API), for example to
    keep its task history short.
  - Say which tasks with O(task_id), or select them with any of O(status), O(name) and O(older_than); a task is
    selected when it passes every one given. A selection without any criteria is refused, so that a slip never
    deletes the whole history.
  - A task that is C(CREATED) or C(EXECUTING) is never deleted, whatever the options; it is returned in RV(kept)
    with the reason.
  - Idempotent. A task already gone (by O(task_id), or DMS no longer has it when it is deleted) is no change and no
    error, so running the same task again changes nothing. DMS may keep listing a deleted task with status
    C(DELETED) (undocumented), so a task that was C(DELETED) before its delete is read again afterwards, and is no
    change when it is still there. Check mode cannot know this and reports such a task as one it would delete.
  - A selection lists the instance's tasks, 100 at a time. When the listing ends short of the number of tasks the API
    counted, nothing is deleted and the module fails, since the selection may then miss tasks.
  - Tasks are deleted one by one. A delete is sent again only when the request certainly did not reach the service
    (throttled with HTTP 429, or failed before any byte of it was sent); after a server error, a timeout, a dropped
    connection or a TLS error once it was sent, it is not sent again, since it may have been applied. The task is then
    read back. Gone (or newly listed as C(DELETED)) means it was deleted, still there means it was not. When that read
    fails too, the task is returned in RV(unconfirmed) and the module fails; running the task again settles it.
  - When some deletes fail, the module goes on with the others, then fails and returns what was deleted
    (RV(deleted)) and what was not (RV(not_deleted)), with the API's answer for each. After an error every further
    delete would meet too (authentication, a missing instance, persistent throttling), it stops there.
  - To read tasks without deleting them, use M(hwcloud.dms.dms_task_info).
author:
  - hwcloud.dms contributors (@hwcloud)
options:
  instance_id:
    description: ID of the DMS instance.
    type: str
    required: true
  task_id:
    description:
      - Delete these tasks, each read by its ID first. Cannot be combined with O(status), O(name) or O(older_than).
      - A task that DMS says does not exist is already gone, which is no change.
    type: list
    elements: str
  status:
    description:
      - Select only tasks in these statuses. Only final statuses can be given.
    type: list
    elements: str
    choices: [SUCCESS, FAILED, CANCELLED, DELETED]
  name:
    description: Select only tasks with these names, for example V(bindInstancePublicIp) or V(kafkaConfigModify).
    type: list
    elements: str
  older_than:
    description:
      - Select only tasks created before this time, to the second.
      - A duration back from now on the host the module runs on, a whole number and a unit, V(s), V(m) (minutes),
        V(h), V(d) or V(w), such as V(30d) or V(12h); or a time, V(YYYYMMDDHHmmss) or ISO-8601 such as
        V(2024-05-01T00:00:00Z) (a time without a zone is UTC).
    type: str
  state:
    description:
      - V(absent) is the only state; tasks are never created by this module.
    type: str
    choices: [absent]
    default: absent
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
    details: Reads the tasks and reports in RV(deleted) the ones it would delete, without deleting any.
  diff_mode:
    support: full
    details: The diff has a line per selected task (ID, name and status) before, and the tasks still there after.
  platform:
    platforms: all
    details: "Runs wherever C(requests) is installed, usually on the controller with C(delegate_to: localhost)."
notes:
  - This module is in the action group C(hwcloud.dms.dms), so C(module_defaults) for C(group/hwcloud.dms.dms)
    can hold the connection options of every task.
  - The API does not document what it answers to deleting a task that has not finished; this module never asks.
seealso:
  - module: hwcloud.dms.dms_task_info
  - module: hwcloud.dms.wait_for_task
requirements:
  - requests
"""

EXAMPLES = r"""
- name: Delete the finished tasks of a Kafka instance that are older than 90 days
  hwcloud.dms.dms_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    status: [SUCCESS, FAILED, CANCELLED, DELETED]
    older_than: 90d
  delegate_to: localhost
  register: cleanup

- name: Delete the task behind the job_id that a change returned, once it has ended
  hwcloud.dms.dms_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    task_id: "{{ resize.json.job_id }}"
    state: absent
  delegate_to: localhost

- name: Failed public IP bindings before May 2024
  hwcloud.dms.dms_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    status: [FAILED]
    name: [bindInstancePublicIp, unbindInstancePublicIp]
    older_than: "2024-05-01T00:00:00Z"
  delegate_to: localhost

- name: Housekeeping on several instances; credentials from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK
  module_defaults:
    group/hwcloud.dms.dms:
      region: ap-southeast-1
      project_id: "{{ project_id }}"
  block:
    - name: Which tasks would go (run with --check --diff to see them)
      hwcloud.dms.dms_task:
        instance_id: "{{ item }}"
        status: [SUCCESS]
        older_than: 30d
      loop: "{{ dms_instance_ids }}"
      delegate_to: localhost
"""

RETURN = r"""
deleted:
  description:
    - The tasks deleted, newest first, as they were before; in check mode, the tasks that would be deleted.
    - Tasks already gone are not in it.
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
kept:
  description: The selected tasks left alone because they are C(CREATED) or C(EXECUTING), newest first.
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
    reason:
      description: Why the task was kept.
      type: str
      sample: "EXECUTING: a task that has not finished is never deleted"
not_deleted:
  description:
    - The tasks whose delete failed, then the ones not tried after an error every further delete would meet too.
  returned: when a delete failed
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
    msg:
      description: Why the task is still there.
      type: str
      sample: "HTTP 500 DMS.00500000: Internal error. (DELETE /v2/.../tasks/ff80..., request ID 5b7f...)"
    error:
      description: What the API answered, when it answered.
      type: dict
      returned: when the API answered
      contains:
        http_status:
          description: HTTP status code.
          type: int
          sample: 500
        error_code:
          description: The API's error code.
          type: str
          sample: DMS.00500000
        error_msg:
          description: The API's error message.
          type: str
          sample: Internal error.
        request_id:
          description: The request ID to quote to support.
          type: str
          sample: 5b7fd8b1b1b04f8c9a1f2f9d6ad6a8e1
unconfirmed:
  description:
    - The tasks whose delete may or may not have been applied, newest first, as they were before; each with C(msg).
    - The answer to the delete was lost (a server error, a timeout, a dropped connection) and reading the task back
      failed too. The module then fails.
  returned: when the outcome of a delete is unknown
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
      description: The status the task had before its delete.
      type: str
      sample: SUCCESS
    msg:
      description: Why the outcome is unknown.
      type: str
      sample: "the delete may or may not have been applied: HTTP 503 APIG.0202: Backend unavailable. (...); reading the task
        back failed too: gave up after 6 attempts: ..."
error:
  description: What the API answered, when reading the tasks failed on an API error.
  returned: on API failure while reading the tasks
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

from datetime import datetime, timezone

from ansible_collections.hwcloud.dms.plugins.module_utils.deletion import DeletionOutcome, delete_tasks, deletion_diff, split_active
from ansible_collections.hwcloud.dms.plugins.module_utils.dms_module import run_module
from ansible_collections.hwcloud.dms.plugins.module_utils.options import argument_spec
from ansible_collections.hwcloud.dms.plugins.module_utils.selection import deletion_selection, read_tasks
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import FINAL_STATUSES

ARGUMENT_SPEC = argument_spec(
    instance_id=dict(type="str", required=True),
    task_id=dict(type="list", elements="str"),
    status=dict(type="list", elements="str", choices=list(FINAL_STATUSES)),
    name=dict(type="list", elements="str"),
    older_than=dict(type="str"),
    state=dict(type="str", choices=["absent"], default="absent"),
)


def failure_message(instance_id, to_delete, outcome):
    message = "Deleted %d of the %d tasks to delete on instance %s" % (len(outcome.deleted), len(to_delete), instance_id)
    if outcome.failed:
        message += "; could not delete %s" % _entries(outcome.failed)
    if outcome.untried:
        message += "; stopped there, %d more not tried" % len(outcome.untried)
    if outcome.unconfirmed:
        message += "; unknown whether these were deleted: %s" % _entries(outcome.unconfirmed)
    return message


def _entries(entries):
    return "; ".join("%s (%s): %s" % (entry["id"], entry["name"], entry["msg"]) for entry in entries)


def nothing_done(_params):
    return {"changed": False, "deleted": [], "kept": []}


def reading(params):
    return "Could not read the tasks of instance %s" % str(params.get("instance_id")).strip()


def run(module, client):
    selection = deletion_selection(module.params, datetime.now(timezone.utc))
    selected, listing = read_tasks(client, selection)
    if listing is not None and listing.complete is False:
        module.fail_json(msg="Nothing was deleted: the listing of instance %s stopped at %d of the %d tasks the API counted, so the"
                             " selection may miss tasks" % (selection.instance_id, listing.held, listing.counted), **nothing_done(module.params))
    to_delete, kept = split_active(selected)
    if module.check_mode:
        outcome = DeletionOutcome(deleted=to_delete)
    else:
        outcome = delete_tasks(client, selection.instance_id, to_delete)
    result = dict(changed=bool(outcome.deleted), deleted=outcome.deleted, kept=kept)
    if module._diff:
        result["diff"] = deletion_diff(selection.instance_id, selected, outcome, kept)
    if outcome.unconfirmed:
        result["unconfirmed"] = outcome.unconfirmed
    if outcome.failed or outcome.unconfirmed:
        module.fail_json(msg=failure_message(selection.instance_id, to_delete, outcome), not_deleted=outcome.not_deleted, **result)
    return result


def main():
    run_module(ARGUMENT_SPEC, run, nothing_done, reading)


if __name__ == "__main__":
    main()
