# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options end to end: TLS (ca_path, validate_certs) and IAM token authentication, both plugins."""

from __future__ import annotations

import json
import ssl
import urllib.request

import pytest

from ansible_collections.hwcloud.dms.tests.emulator.harness import Emulator
from ansible_collections.hwcloud.dms.tests.functional.conftest import INSTANCE_ID, SECRET_KEY, Playbook, scenario

USER, PASSWORD = "dms_tester", "tester-password"
TASKS = [{"id": "t-done", "name": "kafkaConfigModify", "status": "SUCCESS"}]


@pytest.fixture(name="tls_emulator")
def tls_emulator_fixture(tmp_path):
    with Emulator(scenario(tasks=TASKS, users=[{"name": USER, "password": PASSWORD}]), tmp_path, https=True) as running:
        yield running


def both_plugins():
    return [
        {"hwcloud.dms.dms_task_info": {"instance_id": INSTANCE_ID}},
        {"hwcloud.dms.wait_for_task": {"instance_id": INSTANCE_ID, "task_id": "t-done", "timeout": 10}},
    ]


def test_https_with_the_emulators_ca(tls_emulator, tmp_path):
    playbook = Playbook(tmp_path, tls_emulator)
    run = playbook.run(both_plugins(), defaults=playbook.connection(ca_path=tls_emulator.ca_path))
    assert [result.get("failed") for result in run.results] == [False, False], run.output
    assert run.results[0]["tasks"][0]["id"] == "t-done" and run.results[1]["status"] == "SUCCESS"


def test_https_without_the_ca_fails_at_once_naming_tls(tls_emulator, tmp_path):
    playbook = Playbook(tmp_path, tls_emulator)
    # REQUESTS_CA_BUNDLE may point at the machine's bundle: it must not matter, and it must not trust the emulator.
    run = playbook.run(both_plugins())
    for result in run.results:
        assert result["failed"] is True
        assert "TLS" in result["msg"] and "certificate" in result["msg"].lower(), result["msg"]
    # A certificate problem is not retried: one attempt per plugin, none of them answered.
    assert tls_emulator.count() == 0


def test_validate_certs_false_accepts_the_self_signed_certificate(tls_emulator, tmp_path):
    playbook = Playbook(tmp_path, tls_emulator)
    run = playbook.run(both_plugins(), defaults=playbook.connection(validate_certs=False))
    assert [result.get("failed") for result in run.results] == [False, False], run.output


def test_a_cloud_that_is_no_domain_name_never_sends_a_request(tls_emulator, tmp_path):
    """cloud builds https://dms.{region}.{cloud}: user info or a port in it would send the signed request (or, to find
    the project ID, the IAM call) to another host. Certificates are not checked here, so such a request would arrive."""
    foreign = "myhuaweicloud.com@%s" % tls_emulator.url.split("://", 1)[1]
    playbook = Playbook(tmp_path, tls_emulator)
    unchecked = playbook.connection(validate_certs=False, endpoint="", iam_endpoint="", cloud=foreign)
    run = playbook.run(both_plugins() + [
        {"hwcloud.dms.dms_task_info": {"instance_id": INSTANCE_ID, "project_id": ""}},
        {"hwcloud.dms.dms_api": {"path": "/v2/{project_id}/instances"}},
    ], defaults=unchecked)
    for result in run.results:
        assert result["failed"] is True
        assert result["msg"].startswith("cloud must be a domain name such as myhuaweicloud.com") and foreign in result["msg"], result["msg"]
    assert tls_emulator.count() == 0


def test_auth_token_instead_of_aksk(tls_emulator, tmp_path):
    token = iam_token(tls_emulator)
    playbook = Playbook(tmp_path, tls_emulator)
    run = playbook.run(both_plugins(), defaults=playbook.connection(
        ca_path=tls_emulator.ca_path, access_key=None, secret_key=None, auth_token=token), args=["-vvvv"])
    assert [result.get("failed") for result in run.results] == [False, False], run.output
    assert {entry["auth"] for entry in tls_emulator.requests() if entry["kind"] != "iam_token"} == {"token"}
    assert token not in run.output and token not in json.dumps(run.results)


def test_auth_token_from_the_environment(tls_emulator, tmp_path):
    token = iam_token(tls_emulator)
    playbook = Playbook(tmp_path, tls_emulator)
    run = playbook.run(both_plugins(), defaults=playbook.connection(ca_path=tls_emulator.ca_path, access_key=None, secret_key=None),
                       env={"HW_AUTH_TOKEN": token})
    assert [result.get("failed") for result in run.results] == [False, False], run.output
    assert token not in run.output


def iam_token(emulator):
    """A token from the emulator's IAM, by the password form of POST /v3/auth/tokens."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": USER, "password": PASSWORD}}}}}
    request = urllib.request.Request(emulator.url + "/v3/auth/tokens", data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10, context=ssl.create_default_context(cafile=emulator.ca_path)) as response:
        return response.headers["X-Subject-Token"]


def test_wait_for_task_masks_a_secret_that_reaches_its_result(playbook):
    """The action plugin runs outside AnsibleModule: it must mask no_log values itself, as AnsibleModule would."""
    run = playbook.run([{"hwcloud.dms.wait_for_task": {"instance_id": INSTANCE_ID, "name": SECRET_KEY, "timeout": 2}}], args=["-vvvv"])
    result = run.result
    assert result["failed"] is True and result["timed_out"] is True
    assert "the newest task named ********" in result["msg"], result["msg"]
    assert SECRET_KEY not in run.output and SECRET_KEY not in json.dumps(run.results)
