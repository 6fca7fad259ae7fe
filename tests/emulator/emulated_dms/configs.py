# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kafka instance's configuration parameters: the table the configs read answers with, the values in effect, and the
changes that wait for their task to end.

A change asked by a write call is applied only once its task's timeline reached SUCCESS, and never when it ended
otherwise. Which changes have applied is worked out from the timelines whenever the configuration is read, so the answer
depends on the instance's clock alone, not on when (or whether) anything looked in between.
"""

from __future__ import annotations

import re

CONFIG_TYPES = ("static", "dynamic")
VALUE_TYPES = ("integer", "enum", "string")
# The shapes of valid_values in the cloud's documented example: "1~3" (an integer range), "true,false" (an enumeration).
INTEGER_RANGE = re.compile(r"^(-?[0-9]+)~(-?[0-9]+)$")
WHOLE_NUMBER = re.compile(r"^-?[0-9]+$")


class Parameter:
    """One row of the table, as the InstanceConfig model describes it (without the value, which is the instance's)."""

    def __init__(self, name, valid_values, default_value, config_type, value_type):
        self.name = name
        self.valid_values = valid_values
        self.default_value = default_value
        self.config_type = config_type
        self.value_type = value_type

    def choices(self):
        return [choice.strip() for choice in self.valid_values.split(",") if choice.strip()]

    def accepts(self, value):
        """Whether ``value`` (a string, as the API sends it) is within valid_values; a string parameter takes anything."""
        if self.value_type == "integer":
            low, high = (int(bound) for bound in INTEGER_RANGE.match(self.valid_values).groups())
            return WHOLE_NUMBER.match(value) is not None and low <= int(value) <= high
        if self.value_type == "enum":
            return value in self.choices()
        return True

    def problem(self):
        """What makes this row one the emulator cannot check values against, or None."""
        if self.config_type not in CONFIG_TYPES:
            return "config_type %r is not one of %s" % (self.config_type, ", ".join(CONFIG_TYPES))
        if self.value_type not in VALUE_TYPES:
            return "value_type %r is not one of %s" % (self.value_type, ", ".join(VALUE_TYPES))
        if self.value_type == "integer":
            bounds = INTEGER_RANGE.match(self.valid_values)
            if not bounds or int(bounds.group(1)) > int(bounds.group(2)):
                return "the valid_values of an integer parameter are LOW~HIGH (e.g. 1~168), not %r" % self.valid_values
        if self.value_type == "enum" and not self.choices():
            return "the valid_values of an enum parameter are its values separated by commas (e.g. true,false)"
        if not self.accepts(self.default_value):
            return "default_value %r is not within valid_values %r" % (self.default_value, self.valid_values)
        return None

    def to_api(self, value):
        return {"name": self.name, "valid_values": self.valid_values, "default_value": self.default_value,
                "config_type": self.config_type, "value": value, "value_type": self.value_type}


# The parameters every emulated Kafka instance has, in the order the configs read lists them. The first four rows are
# those of the cloud's documented ShowInstanceConfigs example (ranges, defaults and static/dynamic as shown there);
# the others, their ranges and defaults, and whether they are static or dynamic, are a plausible guess.
DEFAULT_KAFKA_PARAMETERS = tuple(Parameter(*row) for row in (
    ("min.insync.replicas", "1~3", "1", "dynamic", "integer"),
    ("message.max.bytes", "0~10485760", "10485760", "dynamic", "integer"),
    ("auto.create.groups.enable", "true,false", "true", "dynamic", "enum"),
    ("connections.max.idle.ms", "5000~600000", "600000", "static", "integer"),
    ("log.retention.hours", "1~168", "72", "static", "integer"),
    ("unclean.leader.election.enable", "true,false", "false", "dynamic", "enum"),
    ("max.connections.per.ip", "100~20000", "1000", "dynamic", "integer"),
    ("offsets.retention.minutes", "1440~30240", "20160", "static", "integer"),
    ("num.partitions", "1~200", "3", "static", "integer"),
    ("default.replication.factor", "1~3", "3", "static", "integer"),
))


class Configuration:
    """An instance's parameters (name -> Parameter, in table order), the values in effect before any change applies,
    and the changes waiting for their task: (task, [(name, value), ...]) in the order they were asked."""

    def __init__(self, parameters, values):
        self.parameters = {parameter.name: parameter for parameter in parameters}
        self.values = {parameter.name: parameter.default_value for parameter in self.parameters.values()}
        self.values.update(values)
        self.waiting = []

    def parameter(self, name):
        return self.parameters.get(name)

    def apply_on_success(self, task, configs):
        """configs: [{"name", "value"}], already checked against the table."""
        self.waiting.append((task, [(config["name"], config["value"]) for config in configs]))

    def settle(self, now):
        """Apply, in the order asked, the changes whose task reached SUCCESS by `now`; drop those whose task ended
        otherwise (FAILED, CANCELLED, DELETED); keep waiting for the others."""
        still_waiting = []
        for task, changes in self.waiting:
            outcome = task.outcome_at(now)
            if outcome == "SUCCESS":
                self.values.update(changes)
            elif outcome is None:
                still_waiting.append((task, changes))
        self.waiting = still_waiting

    def to_api(self, now):
        """The ShowInstanceConfigsResponse body at `now`."""
        self.settle(now)
        return {"kafka_configs": [parameter.to_api(self.values[name]) for name, parameter in self.parameters.items()]}
