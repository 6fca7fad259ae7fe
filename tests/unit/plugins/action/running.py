# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running an action plugin's run() on a task object as ansible-core hands it over, and a recording of its live lines."""

from __future__ import annotations

from unittest.mock import MagicMock

from ansible.playbook.task import Task


class RecordingDisplay:
    """Display's methods the live lines use: (verbosity, text) of each line."""

    def __init__(self):
        self.lines = []

    def display(self, text):
        self.lines.append((0, text))

    def v(self, text):  # pylint: disable=invalid-name  # Display's own method name
        self.lines.append((1, text))


def run_plugin(plugin_module, action, args, check_mode=False, timeout=0, no_log=False):
    """The result of ``plugin_module.ActionModule(...).run()`` for a task ``action`` with these arguments, on host web1."""
    task = MagicMock(Task)
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = check_mode
    task.no_log = no_log
    task.timeout = timeout
    task.action = action
    connection = MagicMock()
    connection._shell.tmpdir = "/tmp"  # pylint: disable=protected-access  # ActionBase looks there
    plugin = plugin_module.ActionModule(task=task, connection=connection, play_context=MagicMock(), loader=None, templar=None,
                                        shared_loader_obj=None)
    return plugin.run(task_vars={"inventory_hostname": "web1"})
