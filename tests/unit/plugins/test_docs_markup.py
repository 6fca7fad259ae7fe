# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's documentation renders as written: no markup that a parenthesis cuts short.

The renderer's own parser (antsibull-docs-parser, which ansible-doc's and the docsite's output follow) decides
where each markup element ends. C(...) takes no escapes, so C(now()) and C(now(\\)) both render as "now(" and a
stray ")"; V(...), O(...), E(...) and RV(...) take "\\)". The linters accept such text (it is valid markup, only
wrong); this test does not.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import yaml
from antsibull_docs_parser import dom
from antsibull_docs_parser.parser import Context, parse

from ansible_collections.hwcloud.dms.plugins import doc_fragments, modules

# What each kind of element shows literally.
LITERAL_CONTENT = {
    dom.PartType.CODE: "text", dom.PartType.OPTION_VALUE: "value", dom.PartType.ENV_VARIABLE: "name",
    dom.PartType.OPTION_NAME: "name", dom.PartType.RETURN_VALUE: "name", dom.PartType.ITALIC: "text",
    dom.PartType.BOLD: "text",
}


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
    """The literal content of each markup element, as the renderer's parser cuts it."""
    for paragraph in parse(text, Context(), errors="exception", strict=True):
        for part in paragraph:
            if part.type in LITERAL_CONTENT:
                yield getattr(part, LITERAL_CONTENT[part.type])


def unbalanced(content):
    depth = 0
    for character in content:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            return True
    return depth != 0


TEXTS = list(documented_texts())
MARKED_UP = [(where, text) for where, text in TEXTS if any(markup_contents(text))]


def test_the_documentation_is_found():
    assert any(where.startswith("wait_for_task.DOCUMENTATION") for where, text in TEXTS)
    assert any(where.startswith("common.DOCUMENTATION") for where, text in TEXTS)


@pytest.mark.parametrize("where, text", MARKED_UP, ids=[where for where, text in MARKED_UP])
def test_no_markup_is_cut_short_by_a_parenthesis(where, text):
    broken = [content for content in markup_contents(text) if unbalanced(content)]
    assert not broken, "%s: markup cut short at a ')': %r (C() takes no escapes; V(), O() and E() take \\))" % (where, broken)


@pytest.mark.parametrize("text, broken", [
    ("C(now()) in Jinja", True),
    ("C(now(\\)) in Jinja", True),
    ("V({{ now(utc=true\\).isoformat(\\) }})", False),
    ("C(now) and V(a) and O(b)", False),
])
def test_the_check_itself(text, broken):
    assert any(unbalanced(content) for content in markup_contents(text)) is broken
