# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every plugin shares: their table, and what is rendered from it.

The table feeds every plugin's argument spec (modules, the action plugin, the event source) and the documentation
fragment ``hwcloud.dms.common``; ``connection_settings`` turns validated values into the client's settings and explains
what is missing. No AnsibleModule here: the module helpers are dms_module.py's.
"""

from __future__ import annotations

import os
import re
from collections import namedtuple
from urllib.parse import urlsplit

from ansible.module_utils.common.parameters import env_fallback
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.hwcloud.dms.plugins.module_utils.errors import ConfigurationError
from ansible_collections.hwcloud.dms.plugins.module_utils.validation import NumberRange, refuse_dot_segment


# A response slower than ten minutes means a hung connection; ten retries with exponential backoff already span minutes.
REQUEST_TIMEOUT_RANGE = NumberRange(0, 600, exclusive_minimum=True, unit="seconds")
MAX_RETRIES_RANGE = NumberRange(0, 10, integer=True)

DEFAULT_CLOUD = "myhuaweicloud.com"
GLOBAL_IAM_ENDPOINT = "https://iam.myhuaweicloud.com"
# Huawei Cloud regions without an IAM endpoint of their own, which the official SDK (huaweicloudsdkcore) sends to the
# global one: the SDK's list at the time of writing.
REGIONS_WITHOUT_IAM = ("af-north-1", "ap-southeast-5", "cn-north-11", "cn-south-4", "cn-southwest-3", "ru-northwest-2")

COMMON_OPTIONS = {
    "access_key": {
        "type": "str", "aliases": ["ak"], "no_log": False,  # an identifier, not a secret
        "env": ["HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "ANSIBLE_HWC_ACCESS_KEY"],
        "description": "Access key ID (AK) used to sign requests. Goes with O(secret_key); excludes O(auth_token).",
    },
    "secret_key": {
        "type": "str", "aliases": ["sk"], "no_log": True,
        "env": ["HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY", "ANSIBLE_HWC_SECRET_KEY"],
        "description": "Secret access key (SK) used to sign requests. Never logged or returned.",
    },
    "security_token": {
        "type": "str", "no_log": True,
        "env": ["HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN"],
        "description": "Security token of temporary AK/SK credentials, sent as C(X-Security-Token) and signed.",
    },
    "auth_token": {
        "type": "str", "no_log": True,
        "env": ["HW_AUTH_TOKEN"],
        "description": [
            "IAM token sent as C(X-Auth-Token) instead of signing with AK/SK.",
            "Mutually exclusive with O(access_key), O(secret_key) and O(security_token).",
        ],
    },
    "region": {
        "type": "str",
        "env": ["HW_REGION_NAME", "ANSIBLE_HWC_REGION"],
        "description": [
            "Region of the instance, for example V(ap-southeast-1).",
            "Builds the default endpoints and finds the project ID when O(project_id) is not given.",
        ],
    },
    "project_id": {
        "type": "str",
        "env": ["HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID", "ANSIBLE_HWC_PROJECT_ID"],
        "description": "Project ID. When not given it is looked up once from O(region) through IAM.",
    },
    "cloud": {
        "type": "str",
        "env": ["HW_CLOUD"],
        "description": [
            "Domain of the cloud the default endpoints are built on.",
            "Defaults to V(myhuaweicloud.com), or V(myhuaweicloud.eu) in region V(eu-west-101).",
        ],
    },
    "endpoint": {
        "type": "str",
        "env": ["HW_DMS_ENDPOINT"],
        "description": [
            "Base URL of the DMS API, overriding C(https://dms.{region}.{cloud}).",
            "For another cloud on the same stack, a proxy, or the bundled emulator.",
        ],
    },
    "iam_endpoint": {
        "type": "str",
        "env": ["HUAWEICLOUD_SDK_IAM_ENDPOINT"],
        "description": [
            "Base URL of IAM, overriding C(https://iam.{region}.{cloud}). Used only to find the project ID.",
            "As in the official SDK, Huawei Cloud regions without an IAM endpoint of their own (%s) default to the global"
            " C(%s) instead; with another O(cloud) the regional form applies."
            % (", ".join("V(%s)" % region for region in REGIONS_WITHOUT_IAM), GLOBAL_IAM_ENDPOINT),
        ],
    },
    "validate_certs": {
        "type": "bool", "default": True,
        "env": ["HW_VALIDATE_CERTS"],
        "description": "Verify the TLS certificate of the endpoints. Only turn this off against a test server.",
    },
    "ca_path": {
        "type": "path",
        "env": ["HW_CA_PATH"],
        "description": "File of CA certificates (PEM) to verify the endpoints with, instead of the system's.",
    },
    "request_timeout": {
        "type": "float", "default": 30, "range": REQUEST_TIMEOUT_RANGE,
        "description": "Seconds to wait for each HTTP response.",
    },
    "max_retries": {
        "type": "int", "default": 5, "range": MAX_RETRIES_RANGE,
        "env": ["HW_MAX_RETRIES"],
        "description": [
            "How many times a request is retried after a throttling (429), server error (500, 502, 503, 504),"
            " dropped connection, timeout or unreadable answer, with exponential backoff and jitter.",
            "Authentication failures are never retried: repeated failed signatures lock the access key.",
        ],
    },
}

_SIGNING = ("access_key", "secret_key", "security_token")
_CREDENTIAL = re.compile(r"^[\x21-\x7e]+$")
# One DNS label as regions are written; cloud domains are such labels (any case) joined by dots.
_REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", re.IGNORECASE)
MAX_LABEL_LENGTH = 63
MAX_DOMAIN_LENGTH = 253


class ConnectionSettings(namedtuple("ConnectionSettings", [
    "access_key", "secret_key", "security_token", "auth_token", "region", "project_id",
    "endpoint", "iam_endpoint", "validate_certs", "ca_path", "request_timeout", "max_retries",
])):
    __slots__ = ()

    def __repr__(self):
        shown = dict((name, "********" if value and COMMON_OPTIONS[name].get("no_log") else value)
                     for name, value in self._asdict().items())
        return "ConnectionSettings(%s)" % ", ".join("%s=%r" % item for item in shown.items())


_REGION_CLOUDS = {"eu-west-101": "myhuaweicloud.eu"}


def argument_spec(**plugin_options):
    """The argument spec of a plugin: the common options plus its own."""
    spec = {}
    for name, entry in COMMON_OPTIONS.items():
        option = dict((key, value) for key, value in entry.items() if key not in ("env", "description", "range"))
        if "env" in entry:
            option["fallback"] = (non_empty_env_fallback if entry["type"] == "bool" else env_fallback, entry["env"])
        spec[name] = option
    spec.update(plugin_options)
    return spec


def non_empty_env_fallback(*names):
    """env_fallback for a bool option, where an empty value counts as not set: an empty string is no boolean."""
    for name in names:
        if os.environ.get(name, "").strip():
            return os.environ[name]
    raise AnsibleFallbackNotFound


def doc_fragment():
    """The ``options`` of the documentation fragment. tests/tooling/render_doc_fragment.py writes them to
    plugins/doc_fragments/common.py (sanity wants a literal there), and a unit test keeps the two equal."""
    options = {}
    for name, entry in COMMON_OPTIONS.items():
        description = entry["description"]
        doc = {"description": description if isinstance(description, list) else [description], "type": entry["type"]}
        for key in ("aliases", "default"):
            if key in entry:
                doc[key] = entry[key]
        if "range" in entry:
            sentence = entry["range"].describe()
            doc["description"] = doc["description"] + [sentence[0].upper() + sentence[1:] + "."]
        if "env" in entry:
            doc["description"] = doc["description"] + [
                "If not set, the first of these environment variables that is set is used: %s."
                % ", ".join("E(%s)" % var for var in entry["env"])
            ]
        options[name] = doc
    return {"options": options}


def connection_settings(params, environ=None):
    """Check that the connection options can work together and return ConnectionSettings.

    ``environ`` is where the environment fallbacks were read (default os.environ): credentials given in the
    task win over credentials of the other kind that only come from the environment.
    Raises ConfigurationError naming the options (and environment variables) that are missing or clash.
    """
    values = dict((name, params.get(name)) for name in COMMON_OPTIONS)
    for name in ("access_key", "secret_key", "security_token", "auth_token", "region", "project_id", "cloud", "endpoint", "iam_endpoint"):
        if isinstance(values[name], str):
            values[name] = values[name].strip() or None
    _check_credentials(values, os.environ if environ is None else environ)
    if values["region"] and not (_REGION.match(values["region"]) and len(values["region"]) <= MAX_LABEL_LENGTH):
        raise ConfigurationError("region must look like ap-southeast-1 (lowercase letters, digits and dashes), got '%s'" % values["region"])
    if values["cloud"] and not _is_domain(values["cloud"]):
        raise ConfigurationError(
            "cloud must be a domain name such as myhuaweicloud.com (letters, digits and dashes between dots), got '%s'" % values["cloud"])
    if values["project_id"]:
        refuse_dot_segment("project_id", values["project_id"])
    if values["ca_path"] and not os.path.isfile(values["ca_path"]):
        raise ConfigurationError("ca_path: no such file '%s'" % values["ca_path"])
    request_timeout = REQUEST_TIMEOUT_RANGE.check("request_timeout", values["request_timeout"])
    max_retries = MAX_RETRIES_RANGE.check("max_retries", values["max_retries"])
    region = values["region"]
    cloud = values["cloud"] or _REGION_CLOUDS.get(region, DEFAULT_CLOUD)
    endpoint = _base_url("endpoint", values["endpoint"]) if values["endpoint"] else None
    iam_endpoint = _base_url("iam_endpoint", values["iam_endpoint"]) if values["iam_endpoint"] else None
    if not endpoint:
        if not region:
            raise ConfigurationError("region is required unless endpoint is set (%s)" % _env_hint("region"))
        endpoint = _base_url("the endpoint built from region and cloud", "https://dms.%s.%s" % (region, cloud))
    if not values["project_id"]:
        if not region:
            raise ConfigurationError(
                "project_id is missing (%s); or set region to look it up through IAM (%s)" % (_env_hint("project_id"), _env_hint("region")))
        iam_endpoint = iam_endpoint or _base_url("the IAM endpoint built from region and cloud", default_iam_endpoint(region, cloud))
    return ConnectionSettings(
        access_key=values["access_key"], secret_key=values["secret_key"], security_token=values["security_token"],
        auth_token=values["auth_token"], region=region, project_id=values["project_id"],
        endpoint=endpoint, iam_endpoint=iam_endpoint, validate_certs=values["validate_certs"] is not False,
        ca_path=values["ca_path"], request_timeout=request_timeout, max_retries=max_retries,
    )


def default_iam_endpoint(region, cloud):
    """The IAM endpoint of a region, as the official SDK picks it: regional, or global where Huawei Cloud has none."""
    if cloud.lower() == DEFAULT_CLOUD and region in REGIONS_WITHOUT_IAM:
        return GLOBAL_IAM_ENDPOINT
    return "https://iam.%s.%s" % (region, cloud)


def _check_credentials(values, environ):
    for name in _SIGNING + ("auth_token",):
        # Headers carry these: anything else fails deep in the HTTP stack, in a message that may quote the value.
        if values[name] is not None and not _CREDENTIAL.match(values[name]):
            raise ConfigurationError("%s must be printable ASCII without spaces or line breaks (the value is not shown)" % name)
    signing = [name for name in _SIGNING if values[name]]
    if values["auth_token"] and signing:
        token_from_environment = _from_environment(values, ["auth_token"], environ)
        signing_from_environment = _from_environment(values, signing, environ)
        if token_from_environment != signing_from_environment:
            # One kind was set in the task, the other only in the environment (an AWX credential, say): the task wins.
            for name in (["auth_token"] if token_from_environment else signing):
                values[name] = None
            signing = [name for name in _SIGNING if values[name]]
    if values["auth_token"] and signing:
        raise ConfigurationError("auth_token is mutually exclusive with %s: use a token or AK/SK credentials, not both" % ", ".join(signing))
    if values["auth_token"]:
        return
    missing = [name for name in ("access_key", "secret_key") if not values[name]]
    if len(missing) == 2:
        raise ConfigurationError(
            "no credentials: set access_key and secret_key (%s; %s), or auth_token (%s)"
            % (_env_hint("access_key"), _env_hint("secret_key"), _env_hint("auth_token")))
    if missing:
        raise ConfigurationError("%s is missing (%s)" % (missing[0], _env_hint(missing[0])))


def _from_environment(values, names, environ):
    """Whether every one of these options holds what its environment fallback would have given."""
    for name in names:
        fallback = next((environ[var] for var in COMMON_OPTIONS[name].get("env", []) if var in environ), None)
        if fallback is None or fallback.strip() != values[name]:
            return False
    return True


def _env_hint(name):
    names = [name] + COMMON_OPTIONS[name].get("aliases", [])
    return "option %s or environment variable %s" % ("/".join(names), " or ".join(COMMON_OPTIONS[name].get("env", [])))


def _is_domain(text):
    labels = text.split(".")
    return len(text) <= MAX_DOMAIN_LENGTH and all(len(label) <= MAX_LABEL_LENGTH and _DOMAIN_LABEL.match(label) for label in labels)


def _base_url(option, value):
    try:
        parts = urlsplit(value)
        well_formed = parts.scheme in ("http", "https") and parts.hostname and parts.port != 0  # .port raises on a malformed port
    except ValueError as exc:
        raise ConfigurationError("%s is not a valid URL (%s): '%s'" % (option, exc, value)) from None
    if not well_formed or parts.query or parts.fragment:
        raise ConfigurationError("%s must be an http(s) URL such as https://dms.example.com, got '%s'" % (option, value))
    if parts.username is not None or parts.password is not None:
        # requests would send them as Basic auth instead of the signature; and they would show in messages.
        raise ConfigurationError("%s must not contain a user name or password" % option)
    return value.rstrip("/")
