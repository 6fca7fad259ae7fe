# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The answers of three write calls that start background tasks, for a request already authenticated and not faulted.

Paths, request bodies and answers follow the official SDK's models (huaweicloudsdkkafka, huaweicloudsdkrabbitmq,
huaweicloudsdkrocketmq 3.1.219): ModifyInstanceConfigs, ResizeEngineInstance and BatchRestartOrDeleteInstances.
Each accepted call creates a task on the instance and may move the instance's status (both as the scenario's
``write_tasks`` say); a call while the instance is not RUNNING, or while another of its tasks is CREATED or EXECUTING,
is refused, as the cloud refuses it. A configuration change must name parameters the instance has, with values within
their valid_values; its values apply to the instance's configuration once its task succeeds (configs.py).
"""

from __future__ import annotations

import json

from .dms_api import BAD_INSTANCE_ID, NO_SUCH_API, NO_SUCH_INSTANCE, UUID_RE, WRONG_PROJECT
from .messages import error_reply, json_reply
from .scenario import FINAL_STATUSES, Task

WRITE_KINDS = ("modify_configs", "resize", "restart")
# The cloud's documented refusal of a change while the instance is in another status than RUNNING (restarting, ...).
NOT_RUNNING = (400, "DMS.00400026", "This operation is not allowed due to the instance status.")
# The cloud's documented refusal of a change while another task of the instance runs.
JOB_RUNNING = (400, "DMS.00400017", "Job task is still running.")
# A guess: the cloud's code for a malformed write body is not documented.
BAD_BODY = (400, "DMS.00400000", "Invalid request body: %s")
# A guess: the cloud's answers to a configuration change naming a parameter the instance does not have, or a value
# outside a parameter's valid_values, are not documented (code and messages invented).
UNKNOWN_CONFIG = (400, "DMS.00400000", "Invalid parameter: the instance has no configuration parameter %s.")
CONFIG_VALUE_REFUSED = (400, "DMS.00400000", "Invalid value %s for parameter %s: valid values are %s.")
# The engine segment of the resize path: RocketMQ also answers to its old name.
RESIZE_ENGINES = {"kafka": "kafka", "rabbitmq": "rabbitmq", "rocketmq": "rocketmq", "reliability": "rocketmq"}
RESIZE_TYPES = {"storage": ("new_storage_space",), "horizontal": ("new_broker_num", "new_storage_space"), "vertical": ("new_product_id",)}


class BadBody(ValueError):
    """The request body is not what the call takes; the message says what is wrong."""


class RefusedConfig(ValueError):
    """A configuration change the instance's parameters do not allow; ``answer`` is the error answer."""

    def __init__(self, answer):
        super().__init__(answer[2])
        self.answer = answer


def answer(scenario, kind, params, request, request_id):
    header_project = request.headers.get("X-Project-Id")
    if params["project_id"] != scenario.project_id or header_project not in (None, scenario.project_id):
        return error_reply(*WRONG_PROJECT, request_id=request_id)
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body else None
    except ValueError:
        body = None
    if kind == "restart":
        return answer_restart(scenario, body)
    problem, instance = instance_problem(scenario, params["instance_id"])
    if problem:
        return error_reply(*problem)
    if kind == "modify_configs" and instance.engine != "kafka":
        return error_reply(*NO_SUCH_API, request_id=request_id)  # the call exists for Kafka only
    if kind == "resize" and RESIZE_ENGINES.get(params["engine"]) != instance.engine:
        return error_reply(*NO_SUCH_INSTANCE)  # no instance of that engine has this ID
    try:
        task_params, reply_fields = modify_configs(body, instance.configuration) if kind == "modify_configs" else resize(body)
    except BadBody as problem_text:
        return bad_body(problem_text)
    except RefusedConfig as refused_config:
        return error_reply(*refused_config.answer)
    refused = refusal(instance)
    if refused:
        return error_reply(*refused)
    task = start_task(scenario, kind, instance, task_params)
    if kind == "modify_configs":
        instance.configuration.apply_on_success(task, task_params["static_configs"] + task_params["dynamic_configs"])
    return json_reply(200, dict({"job_id": task.id}, **reply_fields))


def bad_body(problem):
    status, code, message = BAD_BODY
    return error_reply(status, code, message % problem)


def instance_problem(scenario, instance_id):
    """(the error answer for this instance ID or None, the instance)."""
    if scenario.check_instance_ids and not UUID_RE.match(instance_id):
        return BAD_INSTANCE_ID, None
    instance = scenario.instances.get(instance_id)
    if instance is None:
        return NO_SUCH_INSTANCE, None
    instance.reach()
    if not instance.exists():
        return NO_SUCH_INSTANCE, None
    return None, instance


def refusal(instance):
    """The "not now" answer a change to the instance gets at this moment, or None. Which check comes first is a guess."""
    now = instance.clock.now()
    if instance.status_at(now) != "RUNNING":
        return NOT_RUNNING
    if any(task.entry_at(now)[1] not in FINAL_STATUSES for task in instance.visible_tasks(now)):
        return JOB_RUNNING
    return None


def start_task(scenario, kind, instance, task_params):
    write_task, now = scenario.write_tasks[kind], instance.clock.now()
    task = Task(write_task.task_spec(now, task_params), instance.next_id(), instance.defaults, instance.clock.origin_wall, kind)
    instance.tasks.insert(0, task)
    instance.follow_status(now, write_task.instance_status)
    return task


def modify_configs(body, configuration):
    """ModifyInstanceConfigsReq: {"kafka_configs": [{"name", "value"}]}, each a parameter of the instance with a value
    within its valid_values; the answer counts dynamic and static parameters as the configs read's config_type says."""
    configs = body.get("kafka_configs") if isinstance(body, dict) else None
    if not isinstance(configs, list) or not configs:
        raise BadBody("kafka_configs must be a non-empty list")
    for config in configs:
        if not isinstance(config, dict) or not all(isinstance(config.get(key), str) and config[key] for key in ("name", "value")):
            raise BadBody("each of kafka_configs needs a name and a value, both strings")
    for config in configs:
        refused = config_refusal(configuration, config["name"], config["value"])
        if refused:
            raise RefusedConfig(refused)
    dynamic = [config for config in configs if configuration.parameter(config["name"]).config_type == "dynamic"]
    static = [config for config in configs if configuration.parameter(config["name"]).config_type != "dynamic"]
    return {"static_configs": static, "dynamic_configs": dynamic}, {"dynamic_config": len(dynamic), "static_config": len(static)}


def config_refusal(configuration, name, value):
    """The error answer to setting parameter ``name`` to ``value`` on this configuration, or None when it may be set."""
    parameter = configuration.parameter(name)
    if parameter is None:
        status, code, message = UNKNOWN_CONFIG
        return status, code, message % name
    if not parameter.accepts(value):
        status, code, message = CONFIG_VALUE_REFUSED
        return status, code, message % (value, name, parameter.valid_values)
    return None


def resize(body):
    """ResizeEngineInstanceReq: oper_type and the fields that type needs; the answer is the job ID alone."""
    oper_type = body.get("oper_type") if isinstance(body, dict) else None
    if oper_type not in RESIZE_TYPES:
        raise BadBody("oper_type must be one of %s" % ", ".join(RESIZE_TYPES))
    missing = [field for field in RESIZE_TYPES[oper_type] if body.get(field) in (None, "")]
    if missing:
        raise BadBody("oper_type %s needs %s" % (oper_type, " and ".join(missing)))
    space = body.get("new_storage_space")
    if space is not None and (not isinstance(space, int) or isinstance(space, bool) or space <= 0 or space % 100):
        raise BadBody("new_storage_space must be a positive multiple of 100")
    return body, {}


def answer_restart(scenario, body):
    """BatchRestartOrDeleteInstanceReq with action restart: one result per instance and no job ID.

    Each instance is judged alone: an unknown one, or one a change would be refused to now, fails; the others restart
    (a task each).
    """
    instances = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(body, dict) or body.get("action") != "restart":
        return bad_body("action must be restart (the emulator does not delete instances)")
    if not isinstance(instances, list) or not instances or not all(isinstance(ident, str) for ident in instances):
        return bad_body("instances must be a non-empty list of instance IDs")
    results = []
    for instance_id in instances:
        problem, instance = instance_problem(scenario, instance_id)
        restarted = problem is None and refusal(instance) is None
        if restarted:
            start_task(scenario, "restart", instance, {})
        results.append({"result": "success" if restarted else "failed", "instance": instance_id})
    return json_reply(200, {"results": results})
