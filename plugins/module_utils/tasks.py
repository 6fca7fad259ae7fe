# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task data: statuses, the returned task shape, and the time formats the API and users speak.

Plain Python, no Ansible imports, so the module and the controller-side waiter share it.
"""

from __future__ import annotations

import json
import re
from itertools import islice
from datetime import datetime, timedelta, timezone

ACTIVE_STATUSES = ("CREATED", "EXECUTING")
FINAL_STATUSES = ("SUCCESS", "FAILED", "CANCELLED", "DELETED")
STATUSES = ACTIVE_STATUSES + FINAL_STATUSES
BAD_STATUSES = ("FAILED", "CANCELLED", "DELETED")

TASK_FIELDS = ("id", "name", "status", "user_name", "user_id", "created_at", "updated_at")

_API_TIME = "%Y%m%d%H%M%S"
_COMPACT = re.compile(r"^\d{14}$")
_BASIC_ISO = re.compile(r"^(\d{8})T(\d{6})Z?$")  # as in X-Sdk-Date: 20240131T080000Z
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def normalize_task(raw):
    """Turn a task as the API sends it (every field a string, params a JSON string) into the returned dict."""
    task = dict((field, _text(raw.get(field))) for field in TASK_FIELDS)
    params_raw = raw.get("params")
    if params_raw is None:
        params_raw = ""
    elif not isinstance(params_raw, str):
        # Never seen from the API, but a dict here must not be lost or crash the parse.
        params_raw = json.dumps(params_raw, sort_keys=True)
    task["params"] = _params_dict(params_raw)
    task["params_raw"] = params_raw
    return task


def select_tasks(tasks, statuses=None, names=None, begin=None, end=None, limit=None):
    """The tasks that pass every given filter, in the order given, at most ``limit``.

    Consumes ``tasks`` lazily, so a paging iterator stops fetching once ``limit`` tasks are selected.
    ``begin`` and ``end`` bound the creation time (aware datetimes, both inclusive, to the second as the API compares).
    """
    def wanted(task):
        if statuses and task["status"] not in statuses:
            return False
        if names and task["name"] not in names:
            return False
        if begin or end:
            created = parse_api_timestamp(task["created_at"])
            if created is None:
                return False
            created = created.replace(microsecond=0)  # to the second, as the API's begin_time/end_time
            if (begin and created < begin.replace(microsecond=0)) or (end and created > end):
                return False
        return True

    selected = (task for task in tasks if wanted(task))
    return list(islice(selected, limit) if limit else selected)


def newest_first(tasks):
    """The tasks sorted by creation time, newest first; a task without a readable time goes last."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(tasks, key=lambda task: parse_api_timestamp(task["created_at"]) or oldest, reverse=True)


def is_active(task):
    return task.get("status") in ACTIVE_STATUSES


def parse_time(value):
    """Parse a user-supplied time: YYYYMMDDHHmmss or ISO-8601, naive meaning UTC. Return an aware UTC datetime.

    Raises ValueError with a message that says which formats are accepted.
    """
    text = str(value).strip()
    try:
        if _COMPACT.match(text):
            return datetime.strptime(text, _API_TIME).replace(tzinfo=timezone.utc)
        basic = _BASIC_ISO.match(text)
        if basic:
            return datetime.strptime("".join(basic.groups()), _API_TIME).replace(tzinfo=timezone.utc)
        match = _ISO.match(text)
        if match:
            return _from_iso_match(match)
    except (ValueError, OverflowError):
        pass  # out-of-range fields (or an offset past year 1 / 9999): same message as a malformed value
    raise ValueError("'%s' is not a valid time: use YYYYMMDDHHmmss or ISO-8601 such as 2024-01-31T08:00:00Z (no zone means UTC)" % text)


def to_api_time(moment):
    """The API's query form: YYYYMMDDHHmmss in UTC. A naive datetime means UTC (not the local time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime(_API_TIME)


def parse_api_timestamp(value):
    """Parse a response timestamp such as 2020-06-23T03:00:03.471Z; None when absent or malformed."""
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def _from_iso_match(match):
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=timezone.utc)


def _params_dict(params_raw):
    try:
        parsed = json.loads(params_raw) if params_raw.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(value):
    return "" if value is None else str(value)
