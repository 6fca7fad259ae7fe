# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the tests of the client, the HTTP client and the modules."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.tests.unit.plugins.module_utils.scripted_server import ScriptedServer


@pytest.fixture(name="server")
def server_fixture(monkeypatch):
    """A scripted HTTP server on 127.0.0.1, reached directly even where a proxy is configured."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ScriptedServer() as server:
        yield server
