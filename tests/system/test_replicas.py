"""Replicas started together (issue 25): three `serve` processes and a `db upgrade` launched at the same moment on one
fresh database all come up (the migration runs once, the others wait for it; the demo data is loaded once), then
share everything a client sees: tokens, records, fault rules, resets."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests
import sqlalchemy
from lxml import etree
from sqlalchemy.engine import make_url

from control_support import insert_activity_body
from support import XWEB
from serve_support import (
    COMMAND_SECONDS,
    _start_serve,
    _stop,
    _wait_until_answering,
    assert_demo_phone,
    clean_environment,
    head_revisions,
    phone_get,
    soap,
    table_rows,
    token_for,
)
from xweb_emulator.sap.seed import DEMO_DATA as SAP_DEMO_DATA

REPLICAS = 3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def fresh_database_url(request, tmp_path) -> Iterator[str]:
    """A database no emulator has touched: a new SQLite file, or a new database on the suite's PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'replicas.db'}"
        return
    server = make_url(request.getfixturevalue("postgresql_url"))
    name = f"replicas_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        admin.dispose()


def _activity_codes(url: str, token: str) -> list[str]:
    response = soap(url, "GetQuery", "<ns:szObjectName>CustomerMessagingActivity @TOP -1</ns:szObjectName>"
                                     "<ns:szColumnList>cma_activity_code</ns:szColumnList>", token)
    assert response.status_code == 200, response.text
    return [element.text for element in etree.fromstring(response.content).iter(f"{{{XWEB}}}cma_activity_code")]


def test_replicas_started_together_all_serve_and_share_everything(fresh_database_url, tmp_path):
    environment = clean_environment(XWEB_EMULATOR_DATABASE_URL=fresh_database_url)
    directories = [tmp_path / f"replica-{number}" for number in range(REPLICAS)]
    for directory in directories:
        directory.mkdir()
    with ExitStack() as stack:
        # All at once: every process is started before any is waited for, and a `db upgrade` among them.
        started = [_start_serve(directory, env=environment) for directory in directories]
        for process, _log in started:
            stack.callback(_stop, process, signal.SIGTERM)
        upgrade = subprocess.Popen([sys.executable, "-m", "xweb_emulator", "db", "upgrade"], cwd=tmp_path,
                                   env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output, _ = upgrade.communicate(timeout=COMMAND_SECONDS)
        assert upgrade.returncode == 0, output
        first, second, third = [_wait_until_answering(process, log, 1) for process, log in started]

        # The migration ran once: each branch at its head, once; the demo data was loaded once.
        assert sorted(table_rows(fresh_database_url, "SELECT version_num FROM alembic_version")) == head_revisions()
        summaries = [requests.get(f"{url}/_emulator/state", timeout=30).json() for url in (first, second, third)]
        assert summaries[0] == summaries[1] == summaries[2]
        assert summaries[0]["sap"]["Customer"] == len(SAP_DEMO_DATA["Customer"])

        # A token issued by one is accepted by another.
        token = token_for(first)
        assert_demo_phone(phone_get(second, token))

        # A record written on one is read on a third.
        assert soap(first, "InsertFacadeObject", insert_activity_body(code="Opened"), token).status_code == 200
        assert _activity_codes(third, token).count("Opened") == 1

        # A fault rule added on one is in force on another.
        rule = {"vendor": "xweb", "operation": "GetVersion", "action": "throttle", "count": 1}
        assert requests.post(f"{first}/_emulator/faults", json=rule, timeout=30).status_code == 201
        assert soap(second, "GetVersion", "", token).status_code == 429
        assert soap(third, "GetVersion", "", token).status_code == 200  # its one firing was taken

        # A reset on one is seen by all: the record is gone, the demo data is back (the token with it).
        assert requests.post(f"{third}/_emulator/reset", json={}, timeout=60).status_code == 200
        token = token_for(second)
        assert _activity_codes(first, token).count("Opened") == 0
        assert_demo_phone(phone_get(first, token))
        assert requests.get(f"{second}/_emulator/faults", timeout=30).json()["rules"] == []
