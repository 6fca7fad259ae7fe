# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every action plugin of the collection does around its own work, so that a plugin file is a short ``act``.

An action runs on the controller, outside AnsibleModule: it validates its options against its argument spec itself
(an infinite or oversized number refused naming its option), needs ``requests``, turns a typed error into a failed
result, and removes secret values from the result, as no_log would.
"""

from __future__ import annotations

import math
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError, DmsError
from ansible_collections.hwcloud.dms.plugins.module_utils.http_client import REQUESTS_IMPORT_ERROR
from ansible_collections.hwcloud.dms.plugins.module_utils.options import COMMON_OPTIONS
from ansible_collections.hwcloud.dms.plugins.module_utils.redaction import redact, secret_forms
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import shown

# With the task keyword timeout, ansible-core kills the action when it expires and the result is lost: a wait ends
# itself this long before (or half the budget, for very short ones) and reports what it saw.
TASK_TIMEOUT_MARGIN = 3.0


class DmsAction(ActionBase):
    """An action of the collection: ``act(params, host)`` returns the result over ``always_returned()``; a DmsError it
    raises fails it with the error's ``module_failure(DOING)``."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    NAME = ""  # hwcloud.dms.<name>, for messages
    ARGUMENT_SPEC = {}
    REQUIRED_BY = {}
    ALWAYS_RETURNED = {}  # see always_returned
    CHANGES = False  # whether the action may change something; when not, ``changed`` is always false
    DOING = ""  # what a DmsError interrupted, as the start of its message

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        secrets = secret_values(self._task.args)
        acted = self._validated_act((task_vars or {}).get("inventory_hostname", "localhost"))
        result.update(self.always_returned(), **acted)
        if not self.CHANGES:
            result["changed"] = False
        return redact(remove_values(result, secrets), secret_forms(secrets))

    def _validated_act(self, host):
        try:
            self.check_raw_args(self._task.args)
            params = self._validated_params()
            if REQUESTS_IMPORT_ERROR is not None:
                return {"failed": True, "msg": "%s needs the Python library requests on the controller: %s" % (self.NAME, REQUESTS_IMPORT_ERROR)}
            return self.act(params, host)
        except DmsError as error:
            return dict(error.module_failure(self.DOING), failed=True)

    def always_returned(self):
        """Every key the documentation says is returned always, with its value before anything was done."""
        return dict(self.ALWAYS_RETURNED)

    def check_raw_args(self, args):
        """Refuse (ConfigurationError) what the argument spec's conversion would turn into something else, as given."""

    def act(self, params, host):
        raise NotImplementedError

    def _validated_params(self):
        """The options as the argument spec makes them; ConfigurationError naming what is wrong."""
        try:
            _validation, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC, required_by=self.REQUIRED_BY)
        except AnsibleActionFail as error:
            raise ConfigurationError("Invalid options for %s: %s" % (self.NAME, error.message)) from None
        except OverflowError:
            # ansible-core's type conversion overflows on an infinite number or an integer beyond any float.
            name = next((name for name in self.ARGUMENT_SPEC if self._unconvertible_option(name)), None)
            if name is None:
                raise ConfigurationError("a numeric option must be a finite number within its documented range") from None
            raise ConfigurationError("%s must be a finite number within its documented range, got %s" % (name, shown(self._task.args[name]))) from None
        return params

    def _unconvertible_option(self, name):
        spec, value = self.ARGUMENT_SPEC[name], self._task.args.get(name)
        if spec["type"] in ("int", "float"):
            return unconvertible(value)
        return spec.get("elements") in ("int", "float") and isinstance(value, list) and any(map(unconvertible, value))

    def wait_budget(self):
        """The seconds a wait may take before the task keyword's timeout kills the action; None without one."""
        budget = self._task.timeout or 0
        return budget - min(TASK_TIMEOUT_MARGIN, budget / 2.0) if budget else None


def unconvertible(value):
    """Whether a number cannot be converted between int and float: infinite, NaN, or beyond the largest float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return not math.isfinite(float(value))
    except OverflowError:
        return True


def secret_values(args):
    """The secret values a task may send: given as options, or from the environment variables they fall back to."""
    values = set()
    for name, entry in COMMON_OPTIONS.items():
        if not entry.get("no_log"):
            continue
        for key in [name] + entry.get("aliases", []):
            if isinstance(args.get(key), str) and args[key]:
                values.add(args[key])
        for variable in entry.get("env", []):
            values.add(os.environ.get(variable) or "")
    values.discard("")
    return sorted(values)
