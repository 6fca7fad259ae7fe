# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The signer against a fixed test vector (known inputs, known signature) and, byte for byte, against the official SDK's signer.

huaweicloudsdkcore is a test-only dependency: it is the oracle, the collection never imports it.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone
from unittest import mock
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings, strategies as st
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer import signer as sdk_signer

from ansible_collections.hwcloud.dms.plugins.module_utils.signing import AkSkSigner, TokenAuth, canonical_query

AK = "AKEXAMPLE0000000000"
SK = "SKEXAMPLE0000000000000000000000000000000"
PROJECT = "0123456789abcdef0123456789abcdef"
# Reproducible in CI: the same examples on every run, and no example database carried between runs.
PROPERTY = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
QUERY_PROPERTY = settings(PROPERTY, max_examples=500)


def test_vector_from_dms_api_md():
    url = "https://dms.ap-southeast-1.myhuaweicloud.com/v2/%s/instances/11111111-2222-3333-4444-555555555555/tasks" % PROJECT
    params = [("start", "1"), ("limit", "10"), ("begin_time", "20240101000000")]
    headers = {"Content-Type": "application/json", "User-Agent": "test-agent", "X-Project-Id": PROJECT}
    out = AkSkSigner(AK, SK).sign("GET", url, params, headers, now=datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert canonical_query(params) == "begin_time=20240101000000&limit=10&start=1"
    assert out["X-Sdk-Date"] == "20240101T000000Z"
    assert out["Host"] == "dms.ap-southeast-1.myhuaweicloud.com"
    assert out["Authorization"] == (
        "SDK-HMAC-SHA256 Access=AKEXAMPLE0000000000, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, "
        "Signature=caf8194d1eca3cf18c875be7ee547c5b16a8dc1c5f079002ccbe109d512188ae")
    assert "X-Security-Token" not in out


def test_sign_returns_new_dict_with_port_and_security_token():
    headers = {"Content-Type": "application/json"}
    out = AkSkSigner(AK, SK, "sts-token").sign("get", "http://127.0.0.1:8443/v2/x", [], headers)
    assert headers == {"Content-Type": "application/json"}
    assert out["Host"] == "127.0.0.1:8443"
    assert out["X-Security-Token"] == "sts-token"
    assert "SignedHeaders=content-type;host;x-sdk-date;x-security-token," in out["Authorization"]
    sent = datetime.strptime(out["X-Sdk-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs(sent - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_token_auth_sends_token_and_no_signature():
    headers = {"Content-Type": "application/json"}
    out = TokenAuth("MIIt0ken").sign("GET", "https://dms.example.com/v2/p/instances", [("a", "1")], headers)
    assert out == {"Content-Type": "application/json", "X-Auth-Token": "MIIt0ken"}
    assert headers == {"Content-Type": "application/json"}


def test_repr_hides_secrets():
    for auth in (AkSkSigner(AK, "s3cr3t-SK", "s3cr3t-TOKEN"), AkSkSigner(AK, "s3cr3t-SK"), TokenAuth("s3cr3t-AUTH")):
        for text in (repr(auth), str(auth), "%s %r" % (auth, [auth])):
            assert "s3cr3t" not in text


# ---- property tests: the SDK is the oracle ----

UNICODE = st.characters(codec="utf-8")  # any code point UTF-8 can encode (no lone surrogates)
RESERVED = st.sampled_from(list(":@!$&'()*+,;=%/?#[] ~-._"))
PIECE = st.one_of(UNICODE, RESERVED, st.sampled_from(["%2F", "%41", "%zz", "%E2%82%AC", "%FF", "%"]))
ODD_TEXT = st.lists(PIECE, max_size=10).map("".join)
# Path segments both raw and as the SDK's client sends them (quote(value, safe='')).
SEGMENT = st.one_of(ODD_TEXT, ODD_TEXT.map(lambda s: quote(s, safe="")), st.sampled_from(["", "v2", "instances", "tasks"]))
PATH = st.lists(SEGMENT, min_size=1, max_size=6).map(lambda segments: "/" + "/".join(segments))
HOST = st.tuples(
    st.sampled_from(["dms.ap-southeast-1.myhuaweicloud.com", "DMS.eu-west-101.myhuaweicloud.eu", "127.0.0.1", "[::1]", "localhost"]),
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda port: ":%d" % port)),
).map("".join)
QUERY = st.lists(st.tuples(st.one_of(st.sampled_from(["start", "limit", "a", "A", "k~", ""]), ODD_TEXT), ODD_TEXT), max_size=8)
TOKEN = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
RESERVED_HEADERS = {"host", "authorization", "x-sdk-date", "x-security-token", "content-type", "x-sdk-content-sha256"}
EXTRA_HEADERS = st.dictionaries(
    st.text(TOKEN, min_size=1, max_size=12).filter(lambda name: name.lower() not in RESERVED_HEADERS),
    st.text(string.printable.strip() + " ", max_size=20).map(lambda v: " " + v + "\t"),
    max_size=4,
).map(lambda d: {k: v for k, v in d.items() if sum(1 for o in d if o.lower() == k.lower()) == 1})
CONTENT_TYPE = st.sampled_from([None, "application/json", "application/json;charset=UTF-8", "application/bson",
                                "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"])
BODY = st.one_of(st.just(b""), st.binary(max_size=64), st.text(UNICODE, max_size=20).map(lambda s: s.encode("utf-8")))
WHEN = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31), timezones=st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))]))
SECRET = st.text(UNICODE, min_size=1, max_size=40)


def sdk_sign(ak, sk, token, method, scheme, host, path, params, headers, body, now):
    """Sign as the SDK's client does (credentials.sign_request -> Signer.sign), with its clock frozen at now."""
    class FrozenDatetime(datetime):
        @classmethod
        def utcnow(cls):
            return now.astimezone(timezone.utc).replace(tzinfo=None)

    credentials = BasicCredentials(ak, sk)
    if token:
        credentials.with_security_token(token)
    request = SdkRequest(method=method, schema=scheme, host=host, resource_path=path,
                         query_params=list(params), header_params=dict(headers), body=body)
    with mock.patch.object(sdk_signer, "datetime", FrozenDatetime):
        request = credentials.sign_request(request)
    # Signer.process_request_uri made request.uri the path plus '?' and the query it sends.
    query = request.uri[len(path) + 1:]
    return request.header_params, query


@PROPERTY
@given(ak=st.text(TOKEN, min_size=1, max_size=20), sk=SECRET, token=st.one_of(st.none(), st.text(TOKEN, min_size=1, max_size=40)),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "get", "Post"]),
       scheme=st.sampled_from(["https", "http"]), host=HOST, path=PATH, params=QUERY,
       extra=EXTRA_HEADERS, content_type=CONTENT_TYPE, project=st.one_of(st.none(), st.just(PROJECT)), body=BODY, now=WHEN)
def test_matches_sdk_signer(ak, sk, token, method, scheme, host, path, params, extra, content_type, project, body, now):
    headers = dict(extra)
    if content_type:
        headers["Content-Type"] = content_type
    if project:
        headers["X-Project-Id"] = project
    original = dict(headers)
    ours = AkSkSigner(ak, sk, token).sign(method, "%s://%s%s" % (scheme, host, path), params, headers, body=body, now=now)
    theirs, sdk_query = sdk_sign(ak, sk, token, method, scheme, host, path, params, headers, body, now)
    assert headers == original
    assert ours["Authorization"] == theirs["Authorization"]
    assert ours["X-Sdk-Date"] == theirs["X-Sdk-Date"]
    assert canonical_query(params) == sdk_query
    assert ours == theirs  # every header sent, Host and X-Security-Token included


@QUERY_PROPERTY
@given(params=st.lists(st.tuples(st.text(UNICODE, max_size=6), st.text(UNICODE, max_size=6)), max_size=10))
def test_canonical_query_matches_sdk(params):
    assert canonical_query(params) == sdk_signer.Signer.process_canonical_query_string(SdkRequest(query_params=list(params)))
