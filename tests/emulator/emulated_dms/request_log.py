# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request log: one entry per API request, in memory since the last load or reset and, optionally, in a file for good."""

from __future__ import annotations

import json
import time

from .clock import iso_ms
from .messages import query_pairs
from .routing import kind_matches


def logged_query(raw_query):
    """Decoded query: key -> value, a repeated key mapping to the list of its values."""
    query = {}
    for key, value in query_pairs(raw_query):
        if key not in query:
            query[key] = value
        elif isinstance(query[key], list):
            query[key].append(value)
        else:
            query[key] = [query[key], value]
    return query


class RequestLog:
    """Not thread-safe on its own: the emulator calls it under its lock."""

    def __init__(self, path=None):
        self.entries = []
        self.file = open(path, "a", encoding="utf-8") if path else None  # pylint: disable=consider-using-with

    def clear(self):
        """Forget the entries in memory (and so restart seq at 1); the file keeps them."""
        self.entries = []

    def record(self, request, kind, params, reply, auth, auth_error, rule, request_id, clock, in_memory=True):
        """clock: the clock the request's time is read on (its instance's, or the scenario's); ``in_memory`` False
        writes the entry to the file only (it arrived before the last load or reset)."""
        entry = {
            "seq": len(self.entries) + 1 if in_memory else None,
            "time": iso_ms(time.time()),
            "clock": round(clock.now(), 3),
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "query": logged_query(request.query),
            "kind": kind,
            "instance_id": params.get("instance_id"),
            "task_id": params.get("task_id"),
            "status": reply.status,
            "auth": auth if auth else ("denied" if auth_error else None),
            "auth_error": auth_error,
            "fault": "+".join(rule.actions()) if rule else None,
            "fault_rule": rule.index if rule else None,
        }
        if in_memory:
            self.entries.append(entry)
        if self.file:
            self.file.write(json.dumps(entry) + "\n")
            self.file.flush()

    def select(self, kind=None):
        """The entries of one kind (or kind filter: iam, any), oldest first."""
        return [entry for entry in self.entries if kind is None or kind_matches(kind, entry["kind"])]

    def counts(self):
        by_kind = {}
        for entry in self.entries:
            by_kind[entry["kind"]] = by_kind.get(entry["kind"], 0) + 1
        return {"total": len(self.entries), "by_kind": by_kind}

    def close(self):
        if self.file:
            self.file.close()
