"""The Web API's wire: /crmapi/rest/v2/<method>, JSON in, the envelope out.

POST methods take a JSON object body holding the token (as the vendor's examples); GET methods take query
parameters, an identifier written as `field=value` (`customer_event_identifier=number=5`, as the vendor's
`contact_information_identifier=number=CI000111`). Every answer is {"data": …, "status": {"code", "description",
"message"}}; errors carry data null and the error's code (HTTP status: crmcom/errors.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xweb_emulator import inputs
from xweb_emulator.call import Answer, Call
from xweb_emulator.crmcom.errors import CrmComError, InvalidJson, InvalidValue, MethodNotAllowed, UnknownMethod
from xweb_emulator.crmcom.operations import OPERATIONS, Method
from xweb_emulator.inputs import UnreadableJson, UnreadableValue, read_json, read_values
from xweb_emulator.vendor import Incoming, Wire

PREFIX = "/crmapi/rest/v2/"

_UNREADABLE = {
    inputs.SYNTAX: "The Request Body Is Not Valid JSON (Line {line}, Column {column}).",
    inputs.END: "The Request Body Is Not Valid JSON: It Ends Too Soon (Line {line}, Column {column}).",
    inputs.DEPTH: f"The Request Body Is Not Valid JSON: It Is Nested Deeper Than {inputs.MAX_DEPTH} Levels.",
    inputs.ENCODING: "The Request Body Is Not Valid JSON: It Is Not UTF-8 (Line {line}, Column {column}).",
    inputs.ESCAPE: "The Request Body Is Not Valid JSON: Invalid Unicode Escape (Line {line}, Column {column}).",
    inputs.NUMBER: f"The Request Body Is Not Valid JSON: A Number Has More Than {inputs.MAX_DIGITS} Digits "
                   "(Line {line}, Column {column}).",
}
_OK = {"code": "OK", "description": "", "message": ""}


def is_web_api_path(path: str) -> bool:
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def method_at(path: str) -> Method | None:
    """The method whose path this is, with or without one trailing slash. Any verb: the wire checks it, so that a
    wrong one is answered in the envelope like any other error."""
    if not path.startswith(PREFIX):
        return None
    return OPERATIONS.get(path[len(PREFIX):].removesuffix("/"))


class RestWire(Wire):
    def read(self, call: Call) -> Incoming:
        request = call.request
        method = call.routed
        if method is None:
            return Incoming(None, unreadable=UnknownMethod(f"Method ({request.path.removeprefix(PREFIX)}) Not Found."))
        if request.method != method.verb:
            return Incoming(method, unreadable=MethodNotAllowed(f"Method ({method.name}) Accepts {method.verb} Only."))
        try:
            params = _params(call, method)
        except CrmComError as error:
            return Incoming(method, unreadable=error)
        token = params.get("token")
        return Incoming(method, params, credentials=token if isinstance(token, str) else "")

    def write(self, call: Call, incoming: Incoming, data: Any) -> Answer:
        return _envelope(200, data, _OK)

    def write_error(self, call: Call, incoming: Incoming | None, error: CrmComError) -> Answer:
        return _envelope(error.http_status, None, {"code": error.code, "description": error.description,
                                                   "message": error.message})


def _params(call: Call, method: Method) -> Mapping[str, Any]:
    if method.verb == "GET":
        try:
            return {name: _query_value(name, value) for name, value in read_values(call.request.args.items())}
        except UnreadableValue as error:
            raise InvalidValue(f"Parameter ({error.name}) Holds A NUL Character.") from None
    body = call.body
    try:
        params = read_json(body) if body.strip() else {}
    except UnreadableJson as error:
        raise InvalidJson(_UNREADABLE[error.kind].format(line=error.line, column=error.column)) from None
    if not isinstance(params, Mapping):
        raise InvalidJson("The Request Body Is Not A JSON Object.")
    return params


def _query_value(name: str, value: str) -> Any:
    """An identifier's `field=value` as the identifier object the domain reads; other parameters as they are."""
    if name.endswith("_identifier") and "=" in value:
        field, _, given = value.partition("=")
        return {field.strip(): given}
    return value


def _envelope(http_status: int, data: Any, status: dict[str, str]) -> Answer:
    # The domain's answers are plain data, never circular: not checking (a set entry for each of a bulk answer's
    # thousand objects) writes them 12% sooner.
    return Answer(http_status, [("Content-Type", "application/json; charset=utf-8")],
                  json.dumps({"data": data, "status": status}, ensure_ascii=False, check_circular=False).encode())
