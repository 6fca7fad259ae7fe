# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Functional tests: real ansible-playbook runs of the installed collection against the emulator on 127.0.0.1.

The test command installs the built collection and points ANSIBLE_COLLECTIONS_PATH at it; run by hand,
the collection tree these tests sit in is used instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.environment import without_credentials

ACCESS_KEY = "AKFUNCTIONAL00000001"
# A canary: tests assert that it never shows in any output, at any verbosity.
SECRET_KEY = "SKCANARY-never-print-me-4242424242424242"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", ".."))
PLAYBOOK_TIMEOUT = 300
# A YAML scalar written into the playbook unquoted (JSON cannot spell .nan, .inf or 1.0e+400): yaml_scalar() wraps it.
RAW_YAML = re.compile(r'"<<yaml:([^"<>]*)>>"')


def pytest_configure(config):
    config.addinivalue_line("markers", "every_core: a test that also runs on each ansible-core between the oldest and newest"
                                       " the collection supports, where not the whole suite runs (the every-core sessions of noxfile.py)")
    config.addinivalue_line("markers", "edge_cores: a test that also runs on the oldest and the newest ansible-core the collection"
                                       " supports (their every-core sessions), besides the whole suite's core")


def scenario(tasks=None, generate=None, engine="kafka", faults=None, **extra):
    """A scenario with the test credentials and one instance, INSTANCE_ID.

    Each instance's clock starts at the first request naming it, so that what a wait sees does not depend on how
    long ansible-playbook took to start: timelines and the clock values in the request log count from there.
    """
    instance = {"id": INSTANCE_ID, "engine": engine, "tasks": tasks or []}
    if generate:
        instance["generate"] = generate
    document = {
        "region": REGION, "project_id": PROJECT_ID,
        "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}],
        "instances": [instance], "faults": faults or [], "clock": "first_request",
    }
    document.update(extra)
    return document


def instance_id(number):
    """Extra instances, for runs where each wait gets an instance of its own."""
    return "aaaaaaaa-0000-4000-8000-%012d" % number


def instances_scenario(instances, faults=None, **extra):
    """scenario() with several Kafka instances: ``instances`` maps instance ID to its task list (or a full instance dict)."""
    document = scenario(faults=faults, **extra)
    document["instances"] = []
    for ident, spec in instances.items():
        instance = dict(spec) if isinstance(spec, dict) else {"tasks": spec}
        instance.setdefault("engine", "kafka")
        instance["id"] = ident
        document["instances"].append(instance)
    return document


def logged(emulator, instance=None, task_id=None, kind=None):
    """Request log entries, optionally of one instance, one task ID and one kind."""
    return [
        entry for entry in emulator.requests(kind)
        if (instance is None or entry["instance_id"] == instance) and (task_id is None or entry["task_id"] == task_id)
    ]


def assert_no_traceback(run, result):
    """ansible-core 2.19 registers failed results with exception '(traceback unavailable)': no traceback is what counts."""
    for text in (str(result.get("exception", "")), run.output):
        assert "Traceback" not in text and 'File "' not in text, text


def yaml_scalar(text):
    """A value the playbook holds as this plain YAML scalar, e.g. yaml_scalar(".nan") is a float NaN."""
    return "<<yaml:%s>>" % text


@pytest.fixture(scope="session")
def run_once(tmp_path_factory):
    """``run_once(name, produce)``: ``produce()`` (JSON data) once per test session, however many xdist workers ask for it.

    A module-scoped playbook run read by several tests would otherwise run once in each worker that gets one of
    them: the first worker to ask runs it, under a file lock, and the others read what it saved (pytest-xdist's
    recipe for fixtures that must run once).
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return lambda name, produce: produce()
    shared_root = tmp_path_factory.getbasetemp().parent

    def once(name, produce):
        saved = shared_root / ("%s.json" % name)
        with open(shared_root / ("%s.lock" % name), "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not saved.exists():
                saved.write_text(json.dumps(produce()), encoding="utf-8")
            return json.loads(saved.read_text(encoding="utf-8"))

    return once


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

    def as_data(self):
        """What run_once saves; PlaybookRun(**data) restores it."""
        return {"returncode": self.returncode, "output": self.output, "results": self.results}

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
            handle.write(RAW_YAML.sub(r"\1", json.dumps([play], indent=2)))  # JSON is YAML
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
        environment = without_credentials(os.environ)
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
