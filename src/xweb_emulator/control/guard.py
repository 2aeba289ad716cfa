"""Who may drive the control plane (/_emulator/): every request, the dashboard's included, passes here first.

- With a control token set (--control-token, XWEB_EMULATOR_CONTROL_TOKEN), every request presents it:
  `Authorization: Bearer <token>` or `X-Emulator-Token: <token>` (401 otherwise).
- A request that changes state (any verb but GET, HEAD, OPTIONS) must not come from another site: a browser's
  `Sec-Fetch-Site` other than same-origin or none, or an `Origin` that is not the emulator's own, is refused (403).
- Its body, if any, must be JSON (415): a web page can post text/plain or a form anywhere without a preflight, never
  application/json. The dashboard's own HTML forms (/_emulator/ui/…) may post forms, from the same origin only.
"""

from __future__ import annotations

import hmac
import json

from werkzeug import Request

from xweb_emulator.call import Answer

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UI_PREFIX = "/_emulator/ui"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def refusal(request: Request, token: str | None) -> Answer | None:
    """Why this control request is refused, as its answer; None when it may go on."""
    if token and not _presents(request, token):
        return _error(401, "this emulator's control plane needs its token: Authorization: Bearer <token> or "
                           "X-Emulator-Token: <token>", [("WWW-Authenticate", 'Bearer realm="xweb-emulator"')])
    if request.method in SAFE_METHODS:
        return None
    same_origin = _same_origin(request)
    if same_origin is False:
        return _error(403, "cross-site requests may not change the emulator's state")
    if request.content_length == 0 or not request.get_data(cache=True):
        return None
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return None
    if mimetype in _FORMS and request.path.startswith(UI_PREFIX) and same_origin is not False:
        return None
    return _error(415, "a control request's body must be JSON (Content-Type: application/json)")


def _presents(request: Request, token: str) -> bool:
    given = request.headers.get("X-Emulator-Token")
    if given is None:
        authorization = request.authorization
        given = authorization.token if authorization is not None and authorization.type == "bearer" else None
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _same_origin(request: Request) -> bool | None:
    """True or False where the browser says; None where nothing tells (a client that is no browser)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.rstrip("/").lower() == request.host_url.rstrip("/").lower()
    return True if fetch_site is not None else None


def _error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Answer:
    return Answer(status, [("Content-Type", "application/json; charset=utf-8"), *(headers or [])],
                  json.dumps({"error": message}).encode())
