"""The one WSGI application: routes by path to each vendor's endpoints and to the control plane (/_emulator/).

In front of every vendor call runs the same chain: the request body bounded, fault rules drawn (latency, the
vendor's own fault, 429, 503, a dropped connection, expired tokens), the response captured for the request journal,
and no traceback ever reaching a client.
"""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, Table, delete, select
from sqlalchemy.orm import Session
from werkzeug import Request, Response
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from xweb_emulator import clock
from xweb_emulator.control import faults, journal
from xweb_emulator.control.faults import FaultSpec
from xweb_emulator.control.models import FaultRule
from xweb_emulator.db import Base, Database
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import OK, CallRecord, Endpoint, SeedError, Vendor
from xweb_emulator.vendors import VENDORS

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"


class EmulatorApp:
    def __init__(self, settings: Settings, database: Database) -> None:
        from xweb_emulator.control.routes import ControlPlane  # the control plane drives this class

        self.settings = settings
        self.database = database
        self.vendors: dict[str, Vendor] = {cls.name: cls(database, settings) for cls in VENDORS}
        self._fresh_rows: dict[bool, dict[Table, Sequence[RowMapping]]] = {}  # see reset()
        self._control = ControlPlane(self) if settings.control_plane else None
        # Only the control plane reads the journal: without it, keeping one would only slow every call down.
        self._journaling = self._control is not None and settings.journal_limit > 0

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            body = _bounded_body(environ, self.settings.max_request_bytes)
            # Whoever reads the body next (werkzeug, spyne) reads our bounded copy.
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            environ.pop("wsgi.input_terminated", None)
            request = Request(environ)
            if self._control is not None and request.path.startswith(CONTROL_PREFIX):
                return self._control(request)(environ, start_response)
            for vendor in self.vendors.values():
                endpoint = vendor.route(request)
                if endpoint is None:
                    continue
                if not endpoint.is_call:
                    return endpoint.app(environ, start_response)
                return self._vendor_call(vendor, endpoint, request, body, start_response)
            response = _text_response(404, f"No endpoint of the emulator answers {request.path}.")
        except RequestEntityTooLarge:
            response = _text_response(
                413, f"The request body is larger than this emulator accepts ({self.settings.max_request_bytes} bytes)."
            )
        except Exception:
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            response = _text_response(500, "The emulator failed to handle this request; nothing was written.")
        return response(environ, start_response)

    # ------------------------------------------------------------------------------------------ the call chain

    def _vendor_call(self, vendor: Vendor, endpoint: Endpoint, request: Request, body: bytes,
                     start_response: Callable) -> Iterable[bytes]:
        environ = request.environ
        started = time.perf_counter()
        record = environ[CallRecord.ENVIRON_KEY] = CallRecord(vendor.name, endpoint.operation)
        with self.database.reading() as connection:
            arrived = clock.now(connection)
            ruled = faults.any_rules(connection, vendor.name)
        decision = faults.Decision()
        if ruled:
            with self.database.transaction() as session:
                decision = faults.decide(session, vendor.name, endpoint.operation)
                if decision.action == "expire_token":
                    vendor.expire_tokens(session, arrived)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000)
        rule = decision.rule
        if decision.action in faults.HTTP_ACTIONS:
            record.outcome = {"throttle": "throttled", "unavailable": "unavailable", "drop": "dropped"}[rule.action]
            response = None if rule.action == "drop" else _refusal(rule)
        else:
            if decision.action == "fault":
                record.inject_fault = rule.fault_kind
            if not self._journaling:
                return endpoint.app(environ, start_response)
            response = _run_captured(endpoint.app, environ)
        if self._journaling:
            status = response.status_code if response is not None else 0
            self._journal(record, rule, journal.Exchange(
                at=arrived, method=request.method, path=request.full_path.rstrip("?"),
                client_address=request.remote_addr, request_body=body, status=status,
                response_body=response.get_data() if response is not None else b"",
                duration_ms=(time.perf_counter() - started) * 1000,
            ))
        if response is None:
            return _dropped(start_response, environ)
        return response(environ, start_response)

    def _journal(self, record: CallRecord, rule: FaultRule | None, exchange: journal.Exchange) -> None:
        outcome = record.outcome or (OK if exchange.status < 400 else f"HTTP {exchange.status}")
        try:
            with self.database.engine.begin() as connection:
                journal.record(connection, exchange, vendor=record.vendor, operation=record.operation, user=record.user,
                               outcome=outcome, fault_rule_id=rule.id if rule is not None else None,
                               limit=self.settings.journal_limit, body_bytes=self.settings.journal_body_bytes)
        except Exception:
            # The client's call happened: losing its journal entry must not turn it into a failure.
            log.exception("could not journal a %s call", record.vendor)

    # --------------------------------------------------------------------------------------- state as a whole

    def reset(self, demo_data: bool | None = None) -> None:
        """Every record of every vendor, the journal, the fault rules and the clock back to a fresh start: the
        configured users and fault rules, and the demo data unless `demo_data` is False.

        The first reset of each kind in a process builds the fresh state through the vendors' own rules and keeps a
        copy of the rows it made; later ones write that copy back (a test suite resets before every test, and
        the rules take several times as long). The copy is only ever what a rule-built reset would make again,
        so any worker may build its own."""
        demo_data = self.settings.demo_data if demo_data is None else demo_data
        with self.database.transaction() as session:
            tables = Base.metadata.sorted_tables
            for table in reversed(tables):
                session.execute(table.delete())
            fresh = self._fresh_rows.get(demo_data)
            if fresh is None:
                self._prepare(session, demo_data)
                session.flush()
                self._fresh_rows[demo_data] = {table: session.execute(select(table)).mappings().all()
                                               for table in tables}
                return
            for table in tables:
                if fresh[table]:
                    session.execute(table.insert(), [dict(row) for row in fresh[table]])

    def prepare(self) -> None:
        """What a start needs in an existing database: the configured users and fault rules, the demo data where a
        vendor has none."""
        with self.database.transaction() as session:
            self._prepare(session, self.settings.demo_data)

    def _prepare(self, session: Session, demo_data: bool) -> None:
        now = clock.now(session)
        for vendor in self.vendors.values():
            vendor.prepare(session, now, demo_data)
        session.execute(delete(FaultRule).where(FaultRule.configured))
        for spec in self.settings.faults:
            faults.add_rule(session, self.checked_fault(spec), configured=True)

    def seed(self, document: Any) -> dict[str, dict[str, list[str]]]:
        """Load a seed document, {"<vendor>": {…}, …}, in one transaction; answer the keys created."""
        if not isinstance(document, Mapping) or not document:
            raise SeedError('a seed is an object of vendors, e.g. {"xweb": {"Customer": [...]}}')
        unknown = sorted(set(document) - set(self.vendors))
        if unknown:
            raise SeedError(f"unknown vendor {unknown[0]!r}: this emulator seeds {', '.join(map(repr, self.vendors))}")
        created = {}
        with self.database.transaction() as session:
            now = clock.now(session)
            for name, section in document.items():
                try:
                    created[name] = self.vendors[name].load_seed(session, now, section)
                except SeedError as error:
                    raise SeedError(f"{name}: {error}") from None
        return created

    def describe(self, base_url: str) -> list[str]:
        """The start-up banner's lines: each vendor's endpoints and credentials, the control plane."""
        lines = [line for vendor in self.vendors.values() for line in vendor.describe(base_url)]
        if self._control is not None:
            lines.append(f"control      {base_url}{CONTROL_PREFIX}   (reset, seed, state, requests, faults, clock)")
            lines.append(f"dashboard    {base_url}{CONTROL_PREFIX}ui/")
        return lines

    def checked_fault(self, spec: FaultSpec) -> FaultSpec:
        """A rule whose vendor, fault kind and action exist; InvalidFaultRule names what does not."""
        vendor = self.vendors.get(spec.vendor)
        if vendor is None:
            raise faults.InvalidFaultRule(f"unknown vendor {spec.vendor!r}: the vendors are {', '.join(self.vendors)}")
        if spec.action == "fault" and spec.fault_kind not in vendor.fault_kinds:
            raise faults.InvalidFaultRule(f"{spec.vendor} has no fault kind {spec.fault_kind!r}: "
                             f"its kinds are {', '.join(vendor.fault_kinds)}")
        if spec.action == "expire_token" and not vendor.has_tokens:
            raise faults.InvalidFaultRule(f"{spec.vendor} issues no tokens to expire")
        return spec


def _bounded_body(environ: dict, limit: int) -> bytes:
    """The request body, refused past `limit` bytes whether the client declared its length or sent it chunked."""
    declared = environ.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestEntityTooLarge()
    body = get_input_stream(environ, max_content_length=None).read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def _run_captured(app: Callable, environ: dict) -> Response:
    """Run a vendor application to the end, keeping its answer for the journal."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info=None) -> Callable:
        captured.update(status=status, headers=headers)
        return lambda data: captured.setdefault("written", []).append(data)

    iterable = app(environ, start_response)
    try:
        body = b"".join([*captured.get("written", []), *iterable])
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return Response(body, captured["status"], headers=captured["headers"])


def _refusal(rule: FaultRule) -> Response:
    """The web server's own refusal, before the vendor's application sees the call."""
    if rule.action == "throttle":
        response = _text_response(429, "Too Many Requests")
    else:
        response = _text_response(503, "Service Unavailable")
    response.headers["Retry-After"] = str(rule.retry_after_seconds)
    return response


def _dropped(start_response: Callable, environ: dict) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Length", "1")])
    return _DroppedBody(environ.get("werkzeug.socket"))


class _DroppedBody:
    """A body that closes the connection instead: servers write nothing when a response's body fails before its
    first byte. werkzeug's server would then wait on the open connection, so its socket is shut first."""

    def __init__(self, connection: socket.socket | None) -> None:
        self._connection = connection

    def __iter__(self) -> Iterator[bytes]:
        if self._connection is not None:
            self._connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("connection dropped by a fault rule")


def _text_response(status: int, text: str) -> Response:
    return Response(text + "\n", status, content_type="text/plain; charset=utf-8")


def create_app(settings: Settings) -> EmulatorApp:
    """The application over a database that `prepare_database` has made ready."""
    return EmulatorApp(settings, Database(settings.database_url))


def prepare_database(settings: Settings) -> EmulatorApp:
    """Bring the schema to the latest migrations and the configured users, fault rules (and demo data) in. Run once,
    before workers start; the application it answers holds no open connection (workers may fork after it)."""
    app = create_app(settings)
    try:
        app.database.upgrade()
        app.prepare()
    finally:
        app.database.dispose()
    return app


def wsgi_app() -> EmulatorApp:
    """The factory server workers call: settings from the environment the `serve` command set."""
    return create_app(Settings())
