# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request signing for the Huawei Cloud API: SDK-HMAC-SHA256 (AK/SK) or a plain IAM token.

Mirrors huaweicloudsdkcore/signer/signer.py byte for byte; the unit tests use that SDK as the oracle.
Standard library only, so it runs on any managed host with Python 3.9+.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
CONTENT_HASH_HEADER = "X-Sdk-Content-Sha256"


def _encode(text):
    # Only ALPHA / DIGIT / "-_.~" stay literal; quote() keeps "_.-" itself, '~' must be named.
    return quote(text, safe="~")


def canonical_query(params):
    """Return the canonical query string 'k=v&k=v' that is both signed and sent.

    The SDK sorts the raw (key, value) pairs before encoding them, which is not the same order as sorting
    the encoded strings once non-ASCII characters are involved, so the sort must come first.
    """
    return "&".join("%s=%s" % (_encode(key), _encode(value)) for key, value in sorted(params))


def _canonical_uri(path):
    # The path arrives in its sent (percent-encoded) form; the SDK decodes it whole, splits on '/' (so an
    # encoded %2F also splits) and re-encodes each segment. The signed form always ends with '/'.
    uri = "/".join(_encode(segment) for segment in unquote(path or "/").split("/"))
    return uri if uri.endswith("/") else uri + "/"


def _split_url(url):
    # Split by hand: urlsplit() would cut the path at a literal '?' or '#'.
    rest = url.partition("://")[2]
    netloc, slash, path = rest.partition("/")
    return netloc, slash + path


def _get(headers, name):
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _put(headers, name, value):
    # Replace any spelling of the header, so a caller's 'host' cannot end up next to our 'Host'.
    for key in [key for key in headers if key.lower() == name.lower()]:
        del headers[key]
    if value is not None:
        headers[name] = value


class AkSkSigner:
    """Signs requests with an access key / secret key pair (optionally temporary, with a security token)."""

    def __init__(self, access_key, secret_key, security_token=None):
        self.access_key = access_key
        self._secret_key = secret_key
        self._security_token = security_token

    def __repr__(self):
        # Secrets must not leak through logs, tracebacks or Ansible's result dumps.
        return "AkSkSigner(access_key=%r, secret_key='***', security_token=%s)" % (
            self.access_key, "'***'" if self._security_token else None)

    def sign(self, method, url, params, headers, body=b"", now=None):
        """Return a new dict: headers plus X-Sdk-Date, Host, X-Security-Token (if any) and Authorization."""
        now = now or datetime.now(timezone.utc)
        if now.tzinfo is not None:
            now = now.astimezone(timezone.utc)
        if isinstance(body, str):
            body = body.encode("utf-8")
        netloc, path = _split_url(url)

        out = dict(headers)
        _put(out, "Authorization", None)  # a stale one must not be signed, nor sent twice
        content_type = _get(out, "Content-Type")
        if content_type and not content_type.startswith(("application/json", "application/bson")):
            # As the SDK does: other payloads (forms, streams) are not hashed, and this header says so.
            _put(out, CONTENT_HASH_HEADER, "UNSIGNED-PAYLOAD")
        if self._security_token:
            _put(out, "X-Security-Token", self._security_token)
        _put(out, "X-Sdk-Date", now.strftime(DATE_FORMAT))
        _put(out, "Host", netloc)
        # Values are signed stripped; send them stripped too (as the SDK does), so the wire matches the signature.
        out = {key: str(value).strip() for key, value in out.items()}

        # As the SDK does, names with '_' are not signed (proxies such as nginx drop them by default).
        lowered = {key.lower(): value for key, value in out.items()}
        signed = sorted(name for name in lowered if "_" not in name)
        payload_hash = EMPTY_HASH
        if body:
            payload_hash = _get(out, CONTENT_HASH_HEADER) or hashlib.sha256(body).hexdigest()
        canonical_request = "\n".join([
            method.upper(),
            _canonical_uri(path),
            canonical_query(params),
            "".join("%s:%s\n" % (name, lowered[name]) for name in signed),
            ";".join(signed),
            payload_hash,
        ])
        string_to_sign = "\n".join([
            ALGORITHM, out["X-Sdk-Date"], hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
        signature = hmac.new(self._secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        out["Authorization"] = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
            ALGORITHM, self.access_key, ";".join(signed), signature)
        return out


class TokenAuth:
    """Authenticates with an IAM token (X-Subject-Token of POST /v3/auth/tokens); nothing is signed."""

    def __init__(self, auth_token):
        self._auth_token = auth_token

    def __repr__(self):
        return "TokenAuth(auth_token='***')"

    def sign(self, method, url, params, headers, body=b"", now=None):  # pylint: disable=unused-argument
        """Return a new dict: headers plus X-Auth-Token. Same signature as AkSkSigner.sign."""
        out = dict(headers)
        _put(out, "X-Auth-Token", self._auth_token)
        return out
