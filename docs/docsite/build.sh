#!/usr/bin/env bash
# Builds the collection's HTML docsite with antsibull-docs and Sphinx, warnings counted as errors:
#
#   bash docs/docsite/build.sh [DEST]      (default DEST: .cache/docsite/ in the repository, git-ignored)
#
# Needs python3 and the package index: the tools live in their own venv, .venv/docsite, reused while the pins of
# tests/requirements/docsite.txt are unchanged (DOCSITE_VENV names a venv that already holds them instead: the
# docsite session of noxfile.py passes its own). The plugin pages come from the plugins' own docs, the
# guides from docs/docsite/extra-docs.yml and docs/docsite/rst/ (the recipes and the event source's page rendered from
# docs/recipes.md and docs/eda.md by tests/tooling/render_docsite_guides.py), the links from docs/docsite/links.yml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQS="$ROOT/tests/requirements/docsite.txt"
VENV="${DOCSITE_VENV:-$ROOT/.venv/docsite}"
DEST="$(realpath -m "${1:-$ROOT/.cache/docsite}")"

stamp="$({ cat "$REQS" "$ROOT/tests/requirements/core-2.19.txt"; python3 -c 'import sys; print(sys.version)'; } |
    sha256sum | cut -d' ' -f1)"
if [[ -z ${DOCSITE_VENV:-} && ( ! -f $VENV/.stamp || "$(cat "$VENV/.stamp")" != "$stamp" ) ]]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQS" 2>&1 | { grep -v "is ignored: it is neither" || true; }
    printf '%s\n' "$stamp" >"$VENV/.stamp"
fi
export PATH="$VENV/bin:$PATH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hwcloud-dms-docsite.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# ansible-doc finds the collection in a real ansible_collections/ tree: a copy without the local folders.
COLLECTION="$WORK/collections/ansible_collections/hwcloud/dms"
mkdir -p "$COLLECTION"
tar -C "$ROOT" --exclude=./.git --exclude='./.venv*' --exclude=./.nox --exclude=./.cache --exclude=./.ansible --exclude=./tests/output \
    --exclude=__pycache__ -cf - . | tar -C "$COLLECTION" -xf -
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"

# The guides written in Markdown are on the site as rendered into docs/docsite/rst/: a stale page fails the build.
python3 "$COLLECTION/tests/tooling/render_docsite_guides.py" --check
# links.yml, extra-docs.yml and the guides' labels and references, then the plugin docs.
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self "$COLLECTION"
mkdir -m 700 "$WORK/site"
antsibull-docs sphinx-init --use-current --fail-on-error --lenient --project hwcloud.dms --copyright "hwcloud.dms contributors" \
    --title "hwcloud.dms" --dest-dir "$WORK/site" hwcloud.dms >/dev/null
# What the generated build.sh does, except that a Sphinx warning (a broken reference, bad RST) fails the build.
# Without internet the inventories of docs.python.org and docs.ansible.com cannot be fetched, so the labels the
# plugin page templates take from the Ansible docs stay unresolved: only those warnings are let through.
cd "$WORK/site"
mkdir -m 700 rst-plugins
antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error --use-current \
    --dest-dir rst-plugins hwcloud.dms >/dev/null
cp -a rst/. rst-plugins/
sphinx-build -M html rst-plugins build -c . --keep-going -q -w "$WORK/warnings.txt" 2>/dev/null
OFFLINE_ONLY="failed to reach any of the inventories|^intersphinx inventory |undefined label: '(ansible_configuration_settings|common_return_values|action_plugins)'"
if grep -vE "$OFFLINE_ONLY" "$WORK/warnings.txt" >&2; then
    printf 'docsite: Sphinx warnings (above)\n' >&2
    exit 1
fi

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -a "$WORK/site/build/html" "$DEST"
printf 'docsite built: %s/index.html\n' "$DEST"
