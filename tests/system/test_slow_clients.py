"""Slow and half-open clients (issue 13, defect 4): each connection that sent its headers and part of a body held a
request thread with no time limit, so that as many of them as --threads stalled every other call. Bodies are now
read apart from the threads that run calls (under `xweb-emulator serve` by granian's event loop, behind RSGI; on the
in-process server by threads of their own), against a deadline (--body-read-timeout: HTTP 408). Raw sockets,
127.0.0.1 only, bounded in number and time; under the in-process server and under `xweb-emulator serve` (granian)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import ExitStack

import pytest
import requests

from serve_support import serving, sqlite_url
from xweb_emulator.settings import Settings
from xweb_emulator.testing import run_emulator

THREADS = 2
DEADLINE = 2.0
SLOW = 2 * THREADS
XWEB_SOAP = "/xWeb/secure/netForumXML.asmx"


def _trickling(port: int, count: int, stop: threading.Event, chunked: bool) -> list[socket.socket]:
    """`count` connections that sent headers and one byte of a 1,000-byte body (or of a chunked one), then one byte a
    second."""
    framing, first, byte = (("Transfer-Encoding: chunked", b"1\r\n<\r\n", b"1\r\n \r\n") if chunked
                            else ("Content-Length: 1000", b"<", b" "))
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE + 10)
        connection.sendall(f"POST {XWEB_SOAP} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                           f"{framing}\r\n\r\n".encode() + first)
        sockets.append(connection)

    def trickle() -> None:
        while not stop.wait(1):
            for connection in sockets:
                try:
                    connection.send(byte)
                except OSError:
                    pass

    threading.Thread(target=trickle, daemon=True).start()
    return sockets


def _check(base_url: str, chunked: bool = False) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    stop = threading.Event()
    with ExitStack() as cleanup:
        cleanup.callback(stop.set)
        sockets = _trickling(port, SLOW, stop, chunked)
        for connection in sockets:
            cleanup.callback(connection.close)
        time.sleep(0.3)  # every slow connection is inside the server
        for _ in range(3):
            started = time.perf_counter()
            assert requests.get(f"{base_url}/_emulator/health", timeout=DEADLINE).status_code == 200
            response = requests.post(base_url + XWEB_SOAP, data=b"", timeout=DEADLINE,
                                     headers={"Content-Type": "text/xml", "SOAPAction": '"x"'})
            elapsed = time.perf_counter() - started
            assert response.status_code == 500 and "Root element is missing." in response.text
            # 100 ms on an idle machine; the suite's parallel workers leave some slack.
            assert elapsed < 0.5, f"normal calls waited {elapsed:.3f}s behind slow clients"
        for connection in sockets:
            answer = connection.recv(200)
            assert answer.startswith(b"HTTP/1.1 408"), answer
        # And the calls go on.
        assert requests.get(f"{base_url}/_emulator/health", timeout=DEADLINE).status_code == 200


def test_slow_clients_cannot_starve_the_in_process_server(tmp_path):
    settings = Settings(database_url=sqlite_url(tmp_path / "slow.db"), threads=THREADS,
                        body_read_timeout_seconds=DEADLINE)
    with run_emulator(settings) as emulator:
        _check(emulator.base_url)


@pytest.mark.parametrize("chunked", [False, True], ids=["with a length", "chunked"])
def test_slow_clients_cannot_starve_the_served_emulator(tmp_path, chunked):
    # The event loop reads a body of a stated length whole, a chunked one chunk by chunk: each against the deadline.
    with serving(tmp_path, "--threads", str(THREADS), "--body-read-timeout", str(DEADLINE),
                 "--database-url", sqlite_url(tmp_path / "slow.db")) as server:
        # granian gives no way to time out a WSGI body read (docs/testing-your-connector.md): the slow clients hold threads of their own
        # until they go, and the calls go on beside them.
        _check(server.url, chunked)
