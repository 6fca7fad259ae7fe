# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live lines of the action plugins, recorded."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.plugin_utils import live_lines
from ansible_collections.hwcloud.dms.tests.environment import clear_credentials
from ansible_collections.hwcloud.dms.tests.unit.plugins.action.running import RecordingDisplay


@pytest.fixture(name="display")
def display_fixture(monkeypatch):
    """The live lines the plugins print, recorded; no connection option comes from the test runner's environment."""
    clear_credentials(monkeypatch)
    recording = RecordingDisplay()
    monkeypatch.setattr(live_lines, "display", recording)
    return recording
