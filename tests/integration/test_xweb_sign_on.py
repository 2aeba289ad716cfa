"""Web users and sign-on (WebLogin, WebValidate, WebLogout, WEBWebUser*, the WEB*Role* operations) as SSO
integrations call them: over SOAP with raw envelopes, zeep and the JSON twin; their answers laid beside the envelopes
captured from live tenants (../shared: skipped where absent); lock-out, expiry on the emulator's clock, logout."""

from __future__ import annotations

import re

import pytest
import requests
from lxml import etree

from support import CAPTURED, NS, XWEB, canonical, fault, parse

SOMEONE = "2a50c454-eac0-4768-9a85-0c97968be7fd"  # the demo web user "someone"
PAT = "fadff57b-c6ef-4130-be1e-07000a38056f"  # the demo web user "pat" (roles Member, Instructor)
NO_CUSTOMER = "00000000-0000-0000-0000-000000000000"
CAPTURED_CUSTOMER = "3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa"
needs_captures = pytest.mark.skipif(not CAPTURED.is_dir(), reason=(
    f"the captured xWeb envelopes ({CAPTURED}) are not on this machine: they live beside the project, not in it"))


def call(emulator, operation: str, token: str, **params: str) -> requests.Response:
    body = "".join(f"<ns:{name}>{value}</ns:{name}>" for name, value in params.items())
    return emulator.soap(operation, body, token)


def result(response: requests.Response, operation: str) -> etree._Element:
    assert response.status_code == 200, response.text
    return parse(response).find(f"soap:Body/x:{operation}Response/x:{operation}Result", NS)


def web_login(emulator, token: str, login: str = "someone", password: str = "someone-password") -> str:
    return result(call(emulator, "WebLogin", token, userLoginPlain=login, passwordPlain=password), "WebLogin").text


def web_validate(emulator, token: str, sign_on_token: str) -> str:
    return result(call(emulator, "WebValidate", token, authenticationToken=sign_on_token), "WebValidate").text


# ---------------------------------------------------------------------------------------------- the captures


@pytest.fixture
def captured_member(emulator):
    """The captured member, seeded: an individual with its phone, a web user without a user name of its own."""
    emulator.seed({"xweb": {
        "Individual": [{"ind_cst_key": CAPTURED_CUSTOMER, "ind_prf_code": "Mr.", "ind_first_name": "Sergey",
                        "ind_last_name": "Yushkevich", "cst_recno": "7881250",
                        "eml_address": "yushkevich@irwaonline.org",
                        "cst_cph_key": "0f6c7a8e-1b1d-4c55-9a0e-3d1f2b4c5d6e"}],
        "Phone": [{"phn_key": "5e0b8d1c-2f3a-4b5c-8d9e-0a1b2c3d4e5f", "phn_cst_key_owner": CAPTURED_CUSTOMER,
                   "phn_number": "3105380233"}],
        "CustomerPhone": [{"cph_key": "0f6c7a8e-1b1d-4c55-9a0e-3d1f2b4c5d6e", "cph_cst_key": CAPTURED_CUSTOMER,
                           "cph_phn_key": "5e0b8d1c-2f3a-4b5c-8d9e-0a1b2c3d4e5f", "cph_extension": "127",
                           "cph_primary": "1"}],
        "WebUser": [{"cst_key": CAPTURED_CUSTOMER, "password": "secret"}],
    }})
    return emulator.authenticate()


def without_unkept_sections(document: bytes) -> bytes:
    """The sections the emulator does not keep (addresses, faxes; always empty in its answers) taken out: see
    docs/sign-on.md › Deviations."""
    root = etree.fromstring(document)
    for name in ("Business_Address", "Business_Fax", "Business_Fax_XRef"):
        for section in root.iter(f"{{{XWEB}}}{name}"):
            section.getparent().remove(section)
    return etree.tostring(root)


@needs_captures
def test_web_user_login_success_as_captured(emulator, captured_member):
    """By the recno, the user name of a web user without one of its own."""
    response = call(emulator, "WEBWebUserLogin", captured_member, LoginOrEmail="7881250", password="secret")

    assert response.status_code == 200, response.text
    assert canonical(without_unkept_sections(response.content)) == canonical(
        without_unkept_sections((CAPTURED / "web_user_login_success.xml").read_bytes()))
    assert "<Business_Address></Business_Address>" in canonical(response.content)


@needs_captures
def test_web_user_login_failure_as_captured(emulator, captured_member):
    response = call(emulator, "WEBWebUserLogin", captured_member, LoginOrEmail="7881250", password="wrong")

    assert response.status_code == 500
    assert canonical(response.content) == canonical((CAPTURED / "web_user_login_failure.xml").read_bytes())


@needs_captures
def test_web_validate_success_and_failure_as_captured(emulator, captured_member):
    ind_token = result(call(emulator, "WEBWebUserLogin", captured_member, LoginOrEmail="7881250", password="secret"),
                       "WEBWebUserLogin").findtext("x:Individual/x:ind_token", namespaces=NS)

    valid = call(emulator, "WebValidate", captured_member, authenticationToken=ind_token)
    unknown = call(emulator, "WebValidate", captured_member, authenticationToken="6d4ab4c1-0d3c-4d07-8a8e-4cbd0dd1b1a7")

    assert canonical(valid.content) == canonical((CAPTURED / "web_validate_success.xml").read_bytes())
    assert canonical(unknown.content) == canonical((CAPTURED / "web_validate_failure.xml").read_bytes())
    assert result(valid, "WebValidate").text == CAPTURED_CUSTOMER
    assert result(unknown, "WebValidate").text == NO_CUSTOMER


# ------------------------------------------------------------------------------------------------- SOAP flows


def test_web_login_validate_and_the_member(emulator):
    token = emulator.authenticate()
    sign_on_token = web_login(emulator, token)

    assert web_validate(emulator, token, sign_on_token) == SOMEONE
    member = result(call(emulator, "GetIndividualInformation", token, IndividualKey=SOMEONE),
                    "GetIndividualInformation")
    assert member.findtext(".//x:ind_first_name", namespaces=NS) == "Someone"


def test_a_wrong_password_is_the_vendors_fault_and_counts_towards_the_lock_out(emulator):
    """Five failures in a row (the default sign_on.fail_count) lock the web user out: then even the right password
    fails, until WEBWebUserUnlock."""
    token = emulator.authenticate()
    for _ in range(5):
        refused = call(emulator, "WEBWebUserLogin", token, LoginOrEmail="someone", password="wrong")
        assert fault(refused) == {
            "faultcode": "soap:Client", "kind": "SystemExceptionInfo", "message": "Unable to login user.",
            "faultstring": "System.Web.Services.Protocols.SoapException: Unable to login user.\n   at Avectra.netForum."
                           "xWeb.xWebSecure.netForumXMLSecure.WEBWebUserLogin(String LoginOrEmail, String password)"}
        token = emulator.authenticate()  # a fault kills the xWeb token it came with
    assert emulator.state("xweb", "WebUser", cst_key=SOMEONE)[0]["cst_web_login_disabled_flag"] == 1

    assert fault(call(emulator, "WebLogin", token, userLoginPlain="someone",
                      passwordPlain="someone-password"))["message"] == "Unable to login user."
    token = emulator.authenticate()
    recno = emulator.state("xweb", "Customer", cst_key=SOMEONE)[0]["cst_recno"]
    assert result(call(emulator, "WEBWebUserUnlock", token, cst_recno=str(recno)), "WEBWebUserUnlock").text == "true"
    assert web_validate(emulator, token, web_login(emulator, token)) == SOMEONE


def test_a_sign_on_token_expires_on_the_emulators_clock_and_dies_at_logout(emulator):
    token = emulator.authenticate()
    first, second = web_login(emulator, token), web_login(emulator, token)

    logout = call(emulator, "WebLogout", token, authenticationToken=first)
    assert logout.status_code == 200, logout.text
    assert web_validate(emulator, token, first) == NO_CUSTOMER
    assert web_validate(emulator, token, second) == SOMEONE

    emulator.advance_clock(21 * 60)  # sign_on.token_minutes: 20
    token = emulator.authenticate()
    assert web_validate(emulator, token, second) == NO_CUSTOMER
    assert fault(call(emulator, "WEBWebUserValidateToken", token, authenticationToken=second))["message"] == (
        "Invalid Token.")


def test_the_web_user_operations(emulator):
    token = emulator.authenticate()
    login = result(call(emulator, "WEBWebUserLogin", token, LoginOrEmail="PAT", password="pat-password"),
                   "WEBWebUserLogin")
    ind_token = login.findtext("x:Individual/x:ind_token", namespaces=NS)
    assert login.findtext("x:CurrentKey", namespaces=NS) == PAT
    assert login.findtext("x:Customer/x:cst_web_login", namespaces=NS) == "pat"
    assert login.findtext("x:Email/x:eml_address", namespaces=NS) == "pat.instructor@example.org"

    by_token = result(call(emulator, "WEBWebUserValidateToken", token, authenticationToken=ind_token),
                      "WEBWebUserValidateToken")
    assert by_token.findtext("x:Individual/x:ind_token", namespaces=NS) == ind_token
    validated = result(call(emulator, "WEBWebUserValidateLogin", token, LoginOrEmail="pat", password="pat-password"),
                       "WEBWebUserValidateLogin")
    assert validated.find("x:Individual/x:ind_token", NS) is None
    got = result(call(emulator, "WEBWebUserGet", token, cst_key=PAT), "WEBWebUserGet")
    assert got.findtext("x:Individual/x:ind_last_name", namespaces=NS) == "Instructor"

    remembered = result(call(emulator, "WEBWebUserLoginAndRememberMe", token, LoginOrEmail="pat",
                             password="pat-password"), "WEBWebUserLoginAndRememberMe")
    remember_me = remembered.findtext("x:Individual/x:ind_token", namespaces=NS)
    assert result(call(emulator, "WEBWebUserLoginByRememberMe", token, authenticationToken=remember_me),
                  "WEBWebUserLoginByRememberMe").findtext("x:CurrentKey", namespaces=NS) == PAT

    recno = got.findtext("x:Customer/x:cst_recno", namespaces=NS)
    assert result(call(emulator, "WEBWebUserChangePassword", token, recno=recno, oldPassword="wrong",
                       newPassword="new"), "WEBWebUserChangePassword").text == "false"
    assert result(call(emulator, "WEBWebUserChangePassword", token, recno=recno, oldPassword="pat-password",
                       newPassword="new-password"), "WEBWebUserChangePassword").text == "true"
    assert web_validate(emulator, token, web_login(emulator, token, "pat", "new-password")) == PAT
    refused = call(emulator, "WEBWebUserLoginByRememberMe", token, authenticationToken=remember_me)
    assert fault(refused)["message"] == "Unable to login user."  # a new password ends "remember me"


def test_a_created_web_user_signs_in_and_is_updated(emulator):
    token = emulator.authenticate()
    created = result(call(emulator, "WEBWebUserCreate", token, oWebUser=(
        "<ns:Individual><ns:ind_first_name>Grace</ns:ind_first_name><ns:ind_last_name>Hopper</ns:ind_last_name>"
        "</ns:Individual><ns:Customer><ns:cst_new_password>cobol</ns:cst_new_password></ns:Customer>"
        "<ns:Email><ns:eml_address>grace@example.org</ns:eml_address></ns:Email>")), "WEBWebUserCreate")
    key = created.findtext("x:CurrentKey", namespaces=NS)
    recno = created.findtext("x:Customer/x:cst_recno", namespaces=NS)
    assert web_validate(emulator, token, web_login(emulator, token, recno, "cobol")) == key

    updated = result(call(emulator, "WEBWebUserUpdate", token, oWebUser=(
        f"<ns:CurrentKey>{key}</ns:CurrentKey><ns:Customer><ns:cst_web_login>grace</ns:cst_web_login>"
        "<ns:cst_new_password>flow-matic</ns:cst_new_password></ns:Customer>")), "WEBWebUserUpdate")
    assert updated.findtext("x:Customer/x:cst_web_login", namespaces=NS) == "grace"
    assert web_validate(emulator, token, web_login(emulator, token, "grace", "flow-matic")) == key
    found = result(call(emulator, "WEBWebUserFindUsersByEmail", token, emailToMatch="GRACE@"),
                   "WEBWebUserFindUsersByEmail")
    assert [each.findtext("x:cst_key", namespaces=NS) for each in found.iterfind("x:Results/x:Result", NS)] == [key]


def test_roles(emulator):
    token = emulator.authenticate()

    def results(operation: str, **params: str) -> list[str]:
        answer = result(call(emulator, operation, token, **params), operation)
        return [each.findtext(f"x:{column}", namespaces=NS) for each in answer.iterfind("x:Results/x:Result", NS)
                for column in ("role_name", "cst_key") if each.find(f"x:{column}", NS) is not None]

    assert results("WEBGetAllRoles") == ["Instructor", "Member"]
    assert results("WEBGetRolesForUser", username="pat") == ["Instructor", "Member"]
    assert results("WEBGetUsersInRole", roleName="Member") == [SOMEONE, PAT]
    assert results("WEBFindUsersInRole", roleName="Member", usernameToMatch="PA") == [PAT]
    assert result(call(emulator, "WEBIsUserInRole", token, username="someone", roleName="Instructor"),
                  "WEBIsUserInRole").text == "false"
    assert result(call(emulator, "WEBRoleExists", token, roleName="Instructor"), "WEBRoleExists").text == "true"
    assert result(call(emulator, "WEBRoleExists", token, roleName="Board"), "WEBRoleExists").text == "false"


def test_a_tenant_that_signs_in_by_email(emulator):
    emulator.reset(profile={"sign_on": {"use_email_for_authorization": True, "fail_count": 2}})
    token = emulator.authenticate()

    assert web_validate(emulator, token, web_login(emulator, token, "Someone@Somewhere.com")) == SOMEONE
    assert fault(call(emulator, "WebLogin", token, userLoginPlain="someone", passwordPlain="someone-password"))


# ------------------------------------------------------------------------------------------ zeep and JSON twin


def test_zeep_login_validate_get(emulator):
    service = emulator.zeep_client().service
    header = {"AuthorizationToken": {"Token": emulator.authenticate()}}
    user = service.WEBWebUserLogin(LoginOrEmail="someone", password="someone-password", _soapheaders=header).body
    key = service.WebValidate(authenticationToken=user.WEBWebUserLoginResult.Individual.ind_token,
                              _soapheaders=header).body.WebValidateResult
    got = service.WEBWebUserGet(cst_key=key, _soapheaders=header).body.WEBWebUserGetResult

    assert key == SOMEONE
    assert (got.Individual.ind_first_name, got.Email.eml_address) == ("Someone", "someone@somewhere.com")


def test_json_login_validate_get(emulator):
    basic = (emulator.settings.xweb_user, emulator.settings.xweb_password)

    def json_call(method: str, params: dict) -> dict:
        response = requests.post(emulator.json_url(method), json={method: params}, auth=basic, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    sign_on_token = json_call("WebLogin", {"userLoginPlain": "someone", "passwordPlain": "someone-password"})
    key = json_call("WebValidate", {"authenticationToken": sign_on_token})
    user = json_call("WEBWebUserGet", {"cst_key": key})
    logged_in = json_call("WEBWebUserLogin", {"LoginOrEmail": "someone", "password": "someone-password"})

    assert key == SOMEONE
    assert user["Individual"]["ind_first_name"] == "Someone"
    # The journal keeps the sign-on tokens masked: WebLogin's answer whole, an ind_token member.
    written = " ".join(entry["request"]["body"] + entry["response"]["body"] for entry in emulator.journal())
    assert sign_on_token not in written and logged_in["Individual"]["ind_token"] not in written
    assert "someone-password" not in written and SOMEONE in written


# ----------------------------------------------------------------------------------- state and the journal


def test_web_users_are_state_and_sign_on_secrets_are_masked_in_the_journal(emulator):
    token = emulator.authenticate()
    sign_on_token = web_login(emulator, token)
    web_validate(emulator, token, sign_on_token)

    assert {user["cst_key"] for user in emulator.state("xweb", "WebUser")} == {SOMEONE, PAT}
    assert [row["cst_key"] for row in emulator.state("xweb", "SignOnToken")] == [SOMEONE]
    entries = emulator.journal(operation="WebLogin") + emulator.journal(operation="WebValidate")
    written = " ".join(entry["request"]["body"] + entry["response"]["body"] for entry in entries)
    assert "someone-password" not in written and sign_on_token not in written
    assert re.search(r"<ns:passwordPlain>\*\*\*</ns:passwordPlain>", written)


def test_the_sign_on_page_is_journalled_with_its_password_and_token_masked(emulator):
    page = (f"{emulator.base_url}/eWeb/DynamicPage.aspx?WebCode=LoginRequired&Site=lms"
            "&URL_success=http://localhost:9/callback?ssoToken={token}")
    form = requests.get(page, timeout=30)
    signed_in = requests.post(page, data={"login": "someone", "password": "someone-password"}, allow_redirects=False,
                              timeout=30)

    assert form.status_code == 200 and 'name="password"' in form.text
    assert signed_in.status_code == 302
    token = signed_in.headers["Location"].removeprefix("http://localhost:9/callback?ssoToken=")
    token_validated = web_validate(emulator, emulator.authenticate(), token)
    assert token_validated == SOMEONE
    entries = emulator.journal(vendor="xweb")
    assert [entry["operation"] for entry in entries][:2] == ["eWeb LoginRequired", "eWeb Login"]
    assert entries[1]["request"]["body"] == "login=someone&password=***"
    assert all(token not in entry["request"]["body"] + entry["response"]["body"] + entry["path"]
               for entry in entries)


def test_the_records_page_shows_the_web_users(emulator):
    page = requests.get(f"{emulator.base_url}/_emulator/ui/records/xweb/WebUser", timeout=30)

    assert page.status_code == 200
    assert SOMEONE in page.text and "pat" in page.text


@pytest.mark.parametrize("operation, params, message", [
    ("WEBWebUserGet", {"cst_key": "not a key"}, "Invalid value for cst_key: 'not a key' is not a valid GUID."),
    ("WEBWebUserGet", {"cst_key": NO_CUSTOMER}, "Invalid Parameters."),
    ("WEBWebUserCreate", {"oWebUser": "<ns:Individual><ns:ind_first_name>No</ns:ind_first_name></ns:Individual>"},
     "Customer/cst_new_password is required to create a web user."),
    ("WEBWebUserUpdate", {"oWebUser": f"<ns:CurrentKey>{PAT}</ns:CurrentKey><ns:Customer><ns:cst_web_login>"
                                      f"{'x' * 101}</ns:cst_web_login></ns:Customer>"},
     "cst_web_login is longer than 100 characters."),
    ("WEBWebUserUpdate", {"oWebUser": f"<ns:CurrentKey>{PAT}</ns:CurrentKey><ns:Customer><ns:cst_web_login>"
                                      "Someone</ns:cst_web_login></ns:Customer>"}, "The login Someone is taken."),
])
def test_refusals_are_the_vendors_fault_and_write_nothing(emulator, operation, params, message):
    token = emulator.authenticate()
    with emulator.nothing_written():
        assert fault(call(emulator, operation, token, **params))["message"] == message


def test_numbers_no_customer_can_have_answer_false(emulator):
    token = emulator.authenticate()
    for recno in ("99999999999999999999", "١٢", "-1"):
        assert result(call(emulator, "WEBWebUserLock", token, cst_recno=recno), "WEBWebUserLock").text == "false"
        assert fault(call(emulator, "WebLogin", token, userLoginPlain=recno, passwordPlain="x"))
        token = emulator.authenticate()


def test_a_profiles_web_users_and_sign_on_section(emulator):
    emulator.reset(profile={
        "sign_on": {"return_addresses": ["https://lms.example.org/sso/"], "token_minutes": 5},
        "web_users": [{"cst_key": SOMEONE, "login": "some1", "password": "profile-password", "roles": ["Board"]}]})
    token = emulator.authenticate()
    sign_on_token = web_login(emulator, token, "some1", "profile-password")
    page = f"{emulator.base_url}/eWeb/DynamicPage.aspx?WebCode=LoginRequired&URL_success="

    assert web_validate(emulator, token, sign_on_token) == SOMEONE
    assert result(call(emulator, "WEBIsUserInRole", token, username="some1", roleName="Board"),
                  "WEBIsUserInRole").text == "true"
    assert requests.get(page + "https://lms.example.org/sso/back?t={token}", timeout=30).status_code == 200
    for refused in ("http://localhost:9/back", "https://lms.example.org/ssoevil",
                    "https://lms.example.org.evil.org/sso/", "//evil.org/sso/", "javascript:alert(1)"):
        assert requests.get(page + refused, timeout=30).status_code == 400, refused
    emulator.advance_clock(6 * 60)
    assert web_validate(emulator, emulator.authenticate(), sign_on_token) == NO_CUSTOMER


def test_a_profiles_sign_on_errors_name_the_line():
    from xweb_emulator.xweb.profile import ProfileError, read_profile

    with pytest.raises(ProfileError, match=r"tenant.yaml, line 3: sign_on.return_addresses: 'ftp://files' is no "
                                           r"return address"):
        read_profile("name: t\nsign_on:\n  return_addresses: [ftp://files]\n", name="tenant.yaml")


def test_a_password_in_a_query_string_is_journalled_masked(emulator):
    """ASMX's HTTP GET binding carries no token, so the call is refused; its password is masked all the same."""
    requests.get(f"{emulator.soap_url}/WebLogin", timeout=30,
                 params={"userLoginPlain": "someone", "passwordPlain": "someone-password", "keyOverride": ""})

    (entry,) = emulator.journal(operation="WebLogin")
    assert entry["path"].endswith("/WebLogin?userLoginPlain=someone&passwordPlain=***&keyOverride=")


def test_a_profiles_web_user_names_its_customer_by_a_key():
    from xweb_emulator.xweb.profile import ProfileError, read_profile

    with pytest.raises(ProfileError, match=r"tenant.yaml, line 4: web_users.0.cst_key: Input should be a valid UUID"):
        read_profile("name: t\nweb_users:\n  - password: secret\n    cst_key: ada\n", name="tenant.yaml")


def test_a_profiles_web_user_of_no_customer_is_refused(emulator):
    from xweb_emulator.testing import ControlPlaneError

    nobody = "6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
    with pytest.raises(ControlPlaneError, match=f"web_users: No customer has the key {nobody}"):
        emulator.reset(profile={"web_users": [{"cst_key": nobody, "password": "x"}]})


@pytest.mark.parametrize("operation, params, found", [
    ("WEBWebUserFindUsersByName", {"usernameToMatch": "instr"}, [PAT]),  # a last name
    ("WEBWebUserFindUsersByName", {"usernameToMatch": "SOME"}, [SOMEONE]),  # a user name and a first name
    ("WEBWebUserFindUsersByName", {"usernameToMatch": "%"}, []),  # a wildcard is matched as itself
    ("WEBWebUserFindUsersByUserNameFirstNameLastName",
     {"usernameToMatch": "pa", "firstnameToMatch": "Pat", "lastnameToMatch": ""}, [PAT]),
    ("WEBWebUserFindUsersByUserNameFirstNameLastName",
     {"usernameToMatch": "pa", "firstnameToMatch": "Someone", "lastnameToMatch": ""}, []),
    ("WEBWebUserFindUsersByEmail", {"emailToMatch": "example.org"}, [PAT]),
])
def test_finding_web_users(emulator, operation, params, found):
    answer = result(call(emulator, operation, emulator.authenticate(), **params), operation)

    results = answer.find("x:Results", NS)
    assert [each.findtext("x:cst_key", namespaces=NS) for each in results.iterfind("x:Result", NS)] == found
    assert results.get("recordReturn") == str(len(found))
