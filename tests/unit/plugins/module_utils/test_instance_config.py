# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What dms_instance_config decides before it writes: the configs read checked, the asked values normalised and checked
against it, and the change computed."""

from __future__ import annotations

import pytest

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError, MalformedAnswerError
from ansible_collections.hwcloud.dms.plugins.module_utils.instance_config import desired_values, plan_change, read_parameters


def row(name, value, valid_values, config_type="dynamic", value_type="integer", default_value=None):
    """An entry of the configs read's answer, as the cloud's documented example writes it."""
    return {"name": name, "valid_values": valid_values, "default_value": value if default_value is None else default_value,
            "config_type": config_type, "value": value, "value_type": value_type}


ANSWER = {"kafka_configs": [
    row("min.insync.replicas", "1", "1~3"),
    row("auto.create.groups.enable", "true", "true,false", value_type="enum"),
    row("log.retention.hours", "72", "1~168", config_type="static"),
    row("offsets.retention.minutes", "20160", "1440~30240", config_type="static"),
    row("log.message.format.version", "2.7", "a version", value_type="string"),
]}


def planned(wanted):
    return plan_change(read_parameters(ANSWER), desired_values(wanted))


# ------------------------------------------------------------------------------------------------
# The asked values, as the API carries them


@pytest.mark.parametrize("given, sent", [
    (True, "true"), (False, "false"), (168, "168"), (-1, "-1"), (0, "0"), ("72", "72"), ("CreateTime", "CreateTime"), ("", ""),
])
def test_values_become_the_strings_the_api_carries(given, sent):
    assert desired_values({"a.parameter": given}) == {"a.parameter": sent}


def test_every_value_of_another_type_is_named_at_once():
    with pytest.raises(ConfigurationError) as caught:
        desired_values({"ok": 1, "ratio": 1.5, "list": [1], "nothing": None})
    message = str(caught.value)
    assert message.startswith("configs: each value must be a string, an integer or a boolean")
    assert "ratio: 1.5" in message and "list: [1]" in message and "nothing: null" in message and "ok" not in message


@pytest.mark.parametrize("configs", [{}, None])
def test_no_parameter_at_all_is_refused(configs):
    with pytest.raises(ConfigurationError, match="^configs must map at least one parameter name"):
        desired_values(configs)


# ------------------------------------------------------------------------------------------------
# The configs read's answer


def test_the_answer_is_read_by_name_in_its_order():
    parameters = read_parameters(ANSWER)
    assert list(parameters) == [entry["name"] for entry in ANSWER["kafka_configs"]]
    retention = parameters["log.retention.hours"]
    assert (retention.value, retention.valid_values, retention.config_type) == ("72", "1~168", "static")


def test_fields_beside_name_and_value_may_be_missing():
    parameter = read_parameters({"kafka_configs": [{"name": "x", "value": "1", "config_type": 3}]})["x"]
    assert (parameter.valid_values, parameter.config_type) == (None, None)


@pytest.mark.parametrize("body, says", [
    ({"configs": []}, "without a 'kafka_configs' list: {'configs': []}"),
    ({"kafka_configs": {"name": "x", "value": "1"}}, "without a 'kafka_configs' list"),
    ({"kafka_configs": []}, "an empty 'kafka_configs' list"),
    (None, "without a 'kafka_configs' list: null"),
    (["kafka_configs"], "without a 'kafka_configs' list"),
    ({"kafka_configs": [{"name": "x"}]}, "a parameter without a string name and value: {'name': 'x'}"),
    ({"kafka_configs": [{"name": "x", "value": 1}]}, "a parameter without a string name and value"),
    ({"kafka_configs": [{"name": None, "value": "1"}]}, "a parameter without a string name and value"),
    ({"kafka_configs": ["x=1"]}, "a parameter without a string name and value: x=1"),
    ({"kafka_configs": [{"name": "x", "value": "1"}, {"name": "x", "value": "2"}]}, "answered parameter x twice"),
], ids=["no list", "a dict", "empty", "no body", "a list body", "no value", "value not a string", "no name", "not an object", "twice"])
def test_an_answer_of_another_shape_is_refused_never_read_as_no_parameters(body, says):
    with pytest.raises(MalformedAnswerError) as caught:
        read_parameters(body)
    assert says in str(caught.value)


# ------------------------------------------------------------------------------------------------
# Checks against valid_values


@pytest.mark.parametrize("name, value", [
    ("log.retention.hours", 1), ("log.retention.hours", 168), ("log.retention.hours", "100"), ("min.insync.replicas", 3),
    ("auto.create.groups.enable", False), ("auto.create.groups.enable", "true"),
    ("log.message.format.version", "anything at all"),  # valid_values of another form: not checked
])
def test_values_within_valid_values_pass(name, value):
    planned({name: value})


@pytest.mark.parametrize("name, value, says", [
    ("log.retention.hours", 0, "log.retention.hours: '0' is not a whole number from 1 to 168 (valid_values 1~168)"),
    ("log.retention.hours", 169, "'169' is not a whole number from 1 to 168"),
    ("log.retention.hours", "12.5", "'12.5' is not a whole number from 1 to 168"),
    ("log.retention.hours", " 72", "' 72' is not a whole number"),
    ("log.retention.hours", "72\n", "'72\\n' is not a whole number"),
    ("log.retention.hours", True, "'true' is not a whole number"),
    ("log.retention.hours", "9" * 31, "is not a whole number from 1 to 168"),
    ("auto.create.groups.enable", "True", "auto.create.groups.enable: 'True' is not one of true, false (valid_values true,false)"),
    ("auto.create.groups.enable", "yes", "'yes' is not one of true, false"),
    ("auto.create.groups.enable", 1, "'1' is not one of true, false"),
])
def test_values_outside_valid_values_are_refused(name, value, says):
    with pytest.raises(ConfigurationError) as caught:
        planned({name: value})
    assert says in str(caught.value) and str(caught.value).endswith("Nothing was changed")


def test_every_unknown_name_and_every_value_outside_is_named_at_once():
    with pytest.raises(ConfigurationError) as caught:
        planned({"log.retension.hours": 72, "no.such.thing": "1", "log.retention.hours": 500, "min.insync.replicas": 9,
                 "auto.create.groups.enable": "maybe", "offsets.retention.minutes": 20160})
    message = str(caught.value)
    assert message.startswith("configs: the instance has no parameter named log.retension.hours (did you mean log.retention.hours?),"
                              " no.such.thing; outside the values the instance lists for them: log.retention.hours: ")
    for name in ("min.insync.replicas: '9'", "auto.create.groups.enable: 'maybe'"):
        assert name in message
    assert "offsets.retention.minutes" not in message


# ------------------------------------------------------------------------------------------------
# The change


def test_only_the_parameters_that_differ_are_sent():
    change = planned({"log.retention.hours": 168, "min.insync.replicas": 1, "auto.create.groups.enable": False})
    assert change.before == {"log.retention.hours": "72", "min.insync.replicas": "1", "auto.create.groups.enable": "true"}
    assert change.after == {"log.retention.hours": "168", "min.insync.replicas": "1", "auto.create.groups.enable": "false"}
    assert change.changes == [
        {"name": "log.retention.hours", "before": "72", "after": "168", "config_type": "static"},
        {"name": "auto.create.groups.enable", "before": "true", "after": "false", "config_type": "dynamic"},
    ]
    assert change.request_body() == {"kafka_configs": [{"name": "log.retention.hours", "value": "168"},
                                                       {"name": "auto.create.groups.enable", "value": "false"}]}
    assert change.restart_required() == ["log.retention.hours"]


def test_nothing_differs_nothing_to_send():
    change = planned({"log.retention.hours": 72, "auto.create.groups.enable": True, "log.message.format.version": "2.7"})
    assert change.changes == [] and change.restart_required() == [] and change.before == change.after


def test_values_are_compared_as_the_api_writes_them():
    # "072" is within 1~168, but not the string the instance holds: DMS is sent what was asked for.
    assert planned({"log.retention.hours": "072"}).changes[0]["after"] == "072"


def test_the_diff_shows_the_asked_parameters_before_and_after():
    diff = planned({"min.insync.replicas": 1, "log.retention.hours": 168}).diff("inst-1")
    assert diff == {"before_header": "configuration of instance inst-1", "after_header": "configuration of instance inst-1",
                    "before": "min.insync.replicas: 1\nlog.retention.hours: 72\n", "after": "min.insync.replicas: 1\nlog.retention.hours: 168\n"}
