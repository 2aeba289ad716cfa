"""The benchmark's reference does the same writes as the emulator (bench/stack_limit.py, issue 24): the bulk calls
and the sample InsertFacadeObject, sent to the emulator and to the stack limit, leave a row of the same shape in the
same table on both sides: every column the emulator fills filled, in the same storage form (SQLite's typeof), the
columns it leaves null null. A column the emulator starts filling that the limit does not would otherwise make the
limit's figures flatter the emulator's ratios without a word. The bulk benchmark runs on SQLite, and so does this.
The profiler (bench/cpu_profile.py --stack-limit) measures the limit's CPU for the same calls."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

from support import Emulator

BENCH = Path(__file__).resolve().parents[2] / "bench"
ITEMS = 3


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple]:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("common"), importlib.import_module("run"), importlib.import_module("stack_limit")
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def sqlite_emulator(emulator: Emulator) -> Emulator:
    if emulator.emulator.database.kind != "sqlite":
        pytest.skip("the bulk benchmark, and its reference, run on SQLite")
    return emulator


def test_the_stack_limit_writes_the_rows_the_emulator_writes(sqlite_emulator, bench, tmp_path):
    common, run, stack_limit = bench
    url = f"sqlite:///{tmp_path / 'limit.db'}"
    limit_token = stack_limit.prepare(url)
    limit = Client(stack_limit.StackLimit(url))
    emulator = sqlite_emulator
    token = emulator.authenticate()
    seed = json.dumps(run.sap_seed(ITEMS))
    assert requests.post(f"{emulator.base_url}/_emulator/seed", data=seed, headers=run.JSON_HEADERS,
                         timeout=30).status_code == 200
    assert limit.post(stack_limit.SEED_PATH, data=seed, headers=run.JSON_HEADERS).status_code == 200

    calls = [
        (common.XWEB_PATH, common.INSERT_HEADERS, lambda side_token: common.sample_body(side_token)),
        (common.XWEB_PATH, common.INSERT_HEADERS, lambda side_token: run.xweb_bulk(side_token, ITEMS)),
        (common.SAP_PATH, run.SAP_HEADERS, lambda _token: run.sap_bounces(ITEMS, 1)),
        (common.CRMCOM_PATH + "customer_events/bulk/web/create", run.JSON_HEADERS, lambda side_token: json.dumps(
            {"token": side_token, "web_customer_events_set": run.crmcom_events(ITEMS)}).encode()),
    ]
    for path, headers, body in calls:
        crmcom = path.startswith(common.CRMCOM_PATH)
        ours = requests.post(emulator.base_url + path, data=body(run.crmcom_login(emulator.base_url) if crmcom
                                                                   else token), headers=headers, timeout=30)
        theirs = limit.post(path, data=body(limit_token), headers=headers)
        assert (ours.status_code, theirs.status_code) == (200, 200), (path, ours.text[:500], theirs.text[:500])

    newest = {"co_customer_messaging_activity": "cma_add_date", "sap_campaign_outbound": "changed_at",
              "crmcom_web_customer_event": "number"}
    with emulator.emulator.database.engine.connect() as connection:
        emulator_rows = {table: _shape(connection.exec_driver_sql, table, order) for table, order in newest.items()}
    limit_database = stack_limit.Store(url)._connection()
    limit_rows = {table: _shape(lambda sql: limit_database.execute(sql), table, order)
                  for table, order in newest.items()}

    assert limit_rows == emulator_rows


def _shape(execute, table: str, newest_first_by: str) -> dict[str, str]:
    """Each column of the table's newest row and its value's storage class (SQLite's typeof: null where null)."""
    columns = [row[1] for row in execute(f"PRAGMA table_info({table})").fetchall()]
    kinds = execute(f"SELECT {', '.join(f'typeof({column})' for column in columns)} FROM {table} "
                    f"ORDER BY {newest_first_by} DESC LIMIT 1").fetchone()
    return dict(zip(columns, kinds, strict=True))


@pytest.mark.parametrize("kind", ["sample", "xweb", "sap", "crmcom"])
def test_the_profiler_measures_the_stack_limit_for_the_same_call(kind):
    profiled = _cpu_profile(kind, "--stack-limit", "--items", "5", "--calls", "2", "--profile", "--top", "60")

    assert profiled.returncode == 0, profiled.stderr
    assert f"{kind}: 2 calls, CPU per call median" in profiled.stdout
    # The limit's own functions took the time, and none of the emulator's.
    assert "stack_limit.py" in profiled.stdout and "xweb_emulator/pipeline.py" not in profiled.stdout


def test_the_profiler_says_the_paging_call_has_no_stack_limit():
    profiled = _cpu_profile("page", "--stack-limit")

    assert profiled.returncode == 2
    assert "the stack limit answers no GetQuery" in profiled.stderr


def _cpu_profile(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / "cpu_profile.py"), *arguments], cwd=BENCH, capture_output=True,
                          text=True, timeout=120, check=False)
