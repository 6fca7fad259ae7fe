# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A job as AWX runs it: ansible-runner's streaming protocol (transmit | worker | process), with the environment
exactly as the documented credential type injects it, against the emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.hwcloud.dms.tests.functional.conftest import (
    ACCESS_KEY, COLLECTIONS_ROOT, INSTANCE_ID, PLAYBOOK_TIMEOUT, PROJECT_ID, REGION, SECRET_KEY, scenario,
)

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "awx")
TASK_ID = "a" * 32
TIMELINE = [[0, "CREATED"], [1, "EXECUTING"], [4, "SUCCESS"]]
PLAYBOOK = [{
    "name": "A job template's playbook", "hosts": "localhost", "gather_facts": False,
    "tasks": [{"name": "Wait for the change", "hwcloud.dms.wait_for_task": {"instance_id": INSTANCE_ID, "task_id": TASK_ID, "timeout": 60}}],
}]


def injected_environment(values):
    """The injector configuration rendered the way AWX renders it: each "{{ field }}" replaced by the input's value."""
    with open(os.path.join(DOCS, "credential-type-injectors.yml"), encoding="utf-8") as handle:
        injectors = yaml.safe_load(handle)
    with open(os.path.join(DOCS, "credential-type-inputs.yml"), encoding="utf-8") as handle:
        fields = [field["id"] for field in yaml.safe_load(handle)["fields"]]
    assert set(values) <= set(fields)
    return dict((name, re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda match: values.get(match.group(1), ""), template))
                for name, template in injectors["env"].items())


def run_job(private_data_dir, environment):
    """transmit | worker | process, as AWX's receptor mesh runs a job; returns the job events, in order."""
    os.makedirs(os.path.join(private_data_dir, "project"))
    os.makedirs(os.path.join(private_data_dir, "env"))
    with open(os.path.join(private_data_dir, "project", "playbook.yml"), "w", encoding="utf-8") as handle:
        json.dump(PLAYBOOK, handle)
    with open(os.path.join(private_data_dir, "inventory"), "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    with open(os.path.join(private_data_dir, "env", "envvars"), "w", encoding="utf-8") as handle:
        json.dump(dict(environment, ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT),
                       ANSIBLE_NOCOLOR="1"), handle)
    runner = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
    clean = dict((key, value) for key, value in os.environ.items() if not key.startswith(("HW_", "HUAWEICLOUD_", "ANSIBLE_HWC_")))
    command = "'{0}' transmit '{1}' -p playbook.yml | '{0}' worker | '{0}' process '{1}'".format(runner, private_data_dir)
    completed = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=clean, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=PLAYBOOK_TIMEOUT, check=False)
    output = completed.stdout.decode("utf-8", errors="replace")
    assert completed.returncode == 0, output
    artifacts = os.path.join(private_data_dir, "artifacts")
    events_dir = os.path.join(artifacts, "job_events")  # process writes the artifacts of the one job it received here
    events = []
    for name in os.listdir(events_dir):
        with open(os.path.join(events_dir, name), encoding="utf-8") as handle:
            events.append(json.load(handle))
    return sorted(events, key=lambda event: event["counter"]), output, artifacts


@pytest.mark.every_core
def test_a_job_with_the_documented_credential_type(emulator, tmp_path):
    emulator.load(scenario(tasks=[{"id": TASK_ID, "name": "kafkaConfigModify", "timeline": TIMELINE, "progress": True}]))
    environment = injected_environment({
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "region": REGION, "project_id": PROJECT_ID, "endpoint": emulator.url,
    })
    assert environment["HUAWEICLOUD_SDK_SECURITY_TOKEN"] == "" and environment["HW_AUTH_TOKEN"] == ""  # optional fields left empty
    events, output, artifacts = run_job(str(tmp_path / "job"), environment)

    wait_result = next(event for event in events if event["event"] == "runner_on_ok")
    assert wait_result["event_data"]["res"]["status"] == "SUCCESS"
    progress = [event for event in events if "wait_for_task [localhost]: kafkaConfigModify" in event.get("stdout", "")]
    assert progress, "no progress line in the job events"
    assert all(event["counter"] < wait_result["counter"] for event in progress), "progress lines come before the result"
    assert any("-> SUCCESS" in event["stdout"] for event in progress)

    assert emulator.count("iam") == 0, "the injected project ID spares every IAM lookup"
    assert emulator.count("show") >= 2
    # Runner's own artifacts/command records the environment it was given, as AWX keeps the injected one: what the
    # job shows (its events and stdout) is what must never carry the secret.
    secret_core = SECRET_KEY.split("-", 1)[1]
    with open(os.path.join(artifacts, "stdout"), encoding="utf-8") as handle:
        stdout = handle.read()
    for text in (output, stdout, json.dumps(events)):
        assert secret_core not in text
