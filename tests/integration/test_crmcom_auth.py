"""The login method and its tokens: the configured user, tokens kept in the database that expire after an idle time
(restarted by every call), and the harness's means to expire them."""

from __future__ import annotations

import pytest

from crmcom_support import (
    HEX_ID,
    create_one,
    login,
    nothing_written,
    ok,
    post,
    processed,
    refused,
    show,
)


def test_login_answers_a_token_that_other_methods_accept(emulator):
    token = login(emulator)

    assert HEX_ID.fullmatch(token)
    processed(ok(create_one(emulator, token)))


@pytest.mark.parametrize("wrong", [{"username": "nobody"}, {"password": "wrong"}, {"organisation": "elsewhere"}])
def test_wrong_credentials_are_refused_and_issue_no_token(emulator, wrong):
    settings = emulator.settings
    credentials = {"username": settings.crmcom_user, "password": settings.crmcom_password,
                   "organisation": settings.crmcom_organisation, **wrong}
    with nothing_written(emulator):
        refused(post(emulator, "authentication/token", credentials), "InvalidCredentialsException",
                "Invalid Username, Password Or Organisation.")


@pytest.mark.parametrize("missing", ["username", "password", "organisation"])
def test_each_credential_is_mandatory(emulator, missing):
    credentials = {"username": "demo", "password": "demo", "organisation": "demo", missing: None}
    with nothing_written(emulator):
        refused(post(emulator, "authentication/token", credentials), "MissingMandatoryAPIValueException",
                f"Parameter ({missing}) Not Specified.")


def test_login_with_a_unit_needs_a_unit_that_exists(emulator):
    unit_id = emulator.state("crmcom", "Unit", name="Admin Unit")[0]["id"]

    login(emulator, unit=unit_id)
    with nothing_written(emulator):
        refused(post(emulator, "authentication/token", {"username": "demo", "password": "demo", "organisation": "demo",
                                                        "unit": "NOSUCHUNIT"}),
                "NotFoundAPIValueException", "Unit (NOSUCHUNIT) Not Found.")


def test_the_configured_credentials_replace_the_default_ones(emulator_with):
    other = emulator_with(crmcom_user="connector", crmcom_password="s3cret", crmcom_organisation="ACME")

    login(other)
    refused(post(other, "authentication/token",
                 {"username": "connector", "password": "s3cret", "organisation": "demo"}),
            "InvalidCredentialsException")
    assert any("connector / s3cret, organisation ACME" in line for line in other.emulator.describe(other.base_url))


@pytest.mark.parametrize("token", [None, "", "0123456789ABCDEF0123456789ABCDEF", 42])
def test_a_call_without_a_live_token_is_refused(emulator, token):
    body = {"web_customer_events_set": [{"request_unique_identifier": "1"}]}
    if token is not None:
        body["token"] = token
    with nothing_written(emulator):
        refused(post(emulator, "customer_events/bulk/web/create", body), "InvalidTokenException")


def test_a_token_expires_after_an_hour_idle(emulator):
    token = login(emulator)
    emulator.advance_clock(3601)

    with nothing_written(emulator):
        refused(create_one(emulator, token), "InvalidTokenException", "Token Not Valid Or Expired.")
    processed(ok(create_one(emulator, login(emulator))))


def test_every_call_restarts_the_idle_time(emulator):
    token = login(emulator)
    for _ in range(3):  # 150 minutes in all, never an hour idle
        emulator.advance_clock(3000)
        processed(ok(create_one(emulator, token)))

    emulator.advance_clock(3601)
    refused(create_one(emulator, token), "InvalidTokenException")


def test_the_idle_time_is_configurable(emulator_with):
    other = emulator_with(crmcom_token_idle_minutes=5)
    token = login(other)
    other.advance_clock(240)
    processed(ok(create_one(other, token)))

    other.advance_clock(301)
    refused(create_one(other, token), "InvalidTokenException")


def test_tokens_are_seen_by_every_server_over_the_database(emulator, emulator_with):
    other = emulator_with()  # another application over the same database, as a second worker is
    processed(ok(create_one(other, login(emulator))))


def test_an_expire_token_rule_makes_the_next_call_fail_as_an_expired_token(emulator):
    token = login(emulator)
    emulator.add_fault("crmcom", "expire_token", count=1)

    refused(create_one(emulator, token), "InvalidTokenException", "Token Not Valid Or Expired.")
    refused(create_one(emulator, token), "InvalidTokenException")
    processed(ok(create_one(emulator, login(emulator))))


def test_show_takes_its_token_from_the_query(emulator):
    token = login(emulator)
    processed(ok(create_one(emulator, token)))
    assert ok(show(emulator, token, "number=1"))["number"] == "1"
    refused(show(emulator, "0123456789ABCDEF0123456789ABCDEF", "number=1"), "InvalidTokenException")
