# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the docsite's pages of the recipes and of the event source, docs/docsite/rst/recipes.rst and events.rst,
from docs/recipes.md and docs/eda.md: the Markdown is what GitHub shows and what the tests run, so it is the one
written by hand.

Run it after changing either: python3 tests/tooling/render_docsite_guides.py
(with --check it only says which page differs: docs/docsite/build.sh fails while one does).

It converts the Markdown these pages use and fails on any other: headings of two levels, paragraphs, inline code,
links, fenced code blocks (also inside list items), lists and pipe tables.
"""

from __future__ import annotations

import os
import re
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# Page name (as extra-docs.yml lists it) -> its Markdown.
PAGES = {"recipes": "docs/recipes.md", "events": "docs/eda.md"}
RST = "docs/docsite/rst"

FENCE = re.compile(r"^( *)```(\w*)$")
HEADING = re.compile(r"^(#+) (.+)$")
TABLE_RULE = re.compile(r"^\|(?: *:?-+:? *\|)+$")
LIST_ITEM = re.compile(r"^(?:-|\d+\.) ")
INLINE = re.compile(r"`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)")
# Characters that may touch RST inline markup (docutils' inline markup recognition rules); any other needs "\ ".
MAY_PRECEDE = "-:/'\"<([{"
MAY_FOLLOW = "-.,:;!?\\/'\")]}>"
UNDERLINES = {1: "=", 2: "-"}


class Unsupported(ValueError):
    """Markdown this converter does not render: rather a failure than a page that shows it wrong."""


def github_base():
    """Where a link to a file of the repository goes: the edit-on-GitHub repository and branch of links.yml."""
    with open(os.path.join(ROOT, "docs", "docsite", "links.yml"), encoding="utf-8") as handle:
        github = yaml.safe_load(handle)["edit_on_github"]
    return "https://github.com/%s/blob/%s/%s" % (github["repository"], github["branch"], github.get("path_prefix", ""))


def render(name, source, markdown):
    """The RST page ``name`` of the Markdown file ``source`` (a path in the repository) whose text is ``markdown``."""
    lines = markdown.splitlines()
    out = [".. Generated from %s by tests/tooling/render_docsite_guides.py: edit the Markdown, not this file." % source,
           "", ".. _ansible_collections.hwcloud.dms.docsite.%s:" % name, ""]
    paragraph = []

    def flush():
        if paragraph:
            out.extend(_inline("\n".join(paragraph), source).split("\n"))
            del paragraph[:]

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        heading = HEADING.match(line)
        if fence:
            flush()
            indent, language = fence.groups()
            end = lines.index(indent + "```", index + 1)
            _blank(out)
            out.extend([indent + ".. code-block:: " + (language or "text"), ""])
            out.extend(indent + "    " + text[len(indent):] if text.strip() else "" for text in lines[index + 1:end])
            _blank(out)
            index = end + 1
            continue
        if heading:
            flush()
            level, title = heading.groups()
            if len(level) not in UNDERLINES:
                raise Unsupported("%s: a heading of level %d: %s" % (source, len(level), line))
            title = _inline(title, source)
            out.extend([title, UNDERLINES[len(level)] * len(title)])
        elif line.startswith("|"):
            flush()
            end = index
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            out.extend(_table(lines[index:end], source))
            index = end
            continue
        elif not line.strip():
            flush()
            _blank(out)
        else:
            if LIST_ITEM.match(line) and paragraph and not LIST_ITEM.match(paragraph[0]) and not paragraph[0].startswith(" "):
                # Markdown lets a list interrupt a paragraph; RST would read the items as more of the paragraph.
                raise Unsupported("%s: a list right after a paragraph, without a blank line: %s" % (source, line))
            if line.lstrip().startswith("<"):
                raise Unsupported("%s: HTML: %s" % (source, line))
            paragraph.append(line)
        index += 1
    flush()
    while out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _blank(out):
    if out and out[-1] != "":
        out.append("")


def _table(rows, source):
    if len(rows) < 2 or not TABLE_RULE.match(rows[1]):
        raise Unsupported("%s: a table without a header rule: %s" % (source, rows[0]))
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [rows[0]] + rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        for position, cell in enumerate(cells):
            out.append(("   * - " if position == 0 else "     - ") + _inline(cell, source))
    out.append("")
    return out


def _inline(text, source):
    """Inline code and links of Markdown as RST; everything else is plain text, escaped."""
    parts, position = [], 0
    for match in INLINE.finditer(text):
        parts.append(_escape(text[position:match.start()]))
        code, label, target = match.groups()
        if code is not None:
            markup = ":ansplugin:`%s#module`" % code if _is_module(code) else "``%s``" % code
        else:
            markup = "`%s <%s>`__" % (_escape(label.replace("`", "")).replace("<", "\\<"), _target(target, source))
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if not (before.isspace() or before in MAY_PRECEDE):
            markup = "\\ " + markup
        if not (after.isspace() or after in MAY_FOLLOW):
            markup += "\\ "
        parts.append(markup)
        position = match.end()
    parts.append(_escape(text[position:]))
    return "".join(parts)


def _is_module(name):
    """A module of this collection, named in full: on the docsite, a link to its page."""
    match = re.match(r"^hwcloud\.dms\.(\w+)$", name)
    return bool(match) and os.path.exists(os.path.join(ROOT, "plugins", "modules", match.group(1) + ".py"))


def _target(target, source):
    """A link to a file of the repository, relative to the Markdown, goes to that file on GitHub."""
    if re.match(r"^[a-z]+:", target):
        return target
    if target.startswith("#"):
        raise Unsupported("%s: a link to a heading: %s" % (source, target))
    return github_base() + os.path.normpath(os.path.join(os.path.dirname(source), target)).replace(os.sep, "/")


def _escape(text):
    if "`" in text:
        raise Unsupported("a lone backtick: %s" % text)
    text = re.sub(r"([\\*|])", r"\\\1", text)
    return re.sub(r"(?<=\w)_(?=\W|$)", r"\\_", text)  # word_ is a reference in RST


def pages():
    """Each page's path in the repository and its text, rendered from its Markdown as it is now."""
    for name, source in PAGES.items():
        yield "%s/%s.rst" % (RST, name), render(name, source, _read(os.path.join(ROOT, source)))


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def main(check):
    stale = []
    for path, text in pages():
        target = os.path.join(ROOT, path)
        if check:
            if not os.path.exists(target) or _read(target) != text:
                stale.append(path)
            continue
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        print("wrote %s" % path)
    if stale:
        sys.exit("not as rendered from the Markdown: %s (run: python3 tests/tooling/render_docsite_guides.py)" % ", ".join(stale))


if __name__ == "__main__":
    main("--check" in sys.argv[1:])
