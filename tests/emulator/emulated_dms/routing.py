# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which call a request is: its kind, and the IDs its path names."""

from __future__ import annotations

import re
from urllib.parse import unquote

KINDS = ("list", "show", "delete", "progress", "configs", "modify_configs", "resize", "restart", "instance", "instances", "iam_projects",
         "iam_token")
IAM_KINDS = ("iam_projects", "iam_token")
# What a fault rule or a log filter may name: a kind, "iam" (both IAM calls) or "any" (unknown paths too).
KIND_FILTERS = KINDS + ("iam", "any")

INSTANCE_ROUTE = r"^/v2/(?P<project_id>[^/]+)/instances/(?P<instance_id>[^/]+)"
TASK_ROUTE = INSTANCE_ROUTE + "/tasks"
# The engines the resize path names; any other first segment is another API.
RESIZE_ROUTE = r"^/v2/(?P<engine>kafka|rabbitmq|rocketmq|reliability)/(?P<project_id>[^/]+)/instances/(?P<instance_id>[^/]+)/extend$"
ROUTES = (
    ("GET", re.compile(TASK_ROUTE + "$"), "list"),
    ("GET", re.compile(TASK_ROUTE + r"/(?P<task_id>[^/]+)$"), "show"),
    ("DELETE", re.compile(TASK_ROUTE + r"/(?P<task_id>[^/]+)$"), "delete"),
    ("GET", re.compile(TASK_ROUTE + r"/(?P<task_id>[^/]+)/progress$"), "progress"),
    ("GET", re.compile(INSTANCE_ROUTE + "/configs$"), "configs"),
    ("PUT", re.compile(INSTANCE_ROUTE + "/configs$"), "modify_configs"),
    ("POST", re.compile(RESIZE_ROUTE), "resize"),
    ("POST", re.compile(r"^/v2/(?P<project_id>[^/]+)/instances/action$"), "restart"),
    ("GET", re.compile(INSTANCE_ROUTE + "$"), "instance"),
    ("GET", re.compile(r"^/v2/(?P<project_id>[^/]+)/instances$"), "instances"),
    ("GET", re.compile(r"^/v3/projects$"), "iam_projects"),
    ("POST", re.compile(r"^/v3/auth/tokens$"), "iam_token"),
)


def route(method, path):
    """(kind, decoded path parameters); kind "unknown" for any other method or path."""
    for route_method, pattern, kind in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return kind, {name: unquote(value) for name, value in match.groupdict().items()}
    return "unknown", {}


def kind_matches(kind_filter, kind):
    return kind_filter in ("any", kind) or (kind_filter == "iam" and kind in IAM_KINDS)
