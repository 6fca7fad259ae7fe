# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kafka instance's configuration parameters: the configs read's answer checked, the values a play asks for checked
against it, and the change that brings the instance there. What dms_instance_config decides before it writes anything.

Plain Python, no Ansible imports. The API carries every value as a string, and so does everything here.
"""

from __future__ import annotations

import difflib
import re
from collections import namedtuple

from ansible_collections.hwcloud.dms.plugins.module_utils.changes import shown as shown_body
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError, MalformedAnswerError
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import shown

# The forms of valid_values the cloud's example answer shows: "1~168" (a whole number from 1 to 168) and "true,false" (one
# of these). 30 digits hold any bound a parameter has and keep int() within what it converts (Python 3.11 refuses more
# than 4300 digits); a longer value is outside every range.
INTEGER_RANGE = re.compile(r"(-?[0-9]{1,30})~(-?[0-9]{1,30})")
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,30}")
# The config_type of a parameter that takes effect at the next restart; the others ("dynamic") apply at once.
STATIC = "static"


class Parameter(namedtuple("Parameter", ["name", "value", "valid_values", "config_type"])):
    """One parameter as the configs read lists it: its value now, the values it takes, and its config_type (static or
    dynamic). valid_values and config_type are None when the answer gives no string for them."""
    __slots__ = ()

    def refusal(self, value):
        """Why ``value`` is outside valid_values; None when it is within them, or when their form is not one checked here."""
        valid_values = (self.valid_values or "").strip()
        bounds = INTEGER_RANGE.fullmatch(valid_values)
        if bounds:
            low, high = int(bounds.group(1)), int(bounds.group(2))
            if WHOLE_NUMBER.fullmatch(value) and low <= int(value) <= high:
                return None
            return "%s is not a whole number from %d to %d" % (shown(value), low, high)
        if "," in valid_values:
            choices = [choice.strip() for choice in valid_values.split(",")]
            return None if value in choices else "%s is not one of %s" % (shown(value), ", ".join(choices))
        return None


def read_parameters(body):
    """The parameters a configs read answered, by name in the order listed.

    An answer of another shape (no ``kafka_configs`` list, an empty one, an entry without a string name and value, a name
    listed twice) is a MalformedAnswerError saying what is off, never an instance without parameters.
    """
    entries = body.get("kafka_configs") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise MalformedAnswerError("the configs read answered without a 'kafka_configs' list: %s" % shown_body(body))
    if not entries:
        # A Kafka instance always has parameters: an empty list says nothing about which it has.
        raise MalformedAnswerError("the configs read answered an empty 'kafka_configs' list")
    parameters = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("value"), str):
            raise MalformedAnswerError("the configs read answered a parameter without a string name and value: %s" % shown_body(entry))
        if entry["name"] in parameters:
            raise MalformedAnswerError("the configs read answered parameter %s twice" % entry["name"])
        parameters[entry["name"]] = Parameter(entry["name"], entry["value"], _text(entry.get("valid_values")), _text(entry.get("config_type")))
    return parameters


def desired_values(configs):
    """The ``configs`` option as name -> the string the API carries: a boolean as true or false, an integer in decimal, a
    string as given. A value of any other type, or no parameter at all, is a ConfigurationError naming every such value."""
    if not isinstance(configs, dict) or not configs:
        raise ConfigurationError("configs must map at least one parameter name to the value it should have")
    wanted = {}
    bad = []
    for name, value in configs.items():
        if isinstance(value, bool):
            wanted[name] = "true" if value else "false"
        elif isinstance(value, int):
            wanted[name] = str(value)
        elif isinstance(value, str):
            wanted[name] = value
        else:
            bad.append("%s: %s" % (name, "null" if value is None else shown(value)))
    if bad:
        raise ConfigurationError("configs: each value must be a string, an integer or a boolean, not so for %s" % "; ".join(bad))
    return wanted


class ConfigChange(namedtuple("ConfigChange", ["before", "after", "changes"])):
    """What the asked values change: ``before`` and ``after`` map each asked parameter to its value now and once changed,
    in the order asked; ``changes`` has a dict (name, before, after, config_type) for each one whose value differs."""
    __slots__ = ()

    def restart_required(self):
        """The changed parameters whose config_type is static: they take effect at the instance's next restart."""
        return [change["name"] for change in self.changes if change["config_type"] == STATIC]

    def request_body(self):
        """The body of the change call (ModifyInstanceConfigsReq): the parameters that differ, with their new value."""
        return {"kafka_configs": [{"name": change["name"], "value": change["after"]} for change in self.changes]}

    def diff(self, instance_id):
        """Ansible's diff: a "name: value" line per asked parameter, before and after."""
        header = "configuration of instance %s" % instance_id
        return {"before_header": header, "after_header": header, "before": _lines(self.before), "after": _lines(self.after)}


def plan_change(parameters, wanted):
    """The ConfigChange from ``parameters`` (read_parameters) to ``wanted`` (desired_values).

    Names the instance does not have and values outside their parameter's valid_values are a ConfigurationError naming
    every one of them, so that nothing is sent while any of them is wrong.
    """
    unknown = [_unknown(name, parameters) for name in wanted if name not in parameters]
    outside = []
    for name, value in wanted.items():
        refusal = parameters[name].refusal(value) if name in parameters else None
        if refusal:
            outside.append("%s: %s (valid_values %s)" % (name, refusal, parameters[name].valid_values.strip()))
    problems = []
    if unknown:
        problems.append("the instance has no parameter named %s" % ", ".join(unknown))
    if outside:
        problems.append("outside the values the instance lists for them: %s" % "; ".join(outside))
    if problems:
        raise ConfigurationError("configs: %s. Nothing was changed" % "; ".join(problems))
    before = dict((name, parameters[name].value) for name in wanted)
    changes = [{"name": name, "before": before[name], "after": value, "config_type": parameters[name].config_type}
               for name, value in wanted.items() if value != before[name]]
    return ConfigChange(before, dict(wanted), changes)


def _unknown(name, parameters):
    close = difflib.get_close_matches(name, parameters, n=1)
    return "%s (did you mean %s?)" % (name, close[0]) if close else name


def _text(value):
    return value if isinstance(value, str) else None


def _lines(values):
    return "".join("%s: %s\n" % item for item in values.items())
