"""The one call pipeline, as every vendor's client meets it, on both database backends: an injected fault comes
after authentication for every vendor and is journalled with its user; a commit that fails answers the vendor's
error and stores nothing; a reset can be of one vendor; SQLite's writers wait their turn in order."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

import sap_support
from control_support import insert_activity, journal
from crmcom_support import bulk, event, login, post, refused
from support import Emulator, fault
from xweb_emulator.db import CHECKPOINT_SECONDS, KEPT_PING_SECONDS, Database, WriteQueue
from xweb_emulator.xweb.models import CustomerMessagingActivity

SAP_SAMPLE = "failed_delivery_status.request.xml"
SAP_BOUNCE = "MaintainFailedDeliveryStatusBundle"
BULK = "customer_events/bulk/web/create"


# ------------------------------------------------------------------------- an injected fault, after authentication


def test_xweb_answers_a_bad_token_before_an_injected_fault(emulator):
    emulator.add_fault("xweb", "fault", fault_kind="SystemExceptionInfo", operation="GetVersion")

    assert fault(emulator.soap("GetVersion", token=str(uuid.uuid4())))["kind"] == "InvalidTokenExceptionInfo"
    token = emulator.authenticate()
    assert fault(emulator.soap("GetVersion", token=token))["kind"] == "SystemExceptionInfo"

    _bad, injected = journal(emulator, operation="GetVersion")
    assert (injected["outcome"], injected["user"]) == ("SystemExceptionInfo", emulator.settings.xweb_user)


def test_sap_answers_wrong_credentials_before_an_injected_fault(emulator):
    emulator.add_fault("sap", "fault", fault_kind="SOAPFault")
    sample = sap_support.fixture(SAP_SAMPLE)

    assert sap_support.post(emulator, SAP_BOUNCE, sample, auth=("demo", "wrong")).status_code == 401
    assert sap_support.post(emulator, SAP_BOUNCE, sample).status_code == 500

    unauthorized, injected = journal(emulator, vendor="sap")
    assert unauthorized["outcome"] == "Unauthorized"
    assert (injected["outcome"], injected["user"]) == ("SOAPFault", emulator.settings.sap_user)


def test_crmcom_answers_a_bad_token_before_an_injected_fault(emulator):
    emulator.add_fault("crmcom", "fault", fault_kind="SystemException", operation=BULK)

    refused(post(emulator, BULK, {"token": "NO-SUCH-TOKEN", "web_customer_events_set": [event()]}),
            "InvalidTokenException")
    token = login(emulator)
    refused(post(emulator, BULK, {"token": token, "web_customer_events_set": [event()]}), "SystemException",
            http_status=500)

    bad, injected = journal(emulator, vendor="crmcom", operation=BULK)
    assert (bad["outcome"], bad["user"]) == ("InvalidTokenException", None)
    assert (injected["outcome"], injected["user"]) == ("SystemException", emulator.settings.crmcom_user)


# ------------------------------------------------------------------------------------------ a commit that fails


@pytest.fixture
def failing_commits(emulator: Emulator):
    """Make every commit that stored a CustomerMessagingActivity fail, as a constraint checked only at commit does:
    a trigger adds, beside each activity, a row whose deferred foreign key names nothing."""
    activity_table = CustomerMessagingActivity.__tablename__
    database = emulator.emulator.database
    if database.kind == "sqlite":
        statements = [
            "CREATE TABLE test_commit_target (id INTEGER PRIMARY KEY)",
            "CREATE TABLE test_commit_breaker (target INTEGER REFERENCES test_commit_target (id) "
            "DEFERRABLE INITIALLY DEFERRED)",
            f"CREATE TRIGGER test_break_commit AFTER INSERT ON {activity_table} "
            "BEGIN INSERT INTO test_commit_breaker (target) VALUES (-1); END",
        ]
        cleanup = ["DROP TRIGGER test_break_commit", "DROP TABLE test_commit_breaker", "DROP TABLE test_commit_target"]
    else:
        statements = [
            "CREATE TABLE test_commit_target (id INTEGER PRIMARY KEY)",
            "CREATE TABLE test_commit_breaker (target INTEGER REFERENCES test_commit_target (id) "
            "DEFERRABLE INITIALLY DEFERRED)",
            "CREATE FUNCTION test_break_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO test_commit_breaker (target) VALUES (-1); RETURN NEW; END $$",
            f"CREATE TRIGGER test_break_commit AFTER INSERT ON {activity_table} "
            "FOR EACH ROW EXECUTE FUNCTION test_break_commit()",
        ]
        cleanup = [f"DROP TRIGGER test_break_commit ON {activity_table}", "DROP FUNCTION test_break_commit()",
                   "DROP TABLE test_commit_breaker", "DROP TABLE test_commit_target"]
    with database.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    yield
    with database.engine.begin() as connection:
        for statement in cleanup:
            connection.execute(text(statement))


def test_a_commit_that_fails_answers_the_vendors_error_and_stores_nothing(emulator, failing_commits):
    token = emulator.authenticate()

    with emulator.nothing_written():
        response = insert_activity(emulator, token)

    refusal = fault(response)
    assert (refusal["faultcode"], refusal["kind"]) == ("soap:Client", "SystemExceptionInfo")
    assert "AuthorizationToken" not in response.text
    (entry,) = journal(emulator, operation="InsertFacadeObject")
    assert (entry["outcome"], entry["status"], entry["user"]) == ("SystemExceptionInfo", 500,
                                                                  emulator.settings.xweb_user)
    # As after any fault, the token the call came with is dead.
    assert fault(emulator.soap("GetVersion", token=token))["kind"] == "InvalidTokenExceptionInfo"


# ------------------------------------------------------------------------------------------ reset of one vendor


def test_a_reset_of_one_vendor_leaves_the_others_and_the_journal(emulator):
    fresh_events = emulator.state("crmcom", "WebCustomerEvent")
    token = emulator.authenticate()
    assert insert_activity(emulator, token).status_code == 200
    bulk(emulator, login(emulator), [event("1")])
    activities = emulator.state("xweb", "CustomerMessagingActivity")
    journaled = journal(emulator)

    answer = requests.post(f"{emulator.base_url}/_emulator/reset", json={"vendor": "crmcom"}, timeout=30)

    assert answer.status_code == 200 and answer.json()["vendor"] == "crmcom"
    assert emulator.state("crmcom", "WebCustomerEvent") == fresh_events
    assert emulator.state("xweb", "CustomerMessagingActivity") == activities
    assert journal(emulator) == journaled
    assert emulator.soap("GetVersion", token=token).status_code == 200  # xWeb's token lives on


def test_a_reset_of_an_unknown_vendor_is_refused(emulator):
    answer = requests.post(f"{emulator.base_url}/_emulator/reset", json={"vendor": "acme"}, timeout=30)
    assert answer.status_code == 400 and "acme" in answer.json()["error"]


# ---------------------------------------------------------------------------------------------- the write queue


def test_sqlite_writers_take_their_turns_in_the_order_they_came(tmp_path):
    queue = WriteQueue(str(tmp_path / "queued.db"))
    order: list[int] = []
    with queue.turn():
        waiting = []
        for number in range(5):
            thread = threading.Thread(target=_write, args=(queue, order, number))
            thread.start()
            waiting.append(thread)
            _until(lambda: len(queue._waiting) == number + 1)  # queued behind the writer that holds the turn
    for thread in waiting:
        thread.join(timeout=30)
    assert order == [0, 1, 2, 3, 4]


def _write(queue: WriteQueue, order: list[int], number: int) -> None:
    with queue.turn():
        order.append(number)


@pytest.fixture
def filler_database(tmp_path) -> Iterator[tuple[Database, Path]]:
    """A SQLite database (and its file) with one table of text to fill its write-ahead log with."""
    path = tmp_path / "filled.db"
    database = Database(f"sqlite:///{path}")
    with database.writing() as connection:
        connection.exec_driver_sql("CREATE TABLE filler (text TEXT)")
        connection.commit()
    yield database, path
    database.dispose()


def _fill(database: Database, size: int) -> None:
    with database.writing() as connection:
        connection.exec_driver_sql("INSERT INTO filler VALUES (?)", ("x" * size,))
        connection.commit()


def test_sqlite_commits_leave_the_write_ahead_log_to_the_checkpointer_thread(filler_database):
    """A commit no longer copies the log back itself (its call would wait for that); the checkpointer thread the
    application starts does, within CHECKPOINT_SECONDS."""
    database, path = filler_database
    size_before = path.stat().st_size
    for _ in range(4):  # 4 commits of 2 MB: 2,000 pages, twice what made a commit checkpoint
        _fill(database, 2_000_000)
    assert path.stat().st_size == size_before  # every page still in the log only: no commit checkpointed
    database.checkpoint_in_background()  # as the application does when it is built
    _until(lambda: path.stat().st_size > 8_000_000, timeout_seconds=10)


def test_sqlite_log_starts_over_under_writers_back_to_back(filler_database):
    """Writers one after another without a pause (a server under load): the checkpointer still completes its copy
    (the last of it in the writers' turn), so that the log starts over rather than grow without end."""
    database, path = filler_database
    database.checkpoint_in_background()
    deadline = time.monotonic() + 8 * CHECKPOINT_SECONDS + 2

    def write() -> None:
        while time.monotonic() < deadline:
            _fill(database, 100_000)  # some 25 pages: the log passes RESTART_FRAMES within a second

    writers = [threading.Thread(target=write) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    # The log's header counts the times it started over (its checkpoint sequence number, bytes 12 to 15).
    restarts = int.from_bytes(Path(f"{path}-wal").read_bytes()[12:16], "big")
    assert restarts >= 1  # never, beside these writers, without the last of the copy in their turn


# ------------------------------------------------------------------------------- writers' connections, kept open


def test_a_writers_uncommitted_work_is_rolled_back_before_its_connection_serves_the_next(database_url):
    database = Database(database_url)
    table = f"test_kept_{uuid.uuid4().hex[:8]}"
    try:
        with database.writing() as connection:
            connection.exec_driver_sql(f"CREATE TABLE {table} (n INTEGER)")
            connection.commit()
        with database.writing() as first:
            first.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")  # and never committed
        with database.writing() as second:
            assert second is first  # kept open: no connection made or checked out for the next writer
            assert second.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0
            second.exec_driver_sql(f"INSERT INTO {table} VALUES (2)")
            second.commit()
        with database.engine.connect() as reader:
            assert reader.exec_driver_sql(f"SELECT n FROM {table}").scalars().all() == [2]
    finally:
        with database.writing() as connection:
            connection.exec_driver_sql(f"DROP TABLE {table}")
            connection.commit()
        database.dispose()


@pytest.mark.postgresql
def test_a_writer_after_postgresql_dropped_the_kept_connection_gets_it_back_connected(postgresql_url):
    database = Database(postgresql_url)
    try:
        with database.writing() as connection:
            dropped_pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            connection.commit()
        with database.engine.connect() as connection:
            connection.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": dropped_pid})
        time.sleep(KEPT_PING_SECONDS + 0.2)  # idle long enough to be pinged, as the pool pinged each connection

        with database.writing() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != dropped_pid
    finally:
        database.dispose()


def _until(condition, timeout_seconds: float = 10) -> None:
    for _ in range(int(timeout_seconds * 1000)):
        if condition():
            return
        threading.Event().wait(0.001)
    raise AssertionError("the condition never held")
