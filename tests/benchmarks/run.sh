#!/usr/bin/env bash
# The full benchmark of docs/performance.md: prints every table with its ratios and targets (about 30 minutes).
# Needs only python3 (3.11) and the package index: sets up .venv/bench from tests/benchmarks/requirements.txt
# (reused while the pins are unchanged), copies the collection into a temporary ansible_collections/hwcloud/dms
# tree and runs tests/benchmarks/bench_performance.py --full there. Arguments are passed on (--help lists them).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/.venv/bench"
requirements="$repo/tests/benchmarks/requirements.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! cmp -s "$requirements" "$venv/.requirements"; then
    echo "Setting up $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements" 2>&1 \
        | grep -v 'is ignored: it is neither a file nor a directory' || true
    "$venv/bin/python" -c 'import ansible, requests, huaweicloudsdkkafka'
    cp "$requirements" "$venv/.requirements"
fi

tree="$work/ansible_collections/hwcloud/dms"
mkdir -p "$tree"
(cd "$repo" && tar --exclude=./.venv --exclude=./.nox --exclude=./.git --exclude=./tests/output -cf - .) | tar -C "$tree" -xf -
cd "$tree"
PYTHONPATH="$work" "$venv/bin/python" tests/benchmarks/bench_performance.py --full "$@"
