# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When an instance can take a change: what DMS's refusals mean, and which instance statuses are worth waiting out.

Plain Python, no Ansible imports: the tables the waits and the change runner act on, each entry with its source.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ApiError


class Refusal(namedtuple("Refusal", ["code", "meaning", "source"])):
    """An error code of a refused change: what it means and where that is written."""
    __slots__ = ()

    def describe(self):
        return "%s (%s)" % (self.code, self.meaning)


def _table(*refusals):
    return dict((refusal.code, refusal) for refusal in refusals)


# "Not now": the change was refused and nothing applied; once the instance is free, the same request can go through.
NOT_NOW = _table(
    Refusal("DMS.00400017", "another task of the instance is still running", "DMS API reference, error codes"),
    Refusal("DMS.00400026", "the instance's status does not allow the operation now (restarting, resizing, ...)",
            "DMS API reference, error codes; the Terraform provider retries Kafka, RabbitMQ and RocketMQ writes on it"),
    Refusal("DMS.00400108", "an unfinished scale-up order exists", "DMS API reference, error codes"),
    Refusal("CBC.99003651", "another operation is being performed on the instance's order (billing)",
            "the Terraform provider retries DMS writes on it"),
)
# Refusals that no wait for idle tasks can lift: they fail at once, with their meaning.
PRECONDITIONS = _table(
    Refusal("DMS.00400052", "only a RUNNING instance can be upgraded", "DMS API reference, error codes"),
    Refusal("DMS.00400099", "an instance cannot be deleted while it is creating, starting, stopping or restarting",
            "DMS API reference, error codes"),
)

# The "Instance Status" appendix of each engine's API reference.
RUNNING = "RUNNING"
# On its way to another status: a change is refused meanwhile, and a wait sees it through.
TRANSITIONAL_STATUSES = frozenset(("CREATING", "RESTARTING", "STARTING", "EXTENDING", "FREEZING", "UPGRADING", "ROLLINGBACK", "DELETING"))
# Statuses no wait ends: someone has to act first (pay, repair, recreate).
BROKEN_STATUSES = {
    "ERROR": "the instance is faulty",
    "FROZEN": "the instance is frozen, usually for the account's balance",
    "CREATEFAILED": "the instance failed to be created",
    "EXTENDEDFAILED": "a capacity expansion of the instance failed",
}


def refusal_of(error, table):
    """The Refusal of ``table`` that an ApiError (a 400 of DMS or of billing) stands for; None for any other error."""
    if isinstance(error, ApiError) and error.status == 400:
        return table.get(error.error_code)
    return None


def instance_ready(status):
    """Whether an instance of this status takes a change: RUNNING only (an undocumented status is not ready)."""
    return status == RUNNING


def broken_reason(status):
    """Why an instance of this status cannot take a change until someone acts; None when a wait may see it through."""
    meaning = BROKEN_STATUSES.get(status)
    return "%s: %s" % (status, meaning) if meaning else None
