#!/usr/bin/env bash
# The README demo: a fresh machine needs only python3 (3.11+) and the package index.
# Sets up .venv/demo (ansible-core and requests), builds and installs this collection into a temporary
# folder, starts the bundled DMS emulator with a Kafka instance that has a change in flight, runs
# docs/demo/playbook.yml against it, and stops the emulator.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/.venv/demo"
requirements="ansible-core==2.19.14 requests==2.34.2"
work="$(mktemp -d)"
emulator_pid=""

cleanup() {
    if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]; then
    echo "Setting up $venv ($requirements)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086  # the pins are separate words on purpose
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q $requirements 2>&1 \
        | grep -v 'is ignored: it is neither a file nor a directory' || true
    "$venv/bin/python" -c 'import ansible, requests'
    echo "$requirements" > "$venv/.requirements"
fi

# Build and install the collection exactly as a user would get it.
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
(cd "$repo" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$work/dist" . >/dev/null)
"$venv/bin/ansible-galaxy" collection install --no-deps -p "$work/collections" "$work"/dist/hwcloud-dms-*.tar.gz >/dev/null

"$venv/bin/python" "$repo/tests/emulator/dms_emulator.py" --scenario "$repo/tests/emulator/scenarios/demo.yaml" \
    --port 0 --port-file "$work/port" --log "$work/requests.log" >"$work/emulator.out" 2>&1 &
emulator_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/emulator.out"; echo "The emulator did not start" >&2; exit 1; }
echo "DMS emulator listening on http://127.0.0.1:$(cat "$work/port")"

HW_DMS_ENDPOINT="http://127.0.0.1:$(cat "$work/port")"
export HW_DMS_ENDPOINT
export HUAWEICLOUD_SDK_AK=AKEXAMPLE0000000000
export HUAWEICLOUD_SDK_SK=SKEXAMPLE0000000000000000000000000000000
export HUAWEICLOUD_SDK_PROJECT_ID=0123456789abcdef0123456789abcdef
export ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
# ansible-core imports cryptography's DSA support, which newer cryptography releases warn about on every start.
export PYTHONWARNINGS="ignore:DSA is deprecated"
"$venv/bin/ansible-playbook" -i localhost, "$repo/docs/demo/playbook.yml" "$@"
echo "The emulator answered $(wc -l <"$work/requests.log") API requests."
