"""The pipeline as `xweb-emulator serve` runs it: behind granian's RSGI interface, so that no client trickling its
body holds a thread, and a body that does not arrive in time is cut off.

granian's WSGI interface calls the application as soon as a request's headers are in and hands it the body as a
stream: each slow or half-open client held a thread until it went, so the server ran 4 × --threads + 16 of them,
and granian warns at start-up of a WSGI server allowed more than 2 × cores + 1 threads (granian/server/mp.py,
MPServer.serve). Nor can that stream be timed out: granian has no body-read timeout (its HTTP/1 settings time out
headers only; granian issue #728, "No slow body read timeout", closed as wontfix). Behind RSGI each body is read by
the worker's event loop, against --body-read-timeout; only then does the call take one of the --threads threads
that run the pipeline (unchanged: the WSGI application the in-process server runs too). A body not in by the
deadline reaches the pipeline as a stream that says so, and the pipeline answers its 408; one past
--max-request-bytes is read no further, and the pipeline answers its 413. A client that goes away before the body
whose length it stated is in has no call run: there is no one to answer, and no whole request to journal.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from granian.rsgi import ProtocolClosed

from xweb_emulator.pipeline import AnswerBody, BodyReadTimeout
from xweb_emulator.settings import Settings

WsgiApplication = Callable[[dict, Callable], Iterable[bytes]]


class RsgiApplication:
    """An RSGI application over a WSGI one: bodies read asynchronously, calls run on `settings.threads` threads."""

    def __init__(self, application: WsgiApplication, settings: Settings) -> None:
        self._application = application
        self._calls = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="call")
        self._deadline = settings.body_read_timeout_seconds
        self._limit = settings.max_request_bytes
        self._multiprocess = settings.workers > 1

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        request_body = await self._body(protocol, _declared_length(scope))
        if request_body is None:
            return
        environ = self._environ(scope, request_body)
        status, headers, body = await asyncio.get_running_loop().run_in_executor(
            self._calls, _respond, self._application, environ)
        if isinstance(body, AnswerBody):
            # A slice at a time, each copied on its way out, rather than copied whole into granian's buffer beside
            # the pipeline's.
            stream = protocol.response_stream(status, headers)
            for piece in body:
                await stream.send_bytes(piece)
            return
        if body is not None:
            protocol.response_bytes(status, headers, body)
            return
        # The pipeline drops the connection (a fault rule): RSGI cannot close one unanswered, so the answer is cut
        # after its first byte (the client reads a truncated answer).
        stream = protocol.response_stream(status, [("Content-Length", "2")])
        await stream.send_bytes(b"\n")

    async def _body(self, protocol: Any, declared_length: int | None) -> io.RawIOBase | None:
        """The request's body; None where the client went away before the length it stated had come."""
        received = bytearray()
        try:
            async with asyncio.timeout(self._deadline):
                if declared_length is not None and declared_length <= self._limit:
                    # Whole, in one await: chunk by chunk, a body of 260 kB took 1.2 ms of the event loop's CPU.
                    try:
                        return io.BytesIO(await protocol())
                    except ProtocolClosed:
                        return None
                async for chunk in protocol:
                    received.extend(chunk)
                    if len(received) > self._limit:
                        break  # enough for the pipeline to refuse it
        except TimeoutError:
            return _LateBody()
        return io.BytesIO(received)

    def _environ(self, scope: Any, body: io.RawIOBase) -> dict[str, Any]:
        """The WSGI environ of an RSGI scope (PEP 3333: the path and the query string as latin-1 text of their UTF-8
        bytes, which granian hands over decoded; a query string holding raw UTF-8, as a browser may send, is read by
        werkzeug from these)."""
        server_name, _, server_port = scope.server.rpartition(":")
        client_address, _, client_port = scope.client.rpartition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string.encode("utf-8").decode("latin-1"),
            "SERVER_NAME": server_name.strip("[]"),
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_address.strip("[]"),
            "REMOTE_PORT": client_port,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": body,
            "wsgi.input_terminated": True,  # a body sent chunked is whole too
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": self._multiprocess,
            "wsgi.run_once": False,
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def _declared_length(scope: Any) -> int | None:
    """The body's length as its Content-Length header states it; None where it states none."""
    value = scope.headers.get("content-length")
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


class _LateBody(io.RawIOBase):
    """The body of a client that did not send it all within the deadline."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise BodyReadTimeout()


def _respond(application: WsgiApplication, environ: dict
             ) -> tuple[int, list[tuple[str, str]], bytes | AnswerBody | None]:
    """The WSGI application's whole answer (the pipeline builds every answer whole), a large one as it holds it; no
    body for a connection it drops."""
    started: list = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started[:] = [int(status.split(" ", 1)[0]), headers]

    chunks = application(environ, start_response)
    try:
        body: bytes | AnswerBody | None = chunks if isinstance(chunks, AnswerBody) else b"".join(chunks)
    except ConnectionAbortedError:
        body = None
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return started[0], started[1], body
