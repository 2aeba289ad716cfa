"""Fault rules given to `serve` on its command line (tests/integration/test_fault_injection.py holds the rest)."""

from __future__ import annotations

import json

import pytest

from control_support import control_ok
from serve_support import describe, run_cli, serving
from support import Emulator
from xweb_emulator.settings import Settings


def test_serve_with_a_fault_flag_throttles_the_first_call(tmp_path):
    rule = {"vendor": "xweb", "action": "throttle", "operation": "Authenticate", "retry_after_seconds": 3,
            "count": 1}
    with serving(tmp_path, "--database-url", f"sqlite:///{tmp_path / 'served.db'}", "--fault", json.dumps(rule),
                 "--fault", '{"vendor": "xweb", "action": "unavailable", "operation": "GetDateTime"}') as server:
        client = Emulator(server.url, Settings(), emulator=None)
        credentials = (f"<ns:userName>{client.settings.xweb_user}</ns:userName>"
                       f"<ns:password>{client.settings.xweb_password}</ns:password>")
        first = client.soap("Authenticate", credentials)
        assert (first.status_code, first.headers.get("Retry-After")) == (429, "3"), first.text
        assert client.soap("Authenticate", credentials).status_code == 200
        assert client.soap("GetDateTime").status_code == 503
        assert [rule["configured"] for rule in control_ok(client, "GET", "faults")["rules"]] == [True, True]


@pytest.mark.parametrize("flag", [
    "not json",
    '{"vendor": "nosuchvendor", "action": "throttle"}',
], ids=["not-json", "unknown-vendor"])
def test_serve_refuses_an_invalid_fault_flag_with_a_usage_message(tmp_path, flag):
    result = run_cli(tmp_path, "serve", "--port", "0", "--database-url", f"sqlite:///{tmp_path / 'x.db'}",
                     "--fault", flag)

    assert result.returncode == 2, describe(result)
    assert "Usage:" in result.stderr and "fault" in result.stderr, describe(result)
    assert "Traceback" not in result.stderr + result.stdout, describe(result)
