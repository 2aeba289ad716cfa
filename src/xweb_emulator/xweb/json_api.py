"""xWeb's JSON twin: POST /xWeb/JSON/<Method> with {"<Method>": {params}}, calling the same API as SOAP.

Authentication is HTTP Basic (an xWeb user) or `Authorization: Bearer <token>`; every successful answer carries the
token as `WWW-Authenticate: Bearer token = <guid>`. Results are written as the vendor's .NET stack writes them:
typed objects as JSON objects, XmlNode results by JSON.NET's XML conventions, void as an empty 200.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from werkzeug import Request

from xweb_emulator import jsonnet
from xweb_emulator.call import Answer, Call
from xweb_emulator.inputs import UnreadableJson, UnreadableValue, read_json, read_value, read_values
from xweb_emulator.vendor import Incoming, Wire
from xweb_emulator.xweb import auth
from xweb_emulator.xweb.errors import XWebError, fault_detail, holds_nul
from xweb_emulator.xweb.operations import Reply, Result, XWebOperation

_JSON = [("Content-Type", "application/json; charset=utf-8")]


class JsonRequestError(XWebError):
    """A request the JSON twin cannot take (unknown method, wrong verb, a body that is no JSON object): the
    SystemExceptionInfo detail under an HTTP status of its own."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class JsonWire(Wire):
    def read(self, call: Call) -> Incoming:
        request = call.request
        method_name = request.path.rstrip("/").rsplit("/", 1)[-1]
        operation = call.routed
        if operation is None:
            return Incoming(None, unreadable=JsonRequestError(404, f"Unknown web method {method_name}."))
        if request.method not in ("GET", "POST") or (request.method == "GET" and not operation.simple_parameters):
            verbs = "POST or GET" if operation.simple_parameters else "POST"
            return Incoming(operation, unreadable=JsonRequestError(405, f"{operation.name} accepts {verbs}."))
        try:
            if request.method == "GET":
                params: Any = dict(read_values(request.args.items()))
            else:
                params = _params(operation, read_json(call.body, loads) if call.body.strip() else {})
            credentials = _credentials(request, operation)
        except UnreadableJson as error:
            return Incoming(operation, unreadable=JsonRequestError(400, error.json_net))
        except UnreadableValue as error:
            return Incoming(operation, unreadable=JsonRequestError(400, holds_nul(error.name)))
        if not isinstance(params, Mapping):
            return Incoming(operation, unreadable=JsonRequestError(
                400, f'The request body must be an object: {{"{operation.name}": {{…parameters…}}}}.'))
        return Incoming(operation, _named(operation, params), credentials)

    def write(self, call: Call, incoming: Incoming, reply: Reply) -> Answer:
        operation: XWebOperation = incoming.operation
        if operation.issues_token:
            answer = _json_answer(200, {"Token": reply.token})
        elif operation.result is Result.VOID:
            answer = Answer(200, [], b"")
        elif operation.result is Result.XML_NODE:
            answer = Answer(200, list(_JSON), jsonnet.xml_node_json(reply.result))
        else:
            answer = _json_answer(200, _result(operation, reply.result))
        if reply.token:
            answer.headers.append(("WWW-Authenticate", f"Bearer token = {reply.token}"))
        return answer

    def write_error(self, call: Call, incoming: Incoming | None, error: XWebError) -> Answer:
        operation = incoming.operation if incoming is not None else None
        trace = operation.stack_trace if operation is not None and not isinstance(error, JsonRequestError) else ""
        return _json_answer(error.status if isinstance(error, JsonRequestError) else 500, fault_detail(error, trace))


_STRING_OR_SPACE = re.compile(r'("(?:\\.|[^"\\])*")|\s')


def loads(text: str, **hooks: Any) -> Any:
    """Parse JSON as JSON.NET does, which takes any Unicode white space between tokens (char.IsWhiteSpace): the
    vendor's own samples are indented with no-break spaces, and a tenant accepts them. `hooks` are json.loads's."""
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError:
        return json.loads(_STRING_OR_SPACE.sub(lambda match: match.group(1) or " ", text), **hooks)


def _params(operation: XWebOperation, body: Any) -> Any:
    """{"<Method>": {params}} as the vendor documents it; bare parameters are accepted too."""
    if isinstance(body, Mapping) and len(body) == 1:
        (name, value), = body.items()
        if name.lower() == operation.name.lower() and isinstance(value, Mapping):
            return value
    return body


def _named(operation: XWebOperation, params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters under the operation's own names: JSON.NET and ASP.NET bind names without regard to case. A null
    member is not sent (the neutral form leaves it out, as the SOAP wire leaves out an xsi:nil element)."""
    canonical = {name.lower(): name for name in operation.parameter_names}
    return {canonical.get(name.lower(), name): value for name, value in jsonnet.without_nulls(dict(params)).items()}


def _credentials(request: Request, operation: XWebOperation) -> auth.Credentials:
    # "All xWeb REST requests require either a username/password with BASIC auth, OR BEARER auth with a token"
    # (vendor JSON overview): Authenticate, whose parameters are the credentials, is the one exception.
    required = not operation.issues_token
    authorization = request.authorization
    if authorization is not None and authorization.type == "basic":
        basic = (read_value("Authorization", authorization.username or ""),
                 read_value("Authorization", authorization.password or ""))
        return auth.Credentials(basic=basic, required=required)
    if authorization is not None and authorization.type == "bearer":
        return auth.Credentials(token=authorization.token, required=required)
    return auth.Credentials(required=required)


def _result(operation: XWebOperation, result: Any) -> Any:
    if operation.result is Result.TYPED:
        return jsonnet.typed_json(result)
    if isinstance(result, datetime):
        return result.isoformat()
    return result


def _json_answer(status: int, value: Any) -> Answer:
    return Answer(status, list(_JSON), json.dumps(value, ensure_ascii=False).encode())
