# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option table and its three uses: argument spec (with env fallbacks), doc fragment, connection settings."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.hwcloud.dms.plugins.doc_fragments.common import ModuleDocFragment
from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.options import (
    COMMON_OPTIONS, argument_spec, connection_settings, doc_fragment, required_text, time_option,
)

# The contract (issue 2), written out independently of the table under test.
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
    "max_retries": ["HW_MAX_RETRIES"],
}
EXPECTED_OPTIONS = set(EXPECTED_ENV) | {"validate_certs", "ca_path", "request_timeout"}
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
        if name in EXPECTED_ENV:
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
    assert all(params[name] is None for name in EXPECTED_ENV if name != "max_retries")


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


@pytest.mark.parametrize("option", [name for name in EXPECTED_ENV if name != "max_retries"])
def test_environment_is_a_fallback_only(clean_env, option):
    clean_env.setenv(EXPECTED_ENV[option][-1], "from-env")
    assert validate({})[option] == "from-env"
    assert validate({option: "given"})[option] == "given"


def test_aliases_and_env_max_retries(clean_env):
    clean_env.setenv("HW_MAX_RETRIES", "7")
    params = validate({"ak": "the-ak", "sk": "the-sk"})
    assert (params["access_key"], params["secret_key"], params["max_retries"]) == ("the-ak", "the-sk", 7)


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


@pytest.mark.parametrize("value", [0, -1, -0.5, None])
def test_request_timeout_must_be_positive(value):
    assert "request_timeout" in config_error(request_timeout=value)


@pytest.mark.parametrize("value", [-1, None])
def test_max_retries_must_not_be_negative(value):
    assert "max_retries" in config_error(max_retries=value)


def test_numbers_and_flags_pass_through():
    result = settings(request_timeout=0.5, max_retries=0, validate_certs=False, ca_path=__file__)
    assert (result.request_timeout, result.max_retries, result.validate_certs, result.ca_path) == (0.5, 0, False, __file__)


# ------------------------------------------------------------------------------------------------
# time_option, required_text


def test_time_option():
    assert time_option("begin_time", None) is None
    assert time_option("begin_time", "  ") is None
    assert time_option("begin_time", "20240131080000").isoformat() == "2024-01-31T08:00:00+00:00"


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "20241301000000"])
def test_bad_time_option_names_the_option(value):
    with pytest.raises(ConfigurationError) as caught:
        time_option("created_after", value)
    assert str(caught.value).startswith("created_after")
    assert value in str(caught.value)


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


@pytest.mark.parametrize("region", ["ap southeast 1", "ap-southeast-1/x", "AP-SOUTHEAST-1"])
def test_region_must_look_like_a_region(region):
    assert "region" in config_error(region=region)


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
