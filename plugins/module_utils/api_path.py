# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path of a call made with dms_api: checked before any request, then the project ID put in.

Plain Python, no Ansible imports. The path is written unencoded, as in the API reference
(``/v2/{project_id}/instances/<id>/configs``); each segment is percent-encoded when it is sent.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError

PROJECT_ID = "{project_id}"
DOT_SEGMENTS = (".", "..")
_PLACEHOLDER = re.compile(r"\{[^{}/]*\}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class ApiPath:
    """A checked path: its segments, ``{project_id}`` among them kept as a placeholder until ``expand``."""

    def __init__(self, segments):
        self.segments = segments

    @property
    def instance_id(self):
        """The instance the path is about: the segment after ``instances`` when another one follows it
        (``/v2/{project_id}/instances/<id>/configs``); None for a path about no one instance (``/instances/action``)."""
        for position, segment in enumerate(self.segments[:-2]):
            if segment == "instances":
                return self.segments[position + 1]
        return None

    def expand(self, project_id):
        """The path to send: ``{project_id}`` replaced, every segment percent-encoded."""
        return "/" + "/".join(path_segment(project_id if segment == PROJECT_ID else segment) for segment in self.segments)


def path_segment(value):
    """``value`` as one percent-encoded segment of a URL path; never a dot segment, which HTTP libraries would resolve
    after the request was signed (it would fail authentication, and repeated failures lock the access key)."""
    text = str(value)
    if text in DOT_SEGMENTS:
        raise ConfigurationError("'%s' cannot be an ID: HTTP clients remove it from the URL" % text)
    return quote(text, safe="")


def api_path(text):
    """The ``path`` option checked: an ApiPath, or ConfigurationError naming the option and saying what to write instead."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError("path must be the path of the API call below the endpoint, such as /v2/{project_id}/instances")
    path = text.strip()
    if _SCHEME.match(path) or path.startswith("//"):
        raise ConfigurationError(
            "path must be below the endpoint, not a URL: '%s'; set endpoint (or region) for the host, and path to what follows it" % path)
    if "?" in path or "#" in path:
        raise ConfigurationError("path must not contain '?' or '#': put query parameters in query, got '%s'" % path)
    segments = path.lstrip("/").split("/")
    if segments[-1] == "" and len(segments) > 1:
        segments.pop()  # a trailing slash: the signature ends the path with one anyway
    for segment in segments:
        _check_segment(segment, path)
    return ApiPath(segments)


def _check_segment(segment, path):
    if segment == "":
        # What an empty variable leaves behind, e.g. /v2/{project_id}/instances//configs.
        raise ConfigurationError("path has an empty segment ('//'), as an empty variable leaves: '%s'" % path)
    if segment in DOT_SEGMENTS:
        raise ConfigurationError(
            "path must not contain a '%s' segment: HTTP libraries resolve it after the request is signed, so it would fail"
            " authentication (and repeated failures lock the access key): '%s'" % (segment, path))
    if segment == PROJECT_ID:
        return
    placeholder = _PLACEHOLDER.search(segment)
    if placeholder and placeholder.group(0) == PROJECT_ID:
        raise ConfigurationError("path: {project_id} must be a whole segment, between two '/', got '%s'" % segment)
    if placeholder:
        raise ConfigurationError(
            "path: only {project_id} is filled in; put the value of %s in the path itself (for example with a variable): '%s'"
            % (placeholder.group(0), path))
    if "{" in segment or "}" in segment:
        raise ConfigurationError("path has an unbalanced '{' or '}' in '%s': only {project_id} is filled in" % segment)


def query_pairs(query):
    """The ``query`` option as (key, value) pairs to sign and send; a list value sends its key once per item.

    Booleans are sent as true/false, as JSON writes them (Python would write True/False).
    """
    pairs = []
    for key, value in (query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(key), _query_value(key, item)))
    return pairs


def _query_value(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigurationError("query: the value of %s must be a string, a number, a boolean or a list of them, got %s"
                             % (key, "null" if value is None else type(value).__name__))
