# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What dms_api's timeout message says cut its waits short (the rest of api_call.py runs in the plugin's tests)."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.api_call import why_cut_short

DEADLINE = {"deadline": "2030-01-01T04:00:00Z"}


@pytest.mark.parametrize("until_deadline, wait_budget, says", [
    (None, None, ""),
    (3600.0, None, ""),
    (60.0, None, " (the deadline 2030-01-01T04:00:00Z)"),
    (60.0, 120.0, " (the deadline 2030-01-01T04:00:00Z)"),
    (60.0, 30.0, " (ended early to report before the task keyword timeout)"),
    (None, 30.0, " (ended early to report before the task keyword timeout)"),
    (None, 3600.0, ""),
], ids=["nothing", "deadline later", "deadline", "deadline before the budget", "budget before the deadline", "budget", "budget later"])
def test_the_timeout_message_names_what_ended_the_waits_first(until_deadline, wait_budget, says):
    assert why_cut_short(DEADLINE, 1800, until_deadline, wait_budget) == says
