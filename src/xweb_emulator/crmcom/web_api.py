"""The Web API on the wire: /crmapi/rest/v2/<method>, JSON in, the envelope out.

POST methods take a JSON object body holding the token (as the vendor's examples); GET methods take query
parameters, an identifier written as `field=value` (`customer_event_identifier=number=5`, as the vendor's
`contact_information_identifier=number=CI000111`). Every answer is {"data": …, "status": {"code", "description",
"message"}}; errors carry data null and the error's code (HTTP status: crmcom/errors.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug import Request, Response
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from xweb_emulator.crmcom.api import METHODS, CrmComApi, Method
from xweb_emulator.crmcom.errors import CrmComError, InvalidJson, MethodNotAllowed, UnknownMethod
from xweb_emulator.vendor import CallRecord

PREFIX = "/crmapi/rest/v2/"

# The verb is checked by the method itself, so that a wrong one is answered in the envelope like any other error.
_URLS = Map([Rule(PREFIX + name, endpoint=name) for name in METHODS], strict_slashes=False)


def is_web_api_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def method_at(path: str) -> Method | None:
    try:
        name, _ = _URLS.bind("crmcom").match(path)
    except NotFound:
        return None
    return METHODS[name]


def handle(api: CrmComApi, request: Request) -> Response:
    method = method_at(request.path)
    record = CallRecord.of(request.environ, "crmcom", method.name if method else None)
    try:
        if method is None:
            raise UnknownMethod(f"Method ({request.path.removeprefix(PREFIX)}) Not Found.")
        if request.method != method.verb:
            raise MethodNotAllowed(f"Method ({method.name}) Accepts {method.verb} Only.")
        data = api.call(method, _params(request, method), record)
    except CrmComError as error:
        record.outcome = error.code
        return _envelope(error.http_status, None, {"code": error.code, "description": error.description,
                                                    "message": error.message})
    return _envelope(200, data, {"code": "OK", "description": "", "message": ""})


def _params(request: Request, method: Method) -> Mapping[str, Any]:
    if method.verb == "GET":
        return {name: _query_value(name, value) for name, value in request.args.items()}
    body = request.get_data()
    try:
        params = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidJson(f"The Request Body Is Not Valid JSON: {error}.") from None
    if not isinstance(params, Mapping):
        raise InvalidJson("The Request Body Is Not A JSON Object.")
    return params


def _query_value(name: str, value: str) -> Any:
    """An identifier's `field=value` as the identifier object the domain reads; other parameters as they are."""
    if name.endswith("_identifier") and "=" in value:
        field, _, given = value.partition("=")
        return {field.strip(): given}
    return value


def _envelope(http_status: int, data: Any, status: dict[str, str]) -> Response:
    return Response(json.dumps({"data": data, "status": status}, ensure_ascii=False), http_status,
                    content_type="application/json; charset=utf-8")
