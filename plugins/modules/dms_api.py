#!/usr/bin/python
# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the action plugin plugins/action/dms_api.py, which does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dms_api
short_description: Make any Huawei Cloud DMS API call, signed with the collection's credentials
version_added: 0.1.0
description:
  - Sends one call to the Distributed Message Service API (Kafka, RabbitMQ or RocketMQ) and returns its answer.
    Any call, reads included; the change calls (resize, restart, configuration change, ...) answer with a
    C(job_id) to wait for with M(hwcloud.dms.wait_for_task).
  - Signs it with AK/SK (SDK-HMAC-SHA256) or sends an IAM token, with the same connection options and environment
    variables as the other modules of the collection, so the credentials that let a playbook wait for a change
    also let it start one.
  - C(changed) is V(true) for a write answered with a 2xx status, V(false) otherwise. The batch action on instances
    (V(POST) V(/v2/{project_id}/instances/action), a restart or a delete) answers 200 with a C(result) per
    instance, and is read item by item. An instance whose result is C(failed) was refused, and the module fails
    naming those instances, with C(changed=false) when no instance succeeded. An answer of that call without such a
    list fails too, since whether it was applied is then not known, instead of passing as a success.
  - A read (V(GET)) is retried as the other modules retry. A write (V(POST), V(PUT), V(DELETE)) is sent again only
    when it certainly did not reach the service, that is after a 429 throttling answer of the gateway or a
    connection that could not be made. After a timeout, a dropped connection or a server error (5xx) it may have
    been applied, so it is not sent again (a retried resize could run twice) and the task fails saying so.
  - Authentication failures are never retried.
  - It runs on the controller and prints live lines while it waits (see the notes); no C(async) is needed.
author:
  - hwcloud.dms contributors (@hwcloud)
options:
  method:
    description:
      - The HTTP method. V(GET) reads; the others change something and report C(changed) when the API accepts them.
    type: str
    choices: [GET, POST, PUT, DELETE]
    default: GET
  path:
    description:
      - The path of the call below O(endpoint), as the API reference writes it, for example
        V(/v2/{project_id}/instances/{{ instance_id }}/configs) or V(/v2/kafka/{project_id}/instances/{{ instance_id }}/extend).
      - C({project_id}) is replaced by the project ID (O(project_id), or looked up through IAM from O(region)). Any
        other placeholder, such as C({instance_id}), is refused before any request; put its value in the path.
      - Write it unencoded; each segment is percent-encoded when sent. A full URL, a query string (use O(query)),
        empty segments and C(.) or C(..) segments are refused.
    type: str
    required: true
  query:
    description:
      - Query parameters. Values are strings, numbers or booleans (sent as V(true) or V(false)); a list sends its
        key once per item.
    type: dict
  body:
    description:
      - The request body, a dict or a list, sent as JSON. Without it no body is sent.
    type: raw
  status_code:
    description:
      - The HTTP statuses that count as success. Any other status fails the task, which still returns RV(status)
        and RV(json).
      - Defaults to any 2xx status.
    type: list
    elements: int
  instance_id:
    description:
      - The instance whose tasks O(wait) and O(when_busy=wait) wait on, and whose status names a refusal and is read
        in check mode.
      - Defaults to the path segment after C(instances), when another segment follows it, as in
        V(/v2/{project_id}/instances/<id>/configs) and V(/v2/kafka/{project_id}/instances/<id>/extend); for the batch
        action V(/v2/{project_id}/instances/action), to the instance its body names when it names one.
    type: str
  wait:
    description:
      - Wait until the task the change started has ended, as M(hwcloud.dms.wait_for_task) waits for it, and fail
        the way it fails (the task ended C(FAILED), C(CANCELLED) or C(DELETED), or O(wait_timeout) passed). The
        outcome is returned in RV(waited).
      - The task is the one the answer's C(job_id) names. An answer without one (a restart, for instance) fails the
        module, saying what came back, unless O(wait_for_name) is given.
      - Only for writes (V(POST), V(PUT), V(DELETE)).
    type: bool
    default: false
  wait_for_name:
    description:
      - With O(wait), for an answer without a C(job_id), wait for the newest task of this name that the call started,
        for example V(restartInstance).
      - Just before the call, the tasks of this name created in the last 15 minutes are read (one request); the task
        waited for is the newest one created since 15 minutes before the call that is none of them. So a clock of the
        host the module runs on that is ahead of the cloud's (by up to the 15 minutes the cloud's signature check
        allows) cannot make it miss its task, and an earlier task of the name is never taken for it.
    type: str
  wait_timeout:
    description:
      - Seconds that O(wait) and O(when_busy=wait) may take together, from the start of the module.
      - A whole number of seconds from 1 to 604800.
    type: int
    default: 1800
  deadline:
    description:
      - A time after which the call is never sent, and by which O(wait) and O(when_busy=wait) end, whatever
        O(wait_timeout) says. A change still queued behind a busy instance at the deadline is not sent; one that
        was sent is waited for until then at most.
      - V(YYYYMMDDHHmmss) or ISO-8601 such as V(2024-05-01T04:00:00+02:00); a time without a zone is UTC. Compared
        with the clock of the host the module runs on. A deadline already past fails the module before any request.
    type: str
  when_busy:
    description:
      - What to do when DMS refuses the change for now, and applied nothing. The refusals read so are HTTP 400 with
        C(DMS.00400017) (another task of the instance is running), C(DMS.00400026) (the instance's status does not
        allow it now, as while restarting or resizing), C(DMS.00400108) (an unfinished scale-up order exists) and
        C(CBC.99003651) (billing, another operation is in progress), and a C(failed) result of the batch action for
        the one instance it names.
      - V(fail) fails, naming the code and what it means, and the instance's status (one read, when O(instance_id) is
        known or the path names the instance).
      - V(wait) waits until the instance is C(RUNNING) and no task of it is C(CREATED) or C(EXECUTING), as
        M(hwcloud.dms.wait_for_task) with O(hwcloud.dms.wait_for_task#module:idle=true) does, then sends the change
        again; as often as it is refused so, within O(wait_timeout). Two jobs changing one instance at the same time
        then both succeed, one after the other, without a gate of their own. An instance C(ERROR), C(FROZEN),
        C(CREATEFAILED) or C(EXTENDEDFAILED) fails at once, since no wait ends those. A refusal while nothing visible holds
        the instance (an order in billing, say) is sent again after pauses that grow from about 2 to 10 seconds; a
        C(failed) batch result while nothing visible holds the instance fails, since DMS gives no reason.
      - C(DMS.00400052) (only a C(RUNNING) instance can be upgraded) and C(DMS.00400099) (no delete while creating,
        starting, stopping or restarting) are not waited on. They fail at once, with their meaning.
      - Only for writes (V(POST), V(PUT), V(DELETE)).
    type: str
    choices: [fail, wait]
    default: fail
extends_documentation_fragment:
  - hwcloud.dms.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
    details:
      - Not needed for a long wait, which prints its own live lines. The plugin refuses C(async), as ansible-core does for
        an action plugin without it.
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - A V(GET) is sent, since it changes nothing.
      - A write is not sent; the result says what would have been sent (RV(method), RV(url), RV(body)). Where the
        instance is known (O(instance_id), or the path), its status and running tasks are read (no write) and the
        result says whether the change would go through now. C(changed=true) when it would, or when O(when_busy=wait)
        would queue it (RV(would_wait)); C(changed=false) when it would be refused now, with the reason in C(msg).
        The project ID may still be looked up through IAM, a read.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller, which needs the Python library C(requests).
notes:
  - It runs on the controller (it is an action plugin), whatever host the play targets; C(delegate_to) changes nothing.
    Connection options from environment variables are read from the controller's environment.
  - Every wait prints live lines at default verbosity, in C(ansible-playbook) output and as AWX job events, as
    M(hwcloud.dms.wait_for_task) does. While a change refused for now queues behind a busy instance
    (O(when_busy=wait)), it prints the refusal, then each task it waits behind and its progress
    (V(queued behind resizeInstance (ID ...\) EXECUTING 40%, about 85 s left)), and the instance's status changes.
    With O(wait), it prints its own task's status changes. Without a change, a still-waiting line follows every
    minute, with the time the last progress answer left. Nothing is printed for a task with C(no_log).
  - Stopping the run (Ctrl-C, or cancelling an AWX job) stops the plugin where it is. A change still queued is
    never sent afterwards; one that was sent runs on in the cloud, and M(hwcloud.dms.wait_for_task) can wait for it
    (its RV(job_id), or O(hwcloud.dms.wait_for_task#module:name)).
  - This module is in the action group C(hwcloud.dms.dms), so C(module_defaults) for C(group/hwcloud.dms.dms)
    can hold the connection options of every task.
  - A change refused for now (see O(when_busy)) is what O(when_busy=wait) waits out. A separate gate (M(hwcloud.dms.wait_for_task) with
    O(hwcloud.dms.wait_for_task#module:idle=true)) before the change still leaves a race between two jobs that pass it
    together; O(when_busy=wait) does not.
  - The body is sent as given and shows in Ansible's own display of the task's arguments at C(-vvv) and above; put
    no secret in it, or set C(no_log) on the task.
seealso:
  - module: hwcloud.dms.wait_for_task
  - module: hwcloud.dms.dms_task_info
requirements:
  - requests
"""

EXAMPLES = r"""
- name: Change a Kafka configuration parameter once nothing else runs, and wait until it has finished
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    method: PUT
    path: "/v2/{project_id}/instances/{{ kafka_instance_id }}/configs"
    body:
      kafka_configs:
        - {name: log.retention.hours, value: "72"}
    when_busy: wait
    wait: true
    wait_timeout: 1800
  register: config_change

- name: Restart once the instance is free; the answer has no job_id, so wait for the restartInstance task it started
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    method: POST
    path: /v2/{project_id}/instances/action
    body: {action: restart, instances: ["{{ kafka_instance_id }}"]}
    when_busy: wait
    wait: true
    wait_for_name: restartInstance

- name: Connection options once for every DMS task; credentials from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK
  module_defaults:
    group/hwcloud.dms.dms:
      region: ap-southeast-1
  block:
    - name: Start a change (answers a job_id)
      hwcloud.dms.dms_api:
        method: PUT
        path: "/v2/{project_id}/instances/{{ kafka_instance_id }}/configs"
        body:
          kafka_configs:
            - {name: log.retention.hours, value: "72"}
          register: config_change

    - name: Wait for it elsewhere, with progress lines as it runs
      hwcloud.dms.wait_for_task:
        instance_id: "{{ kafka_instance_id }}"
        task_id: "{{ config_change.job_id }}"
        timeout: 1800

- name: Resize the storage of a Kafka instance
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    method: POST
    path: "/v2/kafka/{project_id}/instances/{{ kafka_instance_id }}/extend"
    body: {oper_type: storage, new_storage_space: 600}
  register: resize

- name: Read the instance; a missing instance is an answer here, not a failure
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    path: "/v2/{project_id}/instances/{{ kafka_instance_id }}"
    status_code: [200, 404]
  register: instance

- name: List the Kafka instances of the project, with a query
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    path: /v2/{project_id}/instances
    query: {engine: kafka, limit: 50}
  register: kafka_instances
"""

RETURN = r"""
status:
  description: The HTTP status of the answer; null when no answer came (or, in check mode, for a write not sent).
  returned: always
  type: int
  sample: 200
json:
  description: The body of the answer, parsed from JSON; null when it was empty or not JSON, or nothing was sent.
  returned: always
  type: raw
  sample: {"job_id": "8abfa7b272adc5b40172b73130065ae7", "dynamic_config": 1, "static_config": 0}
job_id:
  description:
    - The C(job_id) of the answer, as the DMS change calls name the ID of the task they start; null when the
      answer has none. Pass it to M(hwcloud.dms.wait_for_task) as O(hwcloud.dms.wait_for_task#module:task_id).
  returned: always
  type: str
  sample: 8abfa7b272adc5b40172b73130065ae7
request_id:
  description: The request ID of the answer (C(X-Request-Id)), to quote to support; null when no answer came.
  returned: always
  type: str
  sample: 5b7fd8b1b1b04f8c9a1f2f9d6ad6a8e1
url:
  description: The URL called (or that would have been), with its query; it never carries credentials.
  returned: always, once the options are valid
  type: str
  sample: https://dms.ap-southeast-1.myhuaweicloud.com/v2/0123456789abcdef0123456789abcdef/instances/1111/configs
method:
  description: The HTTP method of the call.
  returned: always
  type: str
  sample: PUT
body:
  description: In check mode, the body a write would have sent (not sent); null when it has none.
  returned: check mode, for a write
  type: raw
  sample: {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]}
busy_refusals:
  description: How often DMS refused the change for now (see O(when_busy)).
  returned: always, once the options are valid
  type: int
  sample: 1
instance_status:
  description:
    - The instance's status as last read (C(RUNNING), C(RESTARTING), C(EXTENDING), C(FROZEN), ...), by a wait for it to
      become free, to name a refusal, or in check mode; null when it was not read.
  returned: always, once the options are valid
  type: str
  sample: RESTARTING
busy_wait:
  description:
    - What a change refused for now waited behind with O(when_busy=wait) before it was taken (or the wait ended);
      null when it never waited.
  returned: always, once the options are valid
  type: dict
  contains:
    elapsed:
      description: Seconds from the first call to the last.
      type: float
      sample: 85.2
    tasks:
      description: The tasks it waited behind, in their last seen state, with the keys of M(hwcloud.dms.wait_for_task)'s C(tasks).
      type: list
      elements: dict
      sample: [{"id": "8abfa7b272adc5b40172b73130065ae7", "name": "resizeInstance", "status": "SUCCESS"}]
    instance_statuses:
      description: The statuses other than C(RUNNING) it saw the instance in, in order.
      type: list
      elements: str
      sample: [EXTENDING]
change:
  description:
    - One flat summary of the change, for C(ansible.builtin.set_stats), a report or a ticket (see the recipe
      "Collect the changes of a run into one report"). Keys whose value is not known are null.
    - Null for a V(GET) and in check mode.
  returned: always, once the options are valid
  type: dict
  contains:
    instance_id:
      description: The instance the change is about; null when it is not known.
      type: str
    method:
      description: The HTTP method.
      type: str
      sample: PUT
    path:
      description: The path as given, C({project_id}) not filled in.
      type: str
      sample: /v2/{project_id}/instances/11111111-2222-3333-4444-555555555555/configs
    parameters:
      description: What was sent, the body (with M(hwcloud.dms.dms_instance_config), the parameters that changed).
      type: raw
    job_id:
      description: The task the change started.
      type: str
    task_name:
      description: The name of that task, where it was waited for.
      type: str
      sample: kafkaConfigModify
    user:
      description: The IAM user the task names (the cloud sets it from the credentials), where it was waited for.
      type: str
    request_ids:
      description: The request ID of every answer to the call, refusals included, to quote to support.
      type: list
      elements: str
    queued_at:
      description: When it was first sent (ISO-8601, the controller's clock).
      type: str
    sent_at:
      description: When it was last sent, the call DMS took or last refused (ISO-8601, the controller's clock).
      type: str
    ended_at:
      description: When the task last changed once it had ended, as the cloud gives it (its C(updated_at)).
      type: str
    queued_seconds:
      description: Seconds from the first call to the last (see RV(busy_wait)).
      type: float
    duration:
      description: Seconds the wait for its task took, from the call DMS took.
      type: float
    status:
      description:
        - The task's final status (C(SUCCESS), C(FAILED), C(CANCELLED), C(DELETED)) where it was waited for until it
          ended; otherwise V(ACCEPTED) (taken, not waited for or not ended), V(REFUSED) (DMS answered without taking
          it), V(NOT_SENT), or V(UNKNOWN) (it may or may not have been applied).
      type: str
      sample: SUCCESS
    blocked_by:
      description: What it queued behind - each task as its name and ID, and each status of the instance.
      type: list
      elements: str
      sample: ["resizeInstance (ID 8abfa7b272adc5b40172b73130065ae7)"]
    failed_step:
      description: The step that failed, where the task's progress names one (see RV(waited)).
      type: str
  sample: {"instance_id": "11111111-2222-3333-4444-555555555555", "method": "PUT", "status": "SUCCESS",
           "job_id": "8abfa7b272adc5b40172b73130065ae7", "task_name": "kafkaConfigModify", "queued_seconds": 20.4}
would_wait:
  description: In check mode, whether O(when_busy=wait) would queue the change behind what holds the instance now.
  returned: check mode, for a write whose instance is known
  type: bool
  sample: true
running_tasks:
  description: In check mode, the tasks of the instance that are C(CREATED) or C(EXECUTING) now, with the keys of
    M(hwcloud.dms.wait_for_task)'s C(tasks).
  returned: check mode, for a write whose instance is known
  type: list
  elements: dict
  sample: [{"id": "8abfa7b272adc5b40172b73130065ae7", "name": "resizeInstance", "status": "EXECUTING"}]
waited:
  description:
    - With O(wait), the outcome of the wait for the change's task, with the keys of M(hwcloud.dms.wait_for_task)
      (C(task), C(status), C(tasks), C(history), C(polls), C(api_calls), C(elapsed), C(timed_out), C(msg), and
      C(failed_step) when the task ended C(FAILED) and its progress names the step that failed); with
      O(when_busy=wait), the outcome of a wait for the instance to become idle that did not end so. Otherwise null.
  returned: always, once the options are valid
  type: dict
  sample: {"status": "SUCCESS", "task": {"id": "8abfa7b272adc5b40172b73130065ae7", "name": "kafkaConfigModify", "status": "SUCCESS"},
           "polls": 4, "api_calls": 5, "elapsed": 7.3, "timed_out": false, "msg": "Ended after 7.3 s: ..."}
error:
  description: What the API answered, when the status was not among O(status_code).
  returned: on API failure
  type: dict
  contains:
    http_status:
      description: HTTP status code.
      type: int
      sample: 400
    error_code:
      description: The API's error code.
      type: str
      sample: DMS.00400017
    error_msg:
      description: The API's error message.
      type: str
      sample: The job task is still running.
    request_id:
      description: The request ID to quote to support.
      type: str
      sample: 5b7fd8b1b1b04f8c9a1f2f9d6ad6a8e1
"""
