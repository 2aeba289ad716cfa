"""The toy's one wire: a JSON body in, a JSON document out; HTTP Basic for the user."""

from __future__ import annotations

import json
from typing import Any

from xweb_emulator.call import Answer, Call
from xweb_emulator.vendor import Incoming, Wire
from toy_vendor.errors import ToyError

PREFIX = "/toy/"
_JSON = [("Content-Type", "application/json")]


class JsonWire(Wire):
    def read(self, call: Call) -> Incoming:
        authorization = call.request.authorization
        credentials = (authorization.username, authorization.password) if authorization is not None else ("", "")
        if call.routed is None:
            return Incoming(None, credentials=credentials, unreadable=ToyError(
                f"No operation {call.request.path.removeprefix(PREFIX)}."))
        try:
            params = json.loads(call.body or b"{}")
        except ValueError:
            return Incoming(call.routed, credentials=credentials, unreadable=ToyError("The body is no JSON."))
        return Incoming(call.routed, params if isinstance(params, dict) else {}, credentials)

    def write(self, call: Call, incoming: Incoming, result: Any) -> Answer:
        return Answer(200, _JSON, json.dumps(result).encode())

    def write_error(self, call: Call, incoming: Incoming | None, error: ToyError) -> Answer:
        return Answer(error.status, _JSON, json.dumps({"error": error.code, "message": error.message}).encode())
