# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's documentation renders as written: no markup that a parenthesis cuts short.

Ansible's markup ends C(...), V(...) and their kin at the first unescaped ")", so C(now()) renders as "now(" and a
stray ")". The linters accept that (it is valid markup, only wrong); this test does not.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
import yaml

from ansible_collections.hwcloud.dms.plugins import doc_fragments, modules

# Markup that takes text up to the first unescaped closing parenthesis.
MARKUP_START = re.compile(r"\b(?:C|V|O|RV|E|I|B|M|U|L|P)\(")


def documented_texts():
    """(where, text) for every string in the DOCUMENTATION and RETURN of each module, doc stub and doc fragment."""
    for package in (modules, doc_fragments):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module("%s.%s" % (package.__name__, info.name))
            sources = [module] + [value for value in vars(module).values() if isinstance(value, type) and hasattr(value, "DOCUMENTATION")]
            for source in sources:
                for section in ("DOCUMENTATION", "RETURN"):
                    text = getattr(source, section, None)
                    if text:
                        for where, value in strings_in(yaml.safe_load(text), "%s.%s" % (info.name, section)):
                            yield where, value


def strings_in(node, where):
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(value, "%s.%s" % (where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings_in(value, "%s[%d]" % (where, index))


def markup_contents(text):
    """The content of each markup element, as the renderer cuts it: up to the first ")" not escaped by a backslash."""
    for match in MARKUP_START.finditer(text):
        content, position = [], match.end()
        while position < len(text) and text[position] != ")":
            if text[position] == "\\" and position + 1 < len(text):
                position += 1
            content.append(text[position])
            position += 1
        yield "".join(content)


def unbalanced(content):
    depth = 0
    for character in content:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            return True
    return depth != 0


TEXTS = list(documented_texts())


def test_the_documentation_is_found():
    assert any(where.startswith("wait_for_task.DOCUMENTATION") for where, text in TEXTS)
    assert any(where.startswith("common.DOCUMENTATION") for where, text in TEXTS)


@pytest.mark.parametrize("where, text", [(where, text) for where, text in TEXTS if MARKUP_START.search(text)],
                         ids=[where for where, text in TEXTS if MARKUP_START.search(text)])
def test_no_markup_is_cut_short_by_a_parenthesis(where, text):
    broken = [content for content in markup_contents(text) if unbalanced(content)]
    assert not broken, "%s: markup cut short at a ')': %r (escape it as \\))" % (where, broken)


@pytest.mark.parametrize("text, broken", [
    ("C(now()) in Jinja", True),
    ("C(now(\\)) in Jinja", False),
    ('C("{{ now(utc=true\\).isoformat(\\) }}")', False),
    ("V(a) and O(b)", False),
])
def test_the_check_itself(text, broken):
    assert any(unbalanced(content) for content in markup_contents(text)) is broken
