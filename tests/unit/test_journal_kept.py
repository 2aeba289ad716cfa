"""What the journal keeps of a body (journal.kept): its first bytes with their secrets masked, wherever the cut falls,
a secret the cut runs through included."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from xweb_emulator.journal import kept

SECRET = "ʘʘsecretʘʘ"  # characters no envelope below holds otherwise
SOAP_PASSWORD = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 b'<Authenticate xmlns="http://www.avectra.com/2005/"><userName>someone</userName>'
                 b"<password>" + SECRET.encode() + b"</password></Authenticate></soap:Body></soap:Envelope>")
SIGN_ON = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
           b'<WebValidate xmlns="http://www.avectra.com/2005/"><authenticationToken>' + SECRET.encode()
           + b"</authenticationToken></WebValidate></soap:Body></soap:Envelope>")
JSON_PASSWORD = json.dumps({"username": "demo", "password": SECRET, "organisation": "demo"}).encode()
FORM = b"userLoginPlain=someone&passwordPlain=" + SECRET.encode() + b"&keyOverride="
BODIES = (SOAP_PASSWORD, SIGN_ON, JSON_PASSWORD, FORM)


@given(st.sampled_from(BODIES), st.integers(min_value=0, max_value=400))
def test_no_part_of_a_secret_is_kept_wherever_the_body_is_cut(body, limit):
    text, truncated = kept(body, limit)

    assert "ʘ" not in text and "secret" not in text
    assert truncated is (len(body) > limit)
    assert len(text) <= limit or not truncated


def test_a_body_within_the_limit_is_kept_whole_its_secret_masked():
    text, truncated = kept(SOAP_PASSWORD, len(SOAP_PASSWORD))

    assert truncated is False
    assert text == SOAP_PASSWORD.decode().replace(SECRET, "***")


def test_a_cut_through_a_secret_masks_it_to_the_cut():
    cut = SOAP_PASSWORD.index(b"secret")

    assert kept(SOAP_PASSWORD, cut) == (SOAP_PASSWORD[:SOAP_PASSWORD.index(b"<password>")].decode()
                                        + "<password>***", True)  # the secret's first 4 bytes cut: room for ***
    assert kept(JSON_PASSWORD, JSON_PASSWORD.index(b"secret"))[0].endswith('"password": "***')


def test_a_cut_after_a_secret_keeps_what_comes_before_the_cut_as_it_was():
    limit = SOAP_PASSWORD.index(b"</Authenticate>")

    assert kept(SOAP_PASSWORD, limit) == (SOAP_PASSWORD[:limit].decode().replace(SECRET, "***"), True)
