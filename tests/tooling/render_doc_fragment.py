# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write plugins/doc_fragments/common.py from the option table in plugins/module_utils/options.py.

Run it after changing the table: python3 tests/tooling/render_doc_fragment.py
(test_options.py fails while the fragment and the table disagree).
"""

from __future__ import annotations

import importlib.util
import os
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TARGET = os.path.join(ROOT, "plugins", "doc_fragments", "common.py")

HEADER = '''# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the connection options. Generated from plugins/module_utils/options.py by
tests/tooling/render_doc_fragment.py: edit the table, not this file."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
'''


class IndentedDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    """Indent list items under their key, as the rest of the collection's documentation does."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def render(fragment):
    return HEADER + yaml.dump(fragment, Dumper=IndentedDumper, sort_keys=False, default_flow_style=False, width=110) + '"""\n'


def load_table():
    """Import options.py by path: the repo need not sit in an ansible_collections tree to run this."""
    sys.modules.setdefault("ansible_collections.hwcloud.dms.plugins.module_utils.errors", _load("errors"))
    sys.modules.setdefault("ansible_collections.hwcloud.dms.plugins.module_utils.tasks", _load("tasks"))
    return _load("options")


def _load(name):
    path = os.path.join(ROOT, "plugins", "module_utils", name + ".py")
    spec = importlib.util.spec_from_file_location("hwcloud_dms_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    with open(TARGET, "w", encoding="utf-8") as handle:
        handle.write(render(load_table().doc_fragment()))
    print("wrote %s" % TARGET)
