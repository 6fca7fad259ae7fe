# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task's progress, asked only where DMS can have one.

The Kafka API documents the progress call only "during Kafka capacity expansion"; RabbitMQ has no such call. So a
RabbitMQ instance is never asked, and a task whose progress call was refused (any 4xx) is not asked again. Plain
Python, no Ansible imports.
"""

from __future__ import annotations

from ansible_collections.hwcloud.dms.plugins.module_utils.client import engine_has_progress
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ApiError


class ProgressReader:
    """Reads progress for the tasks of one instance (an InstanceView), remembering where there is none."""

    def __init__(self, client, instance):
        self._client = client
        self._instance = instance
        self._unavailable = set()  # task IDs whose progress call was refused

    def read(self, task_id, deadline=None):
        """The task's progress dict, or None where it has none. Raises the client's errors, which only decorate output."""
        if task_id in self._unavailable or not engine_has_progress(self._instance.known_engine(deadline)):
            return None
        try:
            progress = self._client.get_task_progress(self._instance.instance_id, task_id, deadline=deadline)
        except ApiError as error:
            if 400 <= error.status < 500:
                self._unavailable.add(task_id)
            raise
        if progress is None:
            self._unavailable.add(task_id)
        return progress
