"""The pytest plugin as a connector author's project meets it: pytester runs test files in a fresh pytest subprocess,
where the plugin loads by itself through its pytest11 entry point (nothing names it with -p).

These run on one backend only (the plugin's own temporary SQLite database), in as few subprocesses as the
behaviours allow: each takes a few seconds.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from xweb_emulator.settings import Settings
from xweb_emulator.testing import run_emulator

TESTING_PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing-your-connector.md"
EXAMPLE_MARKER = "<!-- example: test_connector.py -->"
INNER_TIMEOUT = 300

# What the inner test files share: an xWeb SOAP call with requests, as a connector might make it.
SOAP_HELPERS = r'''
import re

import requests

XWEB = "http://www.avectra.com/2005/"


def soap(emulator, operation, body="", token=None):
    header = (f"<soap:Header><AuthorizationToken xmlns='{XWEB}'><Token>{token}</Token></AuthorizationToken>"
              "</soap:Header>") if token else ""
    envelope = (f"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>{header}<soap:Body>"
                f"<{operation} xmlns='{XWEB}'>{body}</{operation}></soap:Body></soap:Envelope>")
    return requests.post(emulator.soap_url, data=envelope, timeout=30,
                         headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}{operation}"'})


def authenticate(emulator):
    user = emulator.credentials["xweb"]
    return soap(emulator, "Authenticate",
                f"<userName>{user['username']}</userName><password>{user['password']}</password>")


def answered_token(response):
    assert response.status_code == 200, response.text
    return re.search(r"<(?:\w+:)?Token>([^<]+)</", response.text).group(1)
'''


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester with the environment of a plain user's project: plugins autoload, no XWEB_EMULATOR_* settings."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    for name in [name for name in os.environ if name.startswith("XWEB_EMULATOR_")]:
        monkeypatch.delenv(name)
    return pytester


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in a subprocess in the pytester directory, as a user runs it (no -p for the plugin)."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=INNER_TIMEOUT)


def assert_passed(result: pytest.RunResult, passed: int) -> None:
    outcomes = result.parseoutcomes()
    assert {name: count for name, count in outcomes.items() if name not in ("warning", "warnings")} == {
        "passed": passed}, "\n".join(result.outlines + result.errlines)
    assert result.ret == 0


# ------------------------------------------------------------------------------------------ the fixtures at work


def test_a_test_file_using_only_the_plugin(pytester):
    pytester.makepyfile(test_with_the_plugin=SOAP_HELPERS + '''
import uuid
from pathlib import Path

import pytest

ADA = {"cst_type": "Individual", "cst_name_cp": "Ada Lovelace", "cst_id": "ADA-1"}


def test_1_a_clean_emulator_with_what_a_connector_test_needs(xweb_emulator, tmp_path_factory):
    assert xweb_emulator.base_url.startswith("http://127.0.0.1:")
    assert xweb_emulator.wsdl_url == xweb_emulator.base_url + "/xWeb/secure/netForumXML.asmx?WSDL"
    wsdl = requests.get(xweb_emulator.wsdl_url, timeout=30)
    assert wsdl.status_code == 200 and b"netForumXMLSoap" in wsdl.content
    assert xweb_emulator.credentials["xweb"] == {"username": "demo", "password": "demo"}
    health = xweb_emulator.health()
    assert health["status"] == "ready" and health["database"]["kind"] == "sqlite"
    database = Path(xweb_emulator.settings.database_url.removeprefix("sqlite:///"))
    assert database.is_file() and database.is_relative_to(tmp_path_factory.getbasetemp())
    assert xweb_emulator.journal() == []

    key = xweb_emulator.seed({"xweb": {"Customer": [ADA]}})["xweb"]["Customer"][0]
    assert [c["cst_name_cp"] for c in xweb_emulator.state("xweb", "Customer", cst_key=key)] == ["Ada Lovelace"]
    token = answered_token(authenticate(xweb_emulator))
    assert soap(xweb_emulator, "GetVersion", token=token).status_code == 200
    assert [(c["operation"], c["outcome"], c["user"]) for c in xweb_emulator.journal()] == [
        ("Authenticate", "ok", "demo"), ("GetVersion", "ok", "demo")]

    rule = xweb_emulator.add_fault("xweb", "throttle", operation="GetVersion", count=1)
    assert rule["remaining"] == 1
    refused = soap(xweb_emulator, "GetVersion", token=token)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert soap(xweb_emulator, "GetVersion", token=token).status_code == 200
    assert [c["outcome"] for c in xweb_emulator.journal(operation="GetVersion")] == ["ok", "throttled", "ok"]
    assert xweb_emulator.fault_rules()[0]["fired"] == 1

    xweb_emulator.advance_clock(21 * 60)
    assert soap(xweb_emulator, "GetVersion", token=token).status_code == 500
    assert xweb_emulator.journal(outcome="InvalidTokenExceptionInfo")


def test_2_the_next_test_starts_clean(xweb_emulator):
    assert xweb_emulator.state("xweb", "Customer", cst_id="ADA-1") == []
    assert xweb_emulator.state("xweb", "Customer", cst_id="000000001I")  # the demo data
    assert xweb_emulator.journal() == []
    assert xweb_emulator.fault_rules() == []
    assert xweb_emulator.clock()["offset_seconds"] == 0


@pytest.mark.xweb_emulator(empty=True)
def test_3_an_empty_emulator(xweb_emulator):
    assert xweb_emulator.state("xweb", "Customer") == []
    assert xweb_emulator.state("xweb", "MailingList") == []
    assert authenticate(xweb_emulator).status_code == 200


def test_4_after_an_empty_one_the_demo_data_is_back(xweb_emulator):
    assert xweb_emulator.state("xweb", "Customer", cst_id="000000001I")


def test_5_a_zeep_client_bound_to_the_emulator(xweb_emulator_zeep, xweb_emulator):
    client = xweb_emulator_zeep()
    token = client.service.Authenticate(userName="demo", password="demo").header.AuthorizationToken.Token
    assert str(uuid.UUID(token)) == token
    version = client.service.GetVersion(_soapheaders={"AuthorizationToken": {"Token": token}})
    assert "xweb-emulator" in version.body.GetVersionResult
    assert [c["operation"] for c in xweb_emulator.journal()] == ["Authenticate", "GetVersion"]
''')

    assert_passed(run_inner(pytester, "-v", "--strict-markers"), 5)


def test_settings_overridden_in_a_conftest_take_effect(pytester):
    pytester.makeconftest('''
import pytest


@pytest.fixture(scope="session")
def xweb_emulator_settings():
    return {"xweb_token_expiration": "Sliding", "journal_body_bytes": 20}
''')
    pytester.makepyfile(test_overridden=SOAP_HELPERS + '''
def test_sliding_tokens_and_short_journal_bodies(xweb_emulator):
    assert xweb_emulator.settings.xweb_token_expiration == "Sliding"
    assert xweb_emulator.health()["database"]["kind"] == "sqlite"
    first = answered_token(authenticate(xweb_emulator))
    second = answered_token(soap(xweb_emulator, "GetVersion", token=first))
    assert second != first
    assert soap(xweb_emulator, "GetVersion", token=first).status_code == 500  # retired by the sliding policy
    call = xweb_emulator.journal()[0]
    assert len(call["request"]["body"]) == 20 and call["request"]["truncated"] is True
''')

    assert_passed(run_inner(pytester), 1)


def test_each_xdist_worker_runs_its_own_emulator(pytester):
    records = pytester.mkdir("records")
    pytester.makepyfile(test_workers=f'''
import os
from pathlib import Path

import pytest

RECORDS = Path({str(records)!r})


@pytest.fixture(autouse=True)
def record(xweb_emulator, request):
    yield
    line = " ".join([os.environ["PYTEST_XDIST_WORKER"], xweb_emulator.base_url, xweb_emulator.settings.database_url])
    (RECORDS / request.node.name).write_text(line)


def test_demo_customer(xweb_emulator):
    assert xweb_emulator.state("xweb", "Customer", cst_id="000000001I")


def test_seeded_customer_is_counted_once(xweb_emulator):
    before = len(xweb_emulator.state("xweb", "Customer"))
    xweb_emulator.seed({{"xweb": {{"Customer": [{{"cst_type": "Individual", "cst_name_cp": "Ada"}}]}}}})
    assert len(xweb_emulator.state("xweb", "Customer")) == before + 1


def test_healthy(xweb_emulator):
    assert xweb_emulator.health()["status"] == "ready"


def test_journal_starts_empty(xweb_emulator):
    assert xweb_emulator.journal() == []
''')

    assert_passed(run_inner(pytester, "-n", "2"), 4)

    lines = [path.read_text().split() for path in sorted(records.iterdir())]
    assert len(lines) == 4
    workers, base_urls, databases = (set(column) for column in zip(*lines, strict=True))
    assert len(workers) == 2
    assert len(base_urls) == 2, lines
    assert len(databases) == 2, lines


def test_an_emulator_url_option_uses_that_emulator(pytester, tmp_path_factory):
    database = tmp_path_factory.mktemp("outer") / "outer.db"
    with run_emulator(Settings(database_url=f"sqlite:///{database}")) as outer:
        pytester.makepyfile(test_given_url=SOAP_HELPERS + f'''
def test_the_given_emulator(xweb_emulator):
    assert xweb_emulator.base_url == {outer.base_url!r}
    xweb_emulator.seed({{"xweb": {{"Customer": [{{"cst_type": "Individual", "cst_id": "INNER"}}]}}}})
    assert authenticate(xweb_emulator).status_code == 200
''')

        assert_passed(run_inner(pytester, "--xweb-emulator-url", outer.base_url), 1)

        assert [(call["operation"], call["outcome"]) for call in outer.journal()] == [("Authenticate", "ok")]
        assert len(outer.state("xweb", "Customer", cst_id="INNER")) == 1


# ------------------------------------------------------------------------------------- the documented example


def documented_example() -> str:
    """The first ```python block after the example marker of the docs' page "Testing your connector"."""
    text = TESTING_PAGE.read_text(encoding="utf-8")
    if EXAMPLE_MARKER not in text:
        pytest.fail(f"{TESTING_PAGE} has no {EXAMPLE_MARKER!r} section: the example test file is part of the product")
    match = re.search(r"^```python\n(.*?)^```", text.split(EXAMPLE_MARKER, 1)[1], re.DOTALL | re.MULTILINE)
    if match is None:
        pytest.fail(f"{TESTING_PAGE} has no ```python block after {EXAMPLE_MARKER!r}")
    return match.group(1)


def test_the_documented_example_passes_as_a_user_copies_it(pytester):
    (pytester.path / "test_connector.py").write_text(documented_example(), encoding="utf-8")

    assert_passed(run_inner(pytester, "-v"), 3)
