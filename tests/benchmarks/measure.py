# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks share: the emulator's credentials, measured subprocesses, playbook runs, and the table's figures."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

ACCESS_KEY = "AKBENCH000000000001"
SECRET_KEY = "SKBENCH0000000000000000000000000000000001"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "ap-southeast-1"
USER_NAME = "bench"
USER_PASSWORD = "bench-password"
COLLECTION_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# The folder holding ansible_collections/hwcloud/dms, for ANSIBLE_COLLECTIONS_PATH.
COLLECTIONS_PATH = os.path.normpath(os.path.join(COLLECTION_ROOT, "..", "..", ".."))
BIN = os.path.dirname(sys.executable)
PLAYBOOK_TIME_LIMIT = 900


def instance_id(number):
    return "bbbbbbbb-0000-4000-8000-%012d" % number


def scenario(instances, faults=None):
    """Every instance's clock starts at its first request, so a run's timelines do not depend on start-up time."""
    return {
        "region": REGION, "project_id": PROJECT_ID, "clock": "first_request",
        "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}],
        "users": [{"name": USER_NAME, "password": USER_PASSWORD}],
        "instances": instances, "faults": faults or [],
    }


def connection(url):
    """The connection options of every module, pointed at the emulator (project given: no IAM lookup)."""
    return {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "project_id": PROJECT_ID, "region": REGION,
            "endpoint": url, "iam_endpoint": url}


class Measured:
    """A finished subprocess: wall seconds, CPU seconds of it and every process it waited for, peak RSS in MiB."""

    def __init__(self, wall, cpu, peak_mib, returncode, output):
        self.wall = wall
        self.cpu = cpu
        self.peak_mib = peak_mib
        self.returncode = returncode
        self.output = output
        self.result = None


def start(command, workdir, env=None):
    output = open(os.path.join(workdir, "output-%d.txt" % time.monotonic_ns()), "w+", encoding="utf-8")  # pylint: disable=consider-using-with
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                               env=dict(os.environ, **(env or {})), cwd=workdir)
    return process, output, time.perf_counter()


def finish(started, time_limit=PLAYBOOK_TIME_LIMIT):
    """Wait for a process from start(); its rusage from wait4 covers the whole tree it reaped (Ansible's forks, modules)."""
    return finish_all({None: started}, time_limit)[None]


def finish_all(started, time_limit=PLAYBOOK_TIME_LIMIT):
    """finish() for several processes running at once (a mapping of start() results): each timed to its own end."""
    pending, measured = dict(started), {}
    deadline = min(began for _process, _output, began in pending.values()) + time_limit
    while pending:
        for key, (process, output, began) in list(pending.items()):
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                del pending[key]
                measured[key] = _measured(process, output, time.perf_counter() - began, status, usage)
            elif time.perf_counter() > deadline:
                process.kill()
        time.sleep(0.02)
    return measured


def _measured(process, output, wall, status, usage):
    process.returncode = os.waitstatus_to_exitcode(status)
    output.seek(0)
    text = output.read()
    output.close()
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, process.returncode, text)


def run(command, workdir, env=None):
    return finish(start(command, workdir, env))


def python_module(module, workdir, *args):
    """Run a module of this folder in a fresh interpreter, importing the collection from here; its last line is JSON."""
    command = [sys.executable, "-m", "ansible_collections.hwcloud.dms.tests.benchmarks." + module] + [str(arg) for arg in args]
    measured = run(command, workdir, {"PYTHONPATH": COLLECTIONS_PATH})
    if measured.returncode != 0:
        raise RuntimeError("benchmark module failed:\n" + measured.output)
    measured.result = json.loads(measured.output.strip().splitlines()[-1])
    return measured


def playbook_env(extra=None):
    env = {
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "False", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }
    env.update(extra or {})
    return env


def start_playbook(workdir, name, plays, hosts=("localhost",), forks=5):
    """Start ansible-playbook on ``plays`` (a list of plays) against local ``hosts``."""
    inventory = os.path.join(workdir, name + ".ini")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("[bench]\n" + "".join("%s ansible_connection=local\n" % host for host in hosts))
    playbook = os.path.join(workdir, name + ".yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump(plays, handle)
    env = playbook_env({"ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "ansible-tmp")})
    return start([os.path.join(BIN, "ansible-playbook"), "-i", inventory, "--forks", str(forks), playbook], workdir, env)


def finish_playbooks(started):
    """finish_all() for playbooks, which must succeed."""
    measured = finish_all(started)
    for run in measured.values():
        if run.returncode != 0:
            raise RuntimeError("benchmark playbook failed:\n" + run.output[-4000:])
    return measured


def finish_playbook(started):
    return finish_playbooks({None: started})[None]


def median(values):
    return statistics.median(values) if values else float("nan")


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))] if ordered else float("nan")


def load_note():
    one, five, _fifteen = os.getloadavg()
    return "load average %.1f (1 min), %.1f (5 min) on %d CPUs" % (one, five, os.cpu_count() or 0)


def table(title, header, rows, notes=()):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    print(title)
    for row in [header] + rows:
        print("  " + "  ".join(str(cell).rjust(width) if index else str(cell).ljust(width) for index, (cell, width) in enumerate(zip(row, widths))))
    for note in notes:
        print("  " + note)
    print()
    sys.stdout.flush()


def verdict(value, target, lower_is_better=True):
    met = value <= target if lower_is_better else value >= target
    return "met" if met else "MISSED"
