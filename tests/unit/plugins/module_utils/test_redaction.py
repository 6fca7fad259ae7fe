# Copyright: hwcloud.dms contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking secrets: every spelling an echo can give a secret, in any nesting of strings, dicts, lists and tuples."""

from __future__ import annotations

import json
import re
import string
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlencode

from hypothesis import assume, given, settings, strategies as st

from ansible_collections.hwcloud.dms.plugins.module_utils.redaction import MASK, redact, secret_forms

# What the options accept for credentials (printable ASCII without spaces), and any text at all.
CREDENTIALS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
SECRETS = CREDENTIALS | st.text(min_size=1, max_size=20)
# Secrets made only of the mask's characters cannot be told apart from the mask.
TELLING_SECRETS = SECRETS.filter(lambda secret: set(secret) - set(MASK))


def echoes(secret):
    """How libraries and gateways write a secret they echo, produced by those libraries, not by the module under test."""
    written = {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "json-unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json-slash": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "repr": repr(secret)[1:-1],
        "repr-beside-a-double-quote": repr("\"'" + secret)[4:-1],
        "bytes-repr-latin-1": repr(secret.encode("latin-1", "replace"))[2:-1],
        "bytes-repr-utf-8": repr(secret.encode("utf-8"))[2:-1],
        "url-path": quote(secret),
        "url-component": quote(secret, safe=""),
        "url-form": urlencode({"t": secret})[2:],
        "url-form-slash": quote_plus(secret, safe="/"),
    }
    for name, text in list(written.items()):
        if name.startswith("url-"):
            written[name + "-lower-hex"] = re.sub("%[0-9A-F]{2}", lambda match: match.group(0).lower(), text)
    return written


# ------------------------------------------------------------------------------------------------
# secret_forms


def test_forms_of_a_token_with_a_space_and_a_slash():
    forms = secret_forms(["a b/c"])
    for form in ("a b/c", "a%20b%2Fc", "a%20b%2fc", "a+b%2Fc", "a+b%2fc", "a%20b/c", "a+b/c", "a b\\/c"):
        assert form in forms


def test_forms_of_a_value_with_quotes_and_a_line_break():
    forms = secret_forms(["x'\"\n\u00e9"])
    assert "x'\\\"\\n\\u00e9" in forms  # JSON
    assert "x\\'\"\\n\u00e9" in forms  # repr of the str
    assert "x\\'\"\\n\\xe9" in forms  # repr of the latin-1 bytes
    assert "x\\'\"\\n\\xc3\\xa9" in forms  # repr of the UTF-8 bytes


def test_empty_values_have_no_forms():
    assert secret_forms([]) == []
    assert secret_forms(["", None]) == []
    assert secret_forms(["", "t"]) == ["t"]


def test_forms_are_longest_first_and_unique():
    forms = secret_forms(["a b", "a b/c d", "a b"])
    assert [len(form) for form in forms] == sorted((len(form) for form in forms), reverse=True)
    assert len(forms) == len(set(forms))


def forms_http_client_used(value):
    """The forms http_client masked before this module existed: as sent, and as quoted in a str or latin-1 repr."""
    return {value, repr(value)[1:-1], repr(value.encode("latin-1", "replace"))[2:-1]}


@settings(max_examples=200, deadline=None)
@given(SECRETS)
def test_forms_cover_every_echo(secret):
    forms = set(secret_forms([secret]))
    assert forms_http_client_used(secret) <= forms
    missing = dict((name, text) for name, text in echoes(secret).items() if text not in forms)
    assert not missing


# ------------------------------------------------------------------------------------------------
# redact: explicit cases


TOKEN = "MIIx+ab/cd=="


def test_a_token_echoed_url_encoded_in_an_error_body_is_masked():
    body = {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information: token MIIx%2Bab%2Fcd%3D%3D rejected"
                                                    " (redirect https://iam.example.com/login?t=MIIx%2bab%2fcd%3d%3d)"}
    result = redact(body, secret_forms([TOKEN]))
    assert result == {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information: token %s rejected"
                                                              " (redirect https://iam.example.com/login?t=%s)" % (MASK, MASK)}
    assert "MIIx" not in json.dumps(result)


def test_a_token_in_a_json_error_body_with_escaped_slashes_is_masked():
    text = '{"error_msg":"bad token MIIx+ab\\/cd=="}'
    assert redact(text, secret_forms([TOKEN])) == '{"error_msg":"bad token %s"}' % MASK


def test_a_header_value_quoted_by_requests_is_masked():
    token = "tok\nen"
    message = "Invalid leading whitespace, reserved character(s), or return character(s) in header value: %r" % token.encode("latin-1")
    assert redact(message, secret_forms([token])).endswith("header value: b'%s'" % MASK)


def test_nesting_keys_and_types_are_kept_and_the_input_is_left_alone():
    data = {"tok": ["x tok y", ("tok", 3, None, True)], 5: {"k": b"tok"}}
    original = json.loads(json.dumps(data, default=repr))
    result = redact(data, secret_forms(["tok"]))
    assert result == {MASK: ["x %s y" % MASK, (MASK, 3, None, True)], 5: {"k": b"tok"}}  # bytes are not text: kept
    assert json.loads(json.dumps(data, default=repr)) == original


def test_the_longest_form_is_masked_whole():
    assert redact("a%20b and a b", secret_forms(["a b"])) == "%s and %s" % (MASK, MASK)
    assert redact("ab abc", ["ab", "abc"]) == "%s %s" % (MASK, MASK)  # not "******** ********c"


def test_masking_again_what_masking_joined():
    # "xx*" holds "x*" once; masking it leaves "x" + mask, which holds "x*" again.
    result = redact("xx*", secret_forms(["x*"]))
    assert "x" not in result and result == "*" * len(result)


def test_another_mask():
    assert redact(["s3cret!"], secret_forms(["s3cret!"]), mask="[hidden]") == ["[hidden]"]


def test_no_forms_give_an_equal_copy():
    data = {"a": ["b", ("c",)]}
    result = redact(data, [])
    assert result == data and result is not data and result["a"] is not data["a"]


# ------------------------------------------------------------------------------------------------
# redact: properties


class Text:  # pylint: disable=too-few-public-methods
    """A string of the template: filler around holes, each hole naming the echo that fills it."""

    def __init__(self, first, holes):
        self.first = first
        self.holes = tuple(holes)  # (echo name, filler after it)

    def write(self, written, hole):
        return self.first + "".join(hole(written[name]) + after for name, after in self.holes)


@st.composite
def templates(draw):
    """A secret, and a nested structure of text where every hole holds one echo of it, in keys and values."""
    secret = draw(TELLING_SECRETS)
    written = echoes(secret)
    # Filler that cannot meet an echo, a form or the mask: letters and digits none of them uses; it keeps holes apart.
    used = set("".join(written.values())) | set("".join(secret_forms([secret]))) | set(MASK)
    alphabet = [char for char in string.ascii_letters + string.digits if char not in used]
    assume(alphabet)
    gap = st.text(alphabet=alphabet, min_size=1, max_size=6)
    text = st.builds(Text, gap, st.lists(st.tuples(st.sampled_from(sorted(written)), gap), max_size=3))
    structure = draw(st.recursive(
        text,
        lambda children: st.lists(children, max_size=3) | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(text, children, max_size=3),
        max_leaves=6,
    ))
    return secret, written, structure


def fill(template, written, hole):
    if isinstance(template, Text):
        return template.write(written, hole)
    if isinstance(template, dict):
        return dict((fill(key, written, hole), fill(value, written, hole)) for key, value in template.items())
    if isinstance(template, list):
        return [fill(item, written, hole) for item in template]
    return tuple(fill(item, written, hole) for item in template)


def strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings(key)
            yield from strings(value)
    else:
        for item in data:
            yield from strings(item)


def views(data):
    """Where a secret could still be read in written-out data: its JSON, its repr, each string URL-encoded or decoded."""
    found = {"json": json.dumps(data), "json-unicode": json.dumps(data, ensure_ascii=False), "repr": repr(data)}
    for number, text in enumerate(strings(data)):
        found.update({"quote-%d" % number: quote(text, safe=""), "quote-plus-%d" % number: quote_plus(text),
                      "unquote-%d" % number: unquote(text), "unquote-plus-%d" % number: unquote_plus(text)})
    return found


def readable(secret, data):
    """The views of data that show the secret in one of its spellings."""
    written = set(echoes(secret).values())
    return sorted(name for name, text in views(data).items() if any(form in text for form in written))


@settings(max_examples=200, deadline=None)
@given(templates())
def test_every_echo_is_masked_and_nothing_else(case):
    secret, written, template = case
    data = fill(template, written, lambda echo: echo)
    result = redact(data, secret_forms([secret]))
    expected = fill(template, written, lambda echo: MASK)
    # Where the mask or the structure itself spells the secret (a secret of "', '" in a repr), no view can tell.
    assume(not readable(secret, expected))
    assert not readable(secret, result)
    assert result == expected


@settings(max_examples=200, deadline=None)
@given(TELLING_SECRETS, st.text(max_size=30), st.text(max_size=30))
def test_no_echo_survives_in_any_surroundings(secret, before, after):
    forms = secret_forms([secret])
    for text in echoes(secret).values():
        result = redact(before + text + after, forms)
        assert not any(form in result for form in forms)
