"""Every rule a web customer event must pass, each shown firing: in a bulk call the event lands in
unprocessed_customer_events_set with its error code and "Error:… - Description:…", and is not stored."""

from __future__ import annotations

import pytest

from crmcom_support import (
    ACCOUNT_20,
    ACCOUNT_77,
    EFFECTIVE_TOKEN,
    NOT_EFFECTIVE_TOKEN,
    PARTICIPANT,
    UNIT,
    bulk,
    create_one,
    event,
    login,
    nothing_written,
    ok,
    processed,
    show,
    unprocessed,
)

NOT_FOUND = "NotFoundAPIValueException"
AMBIGUOUS = "AmbiguousAPIValueException"
MISSING = "MissingMandatoryAPIValueException"
WRONG_TYPE = "InvalidAPIValueTypeException"
INVALID = "InvalidAPIValueException"
DUPLICATE = "DuplicateAPIValueException"


@pytest.fixture
def token(emulator) -> str:
    return login(emulator)


def created(emulator, token: str, **fields) -> dict:
    """The stored event a one-event bulk call created, as show answers it."""
    result = processed(ok(create_one(emulator, token, **fields)))
    return ok(show(emulator, token, f"id={result['id']}"))


def refused_event(emulator, token: str, code: str, message: str, **fields) -> dict:
    with nothing_written(emulator):
        return unprocessed(ok(create_one(emulator, token, **fields)), code, message)


@pytest.fixture
def shared_names(emulator) -> dict:
    """Records whose names (and codes) are shared, so that naming them by name is ambiguous."""
    return emulator.seed({"crmcom": {
        "AccountsReceivable": [{"number": "ACR-TWIN-1", "name": "Twin"}, {"number": "ACR-TWIN-2", "name": "Twin"}],
        "RewardsParticipant": [{"number": "RP-TWIN", "accounts_receivable_identifier": {"number": "ACR-TWIN-1"}}],
        "AccessToken": [
            {"rewards_participant_identifier": {"number": "RP-TWIN"}, "authentication_code": "SHARED"},
            {"rewards_participant_identifier": {"number": "RP-TWIN"}, "authentication_code": "SHARED"},
            {"rewards_participant_identifier": {"number": "RP-TWIN"}, "one_time_password": 424242},
        ],
        "Unit": [{"name": "Twin Unit", "alternative_code": "TU"}, {"name": "Twin Unit", "alternative_code": "TU"}],
        "CustomerEventClassification": [{"name": "Twin Class", "alternative_code": "TC"},
                                        {"name": "Twin Class", "alternative_code": "TC"}],
    }})["crmcom"]


# ------------------------------------------------------------------------------------- request_unique_identifier


def test_request_unique_identifier_is_mandatory(emulator, token):
    result = refused_event(emulator, token, MISSING, "Parameter (request_unique_identifier) Not Specified.",
                           request_unique_identifier=None)
    assert result["request_unique_identifier"] is None


def test_a_request_unique_identifier_used_twice_fails_every_event_using_it(emulator, token):
    data = bulk(emulator, token, [event("A"), event("B"), event("A")])

    assert [result["request_unique_identifier"] for result in data["processed_customer_events_set"]] == ["B"]
    assert [(result["request_unique_identifier"], result["error_code"], result["error_description"])
            for result in data["unprocessed_customer_events_set"]] == [
        ("A", DUPLICATE, "Error:Request Unique Identifier (A) Specified More Than Once. - Description:The specified "
                         "API value must be unique within the request."),
    ] * 2
    assert len(emulator.state("crmcom", "WebCustomerEvent")) == 1


def test_an_event_that_is_not_an_object_is_unprocessed(emulator, token):
    data = bulk(emulator, token, ["not an event", event("B")])

    assert data["unprocessed_customer_events_set"] == [{
        "error_description": "Error:Web Customer Event Is Not An Object. - Description:The specified API value is "
                             "not of the expected type.",
        "error_code": WRONG_TYPE, "request_unique_identifier": None}]
    assert data["processed_customer_events_set"][0]["request_unique_identifier"] == "B"


# ------------------------------------------------------------------------------------------ accounts receivable


@pytest.mark.parametrize("field, value", [("id", "6A1F0D2C9B8E4F3A8C7D5E4F3A2B1C20"), ("number", ACCOUNT_20),
                                          ("name", "Maria Georgiou")])
def test_an_accounts_receivable_is_named_by_id_number_or_name(emulator, token, field, value):
    stored = created(emulator, token, accounts_receivable_identifier={field: value})
    assert stored["accounts_receivable"] == {"id": "6A1F0D2C9B8E4F3A8C7D5E4F3A2B1C20", "number": ACCOUNT_20,
                                             "name": "Maria Georgiou"}


@pytest.mark.parametrize("field", ["id", "number", "name"])
def test_an_accounts_receivable_that_does_not_exist_is_not_found(emulator, token, field):
    refused_event(emulator, token, NOT_FOUND, "Account (NOPE) Not Found.",
                  accounts_receivable_identifier={field: "NOPE"})


def test_an_accounts_receivable_name_shared_by_two_is_ambiguous(emulator, token, shared_names):
    refused_event(emulator, token, AMBIGUOUS, "Account (Twin) Not Unique.",
                  accounts_receivable_identifier={"name": "Twin"})


def test_an_identifier_gives_one_field_only(emulator, token):
    refused_event(emulator, token, INVALID,
                  "Parameter (accounts_receivable_identifier) Specifies More Than One Of number, name.",
                  accounts_receivable_identifier={"number": ACCOUNT_20, "name": "Maria Georgiou"})


def test_an_identifier_with_none_of_its_fields_is_refused(emulator, token):
    refused_event(emulator, token, MISSING,
                  "Parameter (accounts_receivable_identifier) Specifies None Of id, number, name.",
                  accounts_receivable_identifier={"code": ACCOUNT_20})


def test_an_identifier_is_an_object(emulator, token):
    refused_event(emulator, token, WRONG_TYPE, "Parameter (accounts_receivable_identifier) Is Not An Object.",
                  accounts_receivable_identifier=ACCOUNT_20)


# ------------------------------------------------------------------------------------------ rewards participant


@pytest.mark.parametrize("identifier", [
    {"id": "3E2D1C0B9A8F4E7D6C5B4A3F2E1D0C19"},
    {"number": PARTICIPANT},
    {"access_token_identifier": {"authentication_code": EFFECTIVE_TOKEN["authentication_code"]}},
    {"access_token_identifier": {name: EFFECTIVE_TOKEN[name] for name in ("identifier", "pass_code")}},
], ids=["id", "number", "authentication_code", "identifier+pass_code"])
def test_a_rewards_participant_alone_names_the_customer(emulator, token, identifier):
    stored = created(emulator, token, accounts_receivable_identifier=None, rewards_participant_identifier=identifier)
    assert stored["rewards_participant"] == {"id": "3E2D1C0B9A8F4E7D6C5B4A3F2E1D0C19", "number": PARTICIPANT}
    assert stored["accounts_receivable"] is None


def test_a_rewards_participant_is_named_by_a_one_time_password(emulator, token, shared_names):
    stored = created(emulator, token, accounts_receivable_identifier=None,
                     rewards_participant_identifier={"access_token_identifier": {"one_time_password": "424242"}})
    assert stored["rewards_participant"]["number"] == "RP-TWIN"


def test_a_one_time_password_is_an_integer(emulator, token):
    refused_event(emulator, token, WRONG_TYPE, "Parameter (one_time_password) Is Not An Integer.",
                  rewards_participant_identifier={"access_token_identifier": {"one_time_password": "12ab"}})


@pytest.mark.parametrize("field", ["id", "number"])
def test_a_rewards_participant_that_does_not_exist_is_not_found(emulator, token, field):
    refused_event(emulator, token, NOT_FOUND, "Rewards Participant (RP404) Not Found.",
                  accounts_receivable_identifier=None, rewards_participant_identifier={field: "RP404"})


@pytest.mark.parametrize("access_token", [{"authentication_code": "NOPE"}, {"identifier": "NOPE", "pass_code": "1"},
                                          {"one_time_password": 1}, {"one_time_password": 99999999999}])
def test_an_access_token_that_does_not_exist_is_not_found(emulator, token, access_token):
    (value,) = [value for name, value in access_token.items() if name != "pass_code"]
    refused_event(emulator, token, NOT_FOUND, f"Access Token ({value}) Not Found.",
                  rewards_participant_identifier={"access_token_identifier": access_token})


def test_an_access_token_code_shared_by_two_is_ambiguous(emulator, token, shared_names):
    refused_event(emulator, token, AMBIGUOUS, "Access Token (SHARED) Not Unique.",
                  rewards_participant_identifier={"access_token_identifier": {"authentication_code": "SHARED"}})


def test_an_access_token_identifier_needs_its_pass_code(emulator, token):
    refused_event(emulator, token, MISSING, "Parameter (pass_code) Not Specified.",
                  rewards_participant_identifier={"access_token_identifier": {
                      "identifier": EFFECTIVE_TOKEN["identifier"]}})


def test_an_access_token_identifier_with_the_wrong_pass_code_is_refused(emulator, token):
    refused_event(emulator, token, INVALID, f"Access Token ({EFFECTIVE_TOKEN['identifier']}) Pass Code Not Valid.",
                  rewards_participant_identifier={"access_token_identifier": {
                      "identifier": EFFECTIVE_TOKEN["identifier"], "pass_code": "0000"}})


def test_a_pass_code_is_no_way_to_name_an_access_token(emulator, token):
    refused_event(emulator, token, MISSING,
                  "Parameter (access_token_identifier) Specifies None Of authentication_code, identifier, "
                  "one_time_password.",
                  rewards_participant_identifier={"access_token_identifier": {"pass_code": "1919"}})


@pytest.mark.parametrize("access_token", [
    {"authentication_code": NOT_EFFECTIVE_TOKEN["authentication_code"]},
    {"identifier": NOT_EFFECTIVE_TOKEN["identifier"], "pass_code": NOT_EFFECTIVE_TOKEN["pass_code"]},
], ids=["authentication_code", "identifier+pass_code"])
def test_only_effective_access_tokens_name_a_rewards_participant(emulator, token, access_token):
    (value,) = [value for name, value in access_token.items() if name != "pass_code"]
    refused_event(emulator, token, INVALID, f"Access Token ({value}) Not Effective.",
                  rewards_participant_identifier={"access_token_identifier": access_token})


def test_an_accounts_receivable_or_a_rewards_participant_is_mandatory(emulator, token):
    refused_event(emulator, token, MISSING,
                  "Parameter (accounts_receivable_identifier or rewards_participant_identifier) Not Specified.",
                  accounts_receivable_identifier=None)


def test_a_rewards_participant_given_with_an_accounts_receivable_must_be_its_own(emulator, token):
    stored = created(emulator, token, rewards_participant_identifier={"number": PARTICIPANT})
    assert (stored["accounts_receivable"]["number"], stored["rewards_participant"]["number"]) == (ACCOUNT_20,
                                                                                                   PARTICIPANT)

    refused_event(emulator, token, INVALID, f"Rewards Participant ({PARTICIPANT}) Does Not Belong To Account "
                                            f"({ACCOUNT_77}).",
                  accounts_receivable_identifier={"number": ACCOUNT_77},
                  rewards_participant_identifier={"number": PARTICIPANT})


# ----------------------------------------------------------------------------------- classification and unit


@pytest.mark.parametrize("field, value", [("id", "7E6D5C4B3A2F4E1D0C9B8A7F6E5D4C30"), ("name", "Website Visit"),
                                          ("alternative_code", "WEBVISIT")])
def test_a_classification_is_named_by_id_name_or_alternative_code(emulator, token, field, value):
    stored = created(emulator, token, classification_identifier={field: value})
    assert stored["classification"] == {"id": "7E6D5C4B3A2F4E1D0C9B8A7F6E5D4C30", "name": "Website Visit",
                                        "alternative_code": "WEBVISIT"}


@pytest.mark.parametrize("field, value", [("id", "5C4B3A2F1E0D4C9B8A7F6E5D4C3B2A10"), ("name", UNIT),
                                          ("alternative_code", "ADMIN")])
def test_a_unit_is_named_by_id_name_or_alternative_code(emulator, token, field, value):
    stored = created(emulator, token, performed_by_unit_identifier={field: value})
    assert stored["performed_by_unit"] == {"id": "5C4B3A2F1E0D4C9B8A7F6E5D4C3B2A10", "name": UNIT,
                                           "alternative_code": "ADMIN"}


@pytest.mark.parametrize("parameter, label", [("classification_identifier", "Customer Event Classification"),
                                              ("performed_by_unit_identifier", "Unit")])
@pytest.mark.parametrize("field", ["id", "name", "alternative_code"])
def test_a_classification_or_unit_that_does_not_exist_is_not_found(emulator, token, parameter, label, field):
    refused_event(emulator, token, NOT_FOUND, f"{label} (NOPE) Not Found.", **{parameter: {field: "NOPE"}})


@pytest.mark.parametrize("parameter, label, name", [
    ("classification_identifier", "Customer Event Classification", "Twin Class"),
    ("performed_by_unit_identifier", "Unit", "Twin Unit"),
])
def test_a_classification_or_unit_name_shared_by_two_is_ambiguous(emulator, token, shared_names, parameter, label,
                                                                   name):
    refused_event(emulator, token, AMBIGUOUS, f"{label} ({name}) Not Unique.", **{parameter: {"name": name}})


def test_the_classification_is_optional(emulator, token):
    assert created(emulator, token, classification_identifier=None)["classification"] is None


@pytest.mark.parametrize("absent", [None, {}, {"name": None}])
def test_the_performing_unit_is_mandatory(emulator, token, absent):
    refused_event(emulator, token, MISSING, "Parameter (performed_by_unit_identifier) Not Specified.",
                  performed_by_unit_identifier=absent)


# ------------------------------------------------------------------------------------------ the event's values


@pytest.mark.parametrize("field", ["performed_on", "website"])
@pytest.mark.parametrize("absent", [None, ""])
def test_performed_on_and_website_are_mandatory(emulator, token, field, absent):
    fields = {field: None} if absent is None else {field: absent}
    refused_event(emulator, token, MISSING, f"Parameter ({field}) Not Specified.", **fields)


@pytest.mark.parametrize("value", ["22/06/2016", "yesterday", 1466607600])
def test_performed_on_is_a_date(emulator, token, value):
    refused_event(emulator, token, WRONG_TYPE, "Parameter (performed_on) Is Not A Date.", performed_on=value)


def test_dates_are_iso_8601_and_an_offset_is_taken_to_utc(emulator, token):
    stored = created(emulator, token, performed_on="2016-06-22T17:00:00+02:00", udf_date_1="2020-02-29")
    assert (stored["performed_on"], stored["udf_date_1"]) == ("2016-06-22T15:00:00", "2020-02-29T00:00:00")


def test_every_optional_value_is_stored_and_read_back(emulator, token):
    strings = {f"udf_string_{n}": f"text {n}" for n in range(1, 9)}
    floats = {"udf_float_1": 1.5, "udf_float_2": -2, "udf_float_3": "3.25", "udf_float_4": 0}
    dates = {f"udf_date_{n}": f"2024-0{n}-01T12:30:00" for n in range(1, 5)}
    texts = {"description": "Opened the spring offer", "external_system": "Mailer",
             "external_system_reference_number": "MSG-1"}

    stored = created(emulator, token, **strings, **floats, **dates, **texts)

    assert {name: stored[name] for name in [*strings, *texts]} == {**strings, **texts}
    assert [stored[f"udf_float_{n}"] for n in range(1, 5)] == [1.5, -2.0, 3.25, 0.0]
    assert {name: stored[name] for name in dates} == dates


def test_optional_values_not_given_are_null(emulator, token):
    stored = created(emulator, token)
    assert all(stored[name] is None for name in ("description", "external_system", "external_system_reference_number",
                                                 "udf_string_1", "udf_float_4", "udf_date_2"))


@pytest.mark.parametrize("field, value, kind", [
    ("udf_string_3", {"nested": 1}, "A String"),
    ("udf_string_8", ["a"], "A String"),
    ("description", {"text": "x"}, "A String"),
    ("website", ["www.crm.com"], "A String"),
    ("udf_float_1", "abc", "A Float"),
    ("udf_float_2", True, "A Float"),
    ("udf_float_4", [1], "A Float"),
    ("udf_date_1", "2016-13-45", "A Date"),
    ("udf_date_4", 20160622, "A Date"),
])
def test_each_value_has_its_type(emulator, token, field, value, kind):
    refused_event(emulator, token, WRONG_TYPE, f"Parameter ({field}) Is Not {kind}.", **{field: value})


def test_numbers_are_taken_where_strings_are_expected(emulator, token):
    stored = created(emulator, token, request_unique_identifier=6, udf_string_1=42, website=7)
    assert (stored["udf_string_1"], stored["website"]) == ("42", "7")


# ------------------------------------------------------------------------------------------------- fields_set


def test_fields_set_limits_the_fields_of_each_result(emulator, token):
    data = bulk(emulator, token, [event("ok"), event("bad", website=None)], fields_set="request_unique_identifier,id")

    (done,) = data["processed_customer_events_set"]
    assert set(done) == {"request_unique_identifier", "id"} and done["request_unique_identifier"] == "ok"
    assert data["unprocessed_customer_events_set"] == [{"request_unique_identifier": "bad"}]


def test_fields_set_may_be_a_list(emulator, token):
    data = bulk(emulator, token, [event("bad", website=None)], fields_set=["error_code"])
    assert data["unprocessed_customer_events_set"] == [{"error_code": MISSING}]


def test_each_event_of_a_bulk_call_is_stored_with_its_own_values(emulator, token):
    # Events that share an account, a date or a value, beside events that give other ones or none.
    items = [
        event("a", performed_on="2016-06-22T15:00:00", udf_float_1=2, udf_date_1="2020-02-29"),
        event("b", performed_on="2016-06-22T15:00:00", udf_float_1="2"),
        event("c", performed_on="2017-01-01T00:00:00", accounts_receivable_identifier={"number": ACCOUNT_77}),
        event("d", performed_on="2016-06-22T17:00:00+02:00", udf_date_1="2020-02-29T08:00:00", udf_string_1="x"),
    ]

    data = bulk(emulator, token, items)

    assert data["unprocessed_customer_events_set"] == []
    shown = {result["request_unique_identifier"]: ok(show(emulator, token, f"id={result['id']}"))
             for result in data["processed_customer_events_set"]}
    assert {key: (event_["performed_on"], event_["accounts_receivable"]["number"], event_["udf_float_1"],
                  event_["udf_date_1"], event_["udf_string_1"]) for key, event_ in shown.items()} == {
        "a": ("2016-06-22T15:00:00", ACCOUNT_20, 2.0, "2020-02-29T00:00:00", None),
        "b": ("2016-06-22T15:00:00", ACCOUNT_20, 2.0, None, None),
        "c": ("2017-01-01T00:00:00", ACCOUNT_77, None, None, None),
        "d": ("2016-06-22T15:00:00", ACCOUNT_20, None, "2020-02-29T08:00:00", "x"),
    }
