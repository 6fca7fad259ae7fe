# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Functional tests: real ansible-playbook runs of the installed collection against the emulator on 127.0.0.1.

The test command installs the built collection and points ANSIBLE_COLLECTIONS_PATH at it; run by hand,
the collection tree these tests sit in is used instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

ACCESS_KEY = "AKFUNCTIONAL00000001"
# A canary: tests assert that it never shows in any output, at any verbosity.
SECRET_KEY = "SKCANARY-never-print-me-4242424242424242"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", ".."))
PLAYBOOK_TIMEOUT = 300


def scenario(tasks=None, generate=None, engine="kafka", faults=None, **extra):
    """A scenario with the test credentials and one instance, INSTANCE_ID."""
    instance = {"id": INSTANCE_ID, "engine": engine, "tasks": tasks or []}
    if generate:
        instance["generate"] = generate
    document = {
        "region": REGION, "project_id": PROJECT_ID,
        "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}],
        "instances": [instance], "faults": faults or [],
    }
    document.update(extra)
    return document


@pytest.fixture
def emulator(tmp_path):
    """A running emulator; tests load their own scenario with ``emulator.load(scenario(...))``."""
    with Emulator(scenario(), tmp_path) as running:
        yield running


class PlaybookRun:
    def __init__(self, returncode, output, results):
        self.returncode = returncode
        self.output = output
        self.results = results

    @property
    def result(self):
        """The registered result of the only (or first) task."""
        return self.results[0]


class Playbook:
    """Writes a one-play playbook around the given tasks, runs ansible-playbook, and reads what they returned."""

    def __init__(self, workdir, emulator):
        self.workdir = str(workdir)
        self.emulator = emulator

    def connection(self, **overrides):
        """The module_defaults that point every hwcloud.dms plugin at the emulator."""
        options = {
            "endpoint": self.emulator.url, "iam_endpoint": self.emulator.url, "region": REGION,
            "project_id": PROJECT_ID, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
            "max_retries": 3, "request_timeout": 5,
        }
        options.update(overrides)
        return dict((key, value) for key, value in options.items() if value is not None)

    def run(self, tasks, defaults=None, env=None, args=(), check=False, ignore_errors=True):
        """Run ``tasks`` (dicts). Each is registered; with ignore_errors, a later task saves every result to JSON."""
        results_path = os.path.join(self.workdir, "results.json")
        if os.path.exists(results_path):
            os.remove(results_path)
        play_tasks = []
        for index, task in enumerate(tasks):
            task = dict(task, register="result_%d" % index)
            if ignore_errors:
                task["ignore_errors"] = True
            play_tasks.append(task)
        registered = ", ".join("result_%d" % index for index in range(len(tasks)))
        play_tasks.append({
            "name": "Save the results",
            "ansible.builtin.copy": {"content": "{{ [%s] | to_json }}" % registered, "dest": results_path, "mode": "0600"},
            "check_mode": False,  # the results are saved in a --check run too
        })
        play = {
            "name": "Functional test", "hosts": "localhost", "gather_facts": False,
            "module_defaults": {"group/hwcloud.dms.dms": self.connection() if defaults is None else defaults},
            "tasks": play_tasks,
        }
        playbook_path = os.path.join(self.workdir, "playbook.yml")
        with open(playbook_path, "w", encoding="utf-8") as handle:
            json.dump([play], handle, indent=2)  # JSON is YAML
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local", playbook_path]
        command += list(args) + (["--check"] if check else [])
        completed = subprocess.run(
            command, cwd=self.workdir, env=self._environment(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=PLAYBOOK_TIMEOUT, check=False,
        )
        output = completed.stdout.decode("utf-8", errors="replace")
        results = None
        if os.path.exists(results_path):
            with open(results_path, encoding="utf-8") as handle:
                results = json.load(handle)
        return PlaybookRun(completed.returncode, output, results)

    def _environment(self, extra):
        environment = dict(
            (key, value) for key, value in os.environ.items()
            if not key.startswith(("HW_", "HUAWEICLOUD_", "ANSIBLE_HWC_"))
        )
        environment.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT)
        environment.update({
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.workdir, "ansible-tmp"), "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        })
        environment.update(extra or {})
        return environment


@pytest.fixture
def playbook(tmp_path, emulator):
    return Playbook(tmp_path, emulator)
