"""The control plane: JSON over HTTP under /_emulator/, for test harnesses (documented in
docs/testing-your-connector.md).

    GET    /_emulator/health                     ready, versions, database kind, schema revisions
    GET    /_emulator/coverage                   per vendor, every operation of its service and whether it is emulated
    POST   /_emulator/reset                      back to the demo data ({"empty": true}: without it; {"vendor": "sap"}:
                                                 that vendor's records only)
    POST   /_emulator/seed                       load a seed document; answers the keys created
    GET    /_emulator/state                      each vendor's objects and how many records each holds
    GET    /_emulator/state/<vendor>/<object>    the stored records; ?<column>=<value> filters, limit, offset
    GET    /_emulator/requests                   the request journal; ?vendor= &operation= &outcome= &after_id= &limit=
                                                 &format=har: as a HAR 1.2 document (har.py)
    DELETE /_emulator/requests                   clear it
    GET    /_emulator/requests/<id>              one call
    GET    /_emulator/faults                     the fault rules, and each vendor's fault kinds
    POST   /_emulator/faults                     add a rule (or a list of rules)
    DELETE /_emulator/faults[/<id>]              remove every rule, or one
    GET    /_emulator/clock                      the emulator's now and its offset from real time
    POST   /_emulator/clock                      {"offset_seconds": s} | {"advance_seconds": s} | {"now": "<ISO 8601>"}
    DELETE /_emulator/clock                      back to real time
           /_emulator/ui/                        the dashboard (control/ui.py)

What each request does is in control/operations.py, which the dashboard calls too; this module reads requests and
writes JSON.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from xweb_emulator import har
from xweb_emulator.control import operations
from xweb_emulator.control.guard import UI_PREFIX
from xweb_emulator.control.operations import MAX_ID, BadRequest, NotFound
from xweb_emulator.emulator import Emulator
from xweb_emulator.inputs import UnreadableJson, read_json

if TYPE_CHECKING:
    from xweb_emulator.control.ui import Dashboard

__all__ = ["BadRequest", "ControlPlane"]


class ControlPlane:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.urls = Map([
            Rule("/_emulator/health", endpoint=self.health, methods=["GET"]),
            Rule("/_emulator/coverage", endpoint=self.coverage, methods=["GET"]),
            Rule("/_emulator/reset", endpoint=self.reset, methods=["POST"]),
            Rule("/_emulator/seed", endpoint=self.seed, methods=["POST"]),
            Rule("/_emulator/state", endpoint=self.state_summary, methods=["GET"]),
            Rule("/_emulator/state/<vendor>/<object_name>", endpoint=self.state, methods=["GET"]),
            Rule("/_emulator/requests", endpoint=self.requests, methods=["GET"]),
            Rule("/_emulator/requests", endpoint=self.clear_requests, methods=["DELETE"]),
            Rule(f"/_emulator/requests/<int(max={MAX_ID}):entry_id>", endpoint=self.request_entry,
                 methods=["GET"]),
            Rule("/_emulator/faults", endpoint=self.fault_rules, methods=["GET"]),
            Rule("/_emulator/faults", endpoint=self.add_fault_rules, methods=["POST"]),
            Rule("/_emulator/faults", endpoint=self.clear_fault_rules, methods=["DELETE"]),
            Rule(f"/_emulator/faults/<int(max={MAX_ID}):rule_id>", endpoint=self.remove_fault_rule,
                 methods=["DELETE"]),
            Rule("/_emulator/clock", endpoint=self.clock, methods=["GET"]),
            Rule("/_emulator/clock", endpoint=self.set_clock, methods=["POST"]),
            Rule("/_emulator/clock", endpoint=self.reset_clock, methods=["DELETE"]),
        ], strict_slashes=False)

    @cached_property
    def ui(self) -> Dashboard:
        """The dashboard, built for its first page: Jinja2 and its environment (some 45 ms) are loaded only where
        the control plane is served, and are not in the way of a server's first answer."""
        from xweb_emulator.control.ui import Dashboard

        return Dashboard(self.emulator)

    def __call__(self, request: Request) -> Response:
        if request.path == UI_PREFIX or request.path.startswith(UI_PREFIX + "/"):
            return self.ui(request)
        try:
            handler, arguments = self.urls.bind_to_environ(request.environ).match()
            result = handler(request, **arguments)
        except HTTPException as error:
            return _json({"error": error.description}, error.code)
        except NotFound as error:
            return _json({"error": str(error)}, 404)
        except BadRequest as error:
            return _json({"error": str(error)}, 400)
        return result if isinstance(result, Response) else _json(result)

    # ------------------------------------------------------------------------------------------------- health

    def health(self, request: Request) -> dict:
        return operations.health(self.emulator)

    def coverage(self, request: Request) -> dict:
        return operations.coverage(self.emulator)

    # ------------------------------------------------------------------------------------------ reset and seed

    def reset(self, request: Request) -> dict:
        body = _json_object(request, default={})
        empty = operations.flag(request.args.get("empty", body.get("empty", False)), "empty")
        return operations.reset(self.emulator, empty=empty, vendor=request.args.get("vendor", body.get("vendor")),
                                profile=body.get("profile"))

    def seed(self, request: Request) -> dict:
        return {"created": operations.seed(self.emulator, _json_body(request))}

    # -------------------------------------------------------------------------------------------------- state

    def state_summary(self, request: Request) -> dict:
        return operations.state_summary(self.emulator)

    def state(self, request: Request, vendor: str, object_name: str) -> dict:
        filters, paging = operations.state_filters(self.emulator, vendor, object_name, request.args)
        return operations.state_records(self.emulator, vendor, object_name, filters, **paging)

    # ------------------------------------------------------------------------------------------------ journal

    def requests(self, request: Request) -> dict:
        filters = operations.journal_filters(request.args)
        calls = operations.journal_entries(
            self.emulator, filters, after_id=operations.whole_number(request.args.get("after_id"), "after_id", operations.MAX_ID),
            limit=operations.whole_number(request.args.get("limit"), "limit"))
        answer_format = request.args.get("format", "json")
        if answer_format == "har":
            return har.journal_document(calls, request.host_url, self.emulator.vendors)
        if answer_format != "json":
            raise BadRequest(f"format must be json or har, not {answer_format!r}")
        return {"requests": calls}

    def request_entry(self, request: Request, entry_id: int) -> dict:
        return operations.journal_entry(self.emulator, entry_id)

    def clear_requests(self, request: Request) -> dict:
        operations.clear_journal(self.emulator)
        return {"cleared": True}

    # ------------------------------------------------------------------------------------------------- faults

    def fault_rules(self, request: Request) -> dict:
        return operations.fault_rules(self.emulator)

    def add_fault_rules(self, request: Request) -> Response:
        body = _json_body(request)
        rules = operations.add_fault_rules(self.emulator, body if isinstance(body, list) else [body])
        return _json({"rules": rules}, 201)

    def clear_fault_rules(self, request: Request) -> dict:
        operations.clear_fault_rules(self.emulator)
        return {"cleared": True}

    def remove_fault_rule(self, request: Request, rule_id: int) -> dict:
        operations.remove_fault_rule(self.emulator, rule_id)
        return {"removed": rule_id}

    # -------------------------------------------------------------------------------------------------- clock

    def clock(self, request: Request) -> dict:
        return operations.get_clock(self.emulator)

    def set_clock(self, request: Request) -> dict:
        return operations.set_clock(self.emulator, _json_object(request))

    def reset_clock(self, request: Request) -> dict:
        return operations.reset_clock(self.emulator)


# ------------------------------------------------------------------------------------------------------ helpers


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False, default=str), status,
                    content_type="application/json; charset=utf-8")


def _json_body(request: Request, default: Any = None) -> Any:
    data = request.get_data()
    if not data.strip():
        if default is None:
            raise BadRequest("the request body must be JSON")
        return default
    try:
        return read_json(data)
    except UnreadableJson as error:
        raise BadRequest(f"the request body is not valid JSON: {error.json_net}") from None


def _json_object(request: Request, default: dict | None = None) -> dict:
    body = _json_body(request, default)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body
