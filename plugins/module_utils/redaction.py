# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking secrets in whatever the plugins write: messages, warnings and returned data.

A secret we sent can come back in another spelling: a gateway echoes it URL-encoded or inside a JSON error body,
and requests or http.client quote a header value they reject as a Python repr. ``secret_forms`` lists those
spellings and ``redact`` masks them.

Plain Python, no Ansible imports, so the module and the controller side share it.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

MASK = "********"

_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")
# repr() of a str or bytes holding both quote characters puts it in single quotes and escapes the single quote:
# how the secret reads when the message around it contains a double quote.
_BOTH_QUOTES = "'\""


def secret_forms(values):
    """Every spelling of these secret values that an echo can carry, longest first; empty values are skipped.

    For each value: as is; URL-encoded with a space as %20 or +, a slash as %2F or kept, and hex escapes in upper or
    lower case; JSON-escaped (ASCII-only or not, a slash plain or as \\/); and the body of its Python repr as a str,
    as latin-1 bytes (how http.client encodes a header) and as UTF-8 bytes, in either quoting.
    Longest first, so that a form containing another is replaced whole.
    """
    forms = set()
    for value in values:
        text = "" if value is None else str(value)
        if text:
            forms.update(_url_forms(text))
            forms.update(_json_forms(text))
            forms.update(_repr_forms(text))
            forms.add(text)
    return sorted(forms, key=lambda form: (-len(form), form))


def redact(data, forms, mask=MASK):
    """A copy of ``data`` (a string, or dicts, lists and tuples of them, keys included) with every form masked.

    Other values are kept as they are. A form made only of the mask's characters cannot be told apart from the
    mask, so the result may still contain it.
    """
    forms = sorted(set(form for form in forms if form), key=len, reverse=True)
    if not forms:
        return _copy(data, lambda text: text)
    every_form = _alternation(forms)
    # Masking can join a form's neighbours into another form (a secret "x*" in "xx*" leaves "x" + mask): mask again
    # until none is left. Every pass removes characters that are not in the mask and adds none, so this ends.
    telling = [form for form in forms if set(form) - set(mask)]
    leftover = _alternation(telling) if telling else None

    def mask_text(text):
        text = every_form.sub(lambda _match: mask, text)
        while leftover is not None and leftover.search(text):
            text = leftover.sub(lambda _match: mask, text)
        return text

    return _copy(data, mask_text)


def _url_forms(text):
    forms = set()
    for encode in (quote, quote_plus):
        for safe in ("", "/"):
            encoded = encode(text, safe=safe, errors="surrogatepass")
            forms.add(encoded)
            forms.add(_PERCENT_ESCAPE.sub(lambda match: match.group(0).lower(), encoded))
    return forms


def _json_forms(text):
    forms = set()
    for ascii_only in (True, False):
        escaped = json.dumps(text, ensure_ascii=ascii_only)[1:-1]
        forms.add(escaped)
        forms.add(escaped.replace("/", "\\/"))  # json.dumps never escapes a slash; other encoders do
    return forms


def _repr_forms(text):
    forms = set()
    for value, both_quotes in ((text, _BOTH_QUOTES), (text.encode("latin-1", "replace"), _BOTH_QUOTES.encode("ascii")),
                               (text.encode("utf-8", "surrogatepass"), _BOTH_QUOTES.encode("ascii"))):
        forms.add(_repr_body(value))
        forms.add(_repr_body(both_quotes + value)[len(_repr_body(both_quotes)):])
    return forms


def _repr_body(value):
    """The inside of repr() of a str or bytes: no b prefix, no quotes."""
    shown = repr(value)
    return shown[shown.index(shown[-1]) + 1:-1]


def _alternation(forms):
    return re.compile("|".join(re.escape(form) for form in forms))


def _copy(data, convert):
    if isinstance(data, str):
        return convert(data)
    if isinstance(data, dict):
        return dict((_copy(key, convert), _copy(value, convert)) for key, value in data.items())
    if isinstance(data, list):
        return [_copy(item, convert) for item in data]
    if isinstance(data, tuple):
        return tuple(_copy(item, convert) for item in data)
    return data
