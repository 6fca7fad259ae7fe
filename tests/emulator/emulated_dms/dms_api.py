# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The answers of the read calls (the four background-task calls, the instance and its configuration), for a request
already authenticated and not faulted."""

from __future__ import annotations

import re

from .clock import parse_api_time
from .messages import Reply, error_reply, first_values, json_reply
from .scenario import FINAL_STATUSES

ENGINES_WITH_PROGRESS = ("kafka", "rocketmq")
# The configuration calls exist for Kafka only.
ENGINES_WITH_CONFIGS = ("kafka",)
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NO_SUCH_API = (404, "APIG.0101", "The API does not exist or has not been published in the environment.")
WRONG_PROJECT = (403, "APIG.0302", "The IAM user is not authorized to access the API: the project ID does not match the credential.")
NO_SUCH_INSTANCE = (404, "DMS.00404022", "The instance does not exist.")
BAD_INSTANCE_ID = (400, "DMS.00400030", "Invalid instance ID.")
BAD_TASK_ID = (400, "DMS.00400070", "Invalid task ID format.")
BAD_LIMIT = (400, "DMS.10240042", "Invalid limit: must be an integer from 1 to 100.")
BAD_START = (400, "DMS.10240043", "Invalid start: must be an integer of at least 1.")
# The cloud's own message, placeholder and all.
BAD_TIME = (400, "DMS.00400062", "Invalid {0} parameter in the request.")
# A guess: the cloud does not document its answer to deleting a task that has not finished (delete_active: allow deletes it).
ACTIVE_TASK_NOT_DELETABLE = (400, "DMS.00400071", "The task is still running and cannot be deleted.")
EMPTY_PROGRESS = {"progress_percentage": 0, "remain_time": 0, "step_list": []}


def answer(scenario, kind, params, request, request_id, ignore_start=False):
    """ignore_start: serve the first page whatever `start` asks for (a fault rule's doing)."""
    header_project = request.headers.get("X-Project-Id")
    if params["project_id"] != scenario.project_id or header_project not in (None, scenario.project_id):
        return error_reply(*WRONG_PROJECT, request_id=request_id)
    if kind == "instances":
        return answer_instances(scenario, first_values(request.query).get("engine"))
    if scenario.check_instance_ids and not UUID_RE.match(params["instance_id"]):
        return error_reply(*BAD_INSTANCE_ID)
    instance = scenario.instances.get(params["instance_id"])
    if instance is None or not instance.exists():
        return error_reply(*NO_SUCH_INSTANCE)
    if kind == "progress" and instance.engine not in ENGINES_WITH_PROGRESS:
        return error_reply(*NO_SUCH_API, request_id=request_id)
    if kind == "configs" and instance.engine not in ENGINES_WITH_CONFIGS:
        return error_reply(*NO_SUCH_API, request_id=request_id)
    if kind == "instance":
        return json_reply(200, instance_summary(instance))
    if kind == "configs":
        return json_reply(200, instance.configuration.to_api(instance.clock.now()))
    now = instance.clock.now()
    if kind == "list":
        return answer_list(instance, request, now, ignore_start)
    if not scenario.task_id_well_formed(params["task_id"]):
        return error_reply(*BAD_TASK_ID)
    task = instance.find(params["task_id"], now)
    if task is None:
        return error_reply(*scenario.unknown_task)
    if kind == "show":
        return json_reply(200, {"task_count": "1", "tasks": [task.to_api(now, instance.clock)]})
    if kind == "delete":
        if scenario.refuse_active_deletes and task.entry_at(now)[1] not in FINAL_STATUSES:
            return error_reply(*ACTIVE_TASK_NOT_DELETABLE)
        task.delete(now, keep_listed=scenario.keep_deleted_tasks)
        return Reply(204)
    if task.has_progress:
        return json_reply(200, task.progress_at(now, instance.clock))
    if scenario.task_without_progress is None:
        return json_reply(200, EMPTY_PROGRESS)
    return error_reply(*scenario.task_without_progress)


def instance_summary(instance):
    """A few of the fields the ShowInstance answer has (the SDK's model holds many more): enough to tell it exists, and its
    status now."""
    return {"instance_id": instance.id, "name": "emulated-%s" % instance.id[:8], "engine": instance.engine,
            "status": instance.status_at(instance.clock.now())}


def answer_instances(scenario, engine):
    """ListInstances: the instances that exist now, of one engine if ``engine`` is given."""
    listed = [instance_summary(instance) for instance in scenario.instances.values()
              if instance.exists() and engine in (None, "", instance.engine)]
    return json_reply(200, {"instances": listed, "instance_num": len(listed)})


def whole_number(text, lowest, highest=None):
    """The integer a query value spells, or None when it is not one within lowest..highest."""
    if not re.match(r"^[0-9]+$", text) or int(text) < lowest or (highest is not None and int(text) > highest):
        return None
    return int(text)


def answer_list(instance, request, now, ignore_start):
    query = first_values(request.query)
    start = whole_number(query.get("start", "1"), 1)
    if start is None:
        return error_reply(*BAD_START)
    limit = whole_number(query.get("limit", "10"), 1, 100)
    if limit is None:
        return error_reply(*BAD_LIMIT)
    window = []
    for name in ("begin_time", "end_time"):
        value = query.get(name)
        moment = None if value is None else parse_api_time(value)
        if value is not None and moment is None:
            return error_reply(*BAD_TIME)
        window.append(moment)
    begin, end = window
    tasks = [
        task for task in instance.visible_tasks(now)
        if (begin is None or instance.clock.wall(task.created_offset) >= begin)
        and (end is None or instance.clock.wall(task.created_offset) < end + 1)
    ]
    first = 0 if ignore_start else start - 1
    page = tasks[first:first + limit]
    return json_reply(200, {"task_count": str(len(tasks)), "tasks": [task.to_api(now, instance.clock) for task in page]})
