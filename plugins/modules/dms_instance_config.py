#!/usr/bin/python
# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dms_instance_config
short_description: Set configuration parameters of a Huawei Cloud DMS Kafka instance
version_added: 0.1.0
description:
  - Makes the configuration parameters of a Distributed Message Service Kafka instance (C(log.retention.hours),
    C(auto.create.groups.enable), ...) have the values given in O(configs), and leaves the other parameters alone.
  - Reads the instance's parameters first (V(GET) V(/v2/{project_id}/instances/<id>/configs)). A name the instance does
    not have, or a value outside the C(valid_values) the read lists for its parameter, is refused before anything is
    written, naming every one of them.
  - Only the parameters whose value differs are sent, in one change call (V(PUT) on the same path). When none differs,
    nothing is sent and the result is C(changed=false), so running the task again changes nothing.
  - The change runs as a background task of the instance (C(kafkaConfigModify)). With O(wait), the module waits until it
    has ended, as M(hwcloud.dms.wait_for_task) waits for it, and fails the way it fails.
  - A parameter whose C(config_type) is C(static) takes effect at the instance's next restart, as the cloud describes
    that type; a C(dynamic) one at once. The module never restarts the instance; it returns the static parameters it
    changed in RV(restart_required), for a restart when it suits (see the examples).
  - A change call is sent again only when it certainly did not reach the service (a 429 throttling answer, or a
    connection that could not be made); after a timeout, a dropped connection or a server error it may have been
    applied, so it is not sent again and the task fails saying so. Running the task again then reads the values in
    effect and sends only what still differs.
author:
  - hwcloud.dms contributors (@hwcloud)
options:
  instance_id:
    description: ID of the Kafka instance.
    type: str
    required: true
  configs:
    description:
      - The parameters to set, each name with the value it should have, for example C(log.retention.hours) with
        V(168) and C(auto.create.groups.enable) with V(false).
      - A value is a string, an integer or a boolean. It is compared with the value in effect, and sent, as the API
        writes values, a string; a boolean as V(true) or V(false).
      - Values are checked against the C(valid_values) the read lists for each parameter, in the two forms the cloud's
        documented answer shows. V(LOW~HIGH) (for example V(1~168)) takes a whole number from LOW to HIGH;
        values separated by commas (for example V(true,false)) take one of them, as written. C(valid_values) of any
        other form are not checked here; DMS checks every value it is sent.
      - Parameters not named here keep their values.
    type: dict
    required: true
  wait:
    description:
      - After a change, wait until its task has ended, as M(hwcloud.dms.wait_for_task) waits for it, and fail the way it
        fails (the task ended C(FAILED), C(CANCELLED) or C(DELETED), or O(wait_timeout) passed), with C(changed=true)
        since the change was sent. The outcome is returned in RV(waited).
      - The task is the one the answer's C(job_id) names. An answer without one fails the module when O(wait=true).
      - Nothing is waited for when nothing differs.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds that O(wait) and O(when_busy=wait) may take together, from the start of the module.
      - A whole number of seconds from 1 to 604800.
    type: int
    default: 1800
  when_busy:
    description:
      - What to do when DMS refuses the change for now, and applied nothing, as M(hwcloud.dms.dms_api) reads such a
        refusal (C(DMS.00400017), another task of the instance is running; C(DMS.00400026), the instance's status does not
        allow it now; C(DMS.00400108) and C(CBC.99003651)).
      - V(fail) fails, naming the code and what it means, and the instance's status.
      - V(wait) waits until the instance is C(RUNNING) and no task of it is C(CREATED) or C(EXECUTING), then sends the
        change again, as often as it is refused so within O(wait_timeout), as O(hwcloud.dms.dms_api#module:when_busy=wait)
        does. The parameters are not read again before it is sent again; it sends the same values.
    type: str
    choices: [fail, wait]
    default: fail
  deadline:
    description:
      - A time after which the change is never sent, and by which O(wait) and O(when_busy=wait) end, whatever
        O(wait_timeout) says. A change still queued behind a busy instance at the deadline is not sent; one that was
        sent is waited for until then at most.
      - V(YYYYMMDDHHmmss) or ISO-8601 such as V(2024-05-01T04:00:00+02:00); a time without a zone is UTC. Compared with
        the clock of the host the module runs on. A deadline already past fails the module before any request.
    type: str
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
    details: Reads the parameters and reports what would change (RV(changes), C(changed=true) when any differs), without
      writing anything. The project ID may still be looked up through IAM, a read.
  diff_mode:
    support: full
    details: "The diff has a line C(name: value) per parameter of O(configs), before and after."
  platform:
    platforms: all
    details: "Runs wherever C(requests) is installed, usually on the controller with C(delegate_to: localhost)."
notes:
  - This module is in the action group C(hwcloud.dms.dms), so C(module_defaults) for C(group/hwcloud.dms.dms)
    can hold the connection options of every task.
  - Kafka instances only. When the configs read answers HTTP 404, the instance is read once, and an instance of another
    engine fails the module saying so. RocketMQ and RabbitMQ are not supported yet, for what the official SDK showed
    when this module was written (C(huaweicloudsdkrabbitmq) and C(huaweicloudsdkrocketmq) 3.1.219). RabbitMQ has no call
    there that reads or changes configuration parameters. RocketMQ's parameters have calls of their own, on another path
    (V(/v2/{project_id}/rocketmq/instances/<id>/configs)) with a paged answer (C(rocketmq_configs)) and a change answer
    without a C(job_id) to wait for, which this module does not make.
seealso:
  - module: hwcloud.dms.dms_api
  - module: hwcloud.dms.wait_for_task
requirements:
  - requests
"""

EXAMPLES = r"""
- name: Keep messages a week and create no consumer groups on the fly; wait for the change once nothing else runs
  hwcloud.dms.dms_instance_config:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    configs:
      log.retention.hours: 168
      auto.create.groups.enable: false
    when_busy: wait
    wait_timeout: 3600
  delegate_to: localhost
  register: kafka_config

- name: Restart when a static parameter changed (it takes effect then), once the instance is free
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    method: POST
    path: /v2/{project_id}/instances/action
    body: {action: restart, instances: ["{{ kafka_instance_id }}"]}
    when_busy: wait
    wait: true
    wait_for_name: restartInstance
  when: kafka_config.restart_required | length > 0

- name: What would change (run with --check --diff to see the values)
  hwcloud.dms.dms_instance_config:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    configs:
      min.insync.replicas: 2
  check_mode: true
  delegate_to: localhost
  register: planned

- name: Within a maintenance window - never sent after 04:00 UTC, and the wait ends then too
  hwcloud.dms.dms_instance_config:
    region: ap-southeast-1
    instance_id: "{{ kafka_instance_id }}"
    configs:
      message.max.bytes: 10485760
    when_busy: wait
    deadline: "{{ maintenance_end }}"
  delegate_to: localhost
"""

RETURN = r"""
before:
  description: The parameters of O(configs) with the values they had when read, as strings.
  returned: always
  type: dict
  sample: {"log.retention.hours": "72", "auto.create.groups.enable": "true"}
after:
  description:
    - The parameters of O(configs) with the values they have once the change applied, as strings (as sent); in check
      mode, the values they would have.
    - The same as RV(before) when nothing differs.
  returned: always
  type: dict
  sample: {"log.retention.hours": "168", "auto.create.groups.enable": "false"}
changes:
  description:
    - The parameters whose value differs from the one asked for, in the order of O(configs), which the change sends (in
      check mode, would send). Empty when nothing differs.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the parameter.
      type: str
      sample: log.retention.hours
    before:
      description: Its value when read.
      type: str
      sample: "72"
    after:
      description: The value sent.
      type: str
      sample: "168"
    config_type:
      description: C(static) (takes effect at the next restart) or C(dynamic) (at once), as the read says; null when it
        says neither.
      type: str
      sample: static
restart_required:
  description:
    - The names of the parameters in RV(changes) whose C(config_type) is C(static). The cloud's C(config_type) says that
      a static parameter takes effect at the instance's next restart; a dynamic one takes effect at once.
    - The module does not restart the instance.
  returned: always
  type: list
  elements: str
  sample: [log.retention.hours]
job_id:
  description:
    - The C(job_id) of the change call's answer, the ID of its task; null when nothing was sent, or the answer had none.
      Pass it to M(hwcloud.dms.wait_for_task) as O(hwcloud.dms.wait_for_task#module:task_id) to wait elsewhere.
  returned: always
  type: str
  sample: 8abfa7b272adc5b40172b73130065ae7
request_id:
  description: The request ID of the change call's answer (C(X-Request-Id)), to quote to support; null when nothing was sent.
  returned: always
  type: str
  sample: 5b7fd8b1b1b04f8c9a1f2f9d6ad6a8e1
busy_refusals:
  description: How often DMS refused the change for now (see O(when_busy)).
  returned: always
  type: int
  sample: 1
waited:
  description:
    - With O(wait), the outcome of the wait for the change's task, with the keys of M(hwcloud.dms.wait_for_task)
      (C(task), C(status), C(tasks), C(history), C(polls), C(api_calls), C(elapsed), C(timed_out), C(msg)); with
      O(when_busy=wait), the outcome of a wait for the instance to become free that did not end so. Otherwise null.
  returned: always
  type: dict
  sample: {"status": "SUCCESS", "task": {"id": "8abfa7b272adc5b40172b73130065ae7", "name": "kafkaConfigModify", "status": "SUCCESS"},
           "polls": 4, "api_calls": 5, "elapsed": 7.3, "timed_out": false, "msg": "Ended after 7.3 s: ..."}
change:
  description:
    - One flat summary of the change for C(ansible.builtin.set_stats), a report or a ticket, with the keys of
      M(hwcloud.dms.dms_api)'s RV(hwcloud.dms.dms_api#module:change); its C(parameters) are RV(changes).
    - Null when nothing was sent (nothing differed, or check mode).
  returned: always
  type: dict
  sample: {"instance_id": "11111111-2222-3333-4444-555555555555", "method": "PUT", "status": "SUCCESS",
           "job_id": "8abfa7b272adc5b40172b73130065ae7", "task_name": "kafkaConfigModify", "queued_seconds": 0.0}
error:
  description: What the API answered, when the read or the change call failed with an API error.
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

import functools

from ansible_collections.hwcloud.dms.plugins.module_utils.api_path import PROJECT_ID, ApiPath
from ansible_collections.hwcloud.dms.plugins.module_utils.change_record import UNKNOWN, change_record
from ansible_collections.hwcloud.dms.plugins.module_utils.changes import ChangeOutcome, ChangeRunner, answer_job_id, shown
from ansible_collections.hwcloud.dms.plugins.module_utils.clock import SYSTEM_CLOCK
from ansible_collections.hwcloud.dms.plugins.module_utils.dms_module import run_module
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ConfigurationError, DmsError, UnsafeToRetryError, error_result, failure_details,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.instance import InstanceView
from ansible_collections.hwcloud.dms.plugins.module_utils.instance_config import desired_values, plan_change, read_parameters
from ansible_collections.hwcloud.dms.plugins.module_utils.options import argument_spec
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import deadline_option, number_option, path_segment_option

ARGUMENT_SPEC = argument_spec(
    instance_id=dict(type="str", required=True),
    configs=dict(type="dict", required=True),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
    when_busy=dict(type="str", choices=["fail", "wait"], default="fail"),
    deadline=dict(type="str"),
)
MAX_WAIT_TIMEOUT = 7 * 24 * 3600
# How the engines the instance read names are called in a message; RocketMQ instances name theirs "reliability".
ENGINE_NAMES = {"rabbitmq": "RabbitMQ", "rocketmq": "RocketMQ", "reliability": "RocketMQ"}


def nothing_done(_params):
    return {"changed": False, "before": {}, "after": {}, "changes": [], "restart_required": [], "job_id": None, "request_id": None,
            "busy_refusals": 0, "waited": None, "change": None}


def reading(params):
    return "Nothing was changed: could not read the configuration of instance %s" % str(params.get("instance_id")).strip()


def read_configuration(client, path, instance_id):
    """The body of the configs read's answer; its error raised. That call is Kafka's: when it answers 404, the instance is
    read, and one of another engine is a ConfigurationError that says so."""
    answer = client.call("GET", path)
    if answer.error is None:
        return answer.body
    if answer.status == 404:
        engine = InstanceView(client, instance_id).known_engine()
        if engine is not None and engine != "kafka":
            raise ConfigurationError(
                "dms_instance_config supports Kafka instances only: instance %s is a %s instance (engine %s), which the Kafka"
                " configs API does not serve (it answered HTTP 404 %s). Nothing was changed"
                % (instance_id, ENGINE_NAMES.get(engine, engine), engine, failure_details(answer.error).get("error_code") or "without an error code"))
    raise answer.error


def send_failure(error, outcome):
    if isinstance(error, UnsafeToRetryError):
        return "The configuration change may or may not have been applied: %s" % error
    text = "The configuration change failed: %s" % error
    if outcome.refusal:
        text += ". Refused for now, nothing applied: %s. when_busy: wait sends it again once the instance is RUNNING with no" \
                " task running" % outcome.explain_refusal()
    return text


def send_change(module, client, runner, path, change, result, record):
    """Send the change (again while refused for now, with when_busy: wait): its ChangeOutcome and the wall time it was last
    sent. When DMS did not take it, the module fails saying why. ``record(outcome, status=None)`` is the change record."""
    outcome = ChangeOutcome()
    failure = None
    try:
        sent_at = runner.send(lambda: client.call("PUT", path, body=change.request_body(), write=True), outcome, module.params["when_busy"] == "wait")
    except DmsError as error:
        unsure = isinstance(error, UnsafeToRetryError)
        failure = dict(result, busy_refusals=outcome.refusals, msg=send_failure(error, outcome), change=record(outcome, UNKNOWN if unsure else None),
                       **error_result(error))
    if failure:
        # Outside the except block: ansible-core 2.18 adds the traceback of an exception being handled at -vvv.
        module.fail_json(**failure)
    answer = outcome.answer
    result.update(changed=outcome.changed, job_id=answer_job_id(answer.body), request_id=answer.request_id, busy_refusals=outcome.refusals,
                  change=record(outcome))
    if outcome.idle_wait is not None:
        module.fail_json(msg="The configuration change was not sent again: %s" % outcome.message,
                         **dict(result, waited=outcome.idle_wait.as_result(), **error_result(answer.error)))
    if answer.error is not None:
        module.fail_json(msg=send_failure(answer.error, outcome), **dict(result, **error_result(answer.error)))
    return outcome, sent_at


def wait_for_change(module, runner, outcome, sent_at, result, record):
    """Wait for the task the accepted change's answer names; the module fails when it has none, or the task did not end
    SUCCESS within the time left."""
    if result["job_id"] is None:
        module.fail_json(msg="The configuration change was accepted (HTTP %s), but its answer has no job_id to wait for: %s"
                             % (outcome.answer.status, shown(outcome.answer.body)), **result)
    runner.wait_for_task(outcome, sent_at)
    result["waited"] = outcome.task_wait.as_result()
    result["change"] = record(outcome)
    if outcome.message:
        module.fail_json(msg="The configuration change was accepted; %s" % outcome.message, **result)


def run(module, client):
    """Read the parameters, and change those that differ. Bad input is refused (ConfigurationError) before any request, and
    names or values the instance does not take before any write."""
    params = module.params
    instance_id = path_segment_option("instance_id", params["instance_id"])
    wanted = desired_values(params["configs"])
    timeout = number_option("wait_timeout", params["wait_timeout"], 1, MAX_WAIT_TIMEOUT, integer=True, unit="seconds")
    until_deadline = deadline_option("deadline", params["deadline"], SYSTEM_CLOCK.wall())
    runner = ChangeRunner(client, instance_id, timeout if until_deadline is None else min(timeout, until_deadline))
    send_by = None if until_deadline is None else SYSTEM_CLOCK.monotonic() + until_deadline
    path = ApiPath(["v2", PROJECT_ID, "instances", instance_id, "configs"])
    change = plan_change(read_parameters(read_configuration(client, path, instance_id)), wanted)
    result = dict(nothing_done(params), changed=bool(change.changes), before=change.before, after=change.after, changes=change.changes,
                  restart_required=change.restart_required())
    if module._diff:
        result["diff"] = change.diff(instance_id)
    if not change.changes or module.check_mode:
        return result
    result["changed"] = False  # until DMS takes the change
    if send_by is not None and SYSTEM_CLOCK.monotonic() >= send_by:
        module.fail_json(msg="The configuration change was not sent: the deadline passed while the parameters were read", **result)
    what = {"method": "PUT", "path": "/v2/{project_id}/instances/%s/configs" % instance_id, "parameters": change.changes}
    record = functools.partial(change_record, instance_id, what)
    outcome, sent_at = send_change(module, client, runner, path, change, result, record)
    if params["wait"]:
        wait_for_change(module, runner, outcome, sent_at, result, record)
    return result


def main():
    # A DmsError that reaches run_module came before any write: the project ID lookup or the configs read failed.
    run_module(ARGUMENT_SPEC, run, nothing_done, reading)


if __name__ == "__main__":
    main()
