# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EDA controller credential type (docs/awx/eda-credential-type-*.yml) as far as certificate checks go: its injectors
rendered as the controller renders them, the documented rulebook's source args rendered as ansible-rulebook renders
them, and those args read by the event source's own option handling. A credential that does not hold the "skip" box
must leave certificates verified."""

from __future__ import annotations

import os

import jinja2
import pytest
import yaml
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.hwcloud.dms.plugins.module_utils.task_watch import source_config
from ansible_collections.hwcloud.dms.tests.environment import clear_credentials

try:
    from ansible_rulebook.util import substitute_variables
except ImportError:  # ansible-test units installs no ansible-rulebook: render as its render_string does
    substitute_variables = None

COLLECTION = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
AWX_DOCS = os.path.join(COLLECTION, "docs", "awx")
RULEBOOK = os.path.join(COLLECTION, "docs", "eda", "kafka_remediation.yml")
INSTANCE = "11111111-2222-3333-4444-555555555555"
# The fewest inputs a credential of the type can hold and still sign requests: every other field is not held.
API_CREDENTIAL = {"access_key": "AKEXAMPLE0000000000", "secret_key": "SKEXAMPLE0000000000000000000000000000000", "region": "ap-southeast-1"}


class NativeSandbox(ImmutableSandboxedEnvironment, NativeEnvironment):  # pylint: disable=abstract-method
    """A sandbox that keeps native types."""


# Whether the controller's rendering keeps native types (a bool) or gives text ("True"): both must verify.
CONTROLLER_RENDERINGS = {"native": NativeSandbox, "text": ImmutableSandboxedEnvironment}


def load_doc(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def controller_extra_vars(inputs, sandbox_class):
    """The extra variables the EDA controller gives a rulebook activation for a credential holding ``inputs``: each
    template of the documented injectors rendered strictly in a sandbox, where an input the credential does not hold
    is undefined (an error unless the template defaults it)."""
    fields = load_doc(os.path.join(AWX_DOCS, "eda-credential-type-inputs.yml"))["fields"]
    assert set(inputs) <= set(field["id"] for field in fields)
    injectors = load_doc(os.path.join(AWX_DOCS, "eda-credential-type-injectors.yml"))
    sandbox = sandbox_class(undefined=jinja2.StrictUndefined)
    return dict((name, sandbox.from_string(template).render(inputs)) for name, template in injectors["extra_vars"].items())


def rendered(value, variables):
    """A source arg as ansible-rulebook renders it: strict native Jinja for a string, lists and dicts item by item."""
    if substitute_variables is not None:
        return substitute_variables(value, variables)
    if isinstance(value, list):
        return [rendered(item, variables) for item in value]
    if isinstance(value, dict):
        return dict((key, rendered(item, variables)) for key, item in value.items())
    if isinstance(value, str) and "{{" in value and "}}" in value:
        return NativeEnvironment(undefined=jinja2.StrictUndefined).from_string(value).render(variables)
    return value


def documented_source_args(extra_vars):
    """The args docs/eda/kafka_remediation.yml gives hwcloud.dms.task_events, with the credential's extra variables, the
    activation's production_kafka_id, and eda.filename as ansible-rulebook sets it when the controller wrote no file."""
    [ruleset] = load_doc(RULEBOOK)
    [source] = ruleset["sources"]
    variables = dict(extra_vars, production_kafka_id=INSTANCE, eda={"filename": {}})
    return rendered(source["hwcloud.dms.task_events"], variables)


@pytest.fixture(name="no_environment")
def no_environment_fixture(monkeypatch):
    """No connection option comes from the environment: HW_VALIDATE_CERTS=false there must not decide for the args."""
    clear_credentials(monkeypatch)


@pytest.mark.parametrize("rendering", sorted(CONTROLLER_RENDERINGS))
@pytest.mark.parametrize("box", [{}, {"skip_tls_verify": False}], ids=["api-credential-without-skip_tls_verify", "skip_tls_verify-unticked"])
def test_a_credential_that_does_not_skip_verification_verifies_certificates(no_environment, box, rendering):
    extra_vars = controller_extra_vars(dict(API_CREDENTIAL, **box), CONTROLLER_RENDERINGS[rendering])
    args = documented_source_args(extra_vars)
    settings = source_config(args, environ={}).settings
    assert settings.validate_certs is True
    assert settings.ca_path in (None, "")  # no CA bundle: the system's CAs verify


@pytest.mark.parametrize("rendering", sorted(CONTROLLER_RENDERINGS))
def test_ticking_skip_tls_verify_turns_the_checks_off(no_environment, rendering):
    extra_vars = controller_extra_vars(dict(API_CREDENTIAL, skip_tls_verify=True), CONTROLLER_RENDERINGS[rendering])
    assert source_config(documented_source_args(extra_vars), environ={}).settings.validate_certs is False
