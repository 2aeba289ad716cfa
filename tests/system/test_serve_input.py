"""Input only `serve` meets: what granian hands its workers (a raw query string), read by a real socket client, on
both database backends (tests/integration/test_input_families.py holds the rest of the input families).
"""

from __future__ import annotations

import socket

from serve_support import clean_environment, serving
from support import Emulator

INTERNAL = ("failed to handle", "An unexpected error occurred", "An Unexpected")
ASMX = "/xWeb/secure/netForumXML.asmx"


def _raw_get(url: str, target: bytes) -> bytes:
    """GET `target` sent as it is (requests would percent-escape it): the answer's status line and body."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                           b"Authorization: Basic ZGVtbzpkZW1v\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_raw_utf8_in_query_strings_reaches_serves_workers_as_text(emulator: Emulator, tmp_path):
    # granian hands the query string over decoded: a raw € in it met werkzeug as no Latin-1 text (the internal
    # error on every route). Only `serve` runs behind granian.
    euro = "\u20ac".encode()
    with serving(tmp_path, env=clean_environment(XWEB_EMULATOR_DATABASE_URL=emulator.settings.database_url)) as server:
        for path in (f"{ASMX}/GetQueryDefinition", "/xWeb/JSON/WEBPhoneGet", "/crmapi/rest/v2/customer_events/web/show",
                     "/_emulator/requests", "/_emulator/state/xweb/Customer", "/_emulator/ui/calls"):
            for query in (b"x=" + euro, euro + b"=1", b"vendor=" + euro, b"szObjectName=" + euro + b"&key=" + euro):
                answer = _raw_get(server.url, path.encode() + b"?" + query)
                assert not any(phrase.encode() in answer for phrase in INTERNAL), answer[:600]
        # And read as the UTF-8 it was: a journal filter on it matches nothing, a state filter names no column.
        assert b'{"requests": []}' in _raw_get(server.url, b"/_emulator/requests?vendor=" + euro)
        assert "Customer has no column \u20ac".encode() in _raw_get(server.url, b"/_emulator/state/xweb/Customer?"
                                                                     + euro + b"=1")
        # A redirect carries the query string on in its Location header, which holds no € (it was the internal
        # error): percent-escaped.
        head = _raw_get(server.url, b"/_emulator/ui?x=" + euro).partition(b"\r\n\r\n")[0]
        assert head.startswith(b"HTTP/1.1 308") and b"/_emulator/ui/?x=%E2%82%AC\r\n" in head, head
