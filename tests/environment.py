# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment the tests run things in: never the connection of whoever runs the tests, only the one a test gives."""

from __future__ import annotations

import os

# The environment variables the connection options fall back to all start so (a unit test holds the option table to it).
CONNECTION_PREFIXES = ("HW_", "HUAWEICLOUD_", "ANSIBLE_HWC_")


def without_credentials(environ):
    """``environ`` (a mapping) without a variable any connection option could be read from."""
    return dict((key, value) for key, value in environ.items() if not key.startswith(CONNECTION_PREFIXES))


def clear_credentials(monkeypatch):
    """Unset, for one test, what without_credentials leaves out of this process's environment."""
    for name in set(os.environ) - set(without_credentials(os.environ)):
        monkeypatch.delenv(name)
