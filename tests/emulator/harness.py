# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the DMS emulator as a real subprocess from a test.

    with Emulator({"instances": [...]}, tmp_path) as emulator:
        ...  # emulator.url is both the DMS endpoint and the IAM endpoint
        assert emulator.count("list") == 3
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dms_emulator.py")
# A bound for a heavily loaded machine (starting Python and writing the TLS certificates can take seconds there), not a
# measure: the emulator usually starts in well under a second.
START_TIMEOUT = 60.0


class Emulator:
    """scenario: a dict or the path of a scenario file; workdir: where the port file, certificates and output go."""

    def __init__(self, scenario, workdir, https=False):
        self.workdir = str(workdir)
        self.https = https
        if isinstance(scenario, dict):
            self.scenario_path = os.path.join(self.workdir, "scenario.json")
            with open(self.scenario_path, "w", encoding="utf-8") as handle:
                json.dump(scenario, handle)
        else:
            self.scenario_path = str(scenario)
        self.ca_path = os.path.join(self.workdir, "ca.pem") if https else None
        self.output_path = os.path.join(self.workdir, "emulator.out")
        self.log_path = os.path.join(self.workdir, "requests.jsonl")  # the request log, kept for post-mortems
        self.url = None
        self.process = None

    def __enter__(self):
        port_file = os.path.join(self.workdir, "emulator.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        # The emulator stops when the pipe on its standard input closes: also when the test process ends without tearing
        # its fixtures down (ansible-test runs each test in a fork that exits), so no emulator outlives its test run.
        command = [sys.executable, EMULATOR, "--scenario", self.scenario_path, "--port", "0", "--port-file", port_file, "--log", self.log_path,
                   "--stop-with-stdin"]
        if self.https:
            command += ["--https", "--cert-dir", self.workdir]
        with open(self.output_path, "wb") as output:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(self.output_path, encoding="utf-8", errors="replace") as output:
                    raise RuntimeError("the emulator did not start:\n" + output.read())
            time.sleep(0.02)
        with open(port_file, encoding="utf-8") as handle:
            self.url = "%s://127.0.0.1:%s" % ("https" if self.https else "http", handle.read().strip())
        self.admin("GET", "health")
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()

    def admin(self, method, name, document=None):
        """Call an /_emulator/ endpoint and return its JSON answer. document: sent as JSON, or as is when bytes."""
        data = document if document is None or isinstance(document, bytes) else json.dumps(document).encode("utf-8")
        request = urllib.request.Request(self.url + "/_emulator/" + name, data=data, method=method)
        context = ssl.create_default_context(cafile=self.ca_path) if self.https else None
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise RuntimeError("emulator admin call %s %s failed: %s" % (method, name, error.read().decode("utf-8", "replace"))) from None

    def requests(self, kind=None):
        """The request log entries (list, show, delete, progress, iam_projects, iam_token; iam: both IAM calls)."""
        return self.admin("GET", "requests" + ("?kind=" + kind if kind else ""))["requests"]

    def count(self, kind=None):
        return len(self.requests(kind))

    def reset(self):
        """Forget the request log, counters, fault rule state and lockouts; the scenario clock runs on."""
        self.admin("POST", "reset", {})

    def load(self, scenario):
        """Swap in a new scenario (a dict or a file path) and restart its clocks; the log starts afresh, tokens stay valid."""
        if not isinstance(scenario, dict):
            with open(scenario, "rb") as handle:
                scenario = handle.read()
        self.admin("POST", "scenario", scenario)
