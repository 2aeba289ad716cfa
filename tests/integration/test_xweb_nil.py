"""Nil is not a value (issue 11 part 2): a record member sent with xsi:nil="true" — or a JSON null — is "not sent": it
never clears a column and never replaces a key. An element sent empty (`<x />`, "") clears a non-key column; an
empty key (a GUID column, av_key_Type in the vendor's WSDL) is left as it is.

The vendor's samples are sent as a .NET proxy serializes them: every member of the object, the unset ones nil (see
tests/system/test_dotnet_client.py for the envelopes a proxy really sends), over raw SOAP and over JSON.
"""

from __future__ import annotations

import json

import pytest
import requests

from support import (
    AUDIT_COLUMNS,
    FULL_PHONE,
    FULL_XREF,
    MOBILE_PHONE_TYPE,
    PREFERENCES_CUSTOMER,
    SAMPLE_CUSTOMER,
    WORK_PHONE_TYPE,
    XWEB,
    parse,
)


# Every member of the CustomerPhoneType sections a proxy sends (the flags, unsigned bytes, it leaves out unset).
XREF_MEMBERS = ("cph_key", "cph_cst_key", "cph_phn_key", "cph_pht_key", "cph_add_user", "cph_add_date",
                "cph_change_user", "cph_change_date", "cph_phn_number_complete", "cph_extension")
PHONE_MEMBERS = ("phn_key", "phn_cst_key_owner", "phn_number", "phn_number_display", "phn_cty_key", "phn_add_user",
                 "phn_add_date", "phn_change_user", "phn_change_date")


def sections(xref: dict, phone: dict) -> dict:
    """The two sections with every member: what is given set, the rest None (nil, JSON null)."""
    return {"Phone_XRef": {name: xref.get(name) for name in XREF_MEMBERS},
            "Phone": {name: phone.get(name) for name in PHONE_MEMBERS}}


def soap_members(record: dict) -> str:
    """None as a .NET proxy sends an unset member (xsi:nil), "" as an empty element."""
    return "".join(f'<ns:{name} xsi:nil="true" />' if value is None else f"<ns:{name} />" if value == "" else
                   f"<ns:{name}>{value}</ns:{name}>" for name, value in record.items())


def soap_facade(operation: str, current_key: str | None, parts: dict) -> str:
    key = f"<ns:CurrentKey>{current_key}</ns:CurrentKey>" if current_key else '<ns:CurrentKey xsi:nil="true" />'
    body = "".join(f"<ns:{name}>{soap_members(record)}</ns:{name}>" for name, record in parts.items())
    return (f'<ns:oFacadeObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{key}{body}'
            f"</ns:oFacadeObject>")


def call(emulator, wire: str, operation: str, current_key: str | None, parts: dict) -> object:
    """The operation over SOAP (raw envelope) or JSON; its result (SOAP: the result element)."""
    if wire == "soap":
        response = emulator.soap(operation, soap_facade(operation, current_key, parts), emulator.authenticate())
        assert response.status_code == 200, response.text
        return parse(response).find(f".//{{{XWEB}}}{operation}Result")
    body = {operation: {"oFacadeObject": {"CurrentKey": current_key, **parts}}}
    response = requests.post(emulator.json_url(operation), data=json.dumps(body), timeout=30,
                             auth=(emulator.settings.xweb_user, emulator.settings.xweb_password),
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def one(emulator, object_name: str, **filters: str) -> dict:
    (record,) = emulator.state("xweb", object_name, **filters)
    return record


def stored_phone(emulator) -> dict:
    return {"phone": one(emulator, "Phone", phn_key=FULL_PHONE["phn_key"]),
            "xref": one(emulator, "CustomerPhone", cph_key=FULL_XREF["cph_key"])}


def changes(before: dict, after: dict) -> dict:
    return {(record, name): after[record][name] for record in before for name in before[record]
            if before[record][name] != after[record][name] and name not in AUDIT_COLUMNS}


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_sparse_phone_update_changes_only_what_was_set(emulator, wire):
    """The vendor's WEBPhoneUpdate sample (the phone type and the number), every other member nil/null."""
    emulator.seed({"xweb": {"Phone": [FULL_PHONE], "CustomerPhone": [FULL_XREF]}})
    before = stored_phone(emulator)

    call(emulator, wire, "WEBPhoneUpdate", FULL_XREF["cph_key"],
         sections({"cph_pht_key": MOBILE_PHONE_TYPE}, {"phn_number": "800-555-0899"}))

    assert changes(before, stored_phone(emulator)) == {
        ("phone", "phn_number"): "800-555-0899", ("xref", "cph_pht_key"): MOBILE_PHONE_TYPE}


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_empty_members_clear_columns_but_not_keys(emulator, wire):
    """Sent empty (`<x />`, ""): a non-key column is cleared; a key (av_key_Type: phn_cst_key_owner, phn_cty_key,
    whatever its name) is left as it is."""
    emulator.seed({"xweb": {"Phone": [FULL_PHONE], "CustomerPhone": [FULL_XREF]}})
    before = stored_phone(emulator)

    call(emulator, wire, "WEBPhoneUpdate", FULL_XREF["cph_key"], sections(
        {"cph_extension": ""}, {"phn_number_display": "", "phn_cst_key_owner": "", "phn_cty_key": ""}))

    assert changes(before, stored_phone(emulator)) == {
        ("phone", "phn_number_display"): None, ("xref", "cph_extension"): None}


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_phone_insert_with_unset_members_gets_the_default_owner_and_type(emulator, wire):
    """WEBPhoneInsert as a proxy sends it: the owner and the phone type nil, so netFORUM's defaults apply."""
    inserted = call(emulator, wire, "WEBPhoneInsert", None,
                    sections({"cph_cst_key": PREFERENCES_CUSTOMER}, {"phn_number": "800-555-0700"}))

    phn_key = inserted.findtext(f"{{{XWEB}}}Phone/{{{XWEB}}}phn_key") if wire == "soap" else inserted["Phone"]["phn_key"]
    phone = one(emulator, "Phone", phn_key=phn_key)
    assert (phone["phn_number"], phone["phn_cst_key_owner"], phone["phn_number_display"]) == (
        "800-555-0700", PREFERENCES_CUSTOMER, None)
    assert one(emulator, "CustomerPhone", cph_phn_key=phn_key)["cph_pht_key"] == WORK_PHONE_TYPE


ACTIVITY = {"cma_cst_key": SAMPLE_CUSTOMER, "cma_activity_id": "1325645", "cma_activity_code": "Sent",
            "cma_eml_address": "someone@somewhere.com", "cma_activity_date": "03/12/2012 13:44:55.892"}
ACTIVITY_MEMBERS = ("cma_key", "cma_cst_key", "cma_eml_key", "cma_eml_address", "cma_activity_date",
                    "cma_activity_id", "cma_message_id", "cma_recipient_id", "cma_activity_code",
                    "cma_activity_subcode")


def insert_activity(emulator, wire: str, record: dict) -> requests.Response:
    """InsertFacadeObject of one CustomerMessagingActivity with every member of `record`, None ones nil (SOAP) or
    null (JSON), as a .NET client sends them."""
    if wire == "soap":
        node = (f'<ns:oNode xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ns:CustomerMessagingActivityObjects>'
                f"<ns:CustomerMessagingActivityObject>{soap_members(record)}</ns:CustomerMessagingActivityObject>"
                f"</ns:CustomerMessagingActivityObjects></ns:oNode>")
        return emulator.soap("InsertFacadeObject", f"<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName>"
                                                   f"{node}", emulator.authenticate())
    body = {"InsertFacadeObject": {"szObjectName": "CustomerMessagingActivity", "oNode": {
        "CustomerMessagingActivityObjects": {"CustomerMessagingActivityObject": record}}}}
    return requests.post(emulator.json_url("InsertFacadeObject"), json=body, timeout=30,
                         auth=(emulator.settings.xweb_user, emulator.settings.xweb_password))


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_insert_facade_object_with_nil_members(emulator, wire):
    """InsertFacadeObject with every column, the unset ones nil/null: a nil key is a new key, nil columns empty."""
    response = insert_activity(emulator, wire, {name: ACTIVITY.get(name) for name in ACTIVITY_MEMBERS})

    assert response.status_code == 200, response.text
    if wire == "soap":
        key = parse(response).findtext(f".//{{{XWEB}}}cma_key")
    else:
        key = response.json()["CustomerMessagingActivityObjects"]["CustomerMessagingActivityObject"]["cma_key"]
    stored = one(emulator, "CustomerMessagingActivity", cma_key=key)
    assert {name: stored[name] for name in ACTIVITY if name != "cma_activity_date"} == {
        name: value for name, value in ACTIVITY.items() if name != "cma_activity_date"}
    assert (stored["cma_eml_key"], stored["cma_message_id"], stored["cma_activity_subcode"]) == (None, None, None)


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_a_nil_required_column_is_not_sent(emulator, wire):
    """A required column sent nil is missing, not an empty value the record could be stored with."""
    record = {**{name: ACTIVITY.get(name) for name in ACTIVITY_MEMBERS}, "cma_cst_key": None}

    response = insert_activity(emulator, wire, record)

    assert response.status_code == 500
    assert "cma_cst_key is required." in response.text
