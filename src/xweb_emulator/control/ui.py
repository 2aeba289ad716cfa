"""The dashboard: the control plane as web pages under /_emulator/ui/, for a person debugging a connector.

    GET  /_emulator/ui/                          overview: each vendor's endpoints, credentials, objects; database; clock
    GET  /_emulator/ui/calls                     the journal, newest first (?vendor= &operation= &outcome= &before_id=)
    GET  /_emulator/ui/calls/chart               its chart alone (the page's script refreshes it)
    GET  /_emulator/ui/calls/<id>                one call: bodies pretty-printed, facts, "copy as curl"
    POST /_emulator/ui/calls/clear               empty the journal
    GET  /_emulator/ui/records[/<vendor>/<object>]   stored records; ?<column>=<value> filters, ?page=
    GET  /_emulator/ui/faults                    the fault rules and a form to add one
    POST /_emulator/ui/faults                    add a rule; …/faults/<id>/remove, …/faults/clear
    GET  /_emulator/ui/clock                     clock and reset
    POST /_emulator/ui/clock                     advance or set the clock; …/clock/real: back to real time
    POST /_emulator/ui/reset                     reset (confirm=yes), to the demo data or empty (data=empty)
    GET  /_emulator/ui/static/<file>             the pages' own CSS and JavaScript

Pages are rendered on the server (Jinja2) and complete without JavaScript; a small script of ours (static/ui.js)
adds the live updates of the calls page, which polls GET /_emulator/requests?after_id=. Forms post here and are
redirected back (POST/redirect/GET); every action and query is a function of control/operations.py, the same the
JSON control plane calls.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import mimetypes
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, get_args
from urllib.parse import quote, unquote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from lxml import etree
from markupsafe import Markup, escape
from sqlalchemy.engine import make_url
from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException, NotFound as HTTPNotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.utils import redirect

from xweb_emulator import faults
from xweb_emulator.control import operations
from xweb_emulator.control.guard import UI_PREFIX
from xweb_emulator.control.operations import BadRequest, NotFound
from xweb_emulator.emulator import Emulator
from xweb_emulator.vendor import REPLAYED, Vendor

PREFIX = UI_PREFIX
CALLS_PAGE_SIZE = 100
RECORDS_PAGE_SIZE = 50
CHART_BARS = 48
NOTICE_COOKIE = "xweb_emulator_notice"
BANNER_LABEL_WIDTH = 13  # the start-up banner's label column (Vendor.describe)
REFUSALS = ("throttled", "unavailable", "dropped")

ACTIONS = {
    "latency": "answer as usual, latency_ms later",
    "fault": "the vendor's own fault of the kind chosen (writes nothing)",
    "throttle": "HTTP 429 with Retry-After",
    "unavailable": "HTTP 503 with Retry-After",
    "drop": "close the connection, no answer",
    "expire_token": "expire every token the vendor issued, then answer as usual",
}
CLOCK_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
QUICK_ADVANCES = [(60, "+1 min"), (21 * 60, "+21 min", ), (3600, "+1 hour"), (86400, "+1 day")]
# Bucket widths for the calls chart, seconds: the first that fits the journal's span in CHART_BARS bars.
CHART_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
               604800, 2592000, 31536000)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class Dashboard:
    """The WSGI-side of the pages: werkzeug routing over Jinja2 templates."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.templates = Environment(loader=PackageLoader("xweb_emulator.control", "templates"), autoescape=True,
                                     undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates.filters.update(outcome_class=outcome_class, clock_time=clock_time, offset_text=offset_text,
                                      cell=cell_text, number=number_text, union=_with_value)
        self.templates.globals.update(prefix=PREFIX, vendor_title=self.vendor_title)
        page = self._page
        self.urls = Map([
            Rule(f"{PREFIX}/", endpoint=page(self.overview), methods=["GET"]),
            Rule(f"{PREFIX}/calls", endpoint=page(self.calls), methods=["GET"]),
            Rule(f"{PREFIX}/calls/chart", endpoint=self.calls_chart, methods=["GET"]),
            Rule(f"{PREFIX}/calls/<int(max={operations.MAX_ID}):entry_id>", endpoint=page(self.call), methods=["GET"]),
            Rule(f"{PREFIX}/calls/clear", endpoint=self.clear_calls, methods=["POST"]),
            Rule(f"{PREFIX}/records", endpoint=page(self.records_index), methods=["GET"]),
            Rule(f"{PREFIX}/records/<vendor>/<object_name>", endpoint=page(self.records), methods=["GET"]),
            Rule(f"{PREFIX}/faults", endpoint=page(self.faults), methods=["GET"]),
            Rule(f"{PREFIX}/faults", endpoint=self.add_fault, methods=["POST"]),
            Rule(f"{PREFIX}/faults/<int(max={operations.MAX_ID}):rule_id>/remove", endpoint=self.remove_fault,
                 methods=["POST"]),
            Rule(f"{PREFIX}/faults/clear", endpoint=self.clear_faults, methods=["POST"]),
            Rule(f"{PREFIX}/clock", endpoint=page(self.clock), methods=["GET"]),
            Rule(f"{PREFIX}/clock", endpoint=self.set_clock, methods=["POST"]),
            Rule(f"{PREFIX}/clock/real", endpoint=self.real_time, methods=["POST"]),
            Rule(f"{PREFIX}/reset", endpoint=self.reset, methods=["POST"]),
            Rule(f"{PREFIX}/static/<name>", endpoint=self.static, methods=["GET"]),
        ])

    def __call__(self, request: Request) -> Response:
        try:
            handler, arguments = self.urls.bind_to_environ(request.environ).match()
            response = handler(request, **arguments)
        except RequestRedirect as moved:
            return redirect(moved.new_url, 308)
        except HTTPException as error:
            response = self._render(request, "error.html", {"title": error.name, "code": error.code,
                                                             "message": error.description}, error.code)
        except NotFound as error:
            response = self._render(request, "error.html", {"title": "Not found", "code": 404,
                                                             "message": str(error)}, 404)
        except BadRequest as error:
            response = self._render(request, "error.html", {"title": "Bad request", "code": 400,
                                                             "message": str(error)}, 400)
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = CSP
            response.headers["Cache-Control"] = "no-store"
        return response

    # ---------------------------------------------------------------------------------------------- plumbing

    def _page(self, view: Callable[..., tuple[str, dict] | Response]) -> Callable[..., Response]:
        """A GET view answering a template and its context: the notice a redirect left is shown once."""

        def render(request: Request, **arguments: Any) -> Response:
            result = view(request, **arguments)
            if isinstance(result, Response):
                return result
            template, context, *status = result
            return self._render(request, template, context, *status)

        return render

    def _render(self, request: Request, template: str, context: dict, status: int = 200) -> Response:
        notice = request.cookies.get(NOTICE_COOKIE)
        common = {"request": request, "clock_state": self._clock_state(),
                  "notice": unquote(notice) if notice else None, "error": None, "section": "",
                  "rule_count": operations.fault_rules_in_force(self.emulator)}
        html = self.templates.get_template(template).render({**common, **context})
        response = Response(html, status, content_type="text/html; charset=utf-8")
        if notice:
            response.delete_cookie(NOTICE_COOKIE, path=PREFIX + "/")
        return response

    def _clock_state(self) -> dict:
        return operations.get_clock(self.emulator)

    def _done(self, location: str, notice: str) -> Response:
        """POST/redirect/GET: back to a page, which shows `notice` once."""
        response = redirect(location, 303)
        response.set_cookie(NOTICE_COOKIE, quote(notice), path=PREFIX + "/", httponly=True, samesite="Strict")
        return response

    # ---------------------------------------------------------------------------------------------- overview

    def overview(self, request: Request) -> tuple[str, dict]:
        base_url = request.host_url.rstrip("/")
        health = operations.health(self.emulator)
        counts = operations.state_summary(self.emulator)
        coverage = operations.coverage(self.emulator)
        vendors = [{"name": vendor.name, "title": self.vendor_title(vendor.name),
                    "endpoints": [_described(line) for line in vendor.describe(base_url)],
                    "coverage": coverage[vendor.name], "objects": counts.get(vendor.name, {})}
                   for vendor in self.emulator.vendors.values()]
        facets = operations.journal_facets(self.emulator)
        latest = operations.journal_entries(self.emulator, limit=1, newest_first=True)
        return "overview.html", {
            "section": "overview", "title": "Overview", "health": health, "vendors": vendors,
            "database_url": make_url(self.emulator.settings.database_url).render_as_string(hide_password=True),
            "control_url": f"{base_url}/_emulator/", "journal_total": facets.total,
            "latest_call": latest[0] if latest else None, "settings": self.emulator.settings,
        }

    # ------------------------------------------------------------------------------------------------- calls

    def calls(self, request: Request) -> tuple[str, dict]:
        filters = _journal_filters(request)
        before_id = _whole(request.args.get("before_id"), operations.MAX_ID)
        entries = operations.journal_entries(self.emulator, filters, before_id=before_id,
                                             limit=CALLS_PAGE_SIZE + 1, newest_first=True)
        older = entries[CALLS_PAGE_SIZE]["id"] + 1 if len(entries) > CALLS_PAGE_SIZE else None
        entries = entries[:CALLS_PAGE_SIZE]
        facets = operations.journal_facets(self.emulator)
        return "calls.html", {
            "section": "calls", "title": "Calls", "entries": entries, "filters": filters, "facets": facets,
            "vendor_names": list(self.emulator.vendors),
            "before_id": before_id, "older_id": older, "chart": self._chart(filters),
            "live": before_id is None,
            "newest": next(iter(operations.journal_entries(self.emulator, limit=1, newest_first=True)), None),
            "query": lambda **changes: _query({**filters, **changes}),
            "base_url": request.host_url.rstrip("/"),
        }

    def calls_chart(self, request: Request) -> Response:
        html = self.templates.get_template("_chart.html").render(chart=self._chart(_journal_filters(request)))
        return Response(html, content_type="text/html; charset=utf-8")

    def _chart(self, filters: Mapping[str, str]) -> Chart:
        now = datetime.fromisoformat(operations.get_clock(self.emulator)["now"].removesuffix("Z"))
        return build_chart(operations.journal_times(self.emulator, filters), now)

    def call(self, request: Request, entry_id: int) -> tuple[str, dict]:
        entry = operations.journal_entry(self.emulator, entry_id)
        rule = None
        if entry["fault_rule_id"] is not None:
            rule = next((rule for rule in operations.fault_rules(self.emulator)["rules"]
                         if rule["id"] == entry["fault_rule_id"]), None)
        newer = operations.journal_entries(self.emulator, after_id=entry_id, limit=1)
        older = operations.journal_entries(self.emulator, before_id=entry_id, limit=1, newest_first=True)
        return "call.html", {
            "section": "calls", "title": f"Call {entry_id}: {entry['operation'] or entry['path']}", "entry": entry,
            "request_body": pretty_body(entry["request"]["body"]),
            "response_body": pretty_body(entry["response"]["body"]),
            "curl": curl_command(entry, request.host_url.rstrip("/"), self.emulator.vendors[entry["vendor"]]),
            "rule": rule, "newer_id": newer[0]["id"] if newer else None,
            "older_id": older[0]["id"] if older else None,
        }

    def clear_calls(self, request: Request) -> Response:
        operations.clear_journal(self.emulator)
        return self._done(f"{PREFIX}/calls", "The journal is empty.")

    # ----------------------------------------------------------------------------------------------- records

    def records_index(self, request: Request) -> tuple[str, dict]:
        return "records_index.html", {"section": "records", "title": "Records",
                                      "counts": operations.state_summary(self.emulator)}

    def records(self, request: Request, vendor: str, object_name: str) -> tuple[str, dict] | Response:
        counts = operations.state_summary(self.emulator)
        try:
            canonical, view = operations.state_object(self.emulator, vendor, object_name)
        except BadRequest as error:
            raise HTTPNotFound(str(error)) from None
        columns = list(view.columns)
        given = {name: value for name, value in request.args.items() if name != "page" and value != ""}
        page = max(_whole(request.args.get("page")) or 1, 1)
        context = {"section": "records", "title": f"{canonical} · {self.vendor_title(vendor)}", "counts": counts,
                   "vendor": vendor, "object_name": canonical, "columns": columns, "filters": given, "page": page,
                   "records": [], "total": 0, "pages": 1, "page_size": RECORDS_PAGE_SIZE,
                   "query": lambda **changes: _query({**given, **changes})}
        try:
            filters, _paging = operations.state_filters(self.emulator, vendor, canonical, given)
            total = operations.state_count(self.emulator, vendor, canonical, filters)
            pages = max(math.ceil(total / RECORDS_PAGE_SIZE), 1)
            page = min(page, pages)
            records = operations.state_records(self.emulator, vendor, canonical, filters, limit=RECORDS_PAGE_SIZE,
                                               offset=(page - 1) * RECORDS_PAGE_SIZE)["records"]
        except BadRequest as error:
            return "records.html", {**context, "error": str(error)}, 400
        return "records.html", {**context, "records": records, "total": total, "pages": pages, "page": page}

    # ------------------------------------------------------------------------------------------------ faults

    def faults(self, request: Request, form: Mapping[str, str] | None = None,
               error: str | None = None) -> tuple[str, dict, int]:
        rules = operations.fault_rules(self.emulator)
        facets = operations.journal_facets(self.emulator)
        return "faults.html", {
            "section": "faults", "title": "Faults", "rules": rules["rules"], "vendors": rules["vendors"],
            "actions": {action: ACTIONS.get(action, "") for action in get_args(faults.Action)},
            "operations": facets.operations, "form": form or {}, "error": error,
        }, 400 if error else 200

    def add_fault(self, request: Request) -> Response:
        form = {name: value.strip() for name, value in request.form.items()}
        rule = {name: value for name, value in form.items() if name in faults.FaultSpec.model_fields and value}
        try:
            (added,) = operations.add_fault_rules(self.emulator, [rule])
        except BadRequest as error:
            template, context, status = self.faults(request, form, str(error))
            return self._render(request, template, context, status)
        return self._done(f"{PREFIX}/faults", f"Added rule {added['id']}: {rule_summary(added)}.")

    def remove_fault(self, request: Request, rule_id: int) -> Response:
        operations.remove_fault_rule(self.emulator, rule_id)
        return self._done(f"{PREFIX}/faults", f"Removed rule {rule_id}.")

    def clear_faults(self, request: Request) -> Response:
        operations.clear_fault_rules(self.emulator)
        return self._done(f"{PREFIX}/faults", "Removed every rule.")

    def vendor_title(self, name: str, short: bool = False) -> str:
        """A vendor's title, its own (Vendor.title; short: Vendor.short_title); a name no vendor has, as it is."""
        vendor = self.emulator.vendors.get(name)
        if vendor is None:
            return name
        return (vendor.short_title or vendor.title) if short else vendor.title

    # ----------------------------------------------------------------------------------------- clock, reset

    def clock(self, request: Request, error: str | None = None, form: Mapping[str, str] | None = None
              ) -> tuple[str, dict, int]:
        return "clock.html", {
            "section": "clock", "title": "Clock and reset", "error": error, "form": form or {},
            "units": CLOCK_UNITS, "quick": QUICK_ADVANCES, "real_now": operations.get_clock(self.emulator),
            "demo_data": self.emulator.settings.demo_data, "counts": operations.state_summary(self.emulator),
            "clock_marks": {seconds: mark for vendor in self.emulator.vendors.values()
                            for seconds, mark in vendor.clock_marks().items()},
        }, 400 if error else 200

    def set_clock(self, request: Request) -> Response:
        form = {name: value.strip() for name, value in request.form.items()}
        try:
            change = clock_change(form)
            state = operations.set_clock(self.emulator, change)
        except BadRequest as error:
            template, context, status = self.clock(request, str(error), form)
            return self._render(request, template, context, status)
        return self._done(f"{PREFIX}/clock", f"The clock now reads {clock_time(state['now'], seconds=True)} "
                                             f"({offset_text(state['offset_seconds'])}).")

    def real_time(self, request: Request) -> Response:
        operations.reset_clock(self.emulator)
        return self._done(f"{PREFIX}/clock", "The clock is back to real time.")

    def reset(self, request: Request) -> Response:
        if request.form.get("confirm") != "yes":
            template, context, status = self.clock(
                request, "Tick the box to confirm: a reset erases every record, the journal and the rules added "
                         "since start-up.", request.form)
            return self._render(request, template, context, status)
        empty = request.form.get("data") == "empty"
        answer = operations.reset(self.emulator, empty=empty)
        what = "the demo data" if answer["demo_data"] else "no records"
        return self._done(f"{PREFIX}/clock", f"Reset to {what} in {answer['duration_ms']:.0f} ms.")

    # ------------------------------------------------------------------------------------------------ static

    def static(self, request: Request, name: str) -> Response:
        resource = importlib.resources.files("xweb_emulator.control").joinpath("static", name)
        if "/" in name or name.startswith(".") or not resource.is_file():
            raise HTTPNotFound(f"There is no file {name}.")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = Response(resource.read_bytes(), content_type=content_type)
        response.headers["Cache-Control"] = "no-cache"
        return response


# ------------------------------------------------------------------------------------------ what pages show


def outcome_class(outcome: str) -> str:
    """ok (answered, by the emulator or from a recording), refused (an injected 429, 503 or dropped connection) or
    fault (everything else)."""
    if outcome in ("ok", REPLAYED):
        return "ok"
    return "refused" if outcome in REFUSALS else "fault"


def clock_time(text: str, seconds: bool = False) -> str:
    """An ISO time (the journal's, the clock's) as the pages show it: 2030-01-01 12:00:00(.000)."""
    value = text.removesuffix("Z").replace("T", " ")
    return value[:19] if seconds else value[:23]


def offset_text(seconds: float) -> str:
    if not seconds:
        return "real time"
    sign, rest = ("+" if seconds > 0 else "−"), abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if rest >= size:
            parts.append(f"{int(rest // size)} {unit}")
            rest %= size
    if rest or not parts:
        parts.append(f"{rest:g} s")
    return sign + " ".join(parts) + " from real time"


def number_text(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}".rstrip("0").rstrip(".")


def cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rule_summary(rule: Mapping[str, Any]) -> str:
    what = rule["action"] + (f" {rule['fault_kind']}" if rule["fault_kind"] else "")
    where = f"{rule['vendor']} {rule['operation']}" if rule["operation"] else f"every {rule['vendor']} call"
    return f"{what} on {where}"


@dataclass(frozen=True)
class DescribedLine:
    label: str
    value: Markup
    note: Markup


def _described(line: str) -> DescribedLine:
    """A line of a vendor's start-up banner ("xWeb SOAP    <url>   (WSDL: <url>)": a label padded to 13 characters,
    a value, a note two or more spaces on) as label, value and note, its addresses made links."""
    if len(line) > BANNER_LABEL_WIDTH and line[BANNER_LABEL_WIDTH - 1] == " ":
        label, rest = line[:BANNER_LABEL_WIDTH].strip(), line[BANNER_LABEL_WIDTH:].strip()
    else:
        label, _, rest = line.strip().partition("  ")
    value, _, note = rest.strip().partition("  ")
    return DescribedLine(label, _linked(value), _linked(note.strip()))


_URL = re.compile(r"https?://[^\s()]+")


def _linked(text: str) -> Markup:
    pieces, position = [], 0
    for match in _URL.finditer(text):
        url = match.group(0)
        pieces.append(escape(text[position:match.start()]))
        pieces.append(escape(url) if "<" in url else Markup('<a href="{0}">{0}</a>').format(url))
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def _with_value(values: list[str], value: str | None) -> list[str]:
    """A filter's choices with the value chosen, even when the journal no longer holds it."""
    return values if not value or value in values else sorted([*values, value])


def _journal_filters(request: Request) -> dict[str, str]:
    return {name: value for name, value in operations.journal_filters(request.args).items() if value}


def _whole(text: str | None, maximum: int = operations.MAX_INTEGER) -> int | None:
    """A page's whole number, as the JSON routes read one; None for anything else (the page's default)."""
    try:
        return operations.whole_number(text, "", maximum)
    except BadRequest:
        return None


def _query(arguments: Mapping[str, Any]) -> str:
    present = {name: value for name, value in arguments.items() if value not in (None, "")}
    return "?" + urlencode(present) if present else ""


def clock_change(form: Mapping[str, str]) -> dict[str, Any]:
    """The clock form's fields as operations.set_clock's change: seconds as numbers, an instant as text."""

    def seconds(text: str, name: str) -> float | int:
        try:
            value = float(text)
        except ValueError:
            raise BadRequest(f"{name} must be a number, not {text!r}") from None
        return int(value) if value.is_integer() else value

    if form.get("advance_seconds"):
        return {"advance_seconds": seconds(form["advance_seconds"], "advance_seconds")}
    if form.get("amount"):
        unit = form.get("unit", "seconds")
        if unit not in CLOCK_UNITS:
            raise BadRequest(f"unit must be one of {', '.join(CLOCK_UNITS)}")
        value = seconds(form["amount"], "the amount") * CLOCK_UNITS[unit]
        return {"advance_seconds": int(value) if float(value).is_integer() else value}
    if form.get("now"):
        return {"now": form["now"]}
    if form.get("offset_seconds"):
        return {"offset_seconds": seconds(form["offset_seconds"], "offset_seconds")}
    return {}  # set_clock names what it needs


# --------------------------------------------------------------------------------------------------- chart


@dataclass(frozen=True)
class Bar:
    start: datetime
    ok: int = 0
    fault: int = 0
    refused: int = 0

    @property
    def total(self) -> int:
        return self.ok + self.fault + self.refused


@dataclass(frozen=True)
class Chart:
    bars: list[Bar] = field(default_factory=list)
    step_seconds: float = 1
    peak: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def step_text(self) -> str:
        return offset_text(self.step_seconds).removeprefix("+").removesuffix(" from real time")

    def bar_height(self, count: int) -> float:
        return round(100 * count / self.peak, 2) if self.peak else 0


def build_chart(times: list[tuple[datetime, str]], now: datetime | None = None, bars: int = CHART_BARS) -> Chart:
    """Calls per time bucket by outcome class, from the first call to `now` (or the newest call, if later): `bars`
    buckets of the first round width that covers that span, the last holding its end."""
    if not times:
        return Chart()
    first = times[0][0]
    last = max(times[-1][0], now or times[-1][0])
    span = (last - first).total_seconds()
    step = next((step for step in CHART_STEPS if span < step * bars), CHART_STEPS[-1])
    # In whole milliseconds (the journal's precision), so that tenths of a second fall where they belong.
    epoch, width = datetime(2000, 1, 1), timedelta(milliseconds=round(step * 1000))
    start = (last - epoch) // width + 1 - bars
    counts: list[dict[str, int]] = [{"ok": 0, "fault": 0, "refused": 0} for _ in range(bars)]
    totals = {"ok": 0, "fault": 0, "refused": 0}
    for at, outcome in times:
        index = (at - epoch) // width - start
        kind = outcome_class(outcome)
        totals[kind] += 1
        if 0 <= index < bars:
            counts[index][kind] += 1
    made = [Bar(epoch + (start + index) * width, **count) for index, count in enumerate(counts)]
    return Chart(made, step, max(bar.total for bar in made), totals)


# --------------------------------------------------------------------------------------- bodies and curl


@dataclass(frozen=True)
class Body:
    kind: str  # xml, json, text, empty
    text: str
    html: Markup


def pretty_body(text: str) -> Body:
    """A journaled body indented (XML by lxml, JSON) and highlighted; as it came when it is neither (or cut)."""
    stripped = text.strip()
    if not stripped:
        return Body("empty", "", Markup(""))
    if stripped.startswith("<"):
        parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
        try:
            root = etree.fromstring(stripped.encode("utf-8"), parser)
        except (etree.XMLSyntaxError, ValueError):
            return Body("text", text, _highlight_xml(text))
        indented = etree.tostring(root, pretty_print=True, encoding="unicode").rstrip("\n")
        return Body("xml", indented, _highlight_xml(indented))
    if stripped[0] in "[{":
        try:
            indented = json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            return Body("text", text, escape(text))
        return Body("json", indented, _highlight_json(indented))
    return Body("text", text, escape(text))


_XML_TOKEN = re.compile(r"(<!--.*?-->)|(<\?.*?\?>|<!\[CDATA\[.*?\]\]>|<!DOCTYPE[^>]*>)|(<[^>]*>)|([^<]+)|(<)", re.S)
_XML_TAG = re.compile(r"^(</?)([^\s/>]+)(.*?)(/?>)$", re.S)
_XML_ATTRIBUTE = re.compile(r"([^\s=]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')", re.S)


def _span(kind: str, text: str) -> Markup:
    return Markup('<span class="{}">{}</span>').format(kind, text)


def _highlight_xml(text: str) -> Markup:
    out = []
    for comment, special, tag, content, stray in _XML_TOKEN.findall(text):
        if comment:
            out.append(_span("hl-comment", comment))
        elif special:
            out.append(_span("hl-meta", special))
        elif tag:
            parts = _XML_TAG.match(tag)
            if parts is None:
                out.append(escape(tag))
                continue
            opening, name, attributes, closing = parts.groups()
            out.append(_span("hl-tag", opening + name))
            position = 0
            for attribute in _XML_ATTRIBUTE.finditer(attributes):
                out.append(escape(attributes[position:attribute.start()]))
                out.append(_span("hl-attr", attribute.group(1)) + escape(attribute.group(2))
                           + _span("hl-string", attribute.group(3)))
                position = attribute.end()
            out.append(escape(attributes[position:]))
            out.append(_span("hl-tag", closing))
        elif content:
            out.append(_span("hl-text", content) if content.strip() else escape(content))
        else:
            out.append(escape(stray))
    return Markup("").join(out)


_JSON_TOKEN = re.compile(r'("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b')


def _highlight_json(text: str) -> Markup:
    out, position = [], 0
    for token in _JSON_TOKEN.finditer(text):
        out.append(escape(text[position:token.start()]))
        string, colon, number, literal = token.groups()
        if string and colon:
            out.append(_span("hl-attr", string) + escape(colon))
        elif string:
            out.append(_span("hl-string", string))
        elif number:
            out.append(_span("hl-number", number))
        else:
            out.append(_span("hl-literal", literal))
        position = token.end()
    out.append(escape(text[position:]))
    return Markup("").join(out)


def curl_command(entry: Mapping[str, Any], base_url: str, vendor: Vendor) -> str:
    """A curl command that sends the journaled call again: its method, path and request body, with the headers and
    credentials the vendor says a replay needs (Vendor.replay)."""
    method = entry["method"]
    replay = vendor.replay(entry["path"], entry["operation"], entry["request"]["body"])
    body, user = replay.body, ":".join(replay.basic) if replay.basic else None
    words = ["curl", "-sS", "-i"]
    if method != ("POST" if body else "GET"):
        words += ["-X", method]
    if user:
        words += ["-u", user]
    for header in replay.headers:
        words += ["-H", header]
    lines = [" ".join(shlex.quote(word) for word in words) + " " + shlex.quote(base_url + entry["path"])]
    if body:
        lines.append("--data-binary " + shlex.quote(body))
    return " \\\n  ".join(lines)
