# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path and query of a dms_api call: {project_id} filled in, every other placeholder and unsafe path refused."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.api_path import api_path, query_pairs
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError

PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize("path, expected", [
    ("/v2/{project_id}/instances/%s/configs" % INSTANCE, "/v2/%s/instances/%s/configs" % (PROJECT, INSTANCE)),
    ("/v2/kafka/{project_id}/instances/%s/extend" % INSTANCE, "/v2/kafka/%s/instances/%s/extend" % (PROJECT, INSTANCE)),
    ("v2/{project_id}/instances", "/v2/%s/instances" % PROJECT),
    ("  /v2/{project_id}/instances/  ", "/v2/%s/instances" % PROJECT),
    ("/v2/{project_id}/instances/{project_id}", "/v2/%s/instances/%s" % (PROJECT, PROJECT)),
    ("/v2/products", "/v2/products"),
], ids=["configs", "engine in the path", "no leading slash", "spaces and trailing slash", "twice", "no placeholder"])
def test_project_id_is_filled_in(path, expected):
    assert api_path(path).expand(PROJECT) == expected


def test_segments_are_percent_encoded_as_written():
    assert api_path("/v2/{project_id}/topics/a b%2Fc:d").expand("p") == "/v2/p/topics/a%20b%252Fc%3Ad"


@pytest.mark.parametrize("path, words", [
    ("/v2/{project_id}/instances/{instance_id}/configs", ["{instance_id}", "only {project_id} is filled in"]),
    ("/v2/{engine}/{project_id}/instances/x/extend", ["{engine}"]),
    ("/v2/{projectId}/instances", ["{projectId}"]),
    ("/v2/{}/instances", ["{}"]),
    ("/v2/{project_id/instances", ["unbalanced"]),
    ("/v2/p{project_id}/instances", ["whole segment"]),
    ("/v2/{project_id}/instances/../tasks", ["'..' segment", "lock the access key"]),
    ("/v2/{project_id}/./instances", ["'.' segment"]),
    ("/v2/{project_id}/instances//configs", ["empty segment"]),
    ("https://dms.example.com/v2/{project_id}/instances", ["not a URL", "endpoint"]),
    ("//dms.example.com/v2/{project_id}/instances", ["not a URL"]),
    ("/v2/{project_id}/instances?engine=kafka", ["query"]),
    ("/v2/{project_id}/instances#top", ["'#'"]),
    ("", ["path must be"]),
    ("   ", ["path must be"]),
    (None, ["path must be"]),
], ids=["instance placeholder", "engine placeholder", "misspelt project placeholder", "empty placeholder", "unbalanced",
        "part of a segment", "dot dot", "dot", "empty segment", "url", "scheme-relative url", "query", "fragment", "empty",
        "blank", "none"])
def test_bad_paths_are_refused_naming_the_option(path, words):
    with pytest.raises(ConfigurationError) as raised:
        api_path(path)
    message = str(raised.value)
    assert message.startswith("path")
    for word in words:
        assert word in message


def test_query_pairs_keep_strings_numbers_and_lists():
    pairs = query_pairs({"engine": "kafka", "limit": 50, "ratio": 0.5, "id": ["a", "b"], "force": True, "dry": False})
    assert pairs == [("engine", "kafka"), ("limit", "50"), ("ratio", "0.5"), ("id", "a"), ("id", "b"), ("force", "true"), ("dry", "false")]


def test_no_query_is_no_pairs():
    assert query_pairs(None) == [] and query_pairs({}) == []


@pytest.mark.parametrize("value, shown", [(None, "null"), ({"a": 1}, "dict"), ([["a"]], "list")])
def test_query_values_of_other_types_are_refused_naming_the_key(value, shown):
    with pytest.raises(ConfigurationError) as raised:
        query_pairs({"engine": value})
    assert str(raised.value).startswith("query: the value of engine") and shown in str(raised.value)
