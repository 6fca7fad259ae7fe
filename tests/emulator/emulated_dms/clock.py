# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The clocks scenario times count on, and the API's time formats. Every wall time is UTC."""

from __future__ import annotations

import datetime
import re
import time


class Clock:
    """Seconds since start() on the monotonic clock, and the wall time each of them maps to. Reads 0 until started."""

    def __init__(self, started=True):
        self.origin_monotonic = None
        self.origin_wall = time.time()
        if started:
            self.start()

    def start(self):
        self.origin_monotonic = time.monotonic()
        self.origin_wall = time.time()

    @property
    def started(self):
        return self.origin_monotonic is not None

    def now(self):
        return 0.0 if self.origin_monotonic is None else time.monotonic() - self.origin_monotonic

    def wall(self, seconds):
        """The wall time (epoch seconds) of a moment on this clock."""
        return self.origin_wall + seconds


def iso_ms(epoch):
    """Epoch seconds as the API writes timestamps: 2020-06-23T03:00:03.471Z."""
    millis = int(round(epoch * 1000))
    moment = datetime.datetime.fromtimestamp(millis // 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (millis % 1000)


def parse_api_time(value):
    """A YYYYMMDDHHmmss (UTC) query value as epoch seconds, or None when malformed."""
    if not re.match(r"^[0-9]{14}$", value):
        return None
    try:
        moment = datetime.datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()
