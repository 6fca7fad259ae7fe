#!/usr/bin/python
# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

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
  - C(changed) is V(true) for a write answered with a 2xx status, V(false) otherwise.
  - A read (V(GET)) is retried as the other modules retry. A write (V(POST), V(PUT), V(DELETE)) is sent again only
    when it certainly did not reach the service, that is after a 429 throttling answer of the gateway or a
    connection that could not be made. After a timeout, a dropped connection or a server error (5xx) it may have
    been applied, so it is not sent again (a retried resize could run twice) and the task fails saying so.
  - Authentication failures are never retried.
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
    details:
      - A V(GET) is sent, since it changes nothing.
      - A write is not sent; the result says what would have been sent (RV(method), RV(url), RV(body)) with
        C(changed=true). The project ID may still be looked up through IAM, a read.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: "Runs wherever C(requests) is installed, usually on the controller with C(delegate_to: localhost)."
notes:
  - This module is in the action group C(hwcloud.dms.dms), so C(module_defaults) for C(group/hwcloud.dms.dms)
    can hold the connection options of every task.
  - A change refused because another task of the instance is running (HTTP 400 C(DMS.00400017)) is what the gate
    M(hwcloud.dms.wait_for_task) with O(hwcloud.dms.wait_for_task#module:idle=true) prevents; run it first.
  - The body is sent as given and shows in Ansible's own display of the task's arguments at C(-vvv) and above; put
    no secret in it, or set C(no_log) on the task.
seealso:
  - module: hwcloud.dms.wait_for_task
  - module: hwcloud.dms.dms_task_info
requirements:
  - requests
"""

EXAMPLES = r"""
- name: Connection options once for every DMS task; credentials from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK
  module_defaults:
    group/hwcloud.dms.dms:
      region: ap-southeast-1
  block:
    - name: Gate - nothing may be running on the instance
      hwcloud.dms.wait_for_task:
        instance_id: "{{ kafka_instance_id }}"
        idle: true
        timeout: 600

    - name: Change a Kafka configuration parameter (answers a job_id)
      hwcloud.dms.dms_api:
        method: PUT
        path: "/v2/{project_id}/instances/{{ kafka_instance_id }}/configs"
        body:
          kafka_configs:
            - {name: log.retention.hours, value: "72"}
      delegate_to: localhost
      register: config_change

    - name: Wait until the change has finished
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
  delegate_to: localhost
  register: resize

- name: Read the instance; a missing instance is an answer here, not a failure
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    path: "/v2/{project_id}/instances/{{ kafka_instance_id }}"
    status_code: [200, 404]
  delegate_to: localhost
  register: instance

- name: List the Kafka instances of the project, with a query
  hwcloud.dms.dms_api:
    region: ap-southeast-1
    path: /v2/{project_id}/instances
    query: {engine: kafka, limit: 50}
  delegate_to: localhost
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

import json

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.hwcloud.dms.plugins.module_utils.api_path import api_path, query_pairs
from ansible_collections.hwcloud.dms.plugins.module_utils.client import DmsClient
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import (
    ConfigurationError, DmsError, EndpointNotFoundError, UnsafeToRetryError, failure_details,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import REQUESTS_IMPORT_ERROR
from ansible_collections.hwcloud.dms.plugins.module_utils.options import ansible_module, argument_spec, connection_settings, number_option

METHODS = ("GET", "POST", "PUT", "DELETE")
ARGUMENT_SPEC = argument_spec(
    method=dict(type="str", choices=list(METHODS), default="GET"),
    path=dict(type="str", required=True),
    query=dict(type="dict"),
    body=dict(type="raw"),
    status_code=dict(type="list", elements="int"),
)
LOWEST_STATUS = 100
HIGHEST_STATUS = 599
# What a result holds before any answer came.
NO_ANSWER = {"changed": False, "status": None, "json": None, "job_id": None, "request_id": None}


def body_option(body):
    """The ``body`` option, checked to be a dict or a list that JSON can carry (no NaN or infinity)."""
    if body is None:
        return None
    if not isinstance(body, (dict, list)):
        raise ConfigurationError("body must be a dict or a list (it is sent as JSON), got %s" % type(body).__name__)
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as problem:
        raise ConfigurationError("body cannot be sent as JSON: %s" % problem) from None
    return body


def status_code_option(statuses):
    """The ``status_code`` option as a set of statuses, or None for any 2xx."""
    if statuses is None:
        return None
    if not statuses:
        raise ConfigurationError("status_code must list at least one HTTP status, or be left out for any 2xx")
    return set(number_option("status_code", status, LOWEST_STATUS, HIGHEST_STATUS, integer=True) for status in statuses)


def answer_job_id(body):
    job_id = body.get("job_id") if isinstance(body, dict) else None
    return job_id if isinstance(job_id, str) and job_id.strip() else None


def failure_message(method, error, accepted):
    if isinstance(error, UnsafeToRetryError):
        return "The %s may or may not have been applied: %s" % (method, error)
    status = getattr(error, "status", None)
    if status is not None and 200 <= status < 300:
        return "The DMS API answered HTTP %d, which is not in status_code (%s): %s" % (status, ", ".join(map(str, sorted(accepted))), error)
    text = "The DMS API call failed: %s" % error
    if isinstance(error, EndpointNotFoundError):
        text += "; or check path"
    return text


def error_result(error):
    details = failure_details(error)
    return {"error": details} if details else {}


def run(module, client):
    """The result of the call the options describe. Bad input is refused (ConfigurationError) before any request;
    a call that fails ends the module here, with what is known of its answer."""
    params = module.params
    method = params["method"]
    path = api_path(params["path"])
    query = query_pairs(params["query"])
    body = body_option(params["body"])
    accepted = status_code_option(params["status_code"])
    write = method != "GET"
    result = dict(NO_ANSWER, method=method, url=client.call_url(path, query))
    if write and module.check_mode:
        result.update(changed=True, body=body, msg="Check mode: %s %s not sent" % (method, result["url"]))
        return result
    failure = None
    try:
        answer = client.call(method, path, query, body, write=write, accepted=accepted)
    except DmsError as error:
        failure = dict(result, msg=failure_message(method, error, accepted), **error_result(error))
    if failure:
        # Outside the except block: ansible-core 2.18 adds the traceback of an exception being handled at -vvv.
        module.fail_json(**failure)
    result.update(status=answer.status, json=answer.body, job_id=answer_job_id(answer.body), request_id=answer.request_id)
    if answer.error is not None:
        module.fail_json(msg=failure_message(method, answer.error, accepted), **dict(result, **error_result(answer.error)))
    # A refusal the user accepts (status_code: [200, 400]) changed nothing.
    result["changed"] = write and 200 <= answer.status < 300
    return result


def main():
    module = ansible_module(ARGUMENT_SPEC, failed_result=NO_ANSWER, supports_check_mode=True)
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
    failure = None
    try:
        result = run(module, DmsClient(connection_settings(module.params)))
    except ConfigurationError as error:
        failure = dict(NO_ANSWER, method=module.params["method"], msg=str(error))
    except DmsError as error:  # the project ID could not be looked up
        failure = dict(NO_ANSWER, method=module.params["method"], msg="The DMS API call was not sent: %s" % error, **error_result(error))
    if failure:
        # Outside the except block: ansible-core 2.18 adds the traceback of an exception being handled at -vvv.
        module.fail_json(**failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
