"""The real command line, as a user runs it: `python -m xweb_emulator …` subprocesses of the suite's interpreter, each
in its own temporary directory as the working directory.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy
import yaml
from lxml import etree
from sqlalchemy.engine import make_url

from serve_support import (ROOT, STARTUP_SECONDS, STOP_SECONDS, Server, _start_serve, _stop, assert_demo_phone,
                           assert_no_traceback, authenticate, clean_environment, describe, get_customer,
                           head_revisions, phone_get, run_cli, serving, soap, sqlite_url, table_rows, token_for)
from support import XWEB, fault
from xweb_emulator import __version__
from xweb_emulator.pipeline import AnswerBody
from xweb_emulator.server import WORKERS_KILL_SECONDS


# --- serve --------------------------------------------------------------------------------------------------------


def test_serve_on_the_embedded_sqlite_default_with_the_demo_data(tmp_path):
    assert not (tmp_path / "xweb-emulator.db").exists()
    with serving(tmp_path) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url), server.url
        assert int(server.url.rsplit(":", 1)[1]) > 0
        output = server.output()
        assert "demo / demo" in output, output
        assert "sqlite:///xweb-emulator.db" in output, output
        # Our own defaults earn no warning from granian (it warned of 48 WSGI threads on a 2-core machine).
        assert "WARNING" not in output, output
        assert (tmp_path / "xweb-emulator.db").is_file()

        token = token_for(server.url)
        assert_demo_phone(phone_get(server.url, token))

        # An answer of hundreds of kB goes out behind RSGI a slice at a time (rsgi.py): whole, as long as declared.
        requests.post(f"{server.url}/_emulator/seed", timeout=60, json={"xweb": {"Individual": [
            {"ind_first_name": f"First{number}", "ind_last_name": f"Member{number:05d}"} for number in range(3_000)]}},
                      ).raise_for_status()
        response = soap(server.url, "GetQuery", "<ns:szObjectName>Individual @TOP -1</ns:szObjectName>"
                        "<ns:szColumnList>ind_last_name</ns:szColumnList><ns:szOrderBy>ind_last_name</ns:szOrderBy>",
                        token)
        assert response.status_code == 200 and int(response.headers["Content-Length"]) == len(response.content)
        names = etree.fromstring(response.content).findall(f".//{{{XWEB}}}ind_last_name")
        assert len(response.content) > AnswerBody.SLICE and len(names) == 3_002  # and the two demo individuals
        assert [name.text for name in names[:3]] == ["Instructor", "Member00000", "Member00001"]


def test_serve_answers_the_wsdl_with_its_own_address(tmp_path):
    with serving(tmp_path) as server:
        response = requests.get(server.soap_url + "?WSDL", timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/xml")
        document = etree.fromstring(response.content)
        addresses = document.findall(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
        assert addresses, response.text[:500]
        assert {element.get("location") for element in addresses} == {server.soap_url}


def test_serve_leaves_beside_its_database_only_files_named_for_it_and_ignored_by_git(tmp_path):
    # A newcomer's `make serve` in a clone must leave no untracked file of unknown origin in `git status`.
    ignored = [line.strip() for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    with serving(tmp_path, "--database-url", "sqlite:///state.db", "--workers", "2") as server:
        token_for(server.url)  # a write: the writers take their turns
    left = sorted(path.name for path in tmp_path.iterdir() if path.name != "server.log")
    assert "state.db" in left, left
    for name in left:
        assert name.startswith("state.db"), f"{name} is not the database's: {left}"
        assert name in ("state.db", "state.db-wal", "state.db-shm") or "xweb-emulator" in name, \
            f"{name} does not say whose it is: {left}"
        assert any(fnmatch.fnmatch(name, pattern) for pattern in ignored), f"{name} is not in .gitignore: {left}"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_on_a_signal_with_its_workers(tmp_path, signum):
    with serving(tmp_path, "--workers", "2") as server:
        workers = [int(pid) for pid in re.findall(r"Spawning worker-\d+ with PID: (\d+)", server.output())]
        code = _stop(server.process, signum)
        assert code is not None, f"not stopped within {STOP_SECONDS}s by {signum.name}:\n{server.output()}"
        assert code in (0, -signum, 128 + signum), describe_exit(code, server)
    assert len(workers) == 2, server.output()
    deadline = time.monotonic() + STOP_SECONDS
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], f"workers outlived the server:\n{server.output()}"
    with pytest.raises(requests.ConnectionError):
        requests.get(server.soap_url + "?WSDL", timeout=5)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_on_a_signal_while_its_workers_start(tmp_path, signum):
    # A harness that gives up on a server still starting stops it at any moment: here, as the workers are forked,
    # before they handle the signal themselves (they ignored it, and granian waited for them for ever).
    process, log = _start_serve(tmp_path, "--workers", "2")
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Spawning worker-2" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")
            time.sleep(0.002)
        workers = [int(pid) for pid in re.findall(r"Spawning worker-\d+ with PID: (\d+)", log.read_text())]
        process.send_signal(signum)
        # At worst once the time granian gives workers to stop has passed (a worker that had not run since its fork
        # when the signal came may miss it: CPython clears what reached it before its after-fork clean-up).
        try:
            process.wait(timeout=WORKERS_KILL_SECONDS + STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"not stopped by {signum.name}:\n{log.read_text()}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert len(workers) == 2, log.read_text()
    assert process.returncode in (0, -signum, 128 + signum), log.read_text()
    assert not [pid for pid in workers if _alive(pid)], f"workers outlived the server:\n{log.read_text()}"


@pytest.mark.parametrize("handler", ["signal_handler_interrupt", "signal_handler_reload"])
def test_a_signal_wakes_the_main_loop_whenever_it_comes(handler):
    # The signal's handler runs in the main thread, which may hold the lock of the event it waits on at that moment
    # (entering or leaving the wait, as its last worker is spawned): granian's handler then waited for itself for ever
    # and the stop was lost. Shown in a process of its own, which the timeout ends should the handler hang.
    code = f"""
import os, signal
from granian.constants import Interfaces
from xweb_emulator.server import _Granian
server = _Granian("xweb_emulator.app:rsgi_app", factory=True, interface=Interfaces.RSGI, port=0)
server.pid = os.getpid()
with server.main_loop_interrupt._cond:  # the main thread inside Event.wait()
    server.{handler}(signal.SIGINT, None)
print("woken:", server.main_loop_interrupt.wait(10))
"""
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)

    assert finished.stdout.strip() == "woken: True", finished.stderr


def test_serve_reads_bodies_whole_however_sent_and_refuses_them_past_the_cap(tmp_path):
    """Behind RSGI the event loop reads each body before the pipeline sees it: sent with a length or chunked."""
    json_url = "/xWeb/JSON/GetVersion"

    def chunked(data: bytes) -> Iterator[bytes]:
        yield from (data[start:start + 100] for start in range(0, len(data), 100))

    with serving(tmp_path, "--max-request-bytes", "1000") as server:
        for send in (lambda data: data, chunked):
            response = requests.post(server.url + json_url, data=send(b'{"GetVersion": {}}' + b" " * 900),
                                     auth=("demo", "demo"), headers={"Content-Type": "application/json"}, timeout=30)
            assert response.status_code == 200 and "xweb-emulator" in response.text, response.text
            response = requests.post(server.url + json_url, data=send(b'{"GetVersion": {}}' + b" " * 1000),
                                     auth=("demo", "demo"), headers={"Content-Type": "application/json"}, timeout=30)
            assert response.status_code == 413, response.text
        # The request's path and query reach the pipeline as WSGI has them (a filter on a value in UTF-8).
        state = requests.get(f"{server.url}/_emulator/state/xweb/Customer", params={"cst_name_cp": "Zoë Example"},
                             timeout=30)
        assert state.status_code == 200 and state.json()["count"] == 0, state.text
        unknown = requests.get(f"{server.url}/_emulator/state/xweb/Custom%C3%ABr", timeout=30)
        assert unknown.status_code == 400 and "Customër" in unknown.json()["error"], unknown.text


def test_serve_runs_no_call_for_a_client_gone_before_its_body_is_whole(tmp_path):
    """A body of a stated length is read whole in one await: a client that closes before it is in leaves no call to
    run, no journal entry and no traceback; a whole call on the next connection is served."""
    with serving(tmp_path) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"POST /xWeb/JSON/GetVersion HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            time.sleep(0.2)  # the event loop is awaiting the rest of the body
        response = requests.post(server.url + "/xWeb/JSON/GetVersion", json={"GetVersion": {}}, auth=("demo", "demo"),
                                 timeout=30)
        assert response.status_code == 200, response.text
        entries = requests.get(f"{server.url}/_emulator/requests", timeout=30).json()["requests"]
        assert [entry["status"] for entry in entries] == [200], entries
        assert "Traceback" not in server.output()


def test_serve_cuts_a_dropped_connection(tmp_path):
    with serving(tmp_path) as server:
        requests.post(f"{server.url}/_emulator/faults", json={"vendor": "xweb", "action": "drop", "count": 1},
                      timeout=30).raise_for_status()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.post(server.url + "/xWeb/JSON/GetVersion", json={}, auth=("demo", "demo"), timeout=30)
        (entry,) = requests.get(f"{server.url}/_emulator/requests", timeout=30).json()["requests"]
        assert (entry["outcome"], entry["client_address"]) == ("dropped", "127.0.0.1"), entry


def describe_exit(code: int, server: Server) -> str:
    return f"exit code {code}:\n{server.output()}"


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return not re.search(r"^State:\s+Z", status, re.MULTILINE)  # a zombie has exited


def test_serve_takes_the_password_from_the_environment(tmp_path):
    with serving(tmp_path, env=clean_environment(XWEB_EMULATOR_XWEB_PASSWORD="fromenv")) as server:
        assert "demo / fromenv" in server.output(), server.output()
        token = token_for(server.url, "demo", "fromenv")
        assert_demo_phone(phone_get(server.url, token))
        assert fault(authenticate(server.url, "demo", "demo"))["faultstring"], "demo/demo must be refused"


def test_serve_flag_beats_the_environment(tmp_path):
    environment = clean_environment(XWEB_EMULATOR_XWEB_PASSWORD="fromenv", XWEB_EMULATOR_XWEB_USER="envuser")
    with serving(tmp_path, "--xweb-password", "fromflag", "--xweb-user", "flaguser", env=environment) as server:
        output = server.output()
        assert "flaguser / fromflag" in output, output
        token_for(server.url, "flaguser", "fromflag")
        for user, password in [("flaguser", "fromenv"), ("envuser", "fromenv"), ("envuser", "fromflag"),
                               ("demo", "demo")]:
            fault(authenticate(server.url, user, password))


@pytest.fixture
def fresh_postgresql_url(postgresql_url) -> Iterator[str]:
    """A database of its own on the suite's PostgreSQL server, dropped afterwards."""
    name = f"xweb_cli_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(make_url(postgresql_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.mark.postgresql
def test_serve_on_postgresql(tmp_path, fresh_postgresql_url):
    assert make_url(fresh_postgresql_url).drivername == "postgresql+psycopg"
    with serving(tmp_path, "--database-url", fresh_postgresql_url) as server:
        token = token_for(server.url)
        assert_demo_phone(phone_get(server.url, token))
    assert sorted(table_rows(fresh_postgresql_url, "SELECT version_num FROM alembic_version")) == head_revisions()
    assert not (tmp_path / "xweb-emulator.db").exists()


def test_workers_share_tokens_through_the_database(tmp_path):
    with serving(tmp_path, "--workers", "2") as server:
        token = token_for(server.url)
        failures = []
        for _ in range(20):
            # A fresh connection each time, so that the calls are spread over both workers.
            response = phone_get(server.url, token)
            if response.status_code != 200:
                failures.append(response.text)
        assert not failures, f"{len(failures)} of 20 calls failed; first: {failures[0]}"
    tokens = table_rows(sqlite_url(tmp_path / "xweb-emulator.db"), "SELECT * FROM xweb_token")
    assert tokens, "the token was not stored in the database"


# --- db upgrade, --version, --help -------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path):
    database = sqlite_url(tmp_path / "nested" / "schema.db")
    for _ in range(2):
        result = run_cli(tmp_path, "db", "upgrade", "--database-url", database)
        assert result.returncode == 0, describe(result)
        assert f"{database}: schema up to date" in result.stdout, describe(result)
        assert sorted(table_rows(database, "SELECT version_num FROM alembic_version")) == head_revisions()
    tables = {row[0] for row in table_rows(database, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"co_customer", "co_email", "xweb_user", "xweb_token"} <= tables
    assert table_rows(database, "SELECT count(*) FROM co_customer") == [(0,)], "db upgrade must not load data"
    assert not (tmp_path / "xweb-emulator.db").exists()


def test_a_first_start_prints_no_line_of_alembic(tmp_path):
    # Alembic reports each migration at INFO: a page of timestamped lines about our own schema on a first start.
    result = run_cli(tmp_path, "db", "upgrade")
    assert result.returncode == 0, describe(result)
    assert "alembic" not in result.stdout + result.stderr, describe(result)
    assert (tmp_path / "xweb-emulator.db").is_file()

    fresh = tmp_path / "serve"
    fresh.mkdir()
    with serving(fresh) as server:
        assert "alembic" not in server.output(), server.output()
        assert (fresh / "xweb-emulator.db").is_file()


def test_version():
    result = run_cli(Path.cwd(), "--version")
    assert result.returncode == 0, describe(result)
    assert result.stdout.strip() == f"xweb-emulator, version {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["serve", "--help"], ["db", "upgrade", "--help"],
                                  ["seed", "--help"], ["record", "--help"], ["compare", "--help"]])
def test_help(tmp_path, args):
    result = run_cli(tmp_path, *args)
    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith("Usage:"), describe(result)
    assert list(tmp_path.iterdir()) == [], "--help must not create anything"


def test_help_lists_the_commands(tmp_path):
    result = run_cli(tmp_path, "--help")
    for command in ("serve", "db", "seed"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), describe(result)


# --- seed ---------------------------------------------------------------------------------------------------------

SEED_CUSTOMER = "11111111-1111-4111-8111-111111111111"
SEED = {
    "xweb": {
        "Customer": [{"cst_key": SEED_CUSTOMER, "cst_type": "Individual", "cst_name_cp": "Ada Lovelace"}],
        "Email": [{"eml_cst_key": SEED_CUSTOMER, "eml_address": "ada@example.org", "eml_type": "business"}],
    }
}


def write_seed(path: Path, document: object, form: str) -> Path:
    path.write_text(json.dumps(document) if form == "json" else yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("form", ["json", "yaml"])
def test_seed_loads_a_file(tmp_path, form):
    database = sqlite_url(tmp_path / "seeded.db")
    seed_file = write_seed(tmp_path / f"seed.{form}", SEED, form)
    if form == "yaml":
        assert not seed_file.read_text().lstrip().startswith("{"), "the YAML file must not also be JSON"

    result = run_cli(tmp_path, "seed", str(seed_file), "--database-url", database)
    assert result.returncode == 0, describe(result)
    created = json.loads(result.stdout)
    assert created["xweb"]["Customer"] == [SEED_CUSTOMER]
    [email_key] = created["xweb"]["Email"]
    uuid.UUID(email_key)

    rows = table_rows(database, "SELECT eml_key, eml_cst_key, eml_address FROM co_email WHERE eml_address = :a",
                      a="ada@example.org")
    assert len(rows) == 1, rows
    assert uuid.UUID(str(rows[0][0])) == uuid.UUID(email_key)
    assert uuid.UUID(str(rows[0][1])) == uuid.UUID(SEED_CUSTOMER)

    # The served emulator sees the records, next to the demo data.
    with serving(tmp_path, "--database-url", database) as server:
        token = token_for(server.url)
        response = get_customer(server.url, token, SEED_CUSTOMER)
        assert response.status_code == 200, response.text
        assert "Ada Lovelace" in response.text
        assert_demo_phone(phone_get(server.url, token))


BAD_SEEDS = {
    "unknown facade object": (
        {"xweb": {"Customer": [{"cst_key": SEED_CUSTOMER, "cst_type": "Individual", "cst_name_cp": "Ada"}],
                  "Widget": [{"wid_name": "x"}]}},
        "Widget",
    ),
    "missing customer": (
        {"xweb": {"Customer": [{"cst_key": SEED_CUSTOMER, "cst_type": "Individual", "cst_name_cp": "Ada"}],
                  "Email": [{"eml_cst_key": "33333333-3333-4333-8333-333333333333",
                             "eml_address": "nobody@example.org"}]}},
        "33333333-3333-4333-8333-333333333333",
    ),
    "unknown vendor": ({"xweb": SEED["xweb"], "salesforce": {"Contact": []}}, "salesforce"),
    "not an object": (["Customer"], "a seed is an object"),
    "a NUL": ({"xweb": {"Customer": [{"cst_key": SEED_CUSTOMER, "cst_type": "Individual", "cst_name_cp": "Ada"}],
                        "Email": [{"eml_cst_key": SEED_CUSTOMER, "eml_address": "ada@example.org\x00"}]}},
              "holds the character \\u0000, which no database stores"),
}


@pytest.mark.parametrize("case", list(BAD_SEEDS))
def test_seed_refuses_a_bad_file_and_writes_nothing_of_it(tmp_path, case):
    document, mentioned = BAD_SEEDS[case]
    database = sqlite_url(tmp_path / "seeded.db")
    seed_file = write_seed(tmp_path / "bad.json", document, "json")

    result = run_cli(tmp_path, "seed", str(seed_file), "--database-url", database)
    assert result.returncode != 0, describe(result)
    assert_no_traceback(result)
    assert "bad.json" in result.stderr and mentioned in result.stderr, describe(result)
    assert result.stdout.strip() == "", describe(result)
    if (tmp_path / "seeded.db").exists():
        assert table_rows(database, "SELECT count(*) FROM co_customer WHERE cst_name_cp = 'Ada'") == [(0,)]
        assert table_rows(database, "SELECT count(*) FROM co_email WHERE eml_address IN ('ada@example.org', "
                          "'nobody@example.org')") == [(0,)]


def test_seed_failure_leaves_earlier_records_alone(tmp_path):
    """A bad seed rolls back only its own records: what an earlier seed wrote stays."""
    database = sqlite_url(tmp_path / "seeded.db")
    assert run_cli(tmp_path, "seed", str(write_seed(tmp_path / "good.json", SEED, "json")),
                   "--database-url", database).returncode == 0
    document, _ = BAD_SEEDS["missing customer"]
    document = {"xweb": {"Customer": [{"cst_type": "Individual", "cst_name_cp": "Grace Hopper"}],
                         "Email": document["xweb"]["Email"]}}
    result = run_cli(tmp_path, "seed", str(write_seed(tmp_path / "bad.json", document, "json")),
                     "--database-url", database)
    assert result.returncode != 0, describe(result)
    assert table_rows(database, "SELECT count(*) FROM co_customer WHERE cst_name_cp = 'Grace Hopper'") == [(0,)]
    assert table_rows(database, "SELECT cst_name_cp FROM co_customer WHERE cst_name_cp = 'Ada Lovelace'") == [
        ("Ada Lovelace",)]


def test_seed_refuses_a_file_that_is_neither_json_nor_yaml(tmp_path):
    seed_file = tmp_path / "broken.json"
    seed_file.write_text('{"xweb": {"Customer": [\n  "a": {', encoding="utf-8")
    result = run_cli(tmp_path, "seed", str(seed_file), "--database-url", sqlite_url(tmp_path / "seeded.db"))
    assert result.returncode != 0, describe(result)
    assert_no_traceback(result)
    assert "neither JSON nor YAML" in result.stderr and "broken.json" in result.stderr, describe(result)


def test_seed_refuses_a_binary_file_with_a_message(tmp_path):
    seed_file = tmp_path / "seed.bin"
    seed_file.write_bytes(b"\xff\xfe\x00\x01binary\x80")
    result = run_cli(tmp_path, "seed", str(seed_file), "--database-url", sqlite_url(tmp_path / "seeded.db"))
    assert result.returncode != 0, describe(result)
    assert_no_traceback(result)
    assert "seed.bin" in result.stderr, describe(result)


def test_seed_of_a_missing_file_is_a_usage_error(tmp_path):
    result = run_cli(tmp_path, "seed", str(tmp_path / "absent.json"))
    assert result.returncode == 2, describe(result)
    assert_no_traceback(result)
    assert "absent.json" in result.stderr and "does not exist" in result.stderr, describe(result)
    assert not (tmp_path / "xweb-emulator.db").exists()


# --- bad flag values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, mentioned", [
    (["serve", "--port", "-5"], "port"),
    (["serve", "--port", "70000"], "port"),
    (["serve", "--port", "eighty"], "--port"),
    (["serve", "--workers", "0"], "workers"),
    (["serve", "--token-expiration", "Weekly"], "--token-expiration"),
    (["serve", "--token-timeout", "0"], "token_timeout"),
    (["serve", "--fail-count", "-2"], "fail_count"),
    (["serve", "--no-such-flag"], "--no-such-flag"),
])
def test_a_bad_flag_value_is_a_usage_error(tmp_path, args, mentioned):
    result = run_cli(tmp_path, *args)
    assert result.returncode == 2, describe(result)
    assert_no_traceback(result)
    assert result.stderr.startswith("Usage:") and mentioned in result.stderr, describe(result)
    assert not (tmp_path / "xweb-emulator.db").exists(), "nothing is started on a usage error"


def test_a_bad_environment_value_is_a_usage_error(tmp_path):
    result = run_cli(tmp_path, "serve", env=clean_environment(XWEB_EMULATOR_PORT="eighty"))
    assert result.returncode == 2, describe(result)
    assert_no_traceback(result)
    assert "port" in result.stderr, describe(result)
