# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hwcloud.dms.task_events as tooling outside ansible-rulebook uses it: run as a script, it prints the events of the
emulator; ansible-doc, as galaxy-importer runs it on the folder meta/extensions.yml names, reads its documentation.

The copy run is the one of the collection that ANSIBLE_COLLECTIONS_PATH points at (the installed tarball in the test
command), as the docs tell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import yaml

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.environment import without_credentials

COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(COLLECTION, "..", "..", ".."))
INSTANCE = "11111111-2222-3333-4444-555555555555"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
ACCESS_KEY = "AKEXAMPLE0000000000"  # the emulator's default credential (the scenario names none)
SECRET_KEY = "SKEXAMPLE0000000000000000000000000000000"
RUN_TIMEOUT = 60


def installed_collection():
    root = os.environ.get("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT).split(os.pathsep)[0]
    return os.path.join(root, "ansible_collections", "hwcloud", "dms")


def event_sources():
    return os.path.join(installed_collection(), "extensions", "eda", "plugins", "event_source")


def script_environment(emulator, secret_key=SECRET_KEY):
    """This process's environment without any connection variable, plus the emulator's connection."""
    environment = without_credentials(os.environ)
    environment.update({"HW_DMS_ENDPOINT": emulator.url, "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID,
                        "HUAWEICLOUD_SDK_AK": ACCESS_KEY, "HUAWEICLOUD_SDK_SK": secret_key})
    return environment


def run_script(arguments, environment):
    completed = subprocess.run([sys.executable, os.path.join(event_sources(), "task_events.py")] + arguments, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, check=False)
    return completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8")


def test_the_script_prints_the_events_until_interrupted(tmp_path):
    with Emulator(os.path.join(COLLECTION, "docs", "eda", "failing_change.yaml"), tmp_path) as emulator:
        # The statuses before the instance ID: they must not take it for one of them.
        command = [sys.executable, os.path.join(event_sources(), "task_events.py"), "--interval", "1", "--statuses", "EXECUTING,FAILED", INSTANCE]
        with subprocess.Popen(command, env=script_environment(emulator), stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                              stderr=subprocess.PIPE) as process:
            events, deadline = [], time.monotonic() + RUN_TIMEOUT
            while not any(event["dms_task"]["status"] == "FAILED" for event in events) and time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                events.append(json.loads(line))
            process.send_signal(signal.SIGINT)
            rest, errors = process.communicate(timeout=RUN_TIMEOUT)
    output = json.dumps(events) + rest.decode("utf-8") + errors.decode("utf-8")
    assert process.returncode == 130, output  # Ctrl-C: a quiet exit, not a traceback
    assert "Traceback" not in output
    statuses = [(event["dms_task"]["previous_status"], event["dms_task"]["status"]) for event in events]
    assert {status for _previous, status in statuses} <= {"EXECUTING", "FAILED"}, output
    assert statuses[-1][1] == "FAILED" and all(event["dms_task"]["task"]["name"] == "kafkaConfigModify" for event in events), output
    assert SECRET_KEY not in output


def test_the_script_refuses_a_bad_arg_naming_it(tmp_path):
    with Emulator(os.path.join(COLLECTION, "docs", "eda", "failing_change.yaml"), tmp_path) as emulator:
        returncode, output, errors = run_script(["--interval", "0", INSTANCE], script_environment(emulator))
        assert emulator.count() == 0
    assert (returncode, output) == (1, "")
    assert errors == "hwcloud.dms.task_events: interval must be a number of seconds from 1 to 86400, got 0.0\n"


def test_the_script_stops_at_an_authentication_failure_without_showing_the_secret(tmp_path):
    wrong_secret = "SKWRONG-never-printed-0000000000000000000"
    with Emulator(os.path.join(COLLECTION, "docs", "eda", "failing_change.yaml"), tmp_path) as emulator:
        returncode, output, errors = run_script([INSTANCE], script_environment(emulator, secret_key=wrong_secret))
    assert (returncode, output) == (1, "")
    assert errors.startswith("hwcloud.dms.task_events stopped: could not read the tasks of instance %s: HTTP 401" % INSTANCE), errors
    assert wrong_secret not in errors and "Traceback" not in errors


def test_ansible_doc_reads_the_documentation_as_galaxy_importer_asks_for_it():
    # galaxy-importer documents each source of the folders meta/extensions.yml names with: ansible-doc -M <folder> --json <name>
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    completed = subprocess.run([ansible_doc, "-M", event_sources(), "--json", "task_events"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, check=False)
    assert completed.returncode == 0, completed.stderr.decode("utf-8", "replace")
    doc = json.loads(completed.stdout)["task_events"]["doc"]
    with open(os.path.join(event_sources(), "task_events.py"), encoding="utf-8") as handle:
        source = handle.read()
    documented = yaml.safe_load(source.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])
    assert doc["short_description"] == documented["short_description"]
    assert set(doc["options"]) == set(documented["options"])
