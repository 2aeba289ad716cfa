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

from werkzeug import Request, Response

from xweb_emulator import jsonnet
from xweb_emulator.vendor import CallRecord
from xweb_emulator.xweb.api import Caller, Operation, Result, XWebTenant, fault_detail, operation_named
from xweb_emulator.xweb.errors import XWebError

# Operations whose parameters are all simple may also be called with GET and a query string, as on xWeb.
_COMPLEX_PARAMETERS = ("InsertFacadeObject", "SetCustomerCommunicationPreferences", "WEBPhoneUpdate", "WEBPhoneInsert")


def handle(tenant: XWebTenant, request: Request, method_name: str) -> Response:
    operation = operation_named(method_name)
    if operation is None:
        return _error(404, f"Unknown web method {method_name}.")
    if request.method == "GET" and operation.name not in _COMPLEX_PARAMETERS:
        params: Any = request.args.to_dict()
    elif request.method == "POST":
        try:
            params = _params(operation, loads(request.get_data().decode("utf-8") or "{}"))
        except (ValueError, UnicodeDecodeError) as error:
            return _error(400, f"The request body is not valid JSON: {error}.")
    else:
        return _error(405, f"{operation.name} accepts POST{'' if operation.name in _COMPLEX_PARAMETERS else ' or GET'}.")
    if not isinstance(params, Mapping):
        return _error(400, f'The request body must be an object: {{"{operation.name}": {{…parameters…}}}}.')
    try:
        # "All xWeb REST requests require either a username/password with BASIC auth, OR BEARER auth with a token"
        # (vendor JSON overview): Authenticate, whose parameters are the credentials, is the one exception.
        reply = tenant.call(operation, _caller(request), _named(operation, params),
                            takes_token=operation.name != "Authenticate")
    except XWebError as error:
        return _json_response(500, fault_detail(error, operation))
    if operation.name == "Authenticate":
        response = _json_response(200, {"Token": reply.token})
    elif operation.result is Result.VOID:
        response = Response(b"", 200, content_type=None)
    else:
        response = _json_response(200, _result(operation, reply.result))
    if reply.token:
        response.headers["WWW-Authenticate"] = f"Bearer token = {reply.token}"
    return response


_STRING_OR_SPACE = re.compile(r'("(?:\\.|[^"\\])*")|\s')


def loads(text: str) -> Any:
    """Parse JSON as JSON.NET does, which takes any Unicode white space between tokens (char.IsWhiteSpace): the
    vendor's own samples are indented with no-break spaces, and a tenant accepts them."""
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(_STRING_OR_SPACE.sub(lambda match: match.group(1) or " ", text))


def _params(operation: Operation, body: Any) -> Any:
    """{"<Method>": {params}} as the vendor documents it; bare parameters are accepted too."""
    if isinstance(body, Mapping) and len(body) == 1:
        (name, value), = body.items()
        if name.lower() == operation.name.lower() and isinstance(value, Mapping):
            return value
    return body


def _named(operation: Operation, params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters under the operation's own names: JSON.NET and ASP.NET bind names without regard to case."""
    canonical = {name.lower(): name for name in operation.parameter_names}
    return {canonical.get(name.lower(), name): value for name, value in params.items()}


def _caller(request: Request) -> Caller:
    client_address, record = request.remote_addr or "", CallRecord.of(request.environ)
    authorization = request.authorization
    if authorization is not None and authorization.type == "basic":
        return Caller(client_address, basic_credentials=(authorization.username or "", authorization.password or ""),
                      record=record)
    if authorization is not None and authorization.type == "bearer":
        return Caller(client_address, token=authorization.token, record=record)
    return Caller(client_address, record=record)


def _result(operation: Operation, result: Any) -> Any:
    if operation.result is Result.XML_NODE:
        return jsonnet.xml_node_json(result)
    if isinstance(result, datetime):
        return result.isoformat()
    return result


def _error(status: int, message: str) -> Response:
    return _json_response(status, fault_detail(XWebError(message), None))


def _json_response(status: int, value: Any) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status, content_type="application/json; charset=utf-8")
