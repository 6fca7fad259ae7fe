# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() end to end through AnsibleModule, as ansible-core would, and reading what it printed.

``run_main`` runs main() of the test file's MODULE (the module under test) with the client it builds replaced."""

from __future__ import annotations

import contextlib
import json

import pytest

from ansible.module_utils import basic

from ansible_collections.hwcloud.dms.plugins.module_utils import dms_module
from ansible_collections.hwcloud.dms.tests.environment import clear_credentials

try:  # ansible-core 2.19 and later
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older ansible-core: the module arguments are read from basic._ANSIBLE_ARGS
    patch_module_args = None


class ModuleRun:
    """What one run of a module's main() left: its exit code, what it printed, its result, and the connection settings it
    made clients with."""

    def __init__(self, code, out, err, settings):
        self.code = code
        self.out = out
        self.err = err
        self.result = json.loads(out)
        self.settings = settings


@contextlib.contextmanager
def module_args(monkeypatch, args):
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
    else:  # pragma: no cover - ansible-core before 2.19
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        yield


@pytest.fixture
def run_main(request, monkeypatch, capsys):
    """run_main(args, client=None) -> ModuleRun of main() of the test file's MODULE, requests taken as installed and no
    connection option coming from the test runner's environment.

    ``client`` is the client main gets in place of a DmsClient, or a callable that makes it from the connection settings;
    without one, main must not make a client.
    """
    clear_credentials(monkeypatch)
    monkeypatch.setattr(dms_module, "REQUESTS_IMPORT_ERROR", None)

    def run(args, client=None):
        settings = []

        def make_client(connection_settings):
            settings.append(connection_settings)
            assert client is not None, "main made a client, which this test does not expect"
            return client(connection_settings) if callable(client) else client

        monkeypatch.setattr(dms_module, "DmsClient", make_client)
        capsys.readouterr()
        with module_args(monkeypatch, args):
            with pytest.raises(SystemExit) as caught:
                request.module.MODULE.main()
        captured = capsys.readouterr()
        return ModuleRun(caught.value.code, captured.out, captured.err, settings)

    return run
