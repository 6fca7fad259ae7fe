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
# Tasks created "since" a moment of the controller's are looked for from this long before it: the cloud's clock may
# differ from the controller's by up to the signature's own tolerance (requests dated further off are refused).
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=15)

_API_TIME = "%Y%m%d%H%M%S"
# Time zones in use range from UTC-12:00 to UTC+14:00: an offset past 14 hours either way is a typo.
MAX_UTC_OFFSET = timedelta(hours=14)
# ASCII digits only: \d alone would take other scripts' digits.
_COMPACT = re.compile(r"(\d{14})", re.ASCII)
_BASIC_ISO = re.compile(r"(\d{8})T(\d{6})Z?", re.ASCII)  # as in X-Sdk-Date: 20240131T080000Z
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)
_FORMATS_HINT = "use YYYYMMDDHHmmss or ISO-8601 such as 2024-01-31T08:00:00Z (no zone means UTC)"


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
            if created is None or (begin and created_before(task, begin)) or (end and created.replace(microsecond=0) > end):
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


def created_before(task, moment):
    """Whether the task was created before ``moment``, to the second as the API's begin_time compares; False when its
    creation time cannot be read."""
    created = parse_api_timestamp(task["created_at"])
    return created is not None and created.replace(microsecond=0) < moment.replace(microsecond=0)


def parse_time(value):
    """Parse a user-supplied time: YYYYMMDDHHmmss or ISO-8601, naive meaning UTC. Return an aware UTC datetime.

    Any time from 0001-01-01 00:00:00 to 9999-12-31 23:59:59 UTC is accepted: the API's fixed-width form writes
    years before 1000 with leading zeros (to_api_time), and refusing them would draw an arbitrary line.
    Raises ValueError, with a message that says what is wrong, for anything else: a malformed value, a UTC offset
    beyond 14 hours (or with 60 minutes or more), a time that falls outside those years once moved to UTC.
    """
    text = str(value).strip()
    local, offset = _wall_clock(text)
    try:
        return (local - offset).replace(tzinfo=timezone.utc)
    except OverflowError:
        raise ValueError("'%s' falls outside the years 0001 to 9999 in UTC, which the API's YYYYMMDDHHmmss cannot write"
                         % text) from None


def to_api_time(moment):
    """The API's query form: YYYYMMDDHHmmss in UTC, always 14 digits. A naive datetime means UTC (not the local time).

    Raises ValueError when the time in UTC falls outside the years 0001 to 9999.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("%s falls outside the years 0001 to 9999 in UTC, which the API's YYYYMMDDHHmmss cannot write"
                         % moment.isoformat()) from None
    # Not strftime: it writes the year without leading zeros on some platforms (year 1 as "1").
    return "%04d%02d%02d%02d%02d%02d" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)


def parse_api_timestamp(value):
    """Parse a response timestamp such as 2020-06-23T03:00:03.471Z; None when absent or malformed."""
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def _wall_clock(text):
    """The naive time a text spells and the UTC offset it gives; ValueError when it spells no time."""
    basic = _COMPACT.fullmatch(text) or _BASIC_ISO.fullmatch(text)
    iso = None if basic else _ISO.fullmatch(text)
    offset = _utc_offset(text, iso.group(8)) if iso else timedelta(0)
    try:
        if basic:
            return datetime.strptime("".join(basic.groups()), _API_TIME), offset
        if iso:
            year, month, day, hour, minute, second, fraction = iso.groups()[:7]
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro), offset
    except ValueError:
        pass  # a field out of range (month 13, 25 o'clock): same message as a malformed value
    raise ValueError("'%s' is not a valid time: %s" % (text, _FORMATS_HINT))


def _utc_offset(text, zone):
    """The UTC offset a zone suffix (None, Z, +08:00, -0230) stands for; ValueError past 14 hours."""
    if zone in (None, "Z", "z"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    offset = timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or offset > MAX_UTC_OFFSET:
        raise ValueError("'%s' has the UTC offset %s: an offset must lie between -14:00 and +14:00, with minutes below 60"
                         % (text, zone))
    return offset if zone[0] == "+" else -offset


def _params_dict(params_raw):
    try:
        parsed = json.loads(params_raw) if params_raw.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(value):
    return "" if value is None else str(value)
