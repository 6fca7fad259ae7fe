# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plain checks of option values: numbers in a range, required text, IDs that go into a URL, times.

Each raises ConfigurationError naming the option and saying what is wrong. No Ansible imports, so that the module
helpers, the action plugin and the event source share them.
"""

from __future__ import annotations

import math
import re
from collections import namedtuple
from datetime import timedelta

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.tasks import parse_time

# Units of fixed length only: months and years vary, so "a month ago" has no single meaning.
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_FORMS = "a duration such as 30d, 12h, 90m, 45s or 2w"
_DURATION = re.compile(r"([0-9]+)\s*([smhdw])", re.ASCII)


class NumberRange(namedtuple("NumberRange", ["minimum", "maximum", "integer", "exclusive_minimum", "exclusive_maximum", "unit"],
                             defaults=(False, False, False, None))):
    """The values a numeric option allows: finite bounds, each inclusive unless marked exclusive."""
    __slots__ = ()

    def describe(self, maximum_name=None):
        """How the range reads in a message, e.g. "an integer from 0 to 10"; ``maximum_name`` names an option as the top."""
        top = _number_text(self.maximum)
        if maximum_name:
            top = "%s (%s)" % (maximum_name, top)
        if self.exclusive_minimum or self.exclusive_maximum:
            bounds = "%s %s and %s %s" % ("greater than" if self.exclusive_minimum else "at least", _number_text(self.minimum),
                                          "less than" if self.exclusive_maximum else "at most", top)
        else:
            bounds = "from %s to %s" % (_number_text(self.minimum), top)
        if self.integer:
            kind = "a whole number of %s" % self.unit if self.unit else "an integer"
        else:
            kind = "a number of %s" % self.unit if self.unit else "a number"
        return "%s %s" % (kind, bounds)

    def check(self, name, value, maximum_name=None):
        """``value`` as an int (integer ranges) or a float, if it is a number in the range; else ConfigurationError."""
        number = value
        if self.integer and isinstance(value, float) and value.is_integer():
            number = int(value)
        wanted = int if self.integer else (int, float)
        # bool is an int to Python, not to a user; NaN fails both comparisons, so it is out of every range.
        if isinstance(number, wanted) and not isinstance(number, bool) and self._holds(number):
            return number if self.integer else float(number)
        raise ConfigurationError("%s must be %s, got %s" % (name, self.describe(maximum_name), shown(value)))

    def _holds(self, number):
        above = self.minimum < number if self.exclusive_minimum else self.minimum <= number
        below = number < self.maximum if self.exclusive_maximum else number <= self.maximum
        return above and below


def number_option(name, value, minimum, maximum, integer=False, exclusive_minimum=False, exclusive_maximum=False, unit=None,
                  maximum_name=None):
    """A numeric option checked against its range: the value as an int (``integer``) or a float.

    Anything else (out of range, NaN, infinite, a bool, not a number) is a ConfigurationError naming the option, the
    range and the value. ``unit`` (e.g. "seconds") and ``maximum_name`` (the option the maximum comes from) only
    shape the message: "delay must be a whole number of seconds at least 0 and less than timeout (1800), got 1800".
    """
    return NumberRange(minimum, maximum, integer, exclusive_minimum, exclusive_maximum, unit).check(name, value, maximum_name)


def required_text(name, value):
    """A required string option, stripped; an empty or blank value is an error naming the option."""
    text = (value or "").strip()
    if not text:
        raise ConfigurationError("%s must not be empty" % name)
    return text


def path_segment_option(name, value):
    """A required option that becomes one segment of a URL path (an instance or task ID), stripped.

    The client percent-encodes every character except letters, digits and -._~, so any other value reaches the server
    as signed. Not "." and "..": requests and urllib3 resolve them as dot segments after signing, so the request would
    go to another path, fail its signature check, and count toward locking the access key.
    """
    text = required_text(name, value)
    refuse_dot_segment(name, text)
    return text


def refuse_dot_segment(name, text):
    if text in (".", ".."):
        raise ConfigurationError(
            "%s must not be '%s': HTTP libraries resolve '.' and '..' in a URL path after the request is signed, so it would"
            " fail authentication (and repeated failures lock the access key)" % (name, text))


def time_option(name, value, now):
    """An optional time option as an aware UTC datetime, or None when unset or blank.

    A time, YYYYMMDDHHmmss or ISO-8601 (naive meaning UTC), or a duration back from ``now`` (an aware datetime):
    ``7d`` is seven days ago. Anything else is a ConfigurationError naming the option.
    """
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    length = duration(name, text)
    if length is None:
        try:
            return parse_time(text)
        except ValueError as exc:
            raise ConfigurationError("%s must be %s (that long ago), or a time: %s" % (name, DURATION_FORMS, str(exc).replace(text, _short(text)))) from None
    try:
        return now - length
    except OverflowError:
        raise ConfigurationError("%s '%s' reaches back past the year 1" % (name, _short(text))) from None


def deadline_option(name, value, now):
    """The seconds from ``now`` (an aware datetime) until the time ``value`` names, YYYYMMDDHHmmss or ISO-8601 (naive
    meaning UTC); None when unset or blank. A malformed time, or one that is not after ``now``, is a ConfigurationError."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        moment = parse_time(text)
    except ValueError as exc:
        raise ConfigurationError("%s must be a time, YYYYMMDDHHmmss or ISO-8601 such as 2024-05-01T04:00:00+02:00: %s"
                                 % (name, str(exc).replace(text, _short(text)))) from None
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        raise ConfigurationError("%s %s has passed (it is %s UTC now): nothing was sent or waited for"
                                 % (name, moment.strftime("%Y-%m-%dT%H:%M:%SZ"), now.strftime("%Y-%m-%dT%H:%M:%S")))
    return seconds


def duration(name, text):
    """The timedelta ``text`` spells (30d, 12h, 90m, 45s, 2w), or None when it is not a duration."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    amount, unit = match.groups()
    try:
        return timedelta(**{DURATION_UNITS[unit]: int(amount)})
    except (OverflowError, ValueError):  # ValueError: int() of thousands of digits
        raise ConfigurationError("%s '%s' reaches back past the year 1" % (name, _short(text))) from None


def _short(text):
    return text if len(text) <= 60 else text[:57] + "..."


def _number_text(number):
    return "%d" % number if float(number).is_integer() else repr(number)


def shown(value):
    """A value for an error message, kept short."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 30:
        # str() refuses an int of more than 4300 digits (Python 3.11+), and nobody reads 30.
        return "an integer of about %d digits" % (int(math.log10(abs(value))) + 1)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
