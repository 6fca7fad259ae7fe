# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() end to end through AnsibleModule, as ansible-core would, and reading what it printed."""

from __future__ import annotations

import contextlib
import json

import pytest

from ansible.module_utils import basic

from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS

try:  # ansible-core 2.19 and later
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older ansible-core: the module arguments are read from basic._ANSIBLE_ARGS
    patch_module_args = None


class ModuleRun:
    """What one run of a module's main() left: its exit code, what it printed, and its result."""

    def __init__(self, code, out, err):
        self.code = code
        self.out = out
        self.err = err
        self.result = json.loads(out)


@contextlib.contextmanager
def module_args(monkeypatch, args):
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
    else:  # pragma: no cover - ansible-core before 2.19
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        yield


@pytest.fixture
def run_module(monkeypatch, capsys):
    """run_module(main, args) -> ModuleRun, with no connection option coming from the test runner's environment."""
    for entry in COMMON_OPTIONS.values():
        for name in entry.get("env", []):
            monkeypatch.delenv(name, raising=False)

    def run(main, args):
        capsys.readouterr()
        with module_args(monkeypatch, args):
            with pytest.raises(SystemExit) as caught:
                main()
        captured = capsys.readouterr()
        return ModuleRun(caught.value.code, captured.out, captured.err)

    return run
