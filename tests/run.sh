#!/usr/bin/env bash
# The one test command of the hwcloud.dms collection (README Quickstart; .ci/run calls it too):
#
#   bash tests/run.sh [NOX ARGUMENTS]      e.g. -s lint -s functional-2.19 to run only those sessions
#
# Needs bash, python3 (3.11+), git (optional) and the package index. Sets up nox in .venv/nox, runs every session of
# noxfile.py (`.venv/nox/bin/nox -l` lists them) three at a time, and ends with a summary: each session's outcome and
# time, then the pytest counts of all sessions in one line, the last one, which CI reads. Every session runs even when
# another failed; the exit code is non-zero if any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv/nox
if ! cmp -s tests/requirements/nox.txt "$venv/.requirements"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    # grep: drop pip's notices about configured extra index folders that do not exist.
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --no-cache-dir -q -r tests/requirements/nox.txt \
        2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
    cp tests/requirements/nox.txt "$venv/.requirements"
fi

# Three sessions at a time on two cores: the functional tests wait on task timelines part of the time, and more would
# only share the same two cores among more processes (timing-sensitive tests suffer first).
rm -rf .nox/junit .nox/cpu .nox/report.json
rc=0
"$venv/bin/nox" --parallel 3 --report .nox/report.json "$@" || rc=$?

"$venv/bin/python" - <<'PY'
import glob
import json
import xml.etree.ElementTree as ET

try:
    with open(".nox/report.json", encoding="utf-8") as report:
        sessions = json.load(report)["sessions"]
except (OSError, ValueError):
    sessions = []


def cpu_seconds(name):
    try:
        with open(".nox/cpu/%s.json" % name, encoding="utf-8") as figures:
            return "%8.1f" % json.load(figures)["cpu_seconds"]
    except (OSError, ValueError, KeyError):
        return "%8s" % "-"


print("\n%-16s %-9s %8s %8s  %s" % ("session", "result", "seconds", "cpu s", "reason"))
for s in sessions:
    print("%-16s %-9s %8.1f %s  %s" % (s["name"], s["result"], s["duration"], cpu_seconds(s["name"]), s["reason"] or ""))
failed = [s["name"] for s in sessions if s["result"] not in ("success", "skipped")]
if failed:
    print("FAILED sessions: " + ", ".join(failed))

passed = failures = skipped = 0
files = glob.glob(".nox/junit/*.xml")
for path in files:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        continue
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0))
        passed += int(suite.get("tests", 0)) - bad - skip
        failures += bad
        skipped += skip
# The plain count line CI reads (the tests of every session together): the last line of the run.
if files:
    print("pytest: %d passed, %d failed, %d skipped" % (passed, failures, skipped))
PY
exit "$rc"
