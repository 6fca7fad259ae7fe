#!/usr/bin/env bash
# The one test command of the hwcloud.dms collection (README Quickstart; .ci/run calls it too).
#
#   bash tests/run.sh [--leg A|B|C|D|E|F|G]... [--keep]
#
# Needs only bash, git (optional), python3 and the package index. For each "leg" it creates (or reuses)
# a venv under .venv/, copies the collection into a temporary ansible_collections/hwcloud/dms/ tree and
# runs: ansible-test sanity, galaxy build + install of the tarball, and pytest (unit + functional, against
# the INSTALLED artifact). Leg A runs the unit tests through `ansible-test units --venv` instead, and also
# ansible-lint (production profile), antsibull-changelog lint, antsibull-docs lint, an execution environment
# build context from the release tarball (ansible-builder create) and the collection's EE metadata (ansible-builder
# introspect), galaxy-importer with flake8, the HTML docsite (docs/docsite/build.sh, in .venv/docsite), the
# benchmarks (tests/benchmarks/bench_*.py: figures only, nothing asserted) and the README demo. Those extra tools
# live in their own venv (.venv/tools), as their pins clash.
#   leg A: the default python3 with ansible-core 2.19.x (the newest that Python 3.11 runs)
#   leg B: the newest Python 3.12+ found (pyenv or PATH) with ansible-core 2.21.x; skipped with a notice
#          when the machine has no Python 3.12+.
#   leg C: the default python3 with ansible-core 2.15.x, the oldest meta/runtime.yml declares (the default AWX
#          execution environment's): build + install, the unit and the functional tests. Its ansible-test would
#          need its own offline bootstrap; sanity runs on the newer cores of legs A and B.
#   legs D, E, F, G: ansible-core 2.16, 2.17 and 2.18 on the default python3, 2.20 on the newest Python 3.12+
#          (skipped with a notice when there is none): build + install and the functional tests marked
#          every_core, one or more per plugin and per kind of behaviour, so every supported core runs each
#          plugin for real within the time the whole command may take.
# Failure policy: every step of every leg runs (a later step still reports useful things when an earlier
# one failed); the script exits non-zero at the end if any step failed. Only a failed venv setup skips the
# rest of its leg, since nothing can run without it.
#
# Options:  --leg A|B|C  run only that leg (repeatable; default: all)
#           --keep     keep the temporary work folder (path printed at the end)
# Environment: PYTEST_ADDOPTS is honoured by pytest as usual (e.g. PYTEST_ADDOPTS='-k signing').
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLING="$REPO_ROOT/tests/tooling"
VENV_ROOT="$REPO_ROOT/.venv"

# Per-leg settings. The requirement files (tests/tooling/requirements-leg-X.txt) pin everything exactly; their
# hash decides venv reuse.
ALL_LEGS="A B C D E F G"
declare -A LEG_CORE=([A]="2.19" [B]="2.21" [C]="2.15" [D]="2.16" [E]="2.17" [F]="2.18" [G]="2.20")
TOOLS_REQS="$TOOLING/requirements-tools.txt"
# Legs whose ansible-core needs a Python 3.12+ controller pick the newest one present; the others run on python3.
declare -A LEG_PY_CANDIDATES=([B]="3.14 3.13 3.12" [G]="3.13 3.12")
# Python versions ansible-test may test module-side code on (tests/config.yml narrows them to 3.9+).
ALL_PY_MINORS="3.8 3.9 3.10 3.11 3.12 3.13 3.14"
# ansible-test fetches these get-pip versions (2.19: 24.2, 2.21: 25.2); the stand-in serves both.
GET_PIP_CACHE_NAMES="get_pip_24_2.py get_pip_25_2.py"

LEGS=()
KEEP_WORK=0
WORK=""

# Results, in order: "leg|step|status|seconds".
RESULTS=()
FAILED=0
LAST_RC=0
declare -A JUNIT=()   # leg -> junit xml paths (space-separated globs), for the closing count line

# ----------------------------------------------------------------------------------------------------
# Output helpers

log() { printf '[run.sh] %s\n' "$*"; }

header() {
    printf '\n==================================================================================\n'
    printf '== %s\n' "$*"
    printf '==================================================================================\n'
}

now() { printf '%s' "${EPOCHREALTIME:-$(date +%s)}"; }

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Drop pip's noise about the machine-wide extra index folders that do not exist; keep everything else.
filter_pip_noise() { grep --line-buffered -v 'is ignored: it is neither a file nor a directory' || true; }

# The header comment of this file is the help text.
usage() { sed -n '2,/^set /{/^#/p;}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ----------------------------------------------------------------------------------------------------
# Step runner: runs a function in a subshell with errexit active, times it and records the outcome.
# It always returns 0 and leaves the step's exit code in LAST_RC: bash ignores errexit in everything
# called from an `if`/`||` context (even a subshell that sets -e again), so run_step must never be
# called there, or a failing command inside a step would not stop that step.

run_step() {
    local leg="$1" name="$2" func="$3" start rc
    shift 3
    header "[leg $leg] $name"
    start="$(now)"
    set +e
    ( set -e; "$func" "$leg" "$@" )
    rc=$?
    set -e
    local secs
    secs="$(elapsed "$start" "$(now)")"
    if [[ $rc -eq 0 ]]; then
        log "[leg $leg] $name: OK (${secs}s)"
        RESULTS+=("$leg|$name|ok|$secs")
    else
        log "[leg $leg] $name: FAILED with exit code $rc (${secs}s)"
        RESULTS+=("$leg|$name|FAILED (rc=$rc)|$secs")
        FAILED=1
    fi
    LAST_RC=$rc
    return 0
}

record() { RESULTS+=("$1|$2|$3|0.0"); }

# ----------------------------------------------------------------------------------------------------
# Python discovery

# Print a working interpreter for minor version $1 (e.g. 3.12), or return 1. Looks in pyenv's versions
# (newest patch first) and then on PATH. pyenv shims are skipped: they fail for versions that are not the
# active one. The interpreter must have venv and ensurepip, which ansible-test's venvs need.
find_python() {
    local minor="$1" root cand
    local -a cands=()
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null || true)"
        if [[ -n $root && -d $root/versions ]]; then
            while IFS= read -r cand; do cands+=("$cand"); done < <(
                compgen -G "$root/versions/$minor.*/bin/python$minor" | sort -rV || true)
        fi
    fi
    while IFS= read -r cand; do cands+=("$cand"); done < <(type -ap "python$minor" || true)
    for cand in "${cands[@]}"; do
        [[ $cand == */shims/* || ! -x $cand ]] && continue
        if "$cand" -c 'import sys, venv, ensurepip; sys.exit(0 if "%d.%d" % sys.version_info[:2] == "'"$minor"'" else 1)' \
            >/dev/null 2>&1; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    return 1
}

# The real interpreter behind the default `python3` (resolving a pyenv shim), for leg A.
default_python() {
    python3 -c 'import sys; print(getattr(sys, "_base_executable", None) or sys.executable)'
}

# ----------------------------------------------------------------------------------------------------
# Step 1/2: venv with pinned tools, reused while the pins and the interpreter are unchanged.

venv_dir() { printf '%s/test-leg-%s' "$VENV_ROOT" "${1,,}"; }
tools_venv_dir() { printf '%s/tools' "$VENV_ROOT"; }

# A venv at $1 for interpreter $2 with the pinned requirements file $3, reused while pins and interpreter are unchanged.
ensure_venv() {
    local dir="$1" py="$2" reqs="$3" stamp
    stamp="$({ cat "$reqs" "$REPO_ROOT/tests/requirements-test.txt" "$TOOLING/requirements-every-core.txt"; printf '%s\n' "$py"
               "$py" -c 'import sys; print(sys.version)'; } |
        sha256sum | cut -d' ' -f1)"
    if [[ -f $dir/.stamp && "$(cat "$dir/.stamp")" == "$stamp" ]] && "$dir/bin/python" -c 'import ansible' 2>/dev/null; then
        log "reusing $dir (pins unchanged)"
    else
        log "creating $dir with $py"
        rm -rf "$dir"
        mkdir -p "$VENV_ROOT"
        "$py" -m venv "$dir"
        "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$reqs" 2>&1 | filter_pip_noise
        printf '%s\n' "$stamp" >"$dir/.stamp"
    fi
    "$dir/bin/python" --version
    "$dir/bin/python" -c 'from ansible.release import __version__; print("ansible-core", __version__)'
}

step_venv() {
    local leg="$1" py="$2"
    ensure_venv "$(venv_dir "$leg")" "$py" "$TOOLING/requirements-leg-${leg,,}.txt"
}

step_tools_venv() {
    local leg="$1" py="$2"
    ensure_venv "$(tools_venv_dir)" "$py" "$TOOLS_REQS"
}

# ----------------------------------------------------------------------------------------------------
# Step 3: the collection under a real (not symlinked) ansible_collections/hwcloud/dms/ folder.
# One snapshot of the work tree is taken at the start, so both legs test the same files even while
# someone keeps editing; each leg then gets its own copy of it, so that one leg's leftovers
# (tests/output, .ansible/) never reach the other leg's sanity run.

src_parent() { printf '%s/leg-%s/src' "$WORK" "$1"; }
src_dir() { printf '%s/ansible_collections/hwcloud/dms' "$(src_parent "$1")"; }

take_snapshot() {
    local dest="$WORK/snapshot"
    mkdir -p "$dest"
    if git -C "$REPO_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # Tracked and untracked-but-not-ignored files: what the next commit would hold. Tracked files
        # deleted in the work tree are left out.
        (cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z |
            while IFS= read -r -d '' f; do if [[ -e $f ]]; then printf '%s\0' "$f"; fi; done |
            tar --null -T - -cf -) | tar -C "$dest" -xf -
    else
        # Not a git checkout (e.g. an unpacked archive): everything but the local development folders.
        tar -C "$REPO_ROOT" --exclude=./.git --exclude='./.venv*' --exclude=./.ansible --exclude=./tests/output \
            --exclude=__pycache__ --exclude=.pytest_cache --exclude='*.tar.gz' -cf - . | tar -C "$dest" -xf -
    fi
    log "snapshot of the work tree: $(find "$dest" -type f | wc -l) files"
}

step_copy() {
    local leg="$1" dest
    dest="$(src_dir "$leg")"
    mkdir -p "$dest"
    cp -a "$WORK/snapshot/." "$dest/"
    log "collection copied to $dest"
}

# ----------------------------------------------------------------------------------------------------
# Step 4: offline get-pip stand-in in ansible-test's cache (see tests/tooling/get_pip_standin.py).

install_get_pip_standin() {
    local cache="$HOME/.ansible/test/cache" name
    mkdir -p "$cache"
    for name in $GET_PIP_CACHE_NAMES; do
        cp "$TOOLING/get_pip_standin.py" "$cache/$name"
    done
    log "get-pip stand-in placed in $cache ($GET_PIP_CACHE_NAMES)"
}

# A folder of python3.X links to real interpreters: ansible-test looks Pythons up by that name on PATH
# and stops at pyenv shims that cannot run (exit 127). Missing versions are simply skipped by it.
make_python_links() {
    local dir="$WORK/pybin" minor py found=()
    mkdir -p "$dir"
    for minor in $ALL_PY_MINORS; do
        if py="$(find_python "$minor")"; then
            ln -sf "$py" "$dir/python$minor"
            found+=("$minor")
        fi
    done
    log "Pythons for ansible-test: ${found[*]:-none} (links in $dir)"
}

# ----------------------------------------------------------------------------------------------------
# Step 5: ansible-test sanity. --venv: ansible-test builds (and caches under ~/.ansible/test/venv) one venv
# per sanity tool with its own pinned requirements, so our tool venv stays clean. No --python: every
# supported Python found in $WORK/pybin is used for the multi-version tests (compile, import).

step_sanity() {
    local leg="$1" venv ignore
    venv="$(venv_dir "$leg")"
    cd "$(src_dir "$leg")"
    # Ignore files must stay empty: every problem gets fixed, not silenced.
    for ignore in tests/sanity/ignore-*.txt; do
        [[ -e $ignore ]] || continue
        if grep -q '[^[:space:]]' "$ignore"; then
            log "ERROR: $ignore has entries; sanity problems must be fixed, not ignored"
            return 1
        fi
    done
    PATH="$WORK/pybin:$venv/bin:$PATH" "$venv/bin/ansible-test" sanity --venv --color no 2>&1 | filter_pip_noise
}

# ----------------------------------------------------------------------------------------------------
# Step 6a: build the collection tarball and install it, as a user would.

collections_dir() { printf '%s/leg-%s/collections' "$WORK" "$1"; }

step_build_install() {
    local leg="$1" venv dist tarball
    venv="$(venv_dir "$leg")"
    dist="$WORK/leg-$leg/dist"
    cd "$(src_dir "$leg")"
    "$venv/bin/ansible-galaxy" collection build --force --output-path "$dist" .
    tarball="$(compgen -G "$dist/hwcloud-dms-*.tar.gz" | head -n 1)"
    [[ -n $tarball ]] || { log "ERROR: no tarball in $dist"; return 1; }
    # Offline install of the artifact only (the collection has no dependencies to fetch). The path is
    # also put in ANSIBLE_COLLECTIONS_PATH, which is how the tests use it (and quiets a warning).
    ANSIBLE_COLLECTIONS_PATH="$(collections_dir "$leg")" "$venv/bin/ansible-galaxy" collection install --force --no-deps -p "$(collections_dir "$leg")" "$tarball"
    test -f "$(collections_dir "$leg")/ansible_collections/hwcloud/dms/MANIFEST.json"
}

# ----------------------------------------------------------------------------------------------------
# Step 6b: pytest over tests/unit and tests/functional. Unit tests import the copy (PYTHONPATH);
# functional tests run the leg's ansible-playbook (first on PATH) against the INSTALLED artifact
# (ANSIBLE_COLLECTIONS_PATH). Exit code 5 (nothing collected) counts as a failure: tests exist.

step_pytest() {
    local leg="$1" venv dirs=() d selection=()
    shift
    if [[ ${1:-} == -m ]]; then selection=(-m "$2"); shift 2; fi
    venv="$(venv_dir "$leg")"
    cd "$(src_dir "$leg")"
    [[ $# -gt 0 ]] || set -- tests/unit tests/functional
    for d in "$@"; do [[ -d $d ]] && dirs+=("$d"); done
    if [[ ${#dirs[@]} -eq 0 ]]; then
        log "ERROR: none of $* exists"
        return 1
    fi
    # Four workers on two cores: functional tests spend most of their time waiting for task timelines and
    # ansible-playbook start-up, so twice as many runs as cores overlap those waits.
    local rc=0
    PATH="$venv/bin:$PATH" \
        HWCLOUD_DMS_TEST_VENV="$venv" \
        ANSIBLE_COLLECTIONS_PATH="$(collections_dir "$leg")" \
        PYTHONPATH="$(src_parent "$leg")" \
        "$venv/bin/python" -m pytest -n 4 --import-mode=importlib -p no:cacheprovider -ra --durations=10 \
        -W "ignore:datetime.datetime.utcnow:DeprecationWarning:huaweicloudsdkcore.signer.signer" \
        --junitxml="$WORK/leg-$leg/junit.xml" "${selection[@]}" "${dirs[@]}" || rc=$?
    if [[ $rc -eq 5 ]]; then log "ERROR: pytest collected no test (exit code 5): tests exist, so this is a failure"; fi
    return "$rc"
}

# ----------------------------------------------------------------------------------------------------
# Step 6c: the unit tests the standard way, `ansible-test units --venv` (its own venv with
# tests/unit/requirements.txt; each test in a fork, so this also proves no emulator outlives its test).

step_units() {
    local leg="$1" venv
    venv="$(venv_dir "$leg")"
    cd "$(src_dir "$leg")"
    PATH="$WORK/pybin:$venv/bin:$PATH" "$venv/bin/ansible-test" units --venv --num-workers 2 --color no \
        --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" 2>&1 | filter_pip_noise
    if pgrep -f "$(src_dir "$leg")/tests/emulator/dms_emulator.py" >/dev/null; then
        log "ERROR: an emulator started by the unit tests is still running"
        return 1
    fi
}

# ----------------------------------------------------------------------------------------------------
# Step 7: ansible-lint, production profile (.ansible-lint sets it too). Offline: no Galaxy here.
# It installs the collection into ./.ansible/ of the copy, which is why it runs after sanity and build.

step_lint() {
    local leg="$1" venv
    venv="$(venv_dir "$leg")"
    cd "$(src_dir "$leg")"
    PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$(collections_dir "$leg")" NO_COLOR=1 \
        "$venv/bin/ansible-lint" --profile production --offline --project-dir .
}

# ----------------------------------------------------------------------------------------------------
# Step 8: changelog fragments and changelog.yaml (ansible-test's own changelog sanity test also runs this).

step_changelog() {
    local leg="$1" venv
    venv="$(venv_dir "$leg")"
    cd "$(src_dir "$leg")"
    "$venv/bin/antsibull-changelog" lint
    "$venv/bin/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml
    log "changelog fragments and changelog.yaml are valid"
    # A dry run of the release step, in a scratch copy: the fragments must make the release notes, and each new
    # module or plugin must be listed once (from version_added), never announced again by a fragment.
    local release="$WORK/release/ansible_collections/hwcloud/dms" module name listed
    mkdir -p "$release"
    cp -a . "$release/"
    (cd "$release" && PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$WORK/release" "$venv/bin/antsibull-changelog" release)
    for module in plugins/modules/*.py; do
        name="$(basename "$module" .py)"
        # The release notes escape Markdown: hwcloud.dms.dms_task_info is written hwcloud\.dms\.dms\_task\_info.
        listed="hwcloud\\.dms\\.${name//_/\\_} "
        [[ $(grep -cF -- "$listed" "$release/CHANGELOG.md") -eq 1 ]] ||
            { log "ERROR: the release notes do not list hwcloud.dms.$name exactly once"; return 1; }
    done
    if grep -qiE '^\* .*new (module|action plugin|plugin)' "$release/CHANGELOG.md"; then
        log "ERROR: a fragment announces a new module or plugin; antsibull-changelog lists them itself"
        return 1
    fi
    log "a release would write CHANGELOG.md with every module listed once (dry run in $release)"
}

# ----------------------------------------------------------------------------------------------------
# Step 8b: what a release and an AWX user rely on, with the tools venv: the plugin docs render (antsibull-docs),
# docs/execution-environment.yml makes a build context from the release tarball (ansible-builder create, no container
# engine needed) whose collection install step works,
# the collection's meta/execution-environment.yml gives its Python requirement to ansible-builder, and
# galaxy-importer accepts the tarball with its flake8 and ansible-lint steps on (any finding fails the step).

step_release_checks() {
    local leg="$1" tools tarball introspected
    tools="$(tools_venv_dir)"
    cd "$(src_dir "$leg")"
    PATH="$tools/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$(collections_dir "$leg")" \
        "$tools/bin/antsibull-docs" lint-collection-docs --plugin-docs --validate-collection-refs self .
    log "plugin docs lint clean (antsibull-docs)"
    # The EE is built from the release tarball, put where docs/execution-environment.yml says a user puts it.
    tarball="$(compgen -G "$WORK/leg-$leg/dist/hwcloud-dms-*.tar.gz" | head -n 1)"
    cp "$tarball" docs/
    "$tools/bin/ansible-builder" create -f docs/execution-environment.yml --context "$WORK/ee-context" --output-filename Containerfile >/dev/null
    rm "docs/$(basename "$tarball")"
    test -s "$WORK/ee-context/Containerfile"
    # The image's collection install step, run here as the Containerfile runs it (from the context's _build).
    grep -q '^RUN .*ansible-galaxy collection install .*-r requirements.yml' "$WORK/ee-context/Containerfile"
    (cd "$WORK/ee-context/_build" && "$tools/bin/ansible-galaxy" collection install -r requirements.yml --collections-path "$WORK/ee-collections")
    grep -q "\"version\": \"$(sed -n 's/^version: //p' galaxy.yml)\"" "$WORK/ee-collections/ansible_collections/hwcloud/dms/MANIFEST.json"
    log "execution environment build context created from $(basename "$tarball"), its collection install step works (ansible-builder create)"
    introspected="$("$tools/bin/ansible-builder" introspect "$(collections_dir "$leg")")"
    grep -q 'requests' <<<"$introspected" || { log "ERROR: ansible-builder introspect does not see the collection's requests"; return 1; }
    log "meta/execution-environment.yml gives ansible-builder: requests"
    printf '[galaxy-importer]\nRUN_FLAKE8 = True\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n' >"$WORK/galaxy-importer.cfg"
    if ! PATH="$tools/bin:$PATH" GALAXY_IMPORTER_CONFIG="$WORK/galaxy-importer.cfg" \
        "$tools/bin/python" -m galaxy_importer.main "$tarball" >"$WORK/galaxy-importer.log" 2>&1; then
        cat "$WORK/galaxy-importer.log"
        return 1
    fi
    if grep -E '^(WARNING|ERROR):' "$WORK/galaxy-importer.log"; then
        log "ERROR: galaxy-importer has findings (above)"
        return 1
    fi
    log "galaxy-importer accepts $(basename "$tarball") (flake8 and ansible-lint on)"
}

# ----------------------------------------------------------------------------------------------------
# Step 8c: the HTML docsite, built as docs/docsite/build.sh documents it (its own venv, .venv/docsite); a Sphinx
# warning about the collection's own pages fails it.

step_docsite() {
    bash "$REPO_ROOT/docs/docsite/build.sh" "$WORK/docsite"
}

# ----------------------------------------------------------------------------------------------------
# Step 9: benchmarks (leg A, last). They print figures and assert nothing; only a crash fails the step.
# Like the unit tests they import the copy as ansible_collections.hwcloud.dms.

step_benchmarks() {
    local leg="$1" venv bench ran=0
    venv="$(venv_dir "$leg")"
    cd "$(src_dir "$leg")"
    for bench in tests/benchmarks/bench_*.py; do
        [[ -e $bench ]] || continue
        ran=1
        log "running $bench"
        PYTHONPATH="$(src_parent "$leg")" "$venv/bin/python" "$bench"
    done
    if [[ $ran -eq 0 ]]; then log "no tests/benchmarks/bench_*.py: nothing to run"; fi
}

# ----------------------------------------------------------------------------------------------------
# Step 10: the README demo, exactly as a user runs it (its own venv under .venv/demo, reused), so the
# Quickstart's first command is proven on every run too. It fails if the demo playbook fails.

step_demo() {
    bash "$REPO_ROOT/docs/demo/run.sh"
}

# ----------------------------------------------------------------------------------------------------

run_leg() {
    local leg="$1" py="$2"
    log "leg $leg: ansible-core ${LEG_CORE[$leg]}.x on $py"
    run_step "$leg" "venv (ansible-core ${LEG_CORE[$leg]})" step_venv "$py"
    if [[ $LAST_RC -ne 0 ]]; then record "$leg" "remaining steps" "skipped (no venv)"; return 0; fi
    run_step "$leg" "copy collection" step_copy
    if [[ $LAST_RC -ne 0 ]]; then record "$leg" "remaining steps" "skipped (no copy)"; return 0; fi
    if [[ $leg == A || $leg == B ]]; then run_step "$leg" "ansible-test sanity" step_sanity; fi
    run_step "$leg" "galaxy build + install" step_build_install
    JUNIT[$leg]="$WORK/leg-$leg/junit.xml"   # set here: steps run in a subshell
    case "$leg" in
        A)
            JUNIT[$leg]+=" $(src_dir "$leg")/tests/output/junit/*units.xml"
            run_step "$leg" "ansible-test units" step_units
            run_step "$leg" "pytest functional" step_pytest tests/functional
            run_step "$leg" "ansible-lint (production)" step_lint
            run_step "$leg" "antsibull-changelog lint" step_changelog
            run_step "$leg" "tools venv" step_tools_venv "$py"
            run_step "$leg" "docs, EE and galaxy-importer" step_release_checks
            run_step "$leg" "docsite (antsibull-docs, Sphinx)" step_docsite
            run_step "$leg" "benchmarks (figures only)" step_benchmarks
            run_step "$leg" "README demo (docs/demo/run.sh)" step_demo
            ;;
        B|C) run_step "$leg" "pytest unit + functional" step_pytest ;;
        *) run_step "$leg" "pytest functional (every_core)" step_pytest -m every_core tests/functional ;;
    esac
}

# Sum the pytest counts of all legs from their junit files; prints "passed failed skipped".
junit_counts() {
    python3 - "$@" <<'PY'
import sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for suite in ([root] if root.tag == 'testsuite' else root.iter('testsuite')):
        tests = int(suite.get('tests', 0))
        bad = int(suite.get('failures', 0)) + int(suite.get('errors', 0))
        skip = int(suite.get('skipped', 0))
        passed += tests - bad - skip
        failed += bad
        skipped += skip
print(passed, failed, skipped)
PY
}

summary() {
    header "Summary"
    local row leg name status secs
    printf '%-4s %-34s %-28s %8s\n' "leg" "step" "result" "seconds"
    for row in "${RESULTS[@]}"; do
        IFS='|' read -r leg name status secs <<<"$row"
        printf '%-4s %-34s %-28s %8s\n' "$leg" "$name" "$status" "$secs"
    done
    printf 'total: %ss\n' "$(elapsed "$RUN_START" "$(now)")"
    if [[ $KEEP_WORK -eq 1 ]]; then log "work folder kept: $WORK"; fi

    local files=() l passed failed skipped failed_steps=""
    local pattern file
    for l in "${!JUNIT[@]}"; do
        for pattern in ${JUNIT[$l]}; do
            for file in $pattern; do if [[ -f $file ]]; then files+=("$file"); fi; done
        done
    done
    # The plain count line CI reads (tests of all legs together): the last line of a successful run.
    if [[ ${#files[@]} -gt 0 ]]; then
        read -r passed failed skipped < <(junit_counts "${files[@]}")
        printf 'pytest: %s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
    fi
    if [[ $FAILED -ne 0 ]]; then
        for row in "${RESULTS[@]}"; do
            IFS='|' read -r leg name status secs <<<"$row"
            if [[ $status == FAILED* ]]; then failed_steps+="${failed_steps:+, }$leg: $name"; fi
        done
        log "FAILED steps: $failed_steps"
    fi
}

cleanup() {
    if [[ -n $WORK && -d $WORK && $KEEP_WORK -eq 0 ]]; then rm -rf "$WORK"; fi
}

main() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --leg) [[ ${2:-} == [A-Ga-g] ]] || { usage; exit 2; }; LEGS+=("${2^^}"); shift 2 ;;
            --keep) KEEP_WORK=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *) usage; exit 2 ;;
        esac
    done
    [[ ${#LEGS[@]} -gt 0 ]] || read -r -a LEGS <<<"$ALL_LEGS"

    RUN_START="$(now)"
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/hwcloud-dms-test.XXXXXX")"
    trap cleanup EXIT
    # One UTF-8 locale for every tool, whatever the caller has (where there is no en_US.UTF-8,
    # ansible-test still prints a harmless warning about using C.UTF-8).
    export LC_ALL=C.UTF-8 LANG=C.UTF-8

    header "Setup"
    log "repo: $REPO_ROOT"
    log "work: $WORK"
    install_get_pip_standin
    make_python_links
    take_snapshot

    local leg py minor
    for leg in "${LEGS[@]}"; do
        py=""
        if [[ -z ${LEG_PY_CANDIDATES[$leg]:-} ]]; then
            py="$(default_python)" || true
            [[ -n $py ]] || { log "ERROR: no python3 for leg $leg"; record "$leg" "venv" "FAILED (no python3)"; FAILED=1; continue; }
        else
            for minor in ${LEG_PY_CANDIDATES[$leg]}; do
                if py="$(find_python "$minor")"; then break; fi
                py=""
            done
            if [[ -z $py ]]; then
                header "[leg $leg] ansible-core ${LEG_CORE[$leg]}"
                log "NOTICE: skipping the ansible-core ${LEG_CORE[$leg]} leg: no Python 3.12+"
                record "$leg" "all steps" "skipped (no Python 3.12+)"
                continue
            fi
        fi
        run_leg "$leg" "$py"
    done

    summary
    return "$FAILED"
}

main "$@"
