"""WEBIndividual* and WEBEmail* (issue 10 part 5): typed as in the vendor's WSDL (IndividualType, CustomerEmailType),
over raw SOAP and the JSON twin, and through zeep bound to the served WSDL and to the vendor's, on both backends.

1. WEBIndividualInsert answers the whole individual with its keys filled; WEBIndividualGet reads it back;
2. WEBIndividualUpdate changes only what was sent (the ICC client's shape: an empty CurrentKey, the Individual and
   an Email with an empty eml_key), sent as a .NET proxy sends it (every unset member nil) or as JSON nulls;
3. WEBEmail*: a customer's e-mails, eml_primary switching its primary (cst_eml_key, cst_eml_address_dn follow);
4. bad input: the vendor's fault, nothing written;
5. zeep, served and vendor WSDL.
Every write fills the change columns of the rows it writes, and the tests compare every other stored column.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import requests
import zeep
from lxml import etree

from support import NS, SAMPLE_CUSTOMER, SOAP_ENV, XWEB, fault, parse
from xweb_emulator.xweb.models import Customer, Email, Individual

VENDOR_WSDL = Path(__file__).resolve().parents[3] / "shared" / "reference" / "xweb" / "xWeb-2010.wsdl"
VENDOR_BINDING = f"{{{XWEB}}}netForumXMLSoap"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

SAMPLE_EMAIL = "5b0d9b1e-4c1a-4f43-9a9e-0d6f4a2c7e01"  # the sample customer's primary e-mail (xweb/seed.py)
ADA = "7d1b8f3a-0c55-4f0e-9d7e-5b2f1c3a4e60"
ADA_EMAIL = "7d1b8f3a-0c55-4f0e-9d7e-5b2f1c3a4e61"
ADA_OTHER_EMAIL = "7d1b8f3a-0c55-4f0e-9d7e-5b2f1c3a4e62"
# An individual whose every kept column holds a value, for a sparse update to leave alone.
FULL_INDIVIDUAL = {
    "ind_cst_key": ADA, "ind_prf_code": "Ms.", "ind_first_name": "Ada", "ind_mid_name": "Augusta",
    "ind_last_name": "Lovelace", "ind_sfx_code": "Jr.", "ind_designation": "FRS", "ind_dob": "12/10/1815",
    "ind_gender": "F", "ind_badge_name": "Ada", "ind_int_code": "Analyst", "ind_deceased_flag": "1",
    "cst_id": "000007", "cst_recno": "7", "cst_member_flag": "1", "cst_no_email_flag": "0", "cst_no_phone_flag": "1",
    "cst_eml_key": ADA_EMAIL, "cst_eml_address_dn": "ada@example.org",
}
ADA_EMAILS = [
    {"eml_key": ADA_EMAIL, "eml_cst_key": ADA, "eml_address": "ada@example.org", "eml_type": "business",
     "eml_primary": "1"},
    {"eml_key": ADA_OTHER_EMAIL, "eml_cst_key": ADA, "eml_address": "ada@home.example.org", "eml_type": "personal",
     "eml_unlisted_flag": "1", "eml_invalid_flag": "0", "eml_invalid_reason": "none"},
]
# The vendor's sections the emulator does not keep: accepted, not kept, read back absent.
UNKEPT = {"Business_Address": {"adr_line1": "12 St James's Square", "adr_city": "London"},
          "Home_Phone": {"phn_number": "020 7946 0000"}}
# Every section of the vendor's IndividualType, for zeep (which wants them all named: SkipValue leaves one out).
INDIVIDUAL_SECTIONS = (
    "Individual", "Customer", "Address_Change_Log", "TransferToCustomer", "Organization_XRef", "Organization",
    "Email", "Website", "Messaging", "Business_Address", "Business_Address_XRef", "Business_Address_Country",
    "Business_Phone", "Business_Phone_Country", "Business_Phone_XRef", "Business_Fax", "Business_Fax_Country",
    "Business_Fax_XRef", "Home_Address", "Home_Address_Country", "Home_Address_XRef", "Home_Phone",
    "Home_Phone_Country", "Home_Phone_XRef", "Home_Fax", "Home_Fax_Country", "Home_Fax_XRef",
)


# ------------------------------------------------------------------------------------------------------- helpers


class Xml(str):
    """Content sent as it is (an XmlNode parameter's)."""


def members(value: dict) -> str:
    """A typed object's XML as a .NET proxy writes it: None as xsi:nil (an unset member), "" as an empty element."""
    parts = []
    for name, item in value.items():
        if isinstance(item, Xml):
            parts.append(f"<{name}>{item}</{name}>")
        elif item is None:
            parts.append(f'<{name} xsi:nil="true" />')
        elif isinstance(item, dict):
            parts.append(f"<{name}>{members(item)}</{name}>")
        elif item == "":
            parts.append(f"<{name} />")
        else:
            parts.append(f"<{name}>{escape(str(item))}</{name}>")
    return "".join(parts)


def element_record(element: etree._Element) -> object:
    """A result element as JSON.NET reads it: {local name: text or nested record}, attributes as "@name", a repeated
    element a list; an empty leaf None."""
    children = [child for child in element if isinstance(child.tag, str)]
    record: dict = {f"@{name}": value for name, value in element.attrib.items()}
    if not children:
        return record or element.text
    for child in children:
        name, value = etree.QName(child).localname, element_record(child)
        if name not in record:
            record[name] = value
        elif isinstance(record[name], list):
            record[name].append(value)
        else:
            record[name] = [record[name], value]
    return record


def without_nulls(value: object) -> object:
    """A result without its null members and empty sections: SOAP leaves a typed object's null members out (and its
    sections all null empty), JSON writes them null (and those sections {})."""
    if isinstance(value, dict):
        value = {name: without_nulls(item) for name, item in value.items()}
        return {name: item for name, item in value.items() if item not in (None, {})}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def soap(emulator, operation: str, **params: object) -> requests.Response:
    token = emulator.authenticate()
    body = members(params)
    envelope = (f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:xsi="{XSI}"><soap:Header>'
                f'<AuthorizationToken xmlns="{XWEB}"><Token>{token}</Token></AuthorizationToken></soap:Header>'
                f'<soap:Body><{operation} xmlns="{XWEB}">{body}</{operation}></soap:Body></soap:Envelope>')
    return emulator.post_soap(operation, envelope.encode())


def json_call(emulator, operation: str, **params: object) -> requests.Response:
    return requests.post(emulator.json_url(operation), data=json.dumps({operation: params}), timeout=30,
                         auth=(emulator.settings.xweb_user, emulator.settings.xweb_password),
                         headers={"Content-Type": "application/json"})


def call(emulator, wire: str, operation: str, **params: object) -> object:
    """The operation's result over SOAP (the result element read as JSON.NET would; true/false as a bool) or JSON,
    null members left out."""
    if wire == "json":
        response = json_call(emulator, operation, **params)
        assert response.status_code == 200, response.text
        return without_nulls(response.json())
    response = soap(emulator, operation, **params)
    assert response.status_code == 200, response.text
    result = parse(response).find(f"soap:Body/x:{operation}Response/x:{operation}Result", NS)
    assert result is not None, response.text
    value = element_record(result)
    return {"true": True, "false": False}[value] if isinstance(value, str) else without_nulls(value)


def refused(emulator, wire: str, operation: str, **params: object) -> str:
    """The message of the vendor's fault the call is answered with."""
    if wire == "json":
        response = json_call(emulator, operation, **params)
        assert response.status_code == 500, response.text
        (kind, info), = response.json().items()
        assert kind == "SystemExceptionInfo"
        return info["XWebException"]["Message"]
    answered = fault(soap(emulator, operation, **params))
    assert (answered["faultcode"], answered["kind"]) == ("soap:Client", "SystemExceptionInfo"), answered
    return answered["message"]


def stored(emulator, model: type, **keys: str) -> dict:
    """The stored record the keys name: its columns (keys as text)."""
    (row,) = emulator.rows(model, **{name: uuid.UUID(key) for name, key in keys.items()})
    values = {column.name: getattr(row, column.name) for column in model.__table__.columns}
    return {name: str(value) if isinstance(value, uuid.UUID) else value for name, value in values.items()}


def ada(emulator) -> dict:
    """Everything stored of Ada: her individual, customer and e-mail records."""
    return {"individual": stored(emulator, Individual, ind_cst_key=ADA),
            "customer": stored(emulator, Customer, cst_key=ADA),
            "email": stored(emulator, Email, eml_key=ADA_EMAIL),
            "other_email": stored(emulator, Email, eml_key=ADA_OTHER_EMAIL)}


def seed_ada(emulator) -> None:
    """Ada, her two e-mails (the first her primary), and a clock an hour on, so that what a call changes shows in
    the change columns."""
    emulator.seed({"xweb": {"Individual": [FULL_INDIVIDUAL], "Email": ADA_EMAILS}})
    emulator.advance_clock(3600)


def changes(before: dict, after: dict) -> dict:
    """(record, column) → new value, for every stored column that changed."""
    return {(record, name): after[record][name] for record in before for name in before[record]
            if before[record][name] != after[record][name]}


def audit(record: str, prefix: str, after: dict) -> dict:
    return {(record, f"{prefix}_change_user"): after[record][f"{prefix}_change_user"],
            (record, f"{prefix}_change_date"): after[record][f"{prefix}_change_date"]}


NEW_INDIVIDUAL = {
    "CurrentKey": None,
    "Individual": {"ind_prf_code": "Ms.", "ind_first_name": "Grace", "ind_mid_name": None,
                   "ind_last_name": "Hopper", "ind_designation": "RADM", "ind_dob": "12/9/1906"},
    # Read-only and calculated columns, as a proxy sends back what it read: ignored.
    "Customer": {"cst_member_flag": "1", "cst_name_cp": "Someone Else", "cst_id": "999999", "cst_type": "Individual"},
    "Email": {"eml_key": None, "eml_address": "grace@example.org", "eml_type": None, "eml_primary": "0"},
    **UNKEPT,
}


# ----------------------------------------------------------------------------------- 1. insert, get (SOAP and JSON)


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_insert_answers_the_whole_individual_with_its_keys_filled(emulator, wire):
    inserted = call(emulator, wire, "WEBIndividualInsert", oFacadeObject=NEW_INDIVIDUAL)

    key = inserted["CurrentKey"]
    individual, customer, email = inserted["Individual"], inserted["Customer"], inserted["Email"]
    assert individual["ind_cst_key"] == customer["cst_key"] == email["eml_cst_key"] == key
    assert (individual["ind_first_name"], individual["ind_last_name"], individual["ind_dob"]) == (
        "Grace", "Hopper", "12/9/1906 12:00:00 AM")
    assert individual["ind_deceased_flag"] == "0"
    # The customer record's names follow the individual's; what it calculates is not taken from the client.
    assert (customer["cst_type"], customer["cst_name_cp"], customer["cst_sort_name_dn"],
            customer["cst_ind_full_name_dn"]) == ("Individual", "Grace Hopper", "Hopper, Grace",
                                                  "Ms. Grace Hopper")
    assert customer["cst_member_flag"] == "1"
    # Numbered as netFORUM numbers customers: the next record number, and the ID made of it and the type's initial.
    assert int(customer["cst_recno"]) > 2  # after the demo customers
    assert customer["cst_id"] == f"{int(customer['cst_recno']):09d}I"
    # The Email section is the primary e-mail, with the vendor's default type.
    assert (customer["cst_eml_key"], customer["cst_eml_address_dn"]) == (email["eml_key"], "grace@example.org")
    assert (email["eml_address"], email["eml_primary"], email["eml_type"]) == ("grace@example.org", "1", "business")
    user = emulator.settings.xweb_user
    for record, prefix in ((individual, "ind"), (customer, "cst"), (email, "eml")):
        assert record[f"{prefix}_add_user"] == record[f"{prefix}_change_user"] == user
        assert record[f"{prefix}_add_date"] == record[f"{prefix}_change_date"]
    # The sections the emulator keeps hold values; the others are empty (see the next test).
    assert list(inserted) == ["CurrentKey", "Individual", "Customer", "Email"]

    assert stored(emulator, Individual, ind_cst_key=key)["ind_designation"] == "RADM"
    assert stored(emulator, Customer, cst_key=key)["cst_eml_key"] == stored(
        emulator, Email, eml_cst_key=key)["eml_key"]


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_get_reads_back_what_insert_answered(emulator, wire):
    inserted = call(emulator, wire, "WEBIndividualInsert", oFacadeObject=NEW_INDIVIDUAL)

    assert call(emulator, wire, "WEBIndividualGet", key=inserted["CurrentKey"]) == inserted


def test_insert_answer_is_typed_as_the_vendor_declares(emulator):
    """Every section of the vendor's type in its order (none is optional there), the ones the emulator does not
    keep empty; members in the order of the vendor's sequences, null ones left out (not nil), as XmlSerializer
    writes them. Over JSON: the same sections, null members null, the others {}."""
    response = soap(emulator, "WEBIndividualInsert", oFacadeObject=NEW_INDIVIDUAL)
    result = parse(response).find("soap:Body/x:WEBIndividualInsertResponse/x:WEBIndividualInsertResult", NS)

    assert [etree.QName(child).localname for child in result] == ["CurrentKey", *INDIVIDUAL_SECTIONS]
    individual = result.find("x:Individual", NS)
    assert [etree.QName(child).localname for child in individual] == [
        "ind_cst_key", "ind_prf_code", "ind_first_name", "ind_last_name", "ind_designation", "ind_dob",
        "ind_deceased_flag", "ind_add_date", "ind_add_user", "ind_change_date", "ind_change_user", "ind_delete_flag"]
    assert all(len(result.find(f"x:{name}", NS)) == 0 for name in INDIVIDUAL_SECTIONS[2:] if name != "Email")
    assert not result.xpath("//*[@xsi:nil]", namespaces={"xsi": XSI})

    over_json = json_call(emulator, "WEBIndividualInsert", oFacadeObject=NEW_INDIVIDUAL).json()
    assert list(over_json) == ["CurrentKey", *INDIVIDUAL_SECTIONS]
    assert over_json["Individual"]["ind_mid_name"] is None and over_json["Business_Address"] == {}


def test_an_individual_without_an_e_mail_reads_back_an_empty_email_section(emulator):
    response = soap(emulator, "WEBIndividualInsert",
                    oFacadeObject={"Individual": {"ind_first_name": "Alan", "ind_last_name": "Turing"}})
    inserted = element_record(parse(response).find(".//x:WEBIndividualInsertResult", NS))

    assert inserted["Email"] is None  # <Email />
    assert inserted["Customer"].get("cst_eml_key") is None
    assert emulator.rows(Email, eml_cst_key=uuid.UUID(inserted["CurrentKey"])) == []


def test_insert_takes_the_key_the_client_chose(emulator):
    key = "0c7a9e5e-1b2d-4c3e-8f4a-5b6c7d8e9f00"
    email_key = "0c7a9e5e-1b2d-4c3e-8f4a-5b6c7d8e9f01"

    inserted = call(emulator, "json", "WEBIndividualInsert", oFacadeObject={
        "Individual": {"ind_cst_key": "{" + key.upper() + "}", "ind_last_name": "Babbage"},
        "Email": {"eml_key": email_key, "eml_cst_key": key, "eml_address": "charles@example.org"}})

    assert (inserted["CurrentKey"], inserted["Customer"]["cst_eml_key"]) == (key, email_key)


# ------------------------------------------------------------------------------------------- 2. sparse update


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_sparse_update_as_the_icc_client_sends_it_changes_only_what_was_sent(emulator, wire):
    """An empty CurrentKey (the key is Individual/ind_cst_key), the first name and an e-mail address with an empty
    eml_key (the primary), every other member nil or null: the names and the primary address follow, the rest
    stays, and the change columns of the three records changed say who and when."""
    seed_ada(emulator)
    before = ada(emulator)
    individual = {name: None for name in FULL_INDIVIDUAL if name.startswith("ind_")}
    email = {"eml_key": "", "eml_address": "countess@example.org", "eml_type": None, "eml_cst_key": None}

    # A column of the customer record a client writes, and two it does not (ignored).
    customer = {"cst_no_email_flag": "1", "cst_name_cp": "Lady Lovelace", "cst_eml_key": ADA_OTHER_EMAIL}

    assert call(emulator, wire, "WEBIndividualUpdate", oFacadeObject={
        "CurrentKey": "", "Individual": {**individual, "ind_cst_key": ADA, "ind_first_name": "Augusta"},
        "Customer": customer, "Email": email}) is True

    after = ada(emulator)
    assert changes(before, after) == {
        ("individual", "ind_first_name"): "Augusta",
        ("customer", "cst_name_cp"): "Augusta Augusta Lovelace",
        ("customer", "cst_sort_name_dn"): "Lovelace, Augusta Augusta",
        ("customer", "cst_ind_full_name_dn"): "Ms. Augusta Augusta Lovelace Jr.",
        ("customer", "cst_eml_address_dn"): "countess@example.org", ("customer", "cst_no_email_flag"): 1,
        ("email", "eml_address"): "countess@example.org",
        **audit("individual", "ind", after), **audit("customer", "cst", after), **audit("email", "eml", after),
    }
    assert after["customer"]["cst_change_user"] == emulator.settings.xweb_user
    assert after["customer"]["cst_change_date"] > before["customer"]["cst_change_date"]


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_an_email_section_naming_another_of_the_customers_e_mails_changes_that_one(emulator, wire):
    seed_ada(emulator)
    before = ada(emulator)

    assert call(emulator, wire, "WEBIndividualUpdate", oFacadeObject={
        "CurrentKey": ADA, "Email": {"eml_key": ADA_OTHER_EMAIL, "eml_invalid_flag": "1", "eml_invalid_reason": ""}}
    ) is True

    after = ada(emulator)
    assert changes(before, after) == {
        ("other_email", "eml_invalid_flag"): 1, ("other_email", "eml_invalid_reason"): None,
        **audit("individual", "ind", after), **audit("customer", "cst", after), **audit("other_email", "eml", after)}


def test_an_update_of_an_individual_without_e_mail_gives_it_a_primary_one(emulator):
    key = call(emulator, "soap", "WEBIndividualInsert",
               oFacadeObject={"Individual": {"ind_last_name": "Turing"}})["CurrentKey"]

    assert call(emulator, "soap", "WEBIndividualUpdate",
                oFacadeObject={"CurrentKey": key, "Email": {"eml_address": "alan@example.org"}}) is True

    (email,) = emulator.rows(Email, eml_cst_key=uuid.UUID(key))
    customer = stored(emulator, Customer, cst_key=key)
    assert (email.eml_primary, email.eml_type) == (1, "business")
    assert (customer["cst_eml_key"], customer["cst_eml_address_dn"]) == (str(email.eml_key), "alan@example.org")


def test_json_names_sections_without_regard_to_case(emulator):
    """As JSON.NET binds a typed parameter's members (columns are matched so on both wires)."""
    seed_ada(emulator)

    assert call(emulator, "json", "WEBIndividualUpdate", oFacadeObject={
        "currentKey": ADA, "individual": {"IND_DESIGNATION": "Countess"}}) is True

    assert stored(emulator, Individual, ind_cst_key=ADA)["ind_designation"] == "Countess"


def test_an_update_with_nothing_sent_writes_nothing(emulator):
    seed_ada(emulator)
    before = ada(emulator)

    assert call(emulator, "soap", "WEBIndividualUpdate", oFacadeObject={
        "CurrentKey": ADA, "Individual": {"ind_first_name": None}, "Customer": {"cst_name_cp": "ignored"},
        **UNKEPT}) is True

    assert ada(emulator) == before


# --------------------------------------------------------------------------------------------------- 3. WEBEmail*


def email_object(**email: object) -> dict:
    return {"CurrentKey": None, "Email": email, "Customer": None}


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_email_insert_as_primary_switches_the_customers_primary(emulator, wire):
    seed_ada(emulator)
    before = ada(emulator)

    inserted = call(emulator, wire, "WEBEmailInsert", oFacadeObject=email_object(
        eml_cst_key=ADA, eml_address="ada@work.example.org", eml_primary="1", eml_type=None))

    key = inserted["CurrentKey"]
    assert inserted["Email"]["eml_key"] == key
    assert (inserted["Email"]["eml_primary"], inserted["Email"]["eml_type"]) == ("1", "business")
    assert (inserted["Customer"]["cst_eml_key"], inserted["Customer"]["cst_eml_address_dn"]) == (
        key, "ada@work.example.org")
    after = ada(emulator)
    assert changes(before, after) == {
        ("customer", "cst_eml_key"): key, ("customer", "cst_eml_address_dn"): "ada@work.example.org",
        ("email", "eml_primary"): 0, **audit("customer", "cst", after), **audit("email", "eml", after)}


def test_email_insert_not_primary_leaves_the_customer_alone(emulator):
    seed_ada(emulator)
    before = ada(emulator)

    inserted = call(emulator, "soap", "WEBEmailInsert",
                    oFacadeObject=email_object(eml_cst_key=ADA, eml_address="ada@club.example.org"))

    assert inserted["Email"]["eml_primary"] == "0" and inserted["Customer"]["cst_eml_key"] == ADA_EMAIL
    assert ada(emulator) == before


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_email_update_changes_only_what_was_sent_and_the_primary_address_follows(emulator, wire):
    seed_ada(emulator)
    before = ada(emulator)

    assert call(emulator, wire, "WEBEmailUpdate", oFacadeObject={
        "CurrentKey": ADA_EMAIL, "Email": {"eml_key": None, "eml_address": "lovelace@example.org", "eml_type": None},
        "Customer": {"cst_key": ADA, "cst_eml_address_dn": "read-only"}}) is True

    after = ada(emulator)
    assert changes(before, after) == {
        ("email", "eml_address"): "lovelace@example.org", ("customer", "cst_eml_address_dn"): "lovelace@example.org",
        **audit("email", "eml", after), **audit("customer", "cst", after)}


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_email_update_eml_primary_makes_it_the_primary_one(emulator, wire):
    seed_ada(emulator)
    before = ada(emulator)

    assert call(emulator, wire, "WEBEmailUpdate",
                oFacadeObject={"Email": {"eml_key": ADA_OTHER_EMAIL, "eml_primary": "1"}}) is True

    after = ada(emulator)
    assert changes(before, after) == {
        ("other_email", "eml_primary"): 1, ("email", "eml_primary"): 0,
        ("customer", "cst_eml_key"): ADA_OTHER_EMAIL, ("customer", "cst_eml_address_dn"): "ada@home.example.org",
        **audit("other_email", "eml", after), **audit("email", "eml", after), **audit("customer", "cst", after)}


def test_email_update_eml_primary_0_leaves_the_customer_without_a_primary(emulator):
    seed_ada(emulator)

    assert call(emulator, "soap", "WEBEmailUpdate",
                oFacadeObject={"CurrentKey": ADA_EMAIL, "Email": {"eml_primary": "0"}}) is True

    after = ada(emulator)
    assert (after["customer"]["cst_eml_key"], after["customer"]["cst_eml_address_dn"]) == (None, None)
    assert (after["email"]["eml_primary"], after["other_email"]["eml_primary"]) == (0, 0)


@pytest.mark.parametrize("wire", ["soap", "json"])
def test_email_get_and_the_customers_list(emulator, wire):
    seed_ada(emulator)

    got = call(emulator, wire, "WEBEmailGet", key=ADA_OTHER_EMAIL)
    listed = call(emulator, wire, "WEBEmailGetEmailsByCustomer", CustomerKey=ADA)

    assert (got["CurrentKey"], got["Email"]["eml_address"], got["Email"]["eml_unlisted_flag"]) == (
        ADA_OTHER_EMAIL, "ada@home.example.org", "1")
    assert (got["Customer"]["cst_key"], got["Customer"]["cst_eml_key"]) == (ADA, ADA_EMAIL)
    results = listed["Results"]
    assert results["@recordReturn"] == "2"
    # The primary first; each record the Email section's columns.
    assert [row["eml_key"] for row in results["Result"]] == [ADA_EMAIL, ADA_OTHER_EMAIL]
    assert results["Result"][1] == got["Email"]


def test_a_customer_without_e_mails_has_an_empty_list(emulator):
    key = call(emulator, "soap", "WEBIndividualInsert",
               oFacadeObject={"Individual": {"ind_last_name": "Turing"}})["CurrentKey"]

    assert call(emulator, "soap", "WEBEmailGetEmailsByCustomer", CustomerKey=key) == {
        "Results": {"@recordReturn": "0"}}


def test_update_facade_object_eml_address_follows_the_same_primary_e_mail_rule(emulator):
    """UpdateFacadeObject's eml_address column of an Individual is its primary e-mail's address: sent, that e-mail
    changes (and cst_eml_address_dn with it); sent empty, the customer has no primary e-mail any more."""
    seed_ada(emulator)
    before = ada(emulator)

    def update(address: str) -> None:
        node = (f"<IndividualObjects><IndividualObject><eml_address>{address}</eml_address></IndividualObject>"
                "</IndividualObjects>")
        call(emulator, "soap", "UpdateFacadeObject", szObjectName="Individual", szObjectKey=ADA, oNode=Xml(node))

    update("countess@example.org")
    after = ada(emulator)
    assert changes(before, after) == {
        ("email", "eml_address"): "countess@example.org", ("customer", "cst_eml_address_dn"): "countess@example.org",
        **audit("individual", "ind", after), **audit("customer", "cst", after), **audit("email", "eml", after)}

    emulator.advance_clock(60)
    update("")
    cleared = ada(emulator)
    later = {(record, f"{prefix}_change_date"): cleared[record][f"{prefix}_change_date"]
             for record, prefix in (("individual", "ind"), ("customer", "cst"), ("email", "eml"))}
    assert changes(after, cleared) == {("customer", "cst_eml_key"): None, ("customer", "cst_eml_address_dn"): None,
                                       ("email", "eml_primary"): 0, **later}


# ------------------------------------------------------------------------------------------------ 4. bad input

GRACE = NEW_INDIVIDUAL["Individual"]
BAD_INPUT = [
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": GRACE, "Email": {"eml_type": "personal"}}},
     "Email/eml_address is required"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": {"ind_first_name": "G" * 31}}},
     "ind_first_name holds at most 30"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": GRACE, "Business_Adress": {"adr_line1": "x"}}},
     "IndividualType has no element Business_Adress"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": {**GRACE, "org_name": "x"}}},
     "Invalid column name 'org_name'"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": GRACE, "Customer": {"cst_type": "Organization"}}},
     "cst_type of an Individual is Individual"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": {**GRACE, "ind_cst_key": ADA}}},
     f"duplicate key: ind_cst_key {ADA}"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": {**GRACE, "ind_dob": "not a date"}}},
     "'not a date' is not a valid date"),
    ("WEBIndividualInsert", {"oFacadeObject": {"Individual": GRACE, "Email": {
        "eml_address": "g@example.org", "eml_key": ADA_EMAIL}}}, f"duplicate key: eml_key {ADA_EMAIL}"),
    ("WEBIndividualUpdate", {"oFacadeObject": {"CurrentKey": "", "Individual": {"ind_first_name": "x"}}},
     "CurrentKey (or Individual/ind_cst_key) is required"),
    ("WEBIndividualUpdate", {"oFacadeObject": {"CurrentKey": SAMPLE_EMAIL, "Individual": {"ind_first_name": "x"}}},
     f"no co_individual record has ind_cst_key {SAMPLE_EMAIL}"),
    ("WEBIndividualUpdate", {"oFacadeObject": {"CurrentKey": ADA, "Individual": {"ind_cst_key": SAMPLE_CUSTOMER}}},
     "ind_cst_key cannot be changed"),
    # The individual's change is valid, its e-mail's is not: neither is written.
    ("WEBIndividualUpdate", {"oFacadeObject": {"CurrentKey": ADA, "Individual": {"ind_first_name": "Augusta"},
                                               "Email": {"eml_key": SAMPLE_EMAIL, "eml_address": "x@example.org"}}},
     f"Email: eml_key: e-mail {SAMPLE_EMAIL} is not customer {ADA}'s"),
    ("WEBIndividualUpdate", {"oFacadeObject": {"CurrentKey": ADA, "Individual": {"ind_first_name": "Augusta"},
                                               "Email": {"eml_address": ""}}}, "eml_address is required"),
    ("WEBIndividualUpdate", {"oFacadeObject": {"CurrentKey": ADA, "Individual": "Augusta"}},
     "Individual must hold one element per column"),
    ("WEBIndividualGet", {"key": SAMPLE_EMAIL}, f"no co_individual record has ind_cst_key {SAMPLE_EMAIL}"),
    ("WEBIndividualGet", {"key": "Ada"}, "'Ada' is not a valid GUID"),
    ("WEBEmailInsert", {"oFacadeObject": email_object(eml_address="x@example.org")}, "eml_cst_key is required"),
    ("WEBEmailInsert", {"oFacadeObject": email_object(eml_cst_key=ADA_EMAIL, eml_address="x@example.org")},
     f"eml_cst_key: no co_customer record has cst_key {ADA_EMAIL}"),
    ("WEBEmailInsert", {"oFacadeObject": email_object(eml_cst_key=ADA, eml_address="x" * 81)},
     "eml_address holds at most 80"),
    ("WEBEmailInsert", {"oFacadeObject": email_object(eml_cst_key=ADA, eml_address="x@example.org",
                                                      eml_primary="yes")}, "'yes' is not a valid integer"),
    ("WEBEmailUpdate", {"oFacadeObject": {"CurrentKey": ADA_EMAIL, "Email": {"eml_cst_key": SAMPLE_CUSTOMER}}},
     "eml_cst_key cannot be changed"),
    ("WEBEmailUpdate", {"oFacadeObject": {"CurrentKey": ADA_EMAIL, "Email": {"eml_address": ""}}},
     "eml_address is required"),
    ("WEBEmailUpdate", {"oFacadeObject": {"CurrentKey": ADA, "Email": {"eml_address": "x@example.org"}}},
     f"no co_email record has eml_key {ADA}"),
    ("WEBEmailUpdate", {"oFacadeObject": {"Email": {"eml_address": "x@example.org"}}},
     "CurrentKey (or Email/eml_key) is required"),
    ("WEBEmailUpdate", {"oFacadeObject": {"CurrentKey": ADA_EMAIL, "Phone": {"phn_number": "1"}}},
     "CustomerEmailType has no element Phone"),
    ("WEBEmailGet", {"key": ADA}, f"no co_email record has eml_key {ADA}"),
    ("WEBEmailGetEmailsByCustomer", {"CustomerKey": ADA_EMAIL}, f"no co_customer record has cst_key {ADA_EMAIL}"),
]


@pytest.mark.parametrize("wire", ["soap", "json"])
@pytest.mark.parametrize(("operation", "params", "message"), BAD_INPUT,
                         ids=[f"{operation}-{position}" for position, (operation, _, _) in enumerate(BAD_INPUT)])
def test_bad_input_is_the_vendors_fault_and_writes_nothing(emulator, wire, operation, params, message):
    seed_ada(emulator)

    with emulator.nothing_written():
        assert message in refused(emulator, wire, operation, **params)


# --------------------------------------------------------------------------------------------------- 5. zeep


def zeep_service(client: zeep.Client, emulator, vendor: bool):
    """The service (the vendor WSDL's pointed at the emulator) and the token header every call carries."""
    service = client.create_service(VENDOR_BINDING, emulator.soap_url) if vendor else client.service
    return service, {"AuthorizationToken": {"Token": emulator.authenticate()}}


def individual_type(**sections: object) -> dict:
    return {name: sections.get(name, zeep.xsd.SkipValue) for name in INDIVIDUAL_SECTIONS} | {
        "CurrentKey": sections.get("CurrentKey")}


def zeep_round_trip(service, header) -> None:
    inserted = service.WEBIndividualInsert(oFacadeObject=individual_type(
        Individual={"ind_first_name": "Grace", "ind_last_name": "Hopper"},
        Email={"eml_address": "grace@example.org"}), _soapheaders=header).body.WEBIndividualInsertResult
    key = inserted.CurrentKey
    assert inserted.Individual.ind_cst_key == inserted.Customer.cst_key == key
    assert inserted.Customer.cst_name_cp == "Grace Hopper" and inserted.Email.eml_primary == 1
    assert inserted.Business_Address is None

    assert service.WEBIndividualUpdate(oFacadeObject=individual_type(
        CurrentKey=key, Individual={"ind_designation": "RADM"}), _soapheaders=header).body.WEBIndividualUpdateResult

    got = service.WEBIndividualGet(key=key, _soapheaders=header).body.WEBIndividualGetResult
    assert (got.Individual.ind_designation, got.Individual.ind_first_name) == ("RADM", "Grace")

    added = service.WEBEmailInsert(oFacadeObject={
        "Email": {"eml_cst_key": key, "eml_address": "hopper@example.org", "eml_primary": 1},
        "Customer": zeep.xsd.SkipValue}, _soapheaders=header).body.WEBEmailInsertResult
    assert added.Customer.cst_eml_address_dn == "hopper@example.org"
    assert service.WEBEmailUpdate(oFacadeObject={
        "CurrentKey": added.CurrentKey, "Email": {"eml_type": "personal"}, "Customer": zeep.xsd.SkipValue},
        _soapheaders=header).body.WEBEmailUpdateResult is True
    assert service.WEBEmailGet(key=added.CurrentKey, _soapheaders=header).body.WEBEmailGetResult.Email.eml_type == (
        "personal")
    listed = service.WEBEmailGetEmailsByCustomer(CustomerKey=key, _soapheaders=header).body
    results = listed.WEBEmailGetEmailsByCustomerResult._value_1
    assert results.get("recordReturn") == "2"
    assert [row.findtext("x:eml_address", namespaces=NS) for row in results] == [
        "hopper@example.org", "grace@example.org"]


def test_zeep_bound_to_the_served_wsdl(emulator):
    zeep_round_trip(*zeep_service(zeep.Client(emulator.wsdl_url), emulator, vendor=False))


@pytest.fixture(scope="module")
def vendor_client() -> zeep.Client:
    if not VENDOR_WSDL.is_file():
        pytest.skip(f"the vendor's xWeb 2010 WSDL is not at {VENDOR_WSDL} (../shared is absent beside this clone)")
    return zeep.Client(str(VENDOR_WSDL))


def test_zeep_bound_to_the_vendor_wsdl(vendor_client, emulator):
    zeep_round_trip(*zeep_service(vendor_client, emulator, vendor=True))


def test_customers_are_numbered_one_after_another_on_every_path(emulator):
    """cst_recno the next number whichever operation adds the customer (a bulk insert numbers its records in order),
    and cst_id that number in nine digits and the type's initial; a seed may give its own."""
    first = call(emulator, "soap", "WEBIndividualInsert", oFacadeObject=NEW_INDIVIDUAL)["Customer"]
    bulk = emulator.seed({"xweb": {"Organization": [{"org_name": "Analytical Engines"}],
                                   "Individual": [{"ind_first_name": "Ada", "ind_last_name": "Lovelace"},
                                                  {"ind_first_name": "Alan", "ind_last_name": "Turing",
                                                   "cst_recno": "500", "cst_id": "TURING"}]}})
    organization, ada, alan = (stored(emulator, Customer, cst_key=key)
                               for key in (*bulk["xweb"]["Organization"], *bulk["xweb"]["Individual"]))
    number = int(first["cst_recno"])
    assert (organization["cst_recno"], organization["cst_id"]) == (number + 1, f"{number + 1:09d}O")
    assert (ada["cst_recno"], ada["cst_id"]) == (number + 2, f"{number + 2:09d}I")
    assert (alan["cst_recno"], alan["cst_id"]) == (500, "TURING")
    later = call(emulator, "json", "WEBIndividualInsert", oFacadeObject=NEW_INDIVIDUAL)["Customer"]
    assert later["cst_recno"] == "501" and later["cst_id"] == "000000501I"
