# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A job as AWX runs it: ansible-runner's streaming protocol (transmit | worker | process), with the environment
exactly as the documented credential type injects it, against the emulator (also over TLS)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from types import SimpleNamespace

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.environment import without_credentials
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


def load_doc(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Job:
    """The folders of one job: AWX's private data dir, and the one the worker unpacks it into (AWX's /runner)."""

    def __init__(self, tmp_path):
        self.private_data_dir = str(tmp_path / "job")
        self.worker_dir = str(tmp_path / "worker")
        os.makedirs(os.path.join(self.private_data_dir, "env"))


def injected_environment(inputs, job):
    """The environment AWX injects for a credential of the documented type holding ``inputs``, rendered as AWX's
    CredentialType.inject_credential renders it: in a sandboxed Jinja environment where an input holding an empty
    string is undefined and a boolean the credential does not hold is False; each file template is written to the
    private data dir's env/ folder, and tower.filename.<name> is its path as the job sees it."""
    fields = load_doc("credential-type-inputs.yml")["fields"]
    injectors = load_doc("credential-type-injectors.yml")
    assert set(inputs) <= set(field["id"] for field in fields)
    namespace = dict((name, value) for name, value in inputs.items() if isinstance(value, bool) or value)
    for field in fields:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    files = {}
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=os.path.join(job.private_data_dir, "env"))
        with os.fdopen(handle, "w", encoding="utf-8") as written:
            written.write(sandbox.from_string(template).render(**namespace))
        files[label.split(".", 1)[1]] = os.path.join(job.worker_dir, "env", os.path.basename(path))
    namespace["tower"] = SimpleNamespace(filename=SimpleNamespace(**files))
    return dict((name, sandbox.from_string(template).render(**namespace)) for name, template in injectors["env"].items())


def run_job(job, environment, succeeds=True, playbook=None):
    """transmit | worker | process, as AWX's receptor mesh runs a job; returns the job events, in order.

    ``succeeds``: whether the playbook is to succeed; process exits with the playbook's return code. ``playbook``: the
    job template's playbook, PLAYBOOK unless given."""
    private_data_dir = job.private_data_dir
    os.makedirs(os.path.join(private_data_dir, "project"))
    with open(os.path.join(private_data_dir, "project", "playbook.yml"), "w", encoding="utf-8") as handle:
        json.dump(playbook or PLAYBOOK, handle)
    with open(os.path.join(private_data_dir, "inventory"), "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    with open(os.path.join(private_data_dir, "env", "envvars"), "w", encoding="utf-8") as handle:
        json.dump(dict(environment, ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT),
                       ANSIBLE_NOCOLOR="1"), handle)
    runner = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
    # Nothing of this process's own connection or trust store reaches the job: only what the credential injects.
    clean = dict((key, value) for key, value in without_credentials(os.environ).items()
                 if key not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"))
    command = "'{0}' transmit '{1}' -p playbook.yml | '{0}' worker --private-data-dir '{2}' | '{0}' process '{1}'".format(
        runner, private_data_dir, job.worker_dir)
    completed = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=clean, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=PLAYBOOK_TIMEOUT, check=False)
    output = completed.stdout.decode("utf-8", errors="replace")
    assert (completed.returncode == 0) is succeeds, output
    artifacts = os.path.join(private_data_dir, "artifacts")
    events_dir = os.path.join(artifacts, "job_events")  # process writes the artifacts of the one job it received here
    events = []
    for name in os.listdir(events_dir):
        with open(os.path.join(events_dir, name), encoding="utf-8") as handle:
            events.append(json.load(handle))
    return sorted(events, key=lambda event: event["counter"]), output, artifacts


@pytest.mark.edge_cores
def test_a_job_with_the_documented_credential_type(emulator, tmp_path):
    emulator.load(scenario(tasks=[{"id": TASK_ID, "name": "kafkaConfigModify", "timeline": TIMELINE, "progress": True}]))
    job = Job(tmp_path)
    environment = injected_environment({
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "region": REGION, "project_id": PROJECT_ID, "endpoint": emulator.url,
    }, job)
    # The optional fields left empty, and the box not ticked: empty variables count as not set.
    assert [environment[name] for name in ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_AUTH_TOKEN", "HUAWEICLOUD_SDK_IAM_ENDPOINT", "HW_VALIDATE_CERTS",
                                           "HW_CA_PATH")] == [""] * 5
    events, output, artifacts = run_job(job, environment)

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


def test_the_one_step_change_shows_its_queue_and_progress_as_job_events(emulator, tmp_path):
    emulator.load(scenario(tasks=[{"id": TASK_ID, "name": "resizeInstance", "timeline": TIMELINE, "progress": True}],
                           write_tasks={"modify_configs": {"timeline": TIMELINE}}))
    job = Job(tmp_path)
    environment = injected_environment({
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "region": REGION, "project_id": PROJECT_ID, "endpoint": emulator.url,
    }, job)
    change = {"method": "PUT", "path": "/v2/{project_id}/instances/%s/configs" % INSTANCE_ID, "when_busy": "wait", "wait": True,
              "body": {"kafka_configs": [{"name": "log.retention.hours", "value": "168"}]}}
    playbook = [dict(PLAYBOOK[0], tasks=[{"name": "Change when free, and wait", "hwcloud.dms.dms_api": change}])]
    events, output = run_job(job, environment, playbook=playbook)[:2]

    result = next(event for event in events if event["event"] == "runner_on_ok")
    assert result["event_data"]["res"]["waited"]["status"] == "SUCCESS", output
    lines = [event for event in events if "dms_api [localhost]: " in event.get("stdout", "")]
    assert all(event["counter"] < result["counter"] for event in lines), "live lines come before the result"
    texts = [event["stdout"] for event in lines]
    assert any("queued behind resizeInstance (ID %s) CREATED -> EXECUTING" % TASK_ID in text for text in texts), output
    assert any("kafkaConfigModify (ID %s)" % result["event_data"]["res"]["job_id"] in text for text in texts), output


@pytest.fixture(name="tls_emulator", scope="module")
def tls_emulator_fixture(tmp_path_factory):
    with Emulator(scenario(), tmp_path_factory.mktemp("tls-emulator"), https=True) as running:
        yield running


@pytest.mark.parametrize("ca_bundle, skip_tls_verify, trust_store", [
    (True, False, None),
    # An empty CA field injects no CA file path: the trust store of the execution environment verifies the endpoint.
    (False, False, "emulator CA"),
    (False, True, None),
], ids=["ca_bundle", "empty-ca_bundle-trust-store", "skip_tls_verify"])
def test_tls_as_the_credential_type_sets_it(tls_emulator, tmp_path, ca_bundle, skip_tls_verify, trust_store):
    tls_emulator.load(scenario(tasks=[{"id": TASK_ID, "name": "kafkaConfigModify", "status": "SUCCESS"}]))
    with open(tls_emulator.ca_path, encoding="ascii") as handle:
        emulator_ca = handle.read()
    job = Job(tmp_path)
    environment = injected_environment({
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "region": REGION, "project_id": PROJECT_ID, "endpoint": tls_emulator.url,
        "skip_tls_verify": skip_tls_verify, "ca_bundle": emulator_ca if ca_bundle else "",
    }, job)
    # Only a ticked box sets the variable; empty, validate_certs keeps its default (true).
    assert environment["HW_VALIDATE_CERTS"] == ("false" if skip_tls_verify else "")
    if ca_bundle:
        assert os.path.dirname(environment["HW_CA_PATH"]) == os.path.join(job.worker_dir, "env")
    else:
        assert environment["HW_CA_PATH"] == ""
    if trust_store:
        environment["REQUESTS_CA_BUNDLE"] = tls_emulator.ca_path  # what requests trusts in the execution environment
    events, output = run_job(job, environment)[:2]
    results = [event for event in events if event["event"] in ("runner_on_ok", "runner_on_failed")]
    assert [event["event"] for event in results] == ["runner_on_ok"], output
    assert results[0]["event_data"]["res"]["status"] == "SUCCESS"
    assert tls_emulator.count("show") >= 1


@pytest.mark.parametrize("inputs", [
    {},
    {"skip_tls_verify": False},
], ids=["api-credential-without-skip_tls_verify", "skip_tls_verify-unticked"])
def test_a_credential_that_does_not_skip_verification_refuses_an_untrusted_certificate(tls_emulator, tmp_path, inputs):
    """A credential created through the API without the box (AWX then injects False for it) or with it unticked:
    against a self-signed endpoint, with no CA bundle and no trust store that knows it, the job fails on the certificate
    and no signed request reaches the endpoint."""
    tls_emulator.load(scenario(tasks=[{"id": TASK_ID, "name": "kafkaConfigModify", "status": "SUCCESS"}]))
    job = Job(tmp_path)
    environment = injected_environment(dict({
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "region": REGION, "project_id": PROJECT_ID, "endpoint": tls_emulator.url,
    }, **inputs), job)
    assert environment["HW_VALIDATE_CERTS"] == "" and environment["HW_CA_PATH"] == ""
    events, output = run_job(job, environment, succeeds=False)[:2]
    results = [event for event in events if event["event"] in ("runner_on_ok", "runner_on_failed")]
    assert [event["event"] for event in results] == ["runner_on_failed"], output
    message = results[0]["event_data"]["res"]["msg"]
    assert "TLS" in message and re.search(r"certificate[ _]verify[ _]failed", message, re.IGNORECASE), message
    assert tls_emulator.count("show") == 0 and tls_emulator.count() == 0, "a request reached an endpoint whose certificate was refused"
