# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SDK-HMAC-SHA256 check.

Written from the algorithm's description and on purpose independent of the collection's own signer, so that
a bug in one cannot hide in the other.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import time
from urllib.parse import quote, unquote

from .messages import query_pairs

SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
AUTHORIZATION_RE = re.compile(r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$")


def encode(text):
    return quote(text, safe="~")


def canonical_uri(raw_path):
    """Each segment decoded then re-encoded with only ~ kept, and a trailing slash the request did not send."""
    uri = "/".join(encode(segment) for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query):
    return "&".join("%s=%s" % (encode(key), encode(value)) for key, value in sorted(query_pairs(raw_query)))


def payload_hash(body, content_sha256=None):
    """SHA-256 of the body; a client may declare its own (X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD)."""
    if not body:
        return hashlib.sha256(b"").hexdigest()
    return content_sha256 or hashlib.sha256(body).hexdigest()


def canonical_request(method, raw_path, raw_query, signed_headers, header_values, body_hash):
    """signed_headers: lowercase names in signing order; header_values: lowercase name -> value as sent."""
    headers = "".join("%s:%s\n" % (name, header_values[name].strip()) for name in signed_headers)
    return "\n".join((method.upper(), canonical_uri(raw_path), canonical_query(raw_query), headers, ";".join(signed_headers), body_hash))


def signature(secret_key, sdk_date, canonical):
    string_to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (sdk_date, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    return hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def header_value(headers, name):
    """A header as the client meant it: http.server decodes header bytes as Latin-1, clients send UTF-8."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def parse_authorization(value):
    """(access key, signed header names, signature in lowercase) of an Authorization header, or None when malformed."""
    match = AUTHORIZATION_RE.match(value or "")
    if not match:
        return None
    access_key, signed_list, given = match.groups()
    return access_key, signed_list.split(";"), given.lower()


def signature_problem(request, credential, signed, given, max_clock_skew):
    """Why the request's signature does not hold for this credential, or None when it does."""
    for required in ("host", "x-sdk-date"):
        if required not in signed:
            return "%s is not among the signed headers" % required
    values = {name: header_value(request.headers, name) for name in signed}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        return "signed header(s) %s missing from the request" % ", ".join(missing)
    try:
        sent = datetime.datetime.strptime(values["x-sdk-date"], SDK_DATE_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "X-Sdk-Date %r is not YYYYMMDDTHHMMSSZ" % values["x-sdk-date"]
    if abs(time.time() - sent.timestamp()) > max_clock_skew:
        return "X-Sdk-Date %s is more than %d seconds off the server clock" % (values["x-sdk-date"], max_clock_skew)
    expected_token = credential.get("security_token")
    if expected_token and values.get("x-security-token") != expected_token:
        return "temporary credentials need their X-Security-Token, sent and signed"
    if not expected_token and request.headers.get("X-Security-Token") is not None:
        return "X-Security-Token sent with a permanent access key"
    body_hash = payload_hash(request.body, header_value(request.headers, "X-Sdk-Content-Sha256"))
    canonical = canonical_request(request.method, request.path, request.query, signed, values, body_hash)
    if not hmac.compare_digest(signature(str(credential["secret_key"]), values["x-sdk-date"], canonical), given):
        return "verify aksk signature fail"
    return None
