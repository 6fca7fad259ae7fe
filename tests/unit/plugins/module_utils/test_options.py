# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option table and what is made from it: argument spec (with env fallbacks), doc fragment, connection settings; and the
plain checks of option values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

import pytest
import requests
import yaml
from hypothesis import given, settings as hypothesis_settings, strategies as st
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.hwcloud.dms.plugins.doc_fragments.common import ModuleDocFragment
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import (
    COMMON_OPTIONS, MAX_RETRIES_RANGE, REQUEST_TIMEOUT_RANGE, argument_spec, connection_settings, doc_fragment, non_empty_env_fallback,
)
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import (
    deadline_option, number_option, path_segment_option, required_text, time_option,
)

# The contract, written out independently of the table under test.
EXPECTED_ENV = {
    "access_key": ["HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "ANSIBLE_HWC_ACCESS_KEY"],
    "secret_key": ["HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY", "ANSIBLE_HWC_SECRET_KEY"],
    "security_token": ["HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN"],
    "auth_token": ["HW_AUTH_TOKEN"],
    "region": ["HW_REGION_NAME", "ANSIBLE_HWC_REGION"],
    "project_id": ["HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID", "ANSIBLE_HWC_PROJECT_ID"],
    "cloud": ["HW_CLOUD"],
    "endpoint": ["HW_DMS_ENDPOINT"],
    "iam_endpoint": ["HUAWEICLOUD_SDK_IAM_ENDPOINT"],
    "validate_certs": ["HW_VALIDATE_CERTS"],
    "ca_path": ["HW_CA_PATH"],
    "max_retries": ["HW_MAX_RETRIES"],
}
EXPECTED_OPTIONS = set(EXPECTED_ENV) | {"request_timeout"}
# Options whose environment value is not taken as a string.
NOT_STRINGS = {"validate_certs", "max_retries"}
ALL_ENV = [name for names in EXPECTED_ENV.values() for name in names]
NO_LOG = {"secret_key", "security_token", "auth_token"}


@pytest.fixture(name="clean_env")
def clean_env_fixture(monkeypatch):
    for name in ALL_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def validate(params):
    result = ArgumentSpecValidator(argument_spec()).validate(params)
    assert not result.error_messages
    return result.validated_parameters


def settings(**params):
    base = {"access_key": "AK", "secret_key": "SK", "region": "ap-southeast-1", "project_id": "p1",
            "validate_certs": True, "request_timeout": 30.0, "max_retries": 5}
    base.update(params)
    return connection_settings(base)


def config_error(**params):
    with pytest.raises(ConfigurationError) as caught:
        settings(**params)
    return str(caught.value)


# ------------------------------------------------------------------------------------------------
# argument_spec


def test_argument_spec_has_every_common_option():
    spec = argument_spec()
    assert set(spec) == EXPECTED_OPTIONS == set(COMMON_OPTIONS)
    assert spec["access_key"]["aliases"] == ["ak"]
    assert spec["secret_key"]["aliases"] == ["sk"]
    assert {name for name, option in spec.items() if option.get("no_log")} == NO_LOG
    for name, option in spec.items():
        assert "env" not in option and "description" not in option  # table-only keys stay out of the spec
        if name == "validate_certs":
            assert option["fallback"] == (non_empty_env_fallback, EXPECTED_ENV[name])
        elif name in EXPECTED_ENV:
            assert option["fallback"] == (env_fallback, EXPECTED_ENV[name])
        else:
            assert "fallback" not in option
    assert (spec["validate_certs"]["type"], spec["validate_certs"]["default"]) == ("bool", True)
    assert (spec["request_timeout"]["type"], spec["request_timeout"]["default"]) == ("float", 30)
    assert (spec["max_retries"]["type"], spec["max_retries"]["default"]) == ("int", 5)
    assert spec["ca_path"]["type"] == "path"


def test_argument_spec_adds_plugin_options_and_leaves_the_table_alone():
    spec = argument_spec(instance_id={"type": "str", "required": True})
    assert spec["instance_id"] == {"type": "str", "required": True}
    assert "fallback" not in COMMON_OPTIONS["access_key"]


@pytest.mark.usefixtures("clean_env")
def test_defaults_without_environment():
    params = validate({})
    assert (params["validate_certs"], params["request_timeout"], params["max_retries"]) == (True, 30.0, 5)
    assert all(params[name] is None for name in EXPECTED_ENV if name not in NOT_STRINGS)


@pytest.mark.parametrize("option", [name for name, names in EXPECTED_ENV.items() if len(names) > 1])
def test_first_environment_variable_set_wins(clean_env, option):
    first, second = EXPECTED_ENV[option][:2]
    clean_env.setenv(second, "from-second")
    assert validate({})[option] == "from-second"
    clean_env.setenv(first, "from-first")
    assert validate({})[option] == "from-first"
    if len(EXPECTED_ENV[option]) > 2:  # the last one is used only when the others are unset
        clean_env.delenv(first)
        clean_env.delenv(second)
        clean_env.setenv(EXPECTED_ENV[option][2], "from-third")
        assert validate({})[option] == "from-third"


@pytest.mark.parametrize("option", [name for name in EXPECTED_ENV if name not in NOT_STRINGS])
def test_environment_is_a_fallback_only(clean_env, option):
    clean_env.setenv(EXPECTED_ENV[option][-1], "from-env")
    assert validate({})[option] == "from-env"
    assert validate({option: "given"})[option] == "given"


def test_aliases_and_env_max_retries(clean_env):
    clean_env.setenv("HW_MAX_RETRIES", "7")
    params = validate({"ak": "the-ak", "sk": "the-sk"})
    assert (params["access_key"], params["secret_key"], params["max_retries"]) == ("the-ak", "the-sk", 7)


@pytest.mark.parametrize("value, expected", [("false", False), ("no", False), ("0", False), (" False ", False), ("true", True),
                                             ("", True), ("  ", True)])
def test_validate_certs_from_the_environment(clean_env, value, expected):
    clean_env.setenv("HW_VALIDATE_CERTS", value)  # an empty value counts as not set: the default
    assert validate({})["validate_certs"] is expected
    assert validate({"validate_certs": True})["validate_certs"] is True


def test_a_bad_validate_certs_in_the_environment_names_the_option(clean_env):
    clean_env.setenv("HW_VALIDATE_CERTS", "maybe")
    result = ArgumentSpecValidator(argument_spec()).validate({})
    assert len(result.error_messages) == 1 and "validate_certs" in result.error_messages[0] and "'maybe'" in result.error_messages[0]


def test_ca_path_from_the_environment(clean_env, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    clean_env.setenv("HW_CA_PATH", str(bundle))
    assert settings(ca_path=validate({})["ca_path"]).ca_path == str(bundle)
    clean_env.setenv("HW_CA_PATH", "")  # what an empty credential field injects: the system's trust store
    assert not settings(ca_path=validate({})["ca_path"]).ca_path


# ------------------------------------------------------------------------------------------------
# doc_fragment


def test_doc_fragment_documents_exactly_the_table():
    options = doc_fragment()["options"]
    spec = argument_spec()
    assert set(options) == set(spec) == EXPECTED_OPTIONS
    for name, doc in options.items():
        assert doc["type"] == spec[name]["type"]
        assert doc.get("aliases") == spec[name].get("aliases")
        assert doc.get("default") == spec[name].get("default")
        assert isinstance(doc["description"], list) and all(isinstance(line, str) and line for line in doc["description"])
        text = " ".join(doc["description"])
        for variable in EXPECTED_ENV.get(name, []):
            assert "E(%s)" % variable in text
        if name in EXPECTED_ENV:  # named in the order they are tried
            positions = [text.index("E(%s)" % variable) for variable in EXPECTED_ENV[name]]
            assert positions == sorted(positions)


@pytest.mark.parametrize("option, sentence", [
    ("request_timeout", "A number of seconds greater than 0 and at most 600."),
    ("max_retries", "An integer from 0 to 10."),
])
def test_doc_fragment_states_the_range(option, sentence):
    assert sentence in yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"][option]["description"]


def test_doc_fragment_names_the_regions_with_the_global_iam_endpoint():
    text = " ".join(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["iam_endpoint"]["description"])
    assert "https://iam.myhuaweicloud.com" in text
    for region in GLOBAL_IAM_REGIONS:
        assert "V(%s)" % region in text


def test_doc_fragment_plugin_renders_the_table():
    assert yaml.safe_load(ModuleDocFragment.DOCUMENTATION) == doc_fragment(), "run: python3 tests/tooling/render_doc_fragment.py"


# ------------------------------------------------------------------------------------------------
# connection_settings: endpoints


def test_default_endpoints():
    result = settings(project_id=None)
    assert result.endpoint == "https://dms.ap-southeast-1.myhuaweicloud.com"
    assert result.iam_endpoint == "https://iam.ap-southeast-1.myhuaweicloud.com"
    assert result.region == "ap-southeast-1"


def test_eu_west_101_uses_the_eu_domain():
    result = settings(region="eu-west-101", project_id=None)
    assert result.endpoint == "https://dms.eu-west-101.myhuaweicloud.eu"
    assert result.iam_endpoint == "https://iam.eu-west-101.myhuaweicloud.eu"


@pytest.mark.parametrize("region", ["ap-southeast-1", "eu-west-101"])
def test_cloud_overrides_the_domain(region):
    result = settings(region=region, project_id=None, cloud="example-cloud.net")
    assert result.endpoint == "https://dms.%s.example-cloud.net" % region
    assert result.iam_endpoint == "https://iam.%s.example-cloud.net" % region


# The official SDK's regions without a regional IAM endpoint, at the time of writing.
GLOBAL_IAM_REGIONS = ["af-north-1", "ap-southeast-5", "cn-north-11", "cn-south-4", "cn-southwest-3", "ru-northwest-2"]


@pytest.mark.parametrize("region", GLOBAL_IAM_REGIONS)
@pytest.mark.parametrize("cloud", [None, "myhuaweicloud.com", "MyHuaweiCloud.com"])
def test_regions_without_iam_use_the_global_iam_endpoint(region, cloud):
    result = settings(region=region, project_id=None, cloud=cloud)
    assert result.iam_endpoint == "https://iam.myhuaweicloud.com"
    assert result.endpoint == "https://dms.%s.%s" % (region, cloud or "myhuaweicloud.com")  # DMS itself stays regional


@pytest.mark.parametrize("region", ["af-north-1", "cn-south-4"])
def test_global_iam_endpoint_only_on_huawei_cloud_itself(region):
    result = settings(region=region, project_id=None, cloud="example-cloud.net")
    assert result.iam_endpoint == "https://iam.%s.example-cloud.net" % region


@pytest.mark.parametrize("region", ["af-north-1", "ap-southeast-1"])
def test_iam_endpoint_option_overrides_every_default(region):
    result = settings(region=region, project_id=None, iam_endpoint="https://iam.example.com")
    assert result.iam_endpoint == "https://iam.example.com"


@pytest.mark.parametrize("region", ["af-south-1", "cn-north-4", "ap-southeast-3", "cn-north-1"])
def test_regions_with_iam_use_their_own(region):
    assert settings(region=region, project_id=None).iam_endpoint == "https://iam.%s.myhuaweicloud.com" % region


def test_endpoint_overrides_strip_the_trailing_slash():
    result = settings(project_id=None, endpoint="https://proxy.example.com:8443/dms/", iam_endpoint="http://127.0.0.1:9000/")
    assert result.endpoint == "https://proxy.example.com:8443/dms"
    assert result.iam_endpoint == "http://127.0.0.1:9000"


def test_endpoint_without_region_needs_no_region():
    result = settings(region=None, endpoint="http://127.0.0.1:8080")
    assert (result.endpoint, result.region, result.project_id) == ("http://127.0.0.1:8080", None, "p1")


@pytest.mark.parametrize("option", ["endpoint", "iam_endpoint"])
@pytest.mark.parametrize("value", ["dms.example.com", "ftp://dms.example.com", "https://", "https://dms.example.com?x=1",
                                   "https://dms.example.com/#frag", "https://dms.example.com:port"])
def test_bad_endpoint_url_names_the_option(option, value):
    message = config_error(**{option: value})
    assert message.startswith(option + " ")
    assert value in message


def test_no_region_and_no_endpoint():
    message = config_error(region=None)
    assert "region" in message and "endpoint" in message and "HW_REGION_NAME" in message


def test_project_id_missing_and_no_region():
    message = config_error(region=None, project_id=None, endpoint="https://dms.example.com")
    assert "project_id" in message and "region" in message
    for variable in EXPECTED_ENV["project_id"] + EXPECTED_ENV["region"]:
        assert variable in message


# ------------------------------------------------------------------------------------------------
# connection_settings: credentials and numbers


def test_auth_token_alone_is_enough():
    result = settings(access_key=None, secret_key=None, auth_token="tok")
    assert (result.auth_token, result.access_key, result.secret_key) == ("tok", None, None)


@pytest.mark.parametrize("signing", [{"access_key": "AK", "secret_key": "SK"}, {"access_key": "AK"}, {"security_token": "ST"}],
                         ids=["ak+sk", "ak", "security_token"])
def test_auth_token_excludes_aksk(signing):
    params = {"access_key": None, "secret_key": None, "auth_token": "tok"}
    params.update(signing)
    message = config_error(**params)
    assert "mutually exclusive" in message and "auth_token" in message
    for name in signing:
        assert name in message


@pytest.mark.parametrize("given, missing", [
    ({}, ["access_key", "secret_key", "auth_token"]),
    ({"security_token": "ST"}, ["access_key", "secret_key", "auth_token"]),
    ({"access_key": "AK"}, ["secret_key"]),
    ({"access_key": "AK", "security_token": "ST"}, ["secret_key"]),
    ({"secret_key": "SK"}, ["access_key"]),
    ({"access_key": "  ", "secret_key": "SK"}, ["access_key"]),  # blank counts as missing
])
def test_incomplete_credentials_name_the_options_and_variables(given, missing):
    params = {"access_key": None, "secret_key": None}
    params.update(given)
    message = config_error(**params)
    for name in missing:
        assert name in message
        for variable in EXPECTED_ENV[name]:
            assert variable in message
    for name in {"access_key", "secret_key"} - set(missing):
        assert EXPECTED_ENV[name][0] not in message  # what is set is not reported missing


def test_secrets_are_not_echoed_in_errors():
    message = config_error(access_key=None, secret_key="SK-CANARY-never-print", security_token="ST-CANARY-never-print")
    assert "CANARY" not in message
    message = config_error(auth_token="AT-CANARY-never-print", secret_key="SK-CANARY-never-print")
    assert "CANARY" not in message


@pytest.mark.parametrize("value, shown", [
    (0, "0"), (-1, "-1"), (-0.5, "-0.5"), (None, "None"), (600.001, "600.001"), (601, "601"), (float("nan"), "nan"),
    (float("inf"), "inf"), (float("-inf"), "-inf"), (1e300, "1e+300"), (2 ** 63, str(2 ** 63)), (True, "True"), ("30", "'30'"),
])
def test_request_timeout_range(value, shown):
    message = config_error(request_timeout=value)
    assert message == "request_timeout must be a number of seconds greater than 0 and at most 600, got %s" % shown


@pytest.mark.parametrize("value, shown", [
    (-1, "-1"), (11, "11"), (None, "None"), (2.5, "2.5"), (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (1e300, "1e+300"), (2 ** 63, str(2 ** 63)), (True, "True"), (False, "False"),
])
def test_max_retries_range(value, shown):
    assert config_error(max_retries=value) == "max_retries must be an integer from 0 to 10, got %s" % shown


def test_a_huge_integer_is_refused_without_printing_it():
    # str() of an int past 4300 digits raises ValueError on Python 3.11+: the message must not try.
    for value in (10 ** 400, -10 ** 5000):
        message = config_error(max_retries=value)
        assert message.startswith("max_retries must be an integer from 0 to 10, got an integer of about ")
        assert len(message) < 100
    assert "about 401 digits" in config_error(request_timeout=10 ** 400)


def test_numbers_and_flags_pass_through():
    result = settings(request_timeout=0.5, max_retries=0, validate_certs=False, ca_path=__file__)
    assert (result.request_timeout, result.max_retries, result.validate_certs, result.ca_path) == (0.5, 0, False, __file__)


@pytest.mark.parametrize("request_timeout, max_retries", [(600, 10), (1e-3, 0), (30, 5.0)])
def test_numbers_at_their_bounds_are_taken_and_typed(request_timeout, max_retries):
    result = settings(request_timeout=request_timeout, max_retries=max_retries)
    assert (result.request_timeout, result.max_retries) == (request_timeout, max_retries)
    assert (type(result.request_timeout), type(result.max_retries)) == (float, int)


# ------------------------------------------------------------------------------------------------
# number_option, for the plugins' own options


@pytest.mark.parametrize("kwargs, value, message", [
    ({"minimum": 1, "maximum": 604800, "integer": True, "unit": "seconds"}, 0,
     "timeout must be a whole number of seconds from 1 to 604800, got 0"),
    ({"minimum": 0, "maximum": 1800, "integer": True, "unit": "seconds", "exclusive_maximum": True, "maximum_name": "timeout"}, 1800,
     "timeout must be a whole number of seconds at least 0 and less than timeout (1800), got 1800"),
    ({"minimum": 1, "maximum": 100000, "integer": True}, 100001, "timeout must be an integer from 1 to 100000, got 100001"),
    ({"minimum": 0.5, "maximum": 2.5}, 3, "timeout must be a number from 0.5 to 2.5, got 3"),
    ({"minimum": 0, "maximum": 1, "exclusive_minimum": True, "exclusive_maximum": True}, 1,
     "timeout must be a number greater than 0 and less than 1, got 1"),
    ({"minimum": 0, "maximum": 1, "exclusive_minimum": True, "exclusive_maximum": True}, 0,
     "timeout must be a number greater than 0 and less than 1, got 0"),
])
def test_number_option_message(kwargs, value, message):
    with pytest.raises(ConfigurationError) as caught:
        number_option("timeout", value, **kwargs)
    assert str(caught.value) == message


def test_number_option_returns_the_checked_number():
    assert number_option("delay", 1799, 0, 1800, integer=True, exclusive_maximum=True) == 1799
    assert number_option("sleep", 3600.0, 1, 3600, integer=True) == 3600
    assert isinstance(number_option("sleep", 3600.0, 1, 3600, integer=True), int)
    assert number_option("ratio", 1, 0, 1) == 1.0
    assert isinstance(number_option("ratio", 1, 0, 1), float)


NUMBERS = st.one_of(
    st.floats(), st.integers(), st.integers(min_value=-10 ** 4000, max_value=10 ** 4000), st.booleans(), st.none(),
    st.sampled_from([2 ** 63, -2 ** 63, 10 ** 400, 1e300, -1e300, 5e-324]), st.text(max_size=5),
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(value=NUMBERS, integer=st.booleans(), exclusive_minimum=st.booleans(), exclusive_maximum=st.booleans())
def test_number_option_takes_exactly_the_range(value, integer, exclusive_minimum, exclusive_maximum):
    minimum, maximum = 0, 600
    try:
        number = number_option("opt", value, minimum, maximum, integer, exclusive_minimum, exclusive_maximum)
    except ConfigurationError as exc:
        assert str(exc).startswith("opt must be ") and "0" in str(exc) and "600" in str(exc)
        in_closed_range = isinstance(value, (int, float)) and not isinstance(value, bool) and minimum <= value <= maximum  # NaN: False
        if in_closed_range and (not integer or float(value).is_integer()):
            assert (exclusive_minimum and value == minimum) or (exclusive_maximum and value == maximum)
        return
    assert not isinstance(value, bool) and number == value
    assert type(number) is (int if integer else float)  # pylint: disable=unidiomatic-typecheck
    assert (minimum < number if exclusive_minimum else minimum <= number)
    assert (number < maximum if exclusive_maximum else number <= maximum)


def test_exported_ranges_match_the_contract():
    assert REQUEST_TIMEOUT_RANGE.check("request_timeout", 600) == 600.0
    assert MAX_RETRIES_RANGE.check("max_retries", 10) == 10


# ------------------------------------------------------------------------------------------------
# time_option, required_text


NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_time_option():
    assert time_option("begin_time", None, NOW) is None
    assert time_option("begin_time", "  ", NOW) is None
    assert time_option("begin_time", "20240131080000", NOW).isoformat() == "2024-01-31T08:00:00+00:00"


@pytest.mark.parametrize("value, ago", [("7d", timedelta(days=7)), ("2h", timedelta(hours=2)), (" 90m ", timedelta(minutes=90)),
                                        ("45s", timedelta(seconds=45)), ("2w", timedelta(weeks=2)), ("0s", timedelta(0))])
def test_a_duration_is_that_long_before_now(value, ago):
    assert time_option("created_after", value, NOW) == NOW - ago


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "20241301000000", "7 days", "1mo", "-2h"])
def test_bad_time_option_names_the_option(value):
    with pytest.raises(ConfigurationError) as caught:
        time_option("created_after", value, NOW)
    message = str(caught.value)
    assert message.startswith("created_after must be a duration such as 30d") and "or a time: " in message
    assert value in message


def test_a_duration_past_the_year_1_is_refused_naming_the_option():
    for value in ("999999999w", "9" * 5000 + "d"):
        with pytest.raises(ConfigurationError) as caught:
            time_option("begin_time", value, NOW)
        assert str(caught.value).startswith("begin_time '") and str(caught.value).endswith("' reaches back past the year 1")


def test_a_deadline_is_the_seconds_left_until_it():
    assert deadline_option("deadline", None, NOW) is None and deadline_option("deadline", " ", NOW) is None
    assert deadline_option("deadline", "20240601130000", NOW) == 3600.0
    assert deadline_option("deadline", "2024-06-01T16:00:00+02:00", NOW) == 7200.0


@pytest.mark.parametrize("value, message", [
    ("20240601120000", "deadline 2024-06-01T12:00:00Z has passed (it is 2024-06-01T12:00:00 UTC now): nothing was sent or waited for"),
    ("2024-06-01T13:00:00+02:00", "deadline 2024-06-01T11:00:00Z has passed"),
    ("2h", "deadline must be a time, YYYYMMDDHHmmss or ISO-8601"),
    ("tomorrow", "deadline must be a time, YYYYMMDDHHmmss or ISO-8601"),
])
def test_a_deadline_that_passed_or_is_no_time_is_refused_naming_the_option(value, message):
    with pytest.raises(ConfigurationError) as caught:
        deadline_option("deadline", value, NOW)
    assert str(caught.value).startswith(message)


def test_time_option_refuses_an_impossible_offset():
    with pytest.raises(ConfigurationError) as caught:
        time_option("begin_time", "2024-01-31T08:00:00+25:00", NOW)
    assert str(caught.value).startswith("begin_time must be") and "+25:00" in str(caught.value) and "14:00" in str(caught.value)


def test_required_text():
    assert required_text("instance_id", "  abc ") == "abc"
    for value in (None, "", "   "):
        with pytest.raises(ConfigurationError) as caught:
            required_text("instance_id", value)
        assert "instance_id" in str(caught.value)


# ------------------------------------------------------------------------------------------------
# connection_settings: values that would fail deep in the HTTP stack, and credentials from two sources


@pytest.mark.parametrize("name", ["access_key", "secret_key", "security_token", "auth_token"])
@pytest.mark.parametrize("bad", ["CANARY-part\nsecond", "CANARY with space", "CANARY-\u00e9\u4e2d"])
def test_credentials_must_be_printable_ascii_and_the_value_is_not_shown(name, bad):
    params = {name: bad}
    if name == "auth_token":
        params.update(access_key=None, secret_key=None)
    message = config_error(**params)
    assert name in message and "CANARY" not in message


def test_ca_path_must_exist(tmp_path):
    assert "ca_path" in config_error(ca_path=str(tmp_path / "missing.pem"))


@pytest.mark.parametrize("endpoint", ["http://[::1", "https://dms.example.com:99999"])
def test_malformed_endpoint_names_the_option(endpoint):
    assert "endpoint" in config_error(endpoint=endpoint)


def test_endpoint_with_user_info_is_refused():
    message = config_error(endpoint="https://user:CANARYPW@dms.example.com")
    assert "endpoint" in message and "user name or password" in message and "CANARYPW" not in message


@pytest.mark.parametrize("region", ["ap southeast 1", "ap-southeast-1/x", "AP-SOUTHEAST-1", "ap-southeast-1@127.0.0.1", "a" * 64])
def test_region_must_look_like_a_region(region):
    assert "region" in config_error(region=region)


# Each would otherwise build a URL to another host (user info, a port, a path) or no host at all.
FOREIGN_CLOUDS = ["myhuaweicloud.com@127.0.0.1:8080", "127.0.0.1:8080", "example.com/v2", "example.com?x=1", "example.com#x",
                  "myhuaweicloud.com.", ".com", "a..b", "-example.com", "example-.com", "exa mple.com", "%s.com" % ("a" * 64),
                  ".".join(["abcdefghi"] * 26)]


@pytest.mark.parametrize("cloud", FOREIGN_CLOUDS)
@pytest.mark.parametrize("project_id", ["p1", None], ids=["dms endpoint", "and iam endpoint"])
def test_cloud_must_be_a_domain_name(cloud, project_id):
    message = config_error(cloud=cloud, project_id=project_id)
    assert message.startswith("cloud must be a domain name such as myhuaweicloud.com") and repr(cloud) in message


@pytest.mark.parametrize("cloud", ["myhuaweicloud.com", "MyHuaweiCloud.eu", "cloud-1.example.net", "localdomain", "a.b.c.d.e"])
def test_cloud_domain_names_build_the_endpoints(cloud):
    result = settings(project_id=None, cloud=cloud)
    assert result.endpoint == "https://dms.ap-southeast-1.%s" % cloud
    assert result.iam_endpoint == "https://iam.ap-southeast-1.%s" % cloud


def test_built_endpoints_pass_the_check_of_an_explicit_endpoint(monkeypatch):
    """Should a built URL be no http(s) base URL at all, it is refused as an explicit endpoint would be."""
    monkeypatch.setattr("ansible_collections.hwcloud.dms.plugins.module_utils.options.default_iam_endpoint", lambda region, cloud: "iam")
    assert config_error(project_id=None).startswith("the IAM endpoint built from region and cloud must be an http(s) URL")


@pytest.mark.parametrize("project_id", [".", "..", " .. "])
def test_project_id_cannot_be_a_dot_segment(project_id):
    assert config_error(project_id=project_id).startswith("project_id must not be '%s'" % project_id.strip())


def test_repr_of_settings_hides_the_secrets():
    text = repr(settings(secret_key="SKCANARY", security_token="STCANARY"))
    assert "SKCANARY" not in text and "STCANARY" not in text and "access_key='AK'" in text


def sources(params, environ):
    base = {"region": "ap-southeast-1", "project_id": "p1", "validate_certs": True, "request_timeout": 30.0, "max_retries": 5}
    base.update(params)
    return connection_settings(base, environ=environ)


def test_task_token_wins_over_environment_aksk():
    environ = {"HUAWEICLOUD_SDK_AK": "ENVAK", "HUAWEICLOUD_SDK_SK": "ENVSK"}
    result = sources({"access_key": "ENVAK", "secret_key": "ENVSK", "auth_token": "TASKTOKEN"}, environ)
    assert (result.auth_token, result.access_key, result.secret_key) == ("TASKTOKEN", None, None)


def test_task_aksk_wins_over_environment_token():
    result = sources({"access_key": "AK", "secret_key": "SK", "auth_token": "ENVTOKEN"}, {"HW_AUTH_TOKEN": "ENVTOKEN"})
    assert (result.auth_token, result.access_key, result.secret_key) == (None, "AK", "SK")


@pytest.mark.parametrize("environ", [{}, {"HW_AUTH_TOKEN": "T", "HW_ACCESS_KEY": "AK", "HW_SECRET_KEY": "SK"}], ids=["both-in-task", "both-in-env"])
def test_token_and_aksk_from_the_same_source_clash(environ):
    with pytest.raises(ConfigurationError) as caught:
        sources({"access_key": "AK", "secret_key": "SK", "auth_token": "T"}, environ)
    assert "mutually exclusive" in str(caught.value)


# ------------------------------------------------------------------------------------------------
# path_segment_option


@pytest.mark.parametrize("value", [".", "..", " . ", "\t..\n"])
def test_dot_segments_are_refused(value):
    with pytest.raises(ConfigurationError) as caught:
        path_segment_option("instance_id", value)
    message = str(caught.value)
    assert message.startswith("instance_id must not be '%s'" % value.strip()) and "signed" in message and "lock" in message


@pytest.mark.parametrize("value", ["...", ".a", "a.", "%2e", "%2E%2E", "a/..", "../a", "11111111-2222-3333-4444-555555555555"])
def test_other_values_are_path_segments(value):
    assert path_segment_option("task_id", " %s " % value) == value


@pytest.mark.parametrize("value", [None, "", "  "])
def test_path_segment_is_required(value):
    with pytest.raises(ConfigurationError) as caught:
        path_segment_option("task_id", value)
    assert str(caught.value) == "task_id must not be empty"


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(min_size=1) | st.sampled_from([".", "..", " .", ".. ", "%2e", "%2E%2e"]) | st.text(alphabet="./%2eE ", min_size=1))
def test_an_accepted_segment_reaches_the_server_as_signed(value):
    """What the client sends (each segment quoted with safe="") is what requests puts on the wire."""
    try:
        segment = path_segment_option("instance_id", value)
    except ConfigurationError:
        assert value.strip() in ("", ".", "..")
        return
    path = "/v2/p1/instances/%s/tasks" % quote(segment, safe="")
    prepared = requests.Request("GET", "https://dms.example.com" + path).prepare()
    assert urlsplit(prepared.url).path == path
    assert prepared.path_url == path
