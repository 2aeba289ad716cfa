"""`xweb-emulator record`: a forwarding server in front of a real tenant (or an emulator) that writes every exchange
to a HAR file (har.py).

Every request is sent on unchanged but for its Host (and the headers that belong to one connection); the answer comes
back unchanged (status, headers but those, body as the upstream encoded it). Each exchange is added to the file
before its answer leaves, so a client's next call is always after its last one in the file. An upstream that fails
or times out is recorded as such (status 0 and `_error`) and answered 502 or 504.
"""

from __future__ import annotations

import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import requests
import urllib3
from werkzeug import Request, Response
from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from xweb_emulator.har import HOP_BY_HOP, Exchange, HarFile

_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
_NOT_RETURNED = HOP_BY_HOP | {"content-length"}


class Recorder:
    """The WSGI application: forwards to `upstream`, records to `har_file`, writes a line per call to `progress`."""

    def __init__(self, upstream: str, har_file: HarFile, *, timeout: float = 60,
                 progress: TextIO | None = sys.stderr) -> None:
        self.upstream = upstream.rstrip("/")
        self.har_file = har_file
        self.timeout = timeout
        self.progress = progress
        self._sessions = threading.local()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            body = request.get_data(cache=False)
        except ClientDisconnected:
            return Response("the request body did not arrive whole", 400)(environ, start_response)
        url = self.upstream + _target(environ, request)
        sent_headers = [(name, value) for name, value in request.headers.items()
                        if name.lower() not in _NOT_FORWARDED]
        started, clock = datetime.now(timezone.utc), time.perf_counter()
        try:
            answer = self._session().request(request.method, url, headers=dict(sent_headers), data=body,
                                             timeout=self.timeout, allow_redirects=False, stream=True)
            with answer:
                raw = answer.raw.read(decode_content=False)
        # The body is read from urllib3's stream, whose errors requests does not wrap.
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as error:
            failure = 504, f"timeout: {error}"
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            failure = 502, f"upstream unreachable: {error}"
        else:
            failure = None
        if failure is not None:
            status, message = failure
            order = self.har_file.append(Exchange(started, request.method, url, sent_headers, body, 0, "", [], b"",
                                                  (time.perf_counter() - clock) * 1000, message))
            self._report(order, request, message)
            return Response(message + "\n", status, content_type="text/plain; charset=utf-8")(environ, start_response)
        wait_ms = (time.perf_counter() - clock) * 1000
        returned = [(name, value) for name, value in answer.raw.headers.items()
                    if name.lower() not in _NOT_RETURNED]
        order = self.har_file.append(Exchange(started, request.method, url, sent_headers, body, answer.status_code,
                                              answer.reason or "", returned, _decoded(raw, answer), wait_ms))
        self._report(order, request, f"{answer.status_code} {wait_ms:.0f} ms")
        response = Response(raw, answer.status_code)
        response.headers.clear()
        for name, value in returned:
            response.headers.add(name, value)
        response.headers["Content-Length"] = str(len(raw))
        return response(environ, start_response)

    def _session(self) -> requests.Session:
        """A session per thread (requests' sessions are not thread-safe), sending no headers of its own."""
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
            session.headers.clear()
            session.trust_env = False
        return session

    def _report(self, order: int, request: Request, outcome: str) -> None:
        if self.progress is not None:
            print(f"#{order} {request.method} {self.har_file.masker.url(request.full_path.rstrip('?'))}"
                  f" -> {outcome}", file=self.progress, flush=True)


def _target(environ: dict, request: Request) -> str:
    """The path and query as the client wrote them (the server's REQUEST_URI: not decoded and quoted again), also
    where a client that takes the recorder for an HTTP proxy wrote the whole address."""
    written = environ.get("REQUEST_URI") or request.full_path.rstrip("?")
    if "://" in written.split("?", 1)[0]:
        split = urlsplit(written)
        written = (split.path or "/") + (f"?{split.query}" if split.query else "")
    return written


def _decoded(raw: bytes, answer: requests.Response) -> bytes:
    """The answer's body as the HAR file keeps it: without its content coding (gzip, deflate)."""
    coding = answer.headers.get("Content-Encoding", "").lower()
    if coding in ("gzip", "x-gzip", "deflate") and raw:
        try:
            return zlib.decompress(raw, 47 if coding != "deflate" else zlib.MAX_WBITS)
        except zlib.error:
            return raw
    return raw


class _QuietHandler(WSGIRequestHandler):
    """The recorder writes its own line per call, and answers with the upstream's headers only: http.server would
    add a Server and a Date of its own beside the upstream's."""

    def log_request(self, *args, **kwargs) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)


def recording_server(upstream: str, out: Path, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 60,
                     progress: TextIO | None = sys.stderr) -> BaseWSGIServer:
    """The recorder, bound and ready to serve_forever() (a thread per connection)."""
    recorder = Recorder(upstream, HarFile(out), timeout=timeout, progress=progress)
    return make_server(host, port, recorder, threaded=True, request_handler=_QuietHandler)
