# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write extensions/eda/plugins/event_source/schemas/task_events.json, the JSON Schema of the args of the event source
hwcloud.dms.task_events, where ansible.eda keeps the schemas of its sources (the EDA controller's UI reads them).

The source's argument spec (the option tables) gives the types, defaults, choices, ranges and secrets; its DOCUMENTATION
(which a unit test keeps equal to the tables) gives the descriptions. Run it after changing either:
python3 tests/tooling/render_event_source_schema.py (tests/unit/eda/test_task_events.py fails while they disagree).
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import tempfile

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EVENT_SOURCES = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source")
SOURCE = os.path.join(EVENT_SOURCES, "task_events.py")
TARGET = os.path.join(EVENT_SOURCES, "schemas", "task_events.json")
JSON_TYPES = {"str": "string", "path": "string", "bool": "boolean", "int": "integer", "float": "number", "list": "array"}
# Ansible's documentation markup, C(x), O(x), V(x), E(x), M(x): a JSON Schema reader shows text as it is.
MARKUP = re.compile(r"\b[A-Z]\(([^()]*)\)")


def source_documentation():
    """The source's DOCUMENTATION, read as ansible-doc reads it: the literal, without running the file."""
    with open(SOURCE, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(target, "id", None) for target in node.targets] == ["DOCUMENTATION"]:
            return ast.literal_eval(node.value)
    raise LookupError("no DOCUMENTATION in %s" % SOURCE)


def argument_schema(documentation):
    """The JSON Schema (draft 2020-12) of the source's args; the collection's module_utils must be importable."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS, argument_spec
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import INTERVAL_RANGE, SOURCE_NAME, SOURCE_OPTIONS

    doc = yaml.safe_load(documentation)
    ranges = dict((name, entry["range"]) for name, entry in COMMON_OPTIONS.items() if "range" in entry)
    ranges["interval"] = INTERVAL_RANGE
    properties, required = {}, []
    for name, option in argument_spec(**SOURCE_OPTIONS).items():
        prop = {"description": _plain(doc["options"][name]["description"])}
        prop.update(_value_schema(option, ranges.get(name)))
        properties[name] = prop
        for alias in option.get("aliases", []):
            properties[alias] = dict(prop, description="Another name for %s." % name)
        if option.get("required"):
            required.append(name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": SOURCE_NAME,
        "description": _plain([doc["short_description"]]),
        "type": "object",
        "properties": properties,
        "required": required,
        # The source refuses any other arg, naming it.
        "additionalProperties": False,
    }


def _value_schema(option, number_range):
    schema = {"type": JSON_TYPES[option["type"]]}
    if option["type"] == "list":
        schema["items"] = {"type": JSON_TYPES[option["elements"]]}
        schema["minItems"] = 1  # the source refuses an empty list (a unit test tries each)
        if "choices" in option:
            schema["items"]["enum"] = list(option["choices"])
    elif "choices" in option:
        schema["enum"] = list(option["choices"])
    if number_range is not None:
        schema["exclusiveMinimum" if number_range.exclusive_minimum else "minimum"] = number_range.minimum
        schema["exclusiveMaximum" if number_range.exclusive_maximum else "maximum"] = number_range.maximum
    if option.get("no_log"):
        schema["format"] = "password"  # as ansible.eda marks its secrets, for a UI to mask them
    if option.get("default") is not None:
        schema["default"] = option["default"]
    return schema


def _plain(sentences):
    return " ".join(MARKUP.sub(r"\1", sentence) for sentence in sentences)


def render(schema):
    return json.dumps(schema, indent=4) + "\n"


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hwcloud-dms-") as tree:
        # An ansible_collections tree that links to this repository, so that the option tables can be imported.
        os.makedirs(os.path.join(tree, "ansible_collections", "hwcloud"))
        os.symlink(ROOT, os.path.join(tree, "ansible_collections", "hwcloud", "dms"))
        sys.path.insert(0, tree)
        SCHEMA = argument_schema(source_documentation())
    with open(TARGET, "w", encoding="utf-8") as handle:
        handle.write(render(SCHEMA))
    print("wrote %s" % TARGET)
