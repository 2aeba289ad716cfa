"""Our answers laid beside the envelopes captured from live netFORUM tenants (../shared/reference/xweb/captured/):
identical once the values that legitimately differ (tokens, keys, dates, the tenant's address, GUIDs) and the
indentation are set aside. Both are canonicalized (inclusive C14N: every namespace declaration, prefix and attribute
counts), so a `tns:` prefix, a missing xmlns:xsd on the envelope or a header without its soap:actor is a difference.

The captures are not copied into the project: where ../shared is absent these tests skip. Captures of operations the
emulator does not have are compared with an emulated operation of the same shape (a String result with the token
header; an xWeb fault of the same kind), the operation's name set aside too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from lxml import etree

from support import CAPTURED, XWEB, canonical

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
SAMPLE_PREFERENCES_CUSTOMER = "fadff57b-c6ef-4130-be1e-07000a38056f"  # the customer of the seed's samples

pytestmark = pytest.mark.skipif(not CAPTURED.is_dir(), reason=(
    f"the captured xWeb envelopes ({CAPTURED}) are not on this machine: they live beside the project, not in it"))


def captured(name: str) -> bytes:
    return (CAPTURED / name).read_bytes()


def soap(emulator, operation: str, body: str = "", token: str | None = None) -> requests.Response:
    return emulator.soap(operation, body, token)


def credentials(emulator, user: str | None = None, password: str | None = None) -> str:
    return (f"<ns:userName>{user or emulator.settings.xweb_user}</ns:userName>"
            f"<ns:password>{password or emulator.settings.xweb_password}</ns:password>")


def test_authenticate_success_as_captured(emulator):
    response = soap(emulator, "Authenticate", credentials(emulator))

    assert response.status_code == 200
    assert canonical(response.content) == canonical(captured("authenticate_success.xml"))


def test_authenticate_failure_as_captured(emulator):
    response = soap(emulator, "Authenticate", credentials(emulator, password="not the password"))

    assert response.status_code == 500
    assert canonical(response.content) == canonical(captured("authenticate_failure.xml"))


def test_a_string_result_with_the_token_header_as_captured(emulator):
    """WebValidate (not emulated) answers a String with the token header: as GetVersion does."""
    response = soap(emulator, "GetVersion", token=emulator.authenticate())

    assert response.status_code == 200
    assert canonical(response.content, {"GetVersion": "WebValidate"}, values=False) == canonical(
        captured("web_validate_success.xml"), values=False)


def test_get_individual_information_failure_as_captured(emulator):
    response = soap(emulator, "GetIndividualInformation",
                    "<ns:IndividualKey>3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa</ns:IndividualKey>",
                    emulator.authenticate())

    assert response.status_code == 500
    assert canonical(response.content) == canonical(captured("get_individual_information_failure.xml"))


def test_get_individual_information_success_as_captured(emulator):
    """The captured individual, seeded: the same envelope, the same elements in the same order, the same values for
    every column the emulator keeps; the address, fax and job title it does not keep are empty."""
    emulator.seed({"xweb": {"Individual": [{
        "ind_cst_key": "3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa", "ind_prf_code": "Mr.", "ind_first_name": "Sergey",
        "ind_last_name": "Yushkevich", "ind_int_code": "IRWA Staff", "ind_badge_name": "Sergey",
        "cst_id": "007881250I", "cst_member_flag": "1", "cst_phn_number_complete_dn": "(310)538-0233 (127)",
        "eml_address": "yushkevich@irwaonline.org"}]}})
    response = soap(emulator, "GetIndividualInformation",
                    "<ns:IndividualKey>3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa</ns:IndividualKey>",
                    emulator.authenticate())
    assert response.status_code == 200

    unkept = {"ixo_title", "fax_number", "adr_line1", "adr_line2", "adr_line3", "adr_city", "adr_state",
              "adr_post_code", "adr_country"}

    def without_unkept_values(document: bytes) -> bytes:
        root = etree.fromstring(document)
        for record in root.iter(f"{{{XWEB}}}IndividualObject"):
            for column in record:
                if etree.QName(column).localname in unkept:
                    column.text = None
        return etree.tostring(root)

    assert canonical(without_unkept_values(response.content)) == canonical(
        without_unkept_values(captured("get_individual_information_success.xml")))


def test_answers_are_written_as_asmx_writes_them(emulator):
    """Byte-level habits a hand-rolled parser may depend on: the declaration in double quotes, unprefixed elements
    under a default namespace, `<x />` with its space."""
    token = emulator.authenticate()
    response = soap(emulator, "GetFacadeObject", f"<ns:szObjectName>Individual</ns:szObjectName>"
                                                 f"<ns:szObjectKey>{SAMPLE_CUSTOMER}</ns:szObjectKey>", token)
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.'
                           'org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http:'
                           '//www.w3.org/2001/XMLSchema"><soap:Header><AuthorizationToken xmlns="http://www.avectra.com'
                           '/2005/"><Token>')
    assert ('<GetFacadeObjectResponse xmlns="http://www.avectra.com/2005/"><GetFacadeObjectResult><IndividualObjects '
            in text)
    assert "<ind_mid_name />" in text
    assert "tns:" not in text and "/>" not in text.replace(" />", "")


SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def seed_sample_response(seed: str) -> bytes:
    """The 'Sample Response' envelope a vendor seed document shows."""
    text = (SEEDS / seed).read_text(encoding="utf-8")
    start = text.index("<soap:Envelope", text.index("Sample Response"))
    return text[start:text.index("</soap:Envelope>", start) + len("</soap:Envelope>")].encode()


def test_set_preferences_answers_the_vendors_sample_byte_for_byte_but_the_token(emulator):
    setting = "<ns:MailingListSetting><ns:mailing_list_key>{key}</ns:mailing_list_key><ns:status>OptIn</ns:status>" \
              "</ns:MailingListSetting>"
    mailing_list = emulator.state("xweb", "MailingList")[0]["mlt_key"]
    response = soap(emulator, "SetCustomerCommunicationPreferences",
                    f"<ns:customerKey>{SAMPLE_PREFERENCES_CUSTOMER}</ns:customerKey>"
                    f"<ns:preferences>{setting.format(key=mailing_list)}</ns:preferences>", emulator.authenticate())

    assert response.status_code == 200, response.text
    sample = seed_sample_response("xweb-set-customer-communication-preferences.txt").replace(
        b"**************", b"00000000-0000-0000-0000-000000000000")
    assert canonical(response.content) == canonical(sample)
