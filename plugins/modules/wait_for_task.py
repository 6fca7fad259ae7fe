#!/usr/bin/python
# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the action plugin plugins/action/wait_for_task.py, which does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_for_task
short_description: Wait until background tasks of a Huawei Cloud DMS instance end
version_added: 0.1.0
description:
  - Blocks the play until one task, several tasks, or every active task of a Distributed Message Service
    instance (Kafka, RabbitMQ or RocketMQ) has ended, and fails clearly when one ends badly or the wait takes
    too long.
  - Runs on the controller (it is an action plugin). No module is sent to any host and no C(delegate_to) is needed.
  - Say what to wait for with exactly one of O(task_id) (known tasks, for example the C(job_id) that a change
    returned), O(name) (the newest task of that name), or O(idle=true) (until no task is C(CREATED) or
    C(EXECUTING) and the instance is C(RUNNING), a gate before the next change).
  - Polls about 2 seconds apart at first, then backs off to O(sleep) (see O(sleep)). Where the end can be
    foreseen, polls are placed around it instead, from the C(remain_time) of the progress call (Kafka, RocketMQ;
    read as seconds, which the cloud does not document) or, for O(name) and O(idle), from how long the instance's
    earlier SUCCESS tasks of the same name took (at least 3 of them). Such an estimate only moves polls; the wait
    still polls at least every O(sleep) seconds, and spends at most 2 requests more where it expects the end.
  - When the C(remain_time) of a task's progress says it cannot end before the wait does (at O(timeout) or
    O(deadline)), the wait fails at once with RV(predicted_end), instead of waiting out the rest. A guess from
    earlier tasks never fails a wait.
  - Requests per poll do not grow with the
    instance's history. O(task_id) costs one show-one call per task that has not ended. O(name) lists the
    tasks created since O(created_after) until the task is seen (without O(created_after), the whole history
    once, then the tasks created since the wait began), then one show-one call. O(idle) reads the whole
    history once and, on every poll, the first included, the tasks created since the wait began (a task created
    while the history was read lands on a page read already), plus one show-one call per running task not
    among them, and on a poll that finds no task running, the instance (one request). Check mode makes the first
    poll only.
  - A task that was seen is C(DELETED) only when DMS answers twice in a row, on two polls, that it does not
    exist. A gateway's 404, flow control and answers of an unexpected shape never count as gone.
  - Throttling (429, and DMS flow control sent as a 404), server errors, answers of an unexpected shape,
    dropped connections and timeouts during the wait are retried until O(timeout); authentication errors, an
    ID the API refuses as malformed, a missing instance and, on the first poll, a URL the gateway does not
    know (check O(endpoint) and O(region)) end the wait at once.
  - An endpoint that has never answered (an unreachable host, a wrong port, a name that does not resolve, for DMS
    or for IAM) ends the wait after the client's own retries (O(max_retries)), with the transport error, instead
    of at O(timeout). Once a poll has had an HTTP answer, such errors are retried until O(timeout).
  - A wait that times out says what it saw last and, when a poll failed, the last error.
  - Each status change is printed as it happens, the instance's status too with O(idle=true). When a task starts
    C(EXECUTING), the line has the progress percentage and remaining time where the engine reports them; progress
    is asked then only, with one short attempt, at most once a poll, and never just before the deadline. The cloud
    documents progress only during a Kafka capacity expansion. So it is never asked on a RabbitMQ instance (the first
    progress call of a wait reads the instance once to know its engine), and never again for a task whose progress
    call was refused. A still-waiting
    line with the statuses follows every minute without change, with the time the task's last progress answer left
    (C(about 85 s left by its progress)); it asks for no progress, so that a long wait costs no request beyond its
    polls. Each request that fails and is sent again prints a line saying which, why, and after what pause.
    When a task ends C(FAILED), its progress is asked once more for the step that failed (see RV(failed_step)).
    Use C(-v) to see every poll and failed progress calls. Nothing is printed for a task with C(no_log).
author:
  - hwcloud.dms contributors (@hwcloud)
options:
  instance_id:
    description: ID of the DMS instance.
    type: str
    required: true
  task_id:
    description:
      - Wait for these tasks. One ID, such as the C(job_id) of a change, or several.
      - An ID that is not found within 30 seconds fails the wait (most likely a wrong ID; what the API answers
        for a well-formed but unknown ID is not documented). An ID the API refuses as malformed fails at once.
      - A null or empty value, or a list with an empty member, fails before any request. The change that
        should have returned it may have answered no job ID, and waiting for nothing would pass a gate.
      - Exactly one of O(task_id), O(name) and O(idle) is required.
    type: list
    elements: str
  name:
    description:
      - Wait for the newest task with this name, for example V(kafkaConfigModify). A task not yet visible is
        waited for.
      - Exactly one of O(task_id), O(name) and O(idle) is required.
    type: str
  idle:
    description:
      - V(true) waits until no task of the instance is C(CREATED) or C(EXECUTING), including tasks that start
        during the wait, and the instance is C(RUNNING). V(false) is refused.
      - An instance can be in a transitional status with no task running (a restart shows C(RESTARTING) for 3 to 15
        minutes; a resize C(EXTENDING), an upgrade C(UPGRADING)), and the gate waits through it. An instance C(ERROR),
        C(FROZEN), C(CREATEFAILED) or C(EXTENDEDFAILED) fails the gate at once, naming the status, since no wait ends those.
        Any other status the cloud does not document is waited through too, and named in the output.
      - Exactly one of O(task_id), O(name) and O(idle) is required.
    type: bool
  created_after:
    description:
      - With O(name), only consider tasks created at or after this time, so an older task of the same name is
        not mistaken for the one a change just started.
      - V(YYYYMMDDHHmmss) or ISO-8601; a time without a zone is UTC. Jinja's C(now) gives local time unless called
        with C(utc=true); prefer V({{ now(utc=true\).isoformat(\) }}).
      - Or a duration back from now on the controller, a whole number and a unit, V(s), V(m) (minutes), V(h), V(d)
        or V(w), such as V(10m).
    type: str
  timeout:
    description:
      - Seconds, counted from the start of the task, before giving up and failing. From 1 to 604800 (a week).
      - With the task keyword C(timeout), which kills the action when it expires and loses its result, the wait
        ends itself up to 3 seconds before that, with RV(timed_out), RV(history) and the last state.
    type: int
    default: 1800
  deadline:
    description:
      - A time by which the wait ends, whatever O(timeout) says. The wait takes at most until then, and fails at
        once when the deadline has already passed.
      - V(YYYYMMDDHHmmss) or ISO-8601 such as V(2024-05-01T04:00:00+02:00); a time without a zone is UTC.
    type: str
  delay:
    description: Seconds to wait before the first poll. From 0 to less than O(timeout).
    type: int
    default: 0
  sleep:
    description:
      - The longest pause between polls, in seconds, from 1 to 3600. Pauses start at about 2 seconds and double
        (4, 8, ...) up to this; from then on the wait polls exactly every O(sleep) seconds, so a long wait sends
        about one request per O(sleep) and notices the end on average O(sleep)/2 seconds after it.
    type: int
    default: 10
  fail_on_status:
    description:
      - Final statuses that fail the wait. V([]) never fails on status; check RV(status) or RV(tasks) afterwards.
      - The wait stops as soon as one waited-for task ends in one of these, even if others are still running.
      - With O(idle=true), this applies to the tasks that were active during the wait.
    type: list
    elements: str
    choices: [SUCCESS, FAILED, CANCELLED, DELETED]
    default: [FAILED, CANCELLED, DELETED]
extends_documentation_fragment:
  - hwcloud.dms.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Reads the tasks once and reports what it would wait for, without waiting and without failing on their state.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller, which needs the Python library C(requests).
notes:
  - This plugin is in the action group C(hwcloud.dms.dms), so C(module_defaults) for C(group/hwcloud.dms.dms)
    can hold the connection options of every task.
  - Connection options from environment variables are read from the controller's environment.
  - It runs once per host of the play. Run it in a play on C(localhost) or with C(run_once) - with a wrong
    secret key, each host's attempt counts towards the five failures that lock the access key.
  - O(created_after) is compared with the cloud's clock; take it just before starting the change, and mind
    the controller's clock if it may run ahead.
seealso:
  - module: hwcloud.dms.dms_task_info
  - module: hwcloud.dms.dms_api
requirements:
  - requests
"""

EXAMPLES = r"""
- name: Resize a Kafka instance's storage (the API answers at once with a job_id)
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    method: POST
    path: "/v2/kafka/{project_id}/instances/{{ kafka_instance_id }}/extend"
    body:
      oper_type: storage
      new_storage_space: 600
  register: resize

- name: Wait for the resize to finish
  hwcloud.dms.wait_for_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    task_id: "{{ resize.job_id }}"
    timeout: 3600

- name: Wait for several changes at once
  hwcloud.dms.wait_for_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    task_id:
      - "{{ quota_change.job_id }}"
      - "{{ config_change.job_id }}"

- name: Remember when the change starts
  ansible.builtin.set_fact:
    change_started: "{{ now(utc=true).isoformat() }}"

- name: Wait for the configuration change started after that moment, by name
  hwcloud.dms.wait_for_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    name: kafkaConfigModify
    created_after: "{{ change_started }}"
    timeout: 900

- name: Gate - go on only once nothing is running on the instance
  hwcloud.dms.wait_for_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    idle: true
    timeout: 600

- name: Wait, but decide yourself what a bad ending means
  hwcloud.dms.wait_for_task:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    task_id: "{{ resize.job_id }}"
    fail_on_status: []
  register: waited

- name: Report a failed resize without failing the play
  ansible.builtin.debug:
    msg: "Resize ended {{ waited.status }} after {{ waited.elapsed | round }} s"
  when: waited.status != 'SUCCESS'
"""

RETURN = r"""
msg:
  description: What happened, in a sentence.
  returned: always
  type: str
  sample: "Ended after 42.1 s: kafkaConfigModify (ID ff80808272dcc90f0172df1e490f41b0) SUCCESS"
task:
  description: The final state of the task, when the wait was for one task (one O(task_id), or O(name)).
  returned: when one task was waited for and seen
  type: dict
  contains:
    id:
      description: Task ID.
      type: str
      sample: ff80808272dcc90f0172df1e490f41b0
    name:
      description: Task name.
      type: str
      sample: kafkaConfigModify
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
      sample: {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]}
    params_raw:
      description: The task parameters exactly as the API sent them (a JSON document in a string).
      type: str
      sample: '{"kafka_configs":[{"name":"log.retention.hours","value":"72"}]}'
    created_at:
      description: Creation time, UTC.
      type: str
      sample: "2024-05-01T08:00:03.471Z"
    updated_at:
      description: Time of the last status change, UTC.
      type: str
      sample: "2024-05-01T08:00:45.130Z"
tasks:
  description: Every waited-for task in its last seen state (with O(idle=true), every task seen active during the wait).
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
      sample: kafkaConfigModify
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
      sample: {"kafka_configs": [{"name": "log.retention.hours", "value": "72"}]}
    params_raw:
      description: The task parameters exactly as the API sent them (a JSON document in a string).
      type: str
      sample: '{"kafka_configs":[{"name":"log.retention.hours","value":"72"}]}'
    created_at:
      description: Creation time, UTC.
      type: str
      sample: "2024-05-01T08:00:03.471Z"
    updated_at:
      description: Time of the last status change, UTC.
      type: str
      sample: "2024-05-01T08:00:45.130Z"
status:
  description: The final (or, on timeout, last seen) status of the task, when one task was waited for.
  returned: when one task was waited for and seen
  type: str
  sample: SUCCESS
elapsed:
  description: Seconds the wait took.
  returned: always
  type: float
  sample: 42.137
polls:
  description: Polls made (reads of the tasks, successful or not).
  returned: always
  type: int
  sample: 7
api_calls:
  description: HTTP requests sent while waiting (list pages, show-one and progress calls, retries, and the project ID lookup if one was needed).
  returned: always
  type: int
  sample: 9
history:
  description: For each task, the first status seen, then one entry per observed change.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Task ID.
      type: str
    status:
      description: The status seen.
      type: str
    seen_at:
      description: When the poll that saw it was made, ISO-8601 in UTC (the controller's clock).
      type: str
  sample:
    - {"id": "ff80808272dcc90f0172df1e490f41b0", "status": "EXECUTING", "seen_at": "2024-05-01T08:00:04.120000+00:00"}
    - {"id": "ff80808272dcc90f0172df1e490f41b0", "status": "SUCCESS", "seen_at": "2024-05-01T08:00:46.020000+00:00"}
predicted_end:
  description: When a task's progress said it would end, as ISO-8601, when that was after the wait's end and the wait
    failed at once for it.
  returned: when the wait failed because a task could not end in time
  type: str
  sample: "2024-05-01T04:12:31.120000+00:00"
change:
  description:
    - A wait for one task (one O(task_id), or O(name)) sums it up for C(ansible.builtin.set_stats), a report or a
      ticket, with the keys of M(hwcloud.dms.dms_api)'s RV(hwcloud.dms.dms_api#module:change) (C(job_id), C(task_name),
      C(user), C(status), C(ended_at), C(duration), C(failed_step); what was sent is not known here and is null).
    - Null for other waits, and in check mode.
  returned: always
  type: dict
  sample: {"instance_id": "11111111-2222-3333-4444-555555555555", "job_id": "8abfa7b272adc5b40172b73130065ae7",
           "task_name": "kafkaConfigModify", "status": "SUCCESS", "duration": 7.3}
failed_step:
  description:
    - The step that failed, when a task ended C(FAILED) and its progress, asked once then, names one (Kafka and
      RocketMQ), as the API gives it (C(statue) is the API's own spelling). The cloud documents neither progress after
      the end nor the values of C(statue); a step whose C(statue) is C(FAILED) is taken as the failed one. The message
      then ends with C(at step) and its name.
  returned: when a task ended FAILED and its progress names a failed step
  type: dict
  sample: {"name": "EXTEND_BROKERS", "statue": "FAILED", "start_time": 1714550404120, "end_time": 1714550446020}
instance_status:
  description: With O(idle=true), the instance's status as the gate last read it (C(RUNNING) when it passed).
  returned: with O(idle=true), once the gate found no task running
  type: str
  sample: RUNNING
timed_out:
  description: Whether the wait gave up at O(timeout) or O(deadline).
  returned: always
  type: bool
  sample: false
error:
  description: What the API answered, when the wait ended on an API error.
  returned: on API failure
  type: dict
  contains:
    http_status:
      description: HTTP status code.
      type: int
      sample: 401
    error_code:
      description: The API's error code.
      type: str
      sample: APIG.0301
    error_msg:
      description: The API's error message.
      type: str
      sample: Incorrect IAM authentication information
    request_id:
      description: The request ID to quote to support.
      type: str
      sample: 5b7fd8b1b1b04f8c9a1f2f9d6ad6a8e1
"""
