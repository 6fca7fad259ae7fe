# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance a wait is about, as last read: its status and engine.

Plain Python, no Ansible imports; the client is any object with the DmsClient calls.
"""

from __future__ import annotations


class InstanceView:
    """What the last read of the instance said; nothing is read until ``read`` is called."""

    def __init__(self, client, instance_id):
        self._client = client
        self.instance_id = instance_id
        self.status = None
        self.engine = None

    def read(self, deadline=None):
        """Read the instance (one request) and return its status. Raises the client's errors."""
        answer = self._client.get_instance(self.instance_id, deadline=deadline)
        self.status = answer["status"].strip()
        engine = answer.get("engine")
        self.engine = engine.strip().lower() if isinstance(engine, str) else None
        return self.status

    def known_engine(self, deadline=None):
        """The instance's engine as its answer names it (None when it names none), read once."""
        if self.status is None:
            self.read(deadline)
        return self.engine
