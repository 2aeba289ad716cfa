"""A whole browser sign-on against `xweb-emulator serve`, in headless Chromium (as the dashboard's tests drive it;
skipped, saying why, where Chromium is not installed): a relying party served by the test sends the browser to
eWeb's sign-on page, the form is filled in, the browser comes back with the sign-on token, and the relying party
asks WebValidate for the customer key and GetIndividualInformation for the member. Also: a wrong password, the
lock-out, an expired token (the emulator's clock advanced), logging out, a return address the tenant does not allow.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from support import NS, parse
from serve_support import serving, soap, token_for
from xweb_emulator.testing import EmulatorClient

SOMEONE = "2a50c454-eac0-4768-9a85-0c97968be7fd"
NO_CUSTOMER = "00000000-0000-0000-0000-000000000000"
SIGN_ON = "/eWeb/DynamicPage.aspx"
WAIT = 15


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Any]:
    """`serve` over a database of its own."""
    directory: Path = tmp_path_factory.mktemp("sign-on")
    with serving(directory, "--database-url", f"sqlite:///{directory / 'sign-on.db'}") as running:
        yield running


class RelyingParty:
    """A learning system's SSO: /start sends the browser to the sign-on page; /callback?ssoToken=… validates the
    token (WebValidate) and shows the member (GetIndividualInformation)."""

    def __init__(self, emulator_url: str) -> None:
        self.emulator_url = emulator_url
        party = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                status, headers, body = party.answer(self.path)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def sign_on_address(self, return_address: str | None = None) -> str:
        """The sign-on page, the return address appended raw, as integrations often do."""
        return (f"{self.emulator_url}{SIGN_ON}?WebCode=LoginRequired&Site=lms&URL_success="
                f"{return_address or self.url + '/callback'}?ssoToken={{token}}")

    def answer(self, path: str) -> tuple[int, list[tuple[str, str]], str]:
        address = urlsplit(path)
        if address.path == "/start":
            return 302, [("Location", self.sign_on_address())], ""
        if address.path == "/callback":
            token = parse_qs(address.query).get("ssoToken", [""])[0]
            xweb = token_for(self.emulator_url)
            key = soap_result(self.emulator_url, "WebValidate", f"<ns:authenticationToken>{html.escape(token)}"
                                                                f"</ns:authenticationToken>", xweb).text
            if key == NO_CUSTOMER:
                return 200, [], '<p id="member">not signed in</p>'
            member = soap_result(self.emulator_url, "GetIndividualInformation",
                                 f"<ns:IndividualKey>{key}</ns:IndividualKey>", xweb)
            name = " ".join(member.findtext(f".//x:{column}", namespaces=NS)
                            for column in ("ind_first_name", "ind_last_name"))
            return 200, [], (f'<p id="member">{html.escape(name)}</p><p id="key">{key}</p>'
                             f'<p id="token">{html.escape(token)}</p>')
        return 200, [], '<p id="member">signed out</p>'

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def soap_result(url: str, operation: str, body: str, token: str) -> Any:
    response = soap(url, operation, body, token)
    assert response.status_code == 200, response.text
    return parse(response).find(f"soap:Body/x:{operation}Response/x:{operation}Result", NS)


@pytest.fixture
def party(server, browser) -> Iterator[RelyingParty]:  # noqa: F811 (the fixture imported above)
    EmulatorClient(server.url).reset()
    browser.delete_all_cookies()
    relying_party = RelyingParty(server.url)
    yield relying_party
    relying_party.close()


def wait(browser: Any, condition: Any, ignored: tuple[type[Exception], ...] = ()) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT, ignored_exceptions=ignored).until(condition)


def sign_in(browser: Any, login: str, password: str) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of

    # The form is filled in again where the page it was found on was replaced meanwhile (the redirect that brought
    # the browser here may still be landing): nothing is sent before the click, the last step.
    for attempt in range(3):
        try:
            wait(browser, lambda driver: driver.find_elements(By.ID, "login"))
            field = browser.find_element(By.ID, "login")
            field.clear()
            field.send_keys(login)
            browser.find_element(By.ID, "password").send_keys(password)
            button = browser.find_element(By.ID, "sign-in")
            button.click()
            break
        except WebDriverException:
            if attempt == 2:
                raise
            time.sleep(0.2)
    # The next page is in. While it lands, ChromeDriver may answer for the old page's button with an inspector
    # error ("Node with given id does not belong to the document") rather than that it is stale: asked again.
    wait(browser, staleness_of(button), ignored=(WebDriverException,))


def text_of(browser: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return wait(browser, lambda driver: driver.find_elements(By.ID, element_id))[0].text


def test_a_browser_signs_on_and_the_relying_party_learns_the_member(party, browser):
    browser.get(party.url + "/start")
    assert urlsplit(browser.current_url).path == SIGN_ON
    sign_in(browser, "someone", "someone-password")

    assert text_of(browser, "member") == "Someone Somewhere"
    assert text_of(browser, "key") == SOMEONE
    assert browser.current_url.startswith(party.url + "/callback?ssoToken=")


def test_a_url_encoded_return_address_and_logging_out(party, browser, server):
    from urllib.parse import quote

    browser.get(f"{server.url}{SIGN_ON}?WebCode=LoginRequired&ReturnUrl="
                f"{quote(party.url + '/callback?ssoToken={token}', safe='')}&Site=lms")
    sign_in(browser, "pat", "pat-password")
    token = text_of(browser, "token")
    assert text_of(browser, "member") == "Pat Instructor"

    browser.get(f"{server.url}{SIGN_ON}?WebCode=LogOut&URL_success={party.url}/bye")
    assert text_of(browser, "member") == "signed out"
    browser.get(f"{party.url}/callback?ssoToken={token}")
    assert text_of(browser, "member") == "not signed in"


def test_a_wrong_password_shows_the_message_and_five_lock_the_web_user_out(party, browser):
    browser.get(party.url + "/start")
    for _ in range(5):
        sign_in(browser, "someone", "wrong")
        assert text_of(browser, "message") == "Invalid login or password. Please try again."
    sign_in(browser, "someone", "someone-password")

    assert text_of(browser, "message") == "Your account is locked. Please contact the association."
    assert urlsplit(browser.current_url).path == SIGN_ON


def test_a_sign_on_token_expires_on_the_emulators_clock(party, browser, server):
    browser.get(party.url + "/start")
    sign_in(browser, "someone", "someone-password")
    token = text_of(browser, "token")

    EmulatorClient(server.url).advance_clock(21 * 60)
    browser.get(f"{party.url}/callback?ssoToken={token}")
    assert text_of(browser, "member") == "not signed in"


def test_a_return_address_the_tenant_does_not_allow_is_refused(party, browser):
    browser.get(party.sign_on_address("https://evil.example.org/callback"))
    assert "is not one this site sends a browser back to" in text_of(browser, "notice")

    posted = requests.post(party.sign_on_address("http://localhost.evil.example.org/callback"),
                           data={"login": "someone", "password": "someone-password"}, allow_redirects=False,
                           timeout=30)
    assert posted.status_code == 400 and "Location" not in posted.headers
