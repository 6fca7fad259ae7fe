# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test sessions of the hwcloud.dms collection.

`bash tests/run.sh` (the README's test command, which CI runs) runs them all, several at a time, then prints a summary.
With its venv in place, `.venv/nox/bin/nox -l` lists them and `.venv/nox/bin/nox -s NAME` runs one; arguments after
`--` go to pytest or ansible-test.

Each session installs its pins from tests/requirements/ into a venv of its own under .nox/ (uv makes that a matter of
seconds once its cache is warm), and tests a copy of the work tree in a real ansible_collections/hwcloud/dms/ folder in
the temp dir: ansible-test refuses a symlink, and inside a git checkout it would skip the git-ignored copy. Unit tests
import that copy; functional tests run the tarball built from it and installed, as a user gets it.
Commands run with a HOME of the session's own under .nox/.cache/home/ (ansible-test keeps its venvs and the get-pip
stand-in there, ansible its temporary files), so nothing is written to the user's home.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox
from nox.command import CommandFailed

REPO = Path(__file__).resolve().parent
REQUIREMENTS = REPO / "tests" / "requirements"
EDGE_CORES = ("2.15", "2.21")  # the oldest core the collection supports and the newest
JUNIT = REPO / ".nox" / "junit"  # every pytest junit file of a run, for the count line of tests/run.sh
CPU = REPO / ".nox" / "cpu"  # the CPU seconds each session of a run took, for the summary of tests/run.sh
# Python versions ansible-test may test module-side code on (tests/config.yml narrows them to 3.9+).
PY_MINORS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
PYTEST_WARNINGS = "ignore:datetime.datetime.utcnow:DeprecationWarning:huaweicloudsdkcore.signer.signer"

nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"  # only the Pythons already installed: the package index is all a run may reach
# Without a Python 3.12+, the 2.20 and 2.21 sessions are skipped with a notice, in CI too.
nox.options.error_on_missing_interpreters = False

# Caches shared by the sessions, in the checkout: uv's (the venvs), pip's (ansible-test's venvs, the demo's).
os.environ.setdefault("UV_CACHE_DIR", str(REPO / ".nox" / ".cache" / "uv"))
os.environ.setdefault("PIP_CACHE_DIR", str(REPO / ".nox" / ".cache" / "pip"))
# One UTF-8 locale for every tool, whatever the caller has (ansible-test warns about C.UTF-8, harmlessly).
os.environ.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
# Bytecode is cached in the session venvs and copies: uv installs without it, and every ansible-playbook run would
# compile ansible-core again (a third of its start-up).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def _pyenv_root() -> str | None:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    if shutil.which("pyenv"):
        return subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip() or None
    return None


PYENV_ROOT = _pyenv_root()
if PYENV_ROOT:
    # pyenv's shims find their root through HOME otherwise, and every session has a HOME of its own.
    os.environ["PYENV_ROOT"] = PYENV_ROOT


@functools.cache
def find_python(minor: str) -> str | None:
    """A real interpreter of Python `minor` with venv and ensurepip (ansible-test's venvs need them), or None.

    pyenv's versions come first (newest patch first), then PATH. pyenv's shims are skipped: they fail for a version
    that is not the active one.
    """
    found = glob.glob(f"{PYENV_ROOT}/versions/{minor}.*/bin/python{minor}") if PYENV_ROOT else []
    candidates = sorted(found, key=lambda path: [int(n) for n in re.findall(r"\d+", Path(path).parts[-3])], reverse=True)
    candidates += [f"{folder}/python{minor}" for folder in os.environ["PATH"].split(os.pathsep) if "/shims" not in folder]
    probe = f"import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != {tuple(map(int, minor.split('.')))})"
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and subprocess.run([candidate, "-c", probe], capture_output=True,
                                                            check=False).returncode == 0:
            return candidate
    return None


def newest_python(*minors: str) -> str:
    """The first of `minors` found; else the last, which nox then reports missing (and skips the session)."""
    return next(filter(None, map(find_python, minors)), minors[-1])


# ansible-core 2.20+ needs a Python 3.12+ controller; the older cores run on the Python that runs nox (python3, the
# way tests/run.sh sets it up).
CONTROLLER = {"2.20": newest_python("3.13", "3.12"), "2.21": newest_python("3.14", "3.13", "3.12")}


def take_snapshot() -> str:
    """Copy the files the next commit would hold (tracked, and untracked but not ignored) into the temp dir.

    Not a git checkout (an unpacked archive): everything but the local development folders. This file stays out:
    it is tooling, not part of the collection (galaxy.yml leaves it out of the tarball too).
    """
    dest = tempfile.mkdtemp(prefix="hwcloud-dms-snapshot.")
    atexit.register(shutil.rmtree, dest, True)
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError):
        local = re.compile(r"(^|/)(\.git|\.nox|\.venv.*|\.ansible|\.cache|tests/output|__pycache__|\.pytest_cache)(/|$)")
        listed = [os.path.relpath(os.path.join(walked[0], name), REPO) for walked in os.walk(REPO) for name in walked[2]]
        listed = [path for path in listed if not local.search(path) and not path.endswith(".tar.gz")]
    for path in listed:
        # Tracked files deleted in the work tree are left out.
        if path and path != "noxfile.py" and os.path.lexists(REPO / path):
            os.makedirs(os.path.dirname(os.path.join(dest, path)), exist_ok=True)
            shutil.copy2(REPO / path, os.path.join(dest, path), follow_symlinks=False)
    return dest


# Read once, when nox loads this file: the sessions that the parallel runner starts inherit it, so all of them test the
# same files even while someone keeps editing.
if "HWCLOUD_DMS_SNAPSHOT" not in os.environ:
    os.environ["HWCLOUD_DMS_SNAPSHOT"] = take_snapshot()


class Failed(CommandFailed):
    """A check of this file found a problem: the session fails as with a failed command."""


def fail(session: nox.Session, message: str):
    """Fail the session, as a failed command does (nox calls a session.error() "aborted")."""
    session.warn(message)
    raise Failed(message)


class Work:
    """A session's temporary folder: the collection copy, its build and install, the folders its tools need."""

    def __init__(self, root: str):
        self.root = Path(root)
        self.parent = self.root / "src"  # PYTHONPATH: unit tests import the copy as ansible_collections.hwcloud.dms
        self.src = self.parent / "ansible_collections" / "hwcloud" / "dms"
        self.collections = self.root / "collections"  # ANSIBLE_COLLECTIONS_PATH: the built tarball, installed
        self.tarball: Path | None = None


@contextlib.contextmanager
def work(session: nox.Session):
    """A fresh copy of the snapshot in the temp dir, the session's working directory until it ends."""
    with tempfile.TemporaryDirectory(prefix=f"hwcloud-dms-{session.name}.") as root:
        here = Work(root)
        shutil.copytree(os.environ["HWCLOUD_DMS_SNAPSHOT"], here.src, symlinks=True)
        with session.chdir(here.src):
            yield here


def install(session: nox.Session, *names: str) -> None:
    session.install(*(arg for name in names for arg in ("-r", str(REQUIREMENTS / f"{name}.txt"))))


def each(session: nox.Session, *steps) -> None:
    """Run every step even after one failed (the later ones still report useful things), then fail if any did."""
    failed = []
    for step in steps:
        try:
            step()
        except CommandFailed as error:
            session.warn(f"{step.__doc__}: FAILED ({error})")
            failed.append(step.__doc__)
    if failed:
        fail(session, "failed: " + "; ".join(failed))


def build_and_install(session: nox.Session, here: Work) -> None:
    """Build the collection tarball and install it (offline, no dependencies to fetch), as a user would."""
    dist = here.root / "dist"
    session.run("ansible-galaxy", "collection", "build", "--force", "--output-path", str(dist), ".")
    here.tarball = next(dist.glob("hwcloud-dms-*.tar.gz"))
    # ANSIBLE_COLLECTIONS_PATH names the install folder, as the tests use it (it also quiets a warning).
    session.run("ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", str(here.collections),
                str(here.tarball), env={"ANSIBLE_COLLECTIONS_PATH": str(here.collections)})
    if not (here.collections / "ansible_collections" / "hwcloud" / "dms" / "MANIFEST.json").is_file():
        fail(session, "the tarball did not install")


def ansible_test_env(session: nox.Session, here: Work) -> dict[str, str]:
    """PATH for ansible-test, which looks Pythons up as python3.X there and stops at pyenv shims that cannot run.

    Also puts the offline get-pip stand-in (tests/tooling/get_pip_standin.py) in its cache, under both names that
    ansible-test 2.19 and 2.21 fetch.
    """
    pybin = here.root / "pybin"
    pybin.mkdir()
    found = [minor for minor in PY_MINORS if find_python(minor)]
    for minor in found:
        (pybin / f"python{minor}").symlink_to(find_python(minor))
    session.log(f"Pythons for ansible-test: {' '.join(found)}")
    cache = Path(session.env["HOME"]) / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("get_pip_24_2.py", "get_pip_25_2.py"):
        shutil.copy(here.src / "tests" / "tooling" / "get_pip_standin.py", cache / name)
    return {"PATH": f"{pybin}{os.pathsep}{os.environ['PATH']}"}


def pytest(session: nox.Session, here: Work, *args: str) -> None:
    """pytest against the installed tarball; exit code 5 (nothing collected) fails like any other: tests exist."""
    JUNIT.mkdir(parents=True, exist_ok=True)
    # Four workers on two cores: the functional tests mostly wait on task timelines and ansible-playbook start-up.
    session.run("python", "-m", "pytest", "-n", "4", "--import-mode=importlib", "-p", "no:cacheprovider", "-ra",
                "--durations=10", "-W", PYTEST_WARNINGS, f"--junitxml={JUNIT / session.name}.xml", *args,
                *session.posargs,
                env={"ANSIBLE_COLLECTIONS_PATH": str(here.collections), "PYTHONPATH": str(here.parent)})


# ----------------------------------------------------------------------------------------------------------------------
# The sessions. Their docstrings are what `nox -l` shows; {0} is the ansible-core version.


def sanity(session: nox.Session, core: str) -> None:
    """ansible-test sanity of ansible-core {0}, every test on every Python found, no ignore entries."""
    install(session, f"core-{core}", "sanity")
    with work(session) as here:
        for ignore in glob.glob("tests/sanity/ignore-*.txt"):
            if Path(ignore).read_text(encoding="utf-8").strip():
                fail(session, f"{ignore} has entries; sanity problems are fixed, not ignored")
        # --venv: a venv per sanity tool, with ansible-test's own pins. No --python: every Python in pybin runs the
        # multi-version tests (compile, import).
        session.run("ansible-test", "sanity", "--venv", "--color", "no", *session.posargs,
                    env=ansible_test_env(session, here))


def units(session: nox.Session, core: str) -> None:
    """ansible-test units of ansible-core {0}: tests/unit/requirements.txt, each test in a fork."""
    install(session, f"core-{core}")
    python = session.run("python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])", silent=True).strip()
    with work(session) as here:
        env = ansible_test_env(session, here)

        def ansible_test():
            """ansible-test units"""
            try:
                session.run("ansible-test", "units", "--venv", "--num-workers", "2", "--color", "no", "--python",
                            python, *session.posargs, env=env)
            finally:
                JUNIT.mkdir(parents=True, exist_ok=True)
                for junit in here.src.glob("tests/output/junit/*units.xml"):
                    shutil.copy(junit, JUNIT / f"{session.name}-{junit.name}")

        def no_emulator_left():
            """no emulator outlives its test"""
            if subprocess.run(["pgrep", "-f", str(here.src / "tests/emulator/dms_emulator.py")], check=False).returncode == 0:
                raise Failed("an emulator started by the unit tests is still running")

        each(session, ansible_test, no_emulator_left)


# The unit tests of code that imports ansible-core: where a core runs on the Python that 2.19's tests already run on,
# the others (plain Python, the module_utils without Ansible imports) would test the same code on the same Python again.
UNITS_OF_ANSIBLE_CODE = ("tests/unit/plugins/action", "tests/unit/plugins/modules", "tests/unit/plugins/module_utils/test_options.py",
                         "tests/unit/plugins/test_docs_markup.py", "tests/unit/eda")


def unit_tests(session: nox.Session, core: str) -> None:
    """pytest of the unit tests with ansible-core {0}."""
    install(session, f"core-{core}", "test")
    with work(session) as here:
        pytest(session, here, "tests/unit")


def unit_tests_of_ansible_code(session: nox.Session, core: str) -> None:
    """pytest of the unit tests of the code that imports ansible-core, with ansible-core {0}."""
    install(session, f"core-{core}", "test")
    with work(session) as here:
        pytest(session, here, *UNITS_OF_ANSIBLE_CODE)


def functional(session: nox.Session, core: str) -> None:
    """The functional tests with ansible-core {0}, real runs of the installed tarball, and the emulator's own tests."""
    install(session, f"core-{core}", "test", "rulebook")
    with work(session) as here:
        build_and_install(session, here)
        pytest(session, here, "tests/functional", "tests/emulator/tests")


def every_core(session: nox.Session, core: str) -> None:
    """The functional tests marked every_core with ansible-core {0} (and edge_cores, on the oldest and newest core)."""
    install(session, f"core-{core}", "test")
    with work(session) as here:
        build_and_install(session, here)
        pytest(session, here, "-m", "every_core or edge_cores" if core in EDGE_CORES else "every_core", "tests/functional")


def lint(session: nox.Session) -> None:
    """ansible-lint (production profile), antsibull-changelog lint, antsibull-docs lint of the plugin docs."""
    install(session, "core-2.19", "lint", "docsite")
    with work(session) as here:
        build_and_install(session, here)
        # ansible-lint installs the collection into ./.ansible/ of the copy; both tools find it installed here.
        env = {"ANSIBLE_COLLECTIONS_PATH": str(here.collections), "NO_COLOR": "1"}

        def ansible_lint():
            """ansible-lint"""
            session.run("ansible-lint", "--profile", "production", "--offline", "--project-dir", ".", env=env)

        def changelog():
            """antsibull-changelog lint"""
            session.run("antsibull-changelog", "lint")
            session.run("antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml")

        def docs():
            """antsibull-docs lint"""
            session.run("antsibull-docs", "lint-collection-docs", "--plugin-docs", "--validate-collection-refs", "self",
                        ".", env=env)

        each(session, ansible_lint, changelog, docs)


def release(session: nox.Session) -> None:
    """What a release and an AWX user rely on: the changelog release, the tarball, its EE and Galaxy's import checks."""
    install(session, "core-2.19", "lint", "release")
    with work(session) as here:

        def changelog_release():
            """changelog release (dry run)"""
            # In a scratch copy: the fragments must make the release notes, and each module must be listed once (from
            # version_added), never announced again by a fragment.
            scratch = here.root / "release"
            shutil.copytree(here.src, scratch / "ansible_collections" / "hwcloud" / "dms")
            with session.chdir(scratch / "ansible_collections" / "hwcloud" / "dms"):
                session.run("antsibull-changelog", "release", env={"ANSIBLE_COLLECTIONS_PATH": str(scratch)})
                notes = Path("CHANGELOG.md").read_text(encoding="utf-8")
            for module in sorted(Path("plugins/modules").glob("*.py")):
                # The release notes escape Markdown: hwcloud.dms.dms_task_info is hwcloud\.dms\.dms\_task\_info.
                if notes.count("hwcloud\\.dms\\." + module.stem.replace("_", "\\_") + " ") != 1:
                    raise Failed(f"the release notes do not list hwcloud.dms.{module.stem} exactly once")
            if re.search(r"^\* .*new (module|action plugin|plugin)", notes, re.M | re.I):
                raise Failed("a fragment announces a new module or plugin; antsibull-changelog lists them itself")

        def execution_environment():
            """execution environment build context"""
            # Built from the release tarball, put where docs/execution-environment.yml says a user puts it; no
            # container engine needed. Then the image's collection install step, as the Containerfile runs it.
            context = here.root / "ee-context"
            shutil.copy(here.tarball, "docs")
            session.run("ansible-builder", "create", "-f", "docs/execution-environment.yml", "--context", str(context),
                        "--output-filename", "Containerfile", silent=True)
            os.remove(Path("docs") / here.tarball.name)
            containerfile = (context / "Containerfile").read_text(encoding="utf-8")
            if not re.search(r"^RUN .*ansible-galaxy collection install .*-r requirements.yml", containerfile, re.M):
                raise Failed("the Containerfile has no collection install step")
            with session.chdir(context / "_build"):
                session.run("ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--collections-path",
                            str(here.root / "ee-collections"))
            manifest = here.root / "ee-collections" / "ansible_collections" / "hwcloud" / "dms" / "MANIFEST.json"
            version = re.search(r"^version: (\S+)", Path("galaxy.yml").read_text(encoding="utf-8"), re.M)[1]
            if json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"] != version:
                raise Failed(f"the execution environment does not install version {version}")

        def introspect():
            """ansible-builder introspect"""
            # meta/execution-environment.yml must give the collection's Python requirement to ansible-builder.
            if "requests" not in session.run("ansible-builder", "introspect", str(here.collections), silent=True):
                raise Failed("ansible-builder introspect does not see the collection's requests")

        def galaxy_importer():
            """galaxy-importer"""
            # flake8 on; any finding fails. ansible-lint runs in the lint session, with the stricter production profile;
            # ansible-test would run only in a container.
            config = here.root / "galaxy-importer.cfg"
            config.write_text("[galaxy-importer]\nRUN_FLAKE8 = True\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = False\n")
            log = session.run("python", "-m", "galaxy_importer.main", str(here.tarball), silent=True,
                              env={"GALAXY_IMPORTER_CONFIG": str(config)})
            findings = [line for line in log.splitlines() if re.match(r"(WARNING|ERROR):", line)]
            if findings:
                raise Failed("galaxy-importer has findings:\n" + "\n".join(findings))

        each(session, changelog_release)  # before the build: it needs no tarball and runs whatever the build does
        build_and_install(session, here)
        each(session, execution_environment, introspect, galaxy_importer)


def docsite(session: nox.Session) -> None:
    """The HTML docsite (docs/docsite/build.sh in this venv): antsibull-docs and Sphinx; a Sphinx warning fails it."""
    install(session, "docsite")
    with tempfile.TemporaryDirectory(prefix="hwcloud-dms-docsite.") as dest:
        session.run("bash", "docs/docsite/build.sh", f"{dest}/html", env={"DOCSITE_VENV": session.virtualenv.location},
                    external=True)


def benchmarks(session: nox.Session) -> None:
    """The quick benchmarks (tests/benchmarks/bench_*.py): figures only, nothing asserted; only a crash fails."""
    install(session, "core-2.19", "test")
    with work(session) as here:
        for bench in sorted(glob.glob("tests/benchmarks/bench_*.py")):
            session.run("python", bench, env={"PYTHONPATH": str(here.parent)})


def demo(session: nox.Session) -> None:
    """The README demo, exactly as a user runs it: docs/demo/run.sh, in its own venv (.venv/demo)."""
    session.run("bash", "docs/demo/run.sh", external=True)


def register(name: str, func, *args: str, python: str | bool | None = None, parallel: bool = True) -> None:
    """A nox session `name` running func(session, *args), with a HOME of its own (see the top of this file)."""

    def run(session: nox.Session) -> None:
        home = (session.cache_dir / "home" / session.name).resolve()
        home.mkdir(parents=True, exist_ok=True)
        session.env["HOME"] = str(home)
        # Ansible finds the remote (here: local) user's home from the password database, not from HOME.
        session.env["ANSIBLE_REMOTE_TMP"] = str(home / ".ansible" / "tmp")
        try:
            func(session, *args)
        finally:
            # Each session runs in a nox process of its own: its CPU is its own and that of the commands it waited for.
            CPU.mkdir(parents=True, exist_ok=True)
            used = sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                       for field in ("ru_utime", "ru_stime"))
            (CPU / f"{session.name}.json").write_text(json.dumps({"cpu_seconds": round(used, 1)}), encoding="utf-8")

    run.__doc__ = func.__doc__.format(*args)
    nox.session(name=name, python=python, allow_parallel=parallel)(run)


# In the order the parallel runner starts them: the longest first. The whole functional suite runs on 2.19, the newest
# core the default Python runs; the unit tests on that one and the newest (on the oldest, which runs on the same Python
# as 2.19, those of code that imports ansible-core); each plugin for real (the tests marked every_core) on every core,
# and the tests marked edge_cores besides on the oldest core (the AWX execution environment's) and the newest. A
# functional run costs about three times the CPU of all the other tests of a core, and two cores must finish the lot
# within twenty minutes.
register("functional-2.19", functional, "2.19")
register("sanity-2.21", sanity, "2.21", python=CONTROLLER["2.21"])
register("sanity-2.19", sanity, "2.19")
register("units-2.19", units, "2.19")
# Early: it mostly waits on the emulator's task timelines, and fills the gaps the CPU-bound sessions leave.
register("demo", demo, python=False)
register("units-2.15", unit_tests_of_ansible_code, "2.15")
register("units-2.21", unit_tests, "2.21", python=CONTROLLER["2.21"])
for version in ("2.15", "2.16", "2.17", "2.18", "2.20", "2.21"):  # 2.19 runs them all in functional-2.19
    register(f"every-core-{version}", every_core, version, python=CONTROLLER.get(version))
register("release", release)
register("lint", lint)
register("docsite", docsite)
# Alone, once everything else has finished, so that its figures are not skewed by the other sessions.
register("benchmarks", benchmarks, parallel=False)
