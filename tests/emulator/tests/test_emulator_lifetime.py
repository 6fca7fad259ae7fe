# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No emulator outlives the process that started it, even one that ends without tearing its fixtures down."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator

SCENARIO = {"instances": [{"id": "11111111-2222-3333-4444-555555555555"}]}


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        finished, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: it exists
        return True
    return finished == 0


def test_an_emulator_stops_when_the_process_that_started_it_exits_without_teardown(tmp_path):
    """As when ansible-test runs a test in a fork that exits: the module-scoped fixture is never torn down."""
    pid_file = tmp_path / "emulator.pid"
    child = os.fork()
    if child == 0:  # the forked test: start an emulator, then exit at once, skipping every cleanup
        try:
            emulator = Emulator(SCENARIO, tmp_path).__enter__()
            pid_file.write_text(str(emulator.process.pid))
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.waitpid(child, 0)
    emulator_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 60  # a bound for a loaded machine, not a measurement
    while alive(emulator_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(emulator_pid), "the emulator outlived the process that started it"


def test_stop_ends_the_emulator(tmp_path):
    with Emulator(SCENARIO, tmp_path) as emulator:
        pid = emulator.process.pid
    assert emulator.process.returncode is not None and not alive(pid)


def test_a_yaml_scenario_without_pyyaml_is_refused_in_a_sentence_not_a_traceback():
    """As a user starts it with a Python that has no PyYAML (a system python3 beside a venv's ansible-core)."""
    emulator_folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    without_yaml = ("import sys; sys.modules['yaml'] = None; sys.path.insert(0, sys.argv[1]);"
                    " from emulated_dms.server import main; sys.exit(main(['--scenario', sys.argv[2], '--port', '0']))")
    completed = subprocess.run([sys.executable, "-c", without_yaml, emulator_folder, os.path.join(emulator_folder, "scenarios", "demo.yaml")],
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith("dms_emulator: cannot load ") and "reading YAML needs PyYAML" in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr
