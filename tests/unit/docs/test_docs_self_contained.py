# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs are self-contained: every file they link to or name is in the repository."""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# A file name in backticks, with or without folders: `docs/eda.md`, `clock.py`.
NAMED_FILE = re.compile(r"`([\w./-]+\.(?:md|py|ya?ml|txt|sh|json|cfg))`")
PLACEHOLDER = re.compile(r"[A-Z]{2,}|\{|your-|<")
# Files the docs tell the reader to write in their own project.
READERS_FILES = {"requirements.yml", "collections/requirements.yml"}
# The test runner's own file: at the repository root, and left out of the copies of the collection that its sessions test.
RUNNER_FILES = {"noxfile.py"}


def markdown_files():
    found = [os.path.join(ROOT, "README.md")]
    for folder, _subfolders, files in os.walk(os.path.join(ROOT, "docs")):
        found.extend(os.path.join(folder, name) for name in files if name.endswith(".md"))
    return sorted(found)


def repository_files():
    names, paths = set(), set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if not name.startswith(".") and name not in ("output", "__pycache__")]
        for name in files:
            names.add(name)
            paths.add(os.path.relpath(os.path.join(folder, name), ROOT))
    return names, paths


NAMES, PATHS = repository_files()


def exists(reference, document):
    if "/" not in reference:
        return reference in NAMES
    here = os.path.relpath(os.path.dirname(document), ROOT)
    candidates = (reference, os.path.normpath(os.path.join(here, reference)))
    return any(os.path.normpath(candidate) in PATHS or os.path.isdir(os.path.join(ROOT, candidate)) for candidate in candidates) or any(
        path.endswith("/" + reference) for path in PATHS)


@pytest.mark.parametrize("document", markdown_files(), ids=lambda path: os.path.relpath(path, ROOT))
def test_every_file_a_document_links_to_or_names_is_in_the_repository(document):
    with open(document, encoding="utf-8") as handle:
        text = handle.read()
    references = [target for target in LINK.findall(text) if not re.match(r"^[a-z]+:", target)]
    references += [name for name in NAMED_FILE.findall(text) if not PLACEHOLDER.search(name)]
    missing = sorted(set(reference for reference in references if reference not in READERS_FILES | RUNNER_FILES and not exists(reference, document)))
    assert not missing, "%s names files that are not in the repository: %s" % (os.path.relpath(document, ROOT), missing)


def test_the_check_finds_a_missing_file():
    document = os.path.join(ROOT, "docs", "emulator.md")
    assert exists("docs/eda.md", document) and exists("clock.py", document) and exists("eda.md", document)
    assert not exists("shared/dms-api.md", document) and not exists("dms-api.md", document)
