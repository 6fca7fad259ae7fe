# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The time the collection runs on, in one object: so that a test injects one fake for every wait, retry and pause.

Plain Python, no Ansible imports.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone


class Clock:
    """Monotonic seconds (deadlines, pauses), the wall clock as an aware UTC datetime (what the cloud's times compare
    with), sleeping, and the random numbers of jitter."""

    def monotonic(self):
        return time.monotonic()

    def wall(self):
        return datetime.now(timezone.utc)

    def sleep(self, seconds):
        time.sleep(seconds)

    def random(self):
        return random.random()


SYSTEM_CLOCK = Clock()
