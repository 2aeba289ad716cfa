"""eWeb's sign-on page, where SSO integrations send a browser (docs/sign-on.md):

    GET  /eWeb/DynamicPage.aspx?WebCode=LoginRequired&Site=…&URL_success=<return address>?ssoToken={token}
    GET  /eWeb/DynamicPage.aspx?WebCode=LoginRequired&Site=…&ReturnUrl=<return address>?Token={token}
         a login form; its POST signs the web user in and sends the browser to the return address, {token}
         replaced by a sign-on token (which WebValidate turns into the customer key); on failure the form again,
         with the page's message
    GET  /eWeb/DynamicPage.aspx?WebCode=LogOut&URL_success=<return address>
         the browser's sign-on token (the page's cookie, or a Token parameter) logged out, the browser sent back

The return address comes URL-encoded or raw; a raw one runs to the end of the query string (integrations append it
last). Only addresses the tenant allows are used (sign_on.return_addresses), so the page is no open redirect.

The pages are calls like any other: one transaction, the journal (the password and tokens masked), fault rules by
their names (eWeb LoginRequired, eWeb Login, eWeb LogOut). The rules are web_users'; this module reads the request
and writes the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from xweb_emulator.call import Answer, Call
from xweb_emulator.inputs import UnreadableValue, read_values
from xweb_emulator.vendor import Incoming, Operation, Wire
from xweb_emulator.xweb import auth, web_users
from xweb_emulator.xweb.errors import XWebError
from xweb_emulator.xweb.tenant import tenant_of

EWEB_PATH = "/eWeb/DynamicPage.aspx"
COOKIE = "eweb_sso_token"
_RETURN_PARAMETERS = ("URL_success", "ReturnUrl")
_RAW_ADDRESS = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class EWebPage(Operation):
    """A page of eWeb's, run as an operation is; it takes no xWeb credentials."""

    issues_token: bool = False  # read by the vendor's hooks, as of every xWeb operation


@dataclass(frozen=True)
class PageResult:
    location: str | None = None
    """Where the browser is sent next (302)."""
    token: str | None = None
    """The sign-on cookie to set; "" to clear it; None to leave it."""
    notice: str | None = None
    """A page of this text, where there is no return address to send the browser to."""


class PageNotEmulated(XWebError):
    def __init__(self, web_code: str | None) -> None:
        super().__init__(f"The eWeb page WebCode={web_code or ''} is not emulated (LoginRequired and LogOut are).")


# -------------------------------------------------------------------------------------------------- the pages


def _login_form(call: Call, params: dict[str, Any]) -> PageResult:
    web_users.check_return_address(tenant_of(call.connection).profile.sign_on, params["return_address"])
    return PageResult()


def _sign_in(call: Call, params: dict[str, Any]) -> PageResult:
    sign_on = tenant_of(call.connection).profile.sign_on
    address = web_users.check_return_address(sign_on, params["return_address"])
    user = web_users.login(call.session, sign_on, params.get("login"), params.get("password"))
    token = web_users.issue_token(call.session, sign_on, user, call.now)
    if address is None:
        return PageResult(token=str(token), notice="You are signed in.")
    return PageResult(location=web_users.destination(address, token), token=str(token))


def _log_out(call: Call, params: dict[str, Any]) -> PageResult:
    address = web_users.check_return_address(tenant_of(call.connection).profile.sign_on, params["return_address"])
    for token in (params.get("token"), params.get("cookie")):
        web_users.logout(call.session, token)
    return PageResult(location=address, token="", notice=None if address else "You are signed out.")


def _not_emulated(call: Call, params: dict[str, Any]) -> PageResult:
    raise PageNotEmulated(params.get("web_code"))


PAGES = {
    ("loginrequired", "GET"): EWebPage(name="eWeb LoginRequired", run=_login_form),
    ("loginrequired", "POST"): EWebPage(name="eWeb Login", run=_sign_in),
    ("logout", "GET"): EWebPage(name="eWeb LogOut", run=_log_out),
    ("logout", "POST"): EWebPage(name="eWeb LogOut", run=_log_out),
}
_OTHER_PAGE = EWebPage(name="eWeb", run=_not_emulated)


# ----------------------------------------------------------------------------------------------------- the wire


def return_address(query: str) -> str | None:
    """URL_success's or ReturnUrl's value: URL-encoded, or raw (then the rest of the query string)."""
    for name in _RETURN_PARAMETERS:
        match = re.search(rf"(?:^|&){name}=", query, re.IGNORECASE)
        if match is not None:
            value = query[match.end():]
            return value if _RAW_ADDRESS.match(value) else unquote_plus(value.split("&", 1)[0])
    return None


class EWebWire(Wire):
    def read(self, call: Call) -> Incoming:
        request = call.request
        query = request.query_string.decode("utf-8", "replace")
        credentials = auth.Credentials(required=False)
        try:
            given = {name.lower(): value for name, value in reversed(read_values(request.args.items(multi=True)))}
            form = dict(read_values(parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True)))
            address = return_address(query)
            if address is not None:
                read_values([("return address", address)])
        except UnreadableValue as error:
            return Incoming(_OTHER_PAGE, credentials=credentials,
                            unreadable=XWebError(f"Invalid value for {error.name}."))
        web_code = given.get("webcode")
        page = PAGES.get(((web_code or "").lower(), request.method), _OTHER_PAGE)
        params = {"web_code": web_code, "site": given.get("site"), "return_address": address,
                  "login": form.get("login"), "password": form.get("password"),
                  "token": given.get("token") or given.get("ssotoken"), "cookie": request.cookies.get(COOKIE)}
        return Incoming(page, params, credentials, wire_state=request.full_path)

    def write(self, call: Call, incoming: Incoming, reply: Any) -> Answer:
        result: PageResult = reply.result
        headers = []
        if result.token is not None:
            headers.append(("Set-Cookie", f"{COOKIE}={result.token}; Path=/eWeb; HttpOnly; SameSite=Lax"
                                          + ("" if result.token else "; Max-Age=0")))
        if result.location is not None:
            # The location is not in the body: the journal keeps bodies, and it holds the sign-on token.
            return Answer(302, [("Location", result.location), *headers, *_HTML], b"")
        return _page(200, incoming, notice=result.notice, headers=headers)

    def write_error(self, call: Call, incoming: Incoming | None, error: XWebError) -> Answer:
        if isinstance(error, web_users.LoginFailed):
            message = ("Your account is locked. Please contact the association." if error.locked
                       else "Invalid login or password. Please try again.")
            return _page(200, incoming, message=message)
        status = 404 if isinstance(error, PageNotEmulated) else 400
        return _page(status, incoming, notice=error.message)


_HTML = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]


@cache
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined  # only for a page: not on every start

    environment = Environment(loader=PackageLoader("xweb_emulator.xweb", "templates"), autoescape=True,
                              undefined=StrictUndefined)
    return environment.get_template("eweb_sign_on.html")


def _page(status: int, incoming: Incoming | None, *, notice: str | None = None, message: str | None = None,
          headers: list[tuple[str, str]] | None = None) -> Answer:
    params = incoming.params if incoming is not None and isinstance(incoming.params, dict) else {}
    page = incoming.operation if incoming is not None else None
    logging_in = page is not None and page.run in (_login_form, _sign_in)
    html = _template().render(notice=notice, message=message, form=logging_in and notice is None,
                              action=incoming.wire_state if incoming is not None else EWEB_PATH,
                              login=params.get("login") or "")
    return Answer(status, [*_HTML, *(headers or [])], html.encode())
