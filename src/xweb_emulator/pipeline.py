"""The one call pipeline: every request, whichever the vendor and the wire, goes down these steps, in this order.

    1. the request body is read, bounded (413 past --max-request-bytes, 408 past              Pipeline.__call__
       --body-read-timeout; under `serve` the event loop has read it: rsgi.py)
    2. admitted: at most --threads requests run at once, each only once its body is in
    3. routing: the control plane (after control/guard.py: token, same origin, JSON); a vendor's document (WSDL,
       help page); a vendor's call, with the operation of its table that the path or header names (Endpoint)
    4. one transaction opens for the call (on SQLite, the writers' queue first)                Pipeline._call
    5. one read: the emulator's clock, whether any fault rule names the vendor, and the vendor's state
       (Vendor.arrival_state: xWeb's tenant profile in force)
    6. fault rules drawn: 429, 503 and drop answered at once, as a web server would;
       expire_token applied; a vendor fault noted on the call for the runner
    7. the vendor's wire reads the request, for the operation routing found (Call.routed)     Wire.read
    8. the vendor's runner: authentication, the injected fault, the operation                 Vendor.run
    9. the wire writes the whole answer, or the vendor's error                                Wire.write, .write_error
       (or, for an operation not emulated, the recording's answer: serve --recording); whatever steps 7 to 9
       raise is caught in one place, Pipeline._vendor_part, and answered in the vendor's shape
   10. a call that failed, or only checked, has its writes rolled back (to a savepoint after step 6 where rules
       drew, whose counts must stay); what its fault leaves behind (a dead token, a failure count) is written
   11. the journal entry (passwords masked), in the same transaction
   12. commit; only then does the answer leave, after any latency a rule adds
A commit that fails stores nothing: the client gets the vendor's error, journalled in a transaction of its own.
On SQLite the writers' queue is held from step 4 to 12, so the rollback and that transaction are still the call's.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache, partial
from http import HTTPStatus

from sqlalchemy import select
from werkzeug import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from xweb_emulator import clock, faults, journal
from xweb_emulator.call import OK, Answer, Call
from xweb_emulator.control import guard
from xweb_emulator.db import Prepared
from xweb_emulator.emulator import Emulator
from xweb_emulator.errors import EmulatorError
from xweb_emulator.faults import Decision
from xweb_emulator.vendor import REPLAYED, Document, Endpoint, Incoming, Vendor, Wire

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"

_REFUSALS = {"throttle": (429, "throttled"), "unavailable": (503, "unavailable"), "drop": (0, "dropped")}
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}

ControlPlaneApp = Callable[[Request], Callable[[dict, Callable], Iterable[bytes]]]


class Pipeline:
    """The WSGI application: the chain above in front of every vendor, and the control plane beside it."""

    def __init__(self, emulator: Emulator, control_plane: ControlPlaneApp | None = None) -> None:
        self.emulator = emulator
        self._control_plane = control_plane
        settings = emulator.settings
        # In the serving process: a server's workers build theirs.
        emulator.database.checkpoint_in_background()
        if emulator.journaling:
            emulator.database.in_background("journal pruning", journal.PRUNE_SECONDS,
                                            partial(journal.prune, limit=settings.journal_limit))
        # Only requests whose body is in are let in, `threads` at a time, so that clients trickling their bodies
        # cannot starve the calls. On the in-process server (werkzeug: a thread per connection) bodies are read by
        # threads of their own against the deadline, and cut off with 408 there; under `serve` the worker's event
        # loop reads them (rsgi.py), and hands the pipeline bodies that are in, or late.
        self._readers = ThreadPoolExecutor(max_workers=_reader_threads(settings.threads), thread_name_prefix="body")
        self._admitted = threading.BoundedSemaphore(settings.threads)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        settings = self.emulator.settings
        try:
            body = self._read_body(environ)
            # Whoever reads the body next (the control plane, a document) reads our bounded copy.
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            environ.pop("wsgi.input_terminated", None)
            # Not kept in the environ as well (werkzeug's populate_request): the environ would refer back to the
            # request, a cycle left for the garbage collector (see tests/integration/test_reference_cycles.py).
            request = Request(environ, populate_request=False)
            with self._admitted:
                if self._control_plane is not None and request.path.startswith(CONTROL_PREFIX):
                    answer = guard.refusal(request, settings.control_token)
                    if answer is None:
                        # The control plane's answers are built whole before they leave (JSON documents).
                        response = self._control_plane(request)
                        if hasattr(response, "make_sequence"):
                            response.make_sequence()
                        return response(environ, start_response)
                else:
                    answer = self._route(request, body)
        except BodyReadTimeout:
            answer = Answer.text(408, f"The request body did not arrive within {settings.body_read_timeout_seconds:g}"
                                      " seconds.", [("Connection", "close")])
        except RequestEntityTooLarge:
            answer = Answer.text(413, "The request body is larger than this emulator accepts "
                                      f"({self.emulator.settings.max_request_bytes} bytes).")
        except Exception:
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            answer = Answer.text(500, "The emulator failed to handle this request; nothing was written.")
        if answer is None:
            return _dropped(start_response, environ)
        start_response(_STATUS_LINES.get(answer.status, str(answer.status)),
                       [*answer.headers, ("Content-Length", str(len(answer.body)))])
        return AnswerBody(answer.body) if len(answer.body) > AnswerBody.SLICE else [bytes(answer.body)]

    def _read_body(self, environ: dict) -> bytes:
        settings = self.emulator.settings
        declared = environ.get("CONTENT_LENGTH")
        if declared == "0" or (not declared and not environ.get("HTTP_TRANSFER_ENCODING")
                               and environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS", "DELETE")):
            return b""
        connection = environ.get("werkzeug.socket")
        if connection is None:
            # Behind RSGI (rsgi.py) the body is in already, or is a stream that raises BodyReadTimeout.
            return _bounded_body(environ, settings.max_request_bytes)
        reading = self._readers.submit(_bounded_body, environ, settings.max_request_bytes)
        try:
            return reading.result(timeout=settings.body_read_timeout_seconds)
        except FutureTimeout:
            # The reader is stuck in the socket: end its reading side (the 408 still goes out on the other).
            try:
                connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            raise BodyReadTimeout() from None

    def _route(self, request: Request, body: bytes) -> Answer | None:
        for vendor in self.emulator.vendors.values():
            target = vendor.route(request)
            if isinstance(target, Endpoint):
                return self._call(vendor, target, request, body)
            if isinstance(target, Document):
                with self.emulator.database.reading() as session:
                    return target.respond(request, session.connection())
        return Answer.text(404, f"No endpoint of the emulator answers {request.path}.")

    def _call(self, vendor: Vendor, endpoint: Endpoint, request: Request, body: bytes) -> Answer | None:
        """Steps 4 to 12 for one call: its answer, or None for a connection to drop."""
        started = time.perf_counter()
        emulator = self.emulator
        call: Call | None = None
        incoming: Incoming | None = None
        decision = faults.NOTHING
        with emulator.database.writing() as connection:
            try:
                offset_seconds, ruled, state = _arrival(type(vendor)).first(connection, {"vendor": vendor.name})
                call = Call(vendor.name, endpoint.name, request, body, connection,
                            clock.shifted(offset_seconds), emulator.settings, started, arrival_state=state,
                            routed=endpoint.operation)
                if ruled:
                    decision = faults.decide(call.session, vendor.name, endpoint.name)
                    call.fault_rule_id = decision.rule.id if decision.rule is not None else None
                    call.finish_session(keep=True)
                if decision.action in _REFUSALS:
                    status, call.outcome = _REFUSALS[decision.action]
                    call.user = _caller(vendor, endpoint.wire, call)
                    answer = _refusal(status, decision) if status else None
                else:
                    if decision.action == "expire_token":
                        vendor.expire_tokens(call.session, call.now)
                        call.finish_session(keep=True)
                    elif decision.action == "fault":
                        call.injected_fault = decision.rule.fault_kind
                    # What rules drew must outlive a failure of the call: its own work goes in a savepoint then.
                    incoming, answer = self._vendor_part(vendor, endpoint, call, savepoint=ruled)
                self._journal(call, answer, decision)
                connection.commit()
            except Exception:
                if call is None:
                    raise
                # The commit failed (or the pipeline itself did): nothing of the call is stored.
                log.exception("%s %s: the call's transaction failed", vendor.name, call.operation)
                # Whatever state the failure left the transaction in (a COMMIT that SQLite refused keeps it open),
                # it goes with its database connection; the next statement opens a fresh one.
                call.finish_session(keep=False)
                connection.invalidate()
                connection.rollback()
                error = vendor.internal_error(call)
                call.fail(error)
                answer = _error_answer(vendor, endpoint.wire, call, incoming, error)
                vendor.after_fault(call, error)
                self._journal(call, answer, decision)
                connection.commit()
                return answer
        return _after(answer, decision)

    def _vendor_part(self, vendor: Vendor, endpoint: Endpoint, call: Call,
                     savepoint: bool) -> tuple[Incoming | None, Answer]:
        """Steps 7 to 10: the call read, run and answered; its writes rolled back if it failed or only checked.
        The one place a call's errors are caught: whatever the wire or the runner raises ends here, answered in the
        vendor's shape (an operation not emulated, from the recording where it holds the request)."""
        connection, wire, incoming = call.connection, endpoint.wire, None
        work = connection.begin_nested() if savepoint else None
        try:
            incoming = wire.read(call)
            # The whole answer is built here, before anything commits: a failure to write it (text no encoding
            # holds) fails the call, whose writes are rolled back below.
            result = vendor.run(call, incoming)
            if call.outcome is None:
                call.outcome = OK
            answer = wire.write(call, incoming, result)
        except EmulatorError as error:
            answer = vendor.recorded(call, incoming, error)
            if answer is not None:
                call.outcome = REPLAYED
            else:
                call.fail(error)
                answer = _error_answer(vendor, wire, call, incoming, error)
        except Exception:
            log.exception("%s %s failed", vendor.name, call.operation)
            call.fail(vendor.internal_error(call))
            answer = _error_answer(vendor, wire, call, incoming, call.error)
        if call.error is not None:
            # Its traceback holds the frames that raised and handled it, which hold the call, which holds the error:
            # a cycle left for the garbage collector (see tests/integration/test_reference_cycles.py). Nothing reads it
            # now.
            call.error.__traceback__ = None
        keep = call.error is None and not call.dry_run
        call.finish_session(keep)
        if keep:
            if work is not None:
                work.commit()
            return incoming, answer
        if work is not None:
            work.rollback()
        else:
            connection.rollback()  # nothing else was written yet; the next statement begins anew
        if call.error is not None:
            vendor.after_fault(call, call.error)
            if call.error.after_rollback is not None:
                call.error.after_rollback(call.session)
            call.finish_session(keep=True)
        return incoming, answer

    def _journal(self, call: Call, answer: Answer | None, decision: Decision) -> None:
        settings = self.emulator.settings
        if not self.emulator.journaling:
            return
        request = call.request
        status = answer.status if answer is not None else 0
        journal.record(call.connection, journal.Entry(
            at=call.now, vendor=call.vendor, operation=call.operation, user=call.user,
            outcome=call.outcome or f"HTTP {status}", status=status,
            duration_ms=(time.perf_counter() - call.started) * 1000 + decision.latency_ms,
            method=request.method, path=journal.masked_path(request.full_path.rstrip("?")),
            client_address=request.remote_addr, fault_rule_id=call.fault_rule_id, request_body=call.body,
            response_body=_kept_answer(call, answer),
        ), body_bytes=settings.journal_body_bytes)


@cache
def _arrival(vendor: type[Vendor]) -> Prepared:
    """What a call of `vendor` reads as it arrives, in one statement: the clock's offset, whether fault rules are in
    force for the vendor (bound: vendor), and the vendor's own state (Vendor.arrival_state)."""
    return Prepared(select(clock.OFFSET_SECONDS, faults.VENDOR_HAS_RULES, vendor.arrival_state))


def _kept_answer(call: Call, answer: Answer | None) -> bytes:
    """What the journal is given of an answer: all of it masked where the answer is a secret (journal.record masks
    the secrets in the others)."""
    if answer is None:
        return b""
    return journal.MASK if call.secret_answer and call.error is None else answer.body


def _error_answer(vendor: Vendor, wire: Wire, call: Call, incoming: Incoming | None, error: EmulatorError) -> Answer:
    """The vendor's error as its wire writes it; should the wire fail at that too (an emulator bug), the vendor's
    internal error without what the request held, and at worst a plain 500: every call gets an answer that is
    journalled."""
    try:
        return wire.write_error(call, incoming, error)
    except Exception:
        log.exception("%s %s: writing the error failed", vendor.name, call.operation)
    internal = vendor.internal_error(call)
    call.fail(internal)
    try:
        return wire.write_error(call, None, internal)
    except Exception:
        log.exception("%s %s: writing the internal error failed", vendor.name, call.operation)
        return Answer.text(500, "The emulator failed to handle this request; nothing was written.")


def _after(answer: Answer | None, decision: Decision) -> Answer | None:
    """The answer, once the latency a rule adds has passed (outside the transaction: other calls go on)."""
    if decision.latency_ms:
        time.sleep(decision.latency_ms / 1000)
    return answer


class AnswerBody:
    """A large answer for a WSGI server, a slice at a time (PEP 3333 wants bytes: each slice is a copy), rather than
    copied whole; a server of ours that sends it in slices itself takes the buffer (rsgi.py). A GetQuery @TOP -1
    answer is tens of MB, held once."""

    SLICE = 256 << 10  # bytes

    def __init__(self, buffer: bytes | bytearray) -> None:
        self.buffer = buffer

    def __iter__(self) -> Iterator[bytes]:
        with memoryview(self.buffer) as view:
            for start in range(0, len(view), self.SLICE):
                yield bytes(view[start:start + self.SLICE])


class BodyReadTimeout(Exception):
    """The client did not send its whole body within the deadline."""


def _reader_threads(threads: int) -> int:
    """Threads that may be reading request bodies at once on the in-process server: room for slow clients beyond
    the `threads` calls that run at once."""
    return threads * 4 + 16


def _bounded_body(environ: dict, limit: int) -> bytes:
    """The request body, refused past `limit` bytes whether the client declared its length or sent it chunked."""
    declared = environ.get("CONTENT_LENGTH")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise RequestEntityTooLarge()
    body = get_input_stream(environ, max_content_length=None).read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def _caller(vendor: Vendor, wire: Wire, call: Call) -> str | None:
    """Who a call the web server refuses says it is, for the journal: the request read, nothing checked."""
    try:
        incoming = wire.read(call)
    except EmulatorError:
        return None
    return vendor.caller(call, incoming) if incoming.operation is not None else None


def _refusal(status: int, decision: Decision) -> Answer:
    """The web server's own refusal, before the vendor's application sees the call."""
    return Answer.text(status, HTTPStatus(status).phrase,
                       [("Retry-After", str(decision.rule.retry_after_seconds))])


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
