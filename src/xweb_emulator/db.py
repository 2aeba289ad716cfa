"""Database plumbing shared by every vendor: engine, sessions, declarative base, schema upgrade.

Alembic is the only source of the schema: nothing here creates tables; `upgrade` runs the migrations.
"""

from __future__ import annotations

import fcntl
import importlib.resources
import logging
import os
import sqlite3
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Column, Connection, Engine, Integer, MetaData, SmallInteger, Table, create_engine, \
    event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable

if TYPE_CHECKING:
    from alembic.config import Config

# Stable constraint names, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Writers wait their turn in WriteQueue; the busy handler only covers a writer outside this emulator (a sqlite3 shell).
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_MMAP_BYTES = 1 << 30
CHECKPOINT_SECONDS = 0.5
# The log's length (in pages, 40 MB) at which the checkpointer has it start over. The last of that copy runs in the
# writers' turn and syncs the database file: 15 to 30 ms that the next writer waits. At SQLite's own 1,000 pages a
# connector paging through GetQuery (each page journalled, some 10 pages of log) met it every 100 pages or so: p99
# 25 to 28 ms over 15 s runs; at 10,000, 17 to 19 ms.
RESTART_FRAMES = 10_000
_READ_ONLY = "xweb_emulator_read_only"
# A kept connection idle for longer is pinged before a writer uses it (KeptConnections).
KEPT_PING_SECONDS = 1.0
# The rows insert_new inserts a statement each on the driver's cursor; beyond, one statement of many rows through
# SQLAlchemy costs less (1000 records: 41 against 47 ms of CPU a call).
PREPARED_INSERT_ROWS = 16

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and never takes the write lock up front; two concurrent
    # requests that read then write would then fail with "database is locked" instead of waiting. SQLAlchemy's
    # documented recipe: disable the driver's handling and emit BEGIN IMMEDIATE ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Reads of the database file through a shared memory map rather than a read() into each connection's small
        # page cache (2 MB): a page of records over 100,000 Individuals touches some 2,000 pages, scattered.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        # The write-ahead log is copied back into the database by a thread of the process (Checkpointer), not by
        # whichever commit finds it past 1,000 pages: that commit's call would wait for the copy and its fsync (tens
        # of milliseconds, the latency tail under load) before its answer could go.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Readers (Database.reading) take no write lock.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        # On the driver's connection: exec_driver_sql would build an execution context for it (15 us a call).
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


class WriteQueue:
    """The writers of one SQLite database, queued for its write lock: threads of a process in order of arrival,
    processes (server workers) in the kernel's file lock. SQLite's own busy handler polls instead, sleeping in
    growing steps of up to 100 ms, which turns a short queue of writers into second-long stalls.

    The file lock lives in a file of its own beside the database (a lock on the database file would be SQLite's to
    lose: closing any descriptor of it drops the process's SQLite locks). The file stays when the server stops:
    deleting it would let a process still holding the old file's lock (another server, `seed`, `db upgrade` on the
    same database) and one opening a new file write at once. Its name says whose it is; .gitignore ignores it."""

    LOCK_SUFFIX = ".xweb-emulator-writers.lock"

    def __init__(self, database_path: str | None) -> None:
        self._lock_path = f"{database_path}{self.LOCK_SUFFIX}" if database_path else None
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._taken = False
        self._lock_file: tuple[int, int] | None = None  # (pid, descriptor): a forked worker opens its own

    @contextmanager
    def turn(self) -> Iterator[None]:
        self._acquire()
        try:
            if self._lock_path is None:
                yield
                return
            descriptor = self._descriptor()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            self._release()

    def _acquire(self) -> None:
        with self._guard:
            if not self._taken:
                self._taken = True
                return
            handover = threading.Lock()
            handover.acquire()
            self._waiting.append(handover)
        handover.acquire()  # released by the writer before us, who hands the turn over instead of freeing it

    def _release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._taken = False

    def _descriptor(self) -> int:
        # Only this process's writer thread holding the turn gets here, so no two threads open it at once.
        if self._lock_file is None or self._lock_file[0] != os.getpid():
            self._lock_file = (os.getpid(), os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644))
        return self._lock_file[1]


class _ProcessThread(ABC):
    """A thread of a serving process's own, beside the calls: started in each process that serves (ensure_running:
    a forked worker starts its own), never before a server's workers fork, and stopped with the database."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._started_in: int | None = None
        self._stop = threading.Event()
        self._guard = threading.Lock()

    def ensure_running(self) -> None:
        if self._started_in == os.getpid():
            return
        with self._guard:
            if self._started_in != os.getpid() and not self._stop.is_set():
                threading.Thread(target=self._run, name=self._name, daemon=True).start()
                self._started_in = os.getpid()

    def stop(self) -> None:
        self._stop.set()

    @abstractmethod
    def _run(self) -> None:
        """The thread's work, until `_stop` is set."""


class Checkpointer(_ProcessThread):
    """Copies a SQLite database's write-ahead log back into it, every CHECKPOINT_SECONDS, in a thread of its own
    with a connection of its own. Each server worker runs one, started with its application (Pipeline), never
    before the workers fork: SQLite keeps its locks per process, and a connection open across a fork would leave
    the worker's SQLite believing it holds the parent's locks. It takes its turn among the writers (WriteQueue) and
    waits for no reader (a passive checkpoint). A process that runs none (`db upgrade`, `seed`) leaves the log to
    the checkpoint SQLite makes when its last connection closes."""

    def __init__(self, database_path: str, writers: WriteQueue) -> None:
        super().__init__("sqlite-checkpoint")
        self._path = database_path
        self._writers = writers

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                try:
                    # The copy (and its fsyncs) beside the writers; once the log is long, in the writers' turn, what
                    # they added meanwhile, so that the copy completes and the next writer starts the log over.
                    # Beside the writers alone it would never catch up with them, and the log would grow without
                    # end (200 MB in 30 s of 2 workers under load); in their turn alone, every writer queued would
                    # wait for the whole copy, as the commit that ran it used to, and at every run.
                    _busy, log_frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if log_frames >= RESTART_FRAMES:
                        with self._writers.turn():
                            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # a file being replaced, a reader outside the emulator: next time
                    log.debug("checkpoint of %s: %s", self._path, error)
        finally:
            connection.close()


class Housekeeping(_ProcessThread):
    """Work a serving process does beside the calls, every `seconds`, in a thread of its own and a transaction of its
    own (Database.writing: on SQLite in the writers' turn), so that no call waits for it."""

    def __init__(self, database: Database, name: str, seconds: float, work: Callable[[Connection], None]) -> None:
        super().__init__(name)
        self._database = database
        self._seconds = seconds
        self._work = work

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                with self._database.writing() as connection:
                    self._work(connection)
                    connection.commit()
            except Exception:
                if not self._stop.is_set():  # not the database going away under it as it stops
                    log.warning("%s failed; it runs again in %g s", self._name, self._seconds, exc_info=True)


class KeptConnections:
    """Connections of an engine kept open from one writer to the next, in the process that opened them: a
    connection checked out of SQLAlchemy's pool and back in for every call (a Connection made, its reset on return,
    PostgreSQL's ping) cost 20 to 30 us of a 700 us call. As many stay open as writers ran at once: on SQLite one, in
    the writers' turn. What a writer leaves uncommitted is rolled back when it gives its connection back; one that
    cannot be rolled back is closed. With `ping_after` (a server's database), a connection idle for longer is pinged
    before it is used, as the pool pinged every connection it handed out: one the server dropped meanwhile (a
    restart) reconnects instead of failing the call that meets it."""

    def __init__(self, engine: Engine, ping_after: float | None) -> None:
        self._engine = engine
        self._ping_after = ping_after
        self._idle: list[tuple[Connection, float]] = []  # and when it was given back
        self._pid = os.getpid()

    @contextmanager
    def taken(self) -> Iterator[Connection]:
        if self._pid != os.getpid():  # a forked process: the parent's connections are the parent's
            self._idle, self._pid = [], os.getpid()
        try:
            connection, idle_since = self._idle.pop()  # atomic: threads take different ones
        except IndexError:
            connection = self._engine.connect()
        else:
            if self._ping_after is not None and time.monotonic() - idle_since > self._ping_after:
                self._ping(connection)
        try:
            yield connection
        finally:
            self._give_back(connection)

    def _ping(self, connection: Connection) -> None:
        try:
            self._engine.dialect.do_ping(connection.connection.dbapi_connection)
        except Exception:
            log.info("a kept connection was lost while idle; it reconnects", exc_info=True)
            connection.invalidate()

    def _give_back(self, connection: Connection) -> None:
        try:
            if connection.in_transaction():
                connection.rollback()
        except Exception:
            log.warning("a writer's connection could not be rolled back; it is closed", exc_info=True)
            connection.close()
            return
        self._idle.append((connection, time.monotonic()))

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _idle_since in idle:
            connection.close()


class Database:
    """An engine and its session factory: the state every request reads and writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reading_sessions = sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}),
                                              expire_on_commit=False)
        self._migrating = False
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = parsed.database if parsed.database and parsed.database != ":memory:" else None
            self._sqlite_path = str(Path(path).resolve()) if path else None
            self._writers: WriteQueue | None = WriteQueue(self._sqlite_path)
            self._checkpointer = Checkpointer(self._sqlite_path, self._writers) if path else None
        else:
            self._sqlite_path = None
            self._writers = None  # PostgreSQL's own row locks let writers run side by side
            self._checkpointer = None
        self._housekeeping: dict[str, Housekeeping] = {}
        # SQLite has no server to lose the connection; PostgreSQL pings as its pool did (create_db_engine).
        self._writer_connections = KeptConnections(self.engine, None if self.kind == "sqlite" else KEPT_PING_SECONDS)

    @property
    def kind(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together, or rolled back together if anything raises."""
        with self._writers_turn(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection for a writer that commits or rolls back itself (Connection.commit, .rollback): on SQLite,
        it holds the writers' turn throughout; whatever it has not committed when the block ends is rolled back. The
        connection stays open for the next writer (KeptConnections)."""
        with self._writers_turn(), self._writer_connections.taken() as connection:
            yield connection

    def _writers_turn(self) -> AbstractContextManager[None]:
        return self._writers.turn() if self._writers is not None else nullcontext()

    def checkpoint_in_background(self) -> None:
        """On SQLite, start this process's checkpointer (see Checkpointer), if it runs none yet."""
        if self._checkpointer is not None:
            self._checkpointer.ensure_running()

    def in_background(self, name: str, seconds: float, work: Callable[[Connection], None]) -> None:
        """Run `work` every `seconds` beside the calls, in this process (Housekeeping), if it runs `name` not yet."""
        if name not in self._housekeeping:
            self._housekeeping[name] = Housekeeping(self, name, seconds, work)
        self._housekeeping[name].ensure_running()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads (the control plane's queries, the dashboard's polling). On SQLite it neither
        waits for nor holds up the writers: in WAL mode a reader sees the last commit beside the writer."""
        with self._reading_sessions.begin() as session:
            yield session

    @contextmanager
    def migrating(self) -> Iterator[None]:
        """The schema's upgrade, and whatever a start does after it (Emulator.migrate), by one process at a time of
        all those on this database: replicas started together each wait for the one before, then find the schema
        (and the demo data) there. PostgreSQL: a session-level advisory lock on a connection of its own; SQLite: a
        file lock beside the database (the writers' turn is taken inside, by each transaction). Reentrant in a
        process: upgrade() takes it too."""
        if self._migrating:
            yield
            return
        with self._migration_lock():
            self._migrating = True
            try:
                yield
            finally:
                self._migrating = False

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.kind == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(_SESSION_ADVISORY_LOCK, {"key": _MIGRATION_LOCK_KEY})
                try:
                    yield
                finally:
                    connection.execute(_SESSION_ADVISORY_UNLOCK, {"key": _MIGRATION_LOCK_KEY})
        elif self._sqlite_path is not None:
            descriptor = os.open(f"{self._sqlite_path}.xweb-emulator-migration.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # which releases the lock
        else:
            yield  # an in-memory database: one process only

    def upgrade(self) -> None:
        """The schema brought to the latest migrations (see migrating)."""
        # Alembic reports each migration it runs, and each plugin it sets up, at INFO: on a first start, a page of
        # timestamped lines about the emulator's own schema. Its warnings still show.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        with self.migrating(), self._writers_turn(), self.engine.begin() as connection:
            from alembic import command

            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        for work in self._housekeeping.values():
            work.stop()
        self._writer_connections.close()
        self.engine.dispose()


INTEGER_BOUNDS = ((SmallInteger, 2**15), (BigInteger, 2**63), (Integer, 2**31))
"""The integers each column type holds on every backend (-bound to bound - 1; SQLite holds 64 bits in all, PostgreSQL
only what the type says): BigInteger and SmallInteger are Integers, so they come first."""


def unfit_value(column: Column, value: object) -> str | None:
    """Why `column` cannot hold `value` on every backend, or None: a string longer than its length, an integer
    beyond its type's range. (PostgreSQL refuses either; SQLite would store the string and refuse only past 64
    bits.)"""
    length = getattr(column.type, "length", None)
    if isinstance(value, str) and length is not None and len(value) > length:
        return f"longer than {length} characters"
    if isinstance(value, int) and not isinstance(value, bool):
        bound = next((bound for kind, bound in INTEGER_BOUNDS if isinstance(column.type, kind)), None)
        if bound is not None and not -bound <= value < bound:
            return "out of range"
    return None


def unfit_column(row: Base) -> tuple[Column, str] | None:
    """The first column of `row` that cannot hold the value the row gives it, and why (unfit_value); or None."""
    for column in row.__table__.columns:
        unfit = unfit_value(column, getattr(row, column.key))
        if unfit is not None:
            return column, unfit
    return None


def null_refused(table: Table, rows: list[Mapping[str, object]]) -> str | None:
    """The first column of `table`, in its order, that allows no null and that the first row giving such a column
    None gives it (as an INSERT or UPDATE of the rows writes them: a row leaving out a column another row names gives
    it its Python-side default); None if no row does."""
    named = set().union(*rows)
    refused: tuple[int, int, str] | None = None
    for order, name, left_out in _not_null(table):
        if name not in named:
            continue
        # By identity: `None in values` would compare each value with None (a uuid.UUID in Python code).
        first = next((index for index, row in enumerate(rows) if row.get(name, left_out) is None), None)
        if first is not None:
            refused = (first, order, name) if refused is None else min(refused, (first, order, name))
    return None if refused is None else refused[2]


@cache
def _not_null(table: Table) -> tuple[tuple[int, str, object], ...]:
    """The columns of `table` that allow no null: each its place, its name, and what a row that leaves it out gives
    it as null_refused sees it (None; a marker where its default gives a value)."""
    return tuple((order, column.name, _DEFAULTED if column.default is not None and (
        column.default.is_callable or python_default(column) is not None) else None)
        for order, column in enumerate(table.columns) if not column.nullable)


_DEFAULTED = object()  # a value left out that its column's default gives


def upsert(bind: Connection | Session, table: Table | type[Base]):
    """An INSERT that can go on to ON CONFLICT DO NOTHING / DO UPDATE (on_conflict_do_nothing, on_conflict_do_update)
    in the bind's dialect: find-or-create rows in one atomic statement, never a check then an insert that concurrent
    calls both pass."""
    return _insert_in(_dialect(bind))(table)


def insert_new(bind: Connection | Session, table: Table, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Insert each row whose primary key (every row names its columns) no stored row holds: the rows whose key was taken are
    answered, for the caller to refuse. The database's own uniqueness decides (ON CONFLICT DO NOTHING), never a check
    then an insert that concurrent calls both pass: on PostgreSQL a call inserting a key another one has inserted and
    not yet committed waits for it, and finds the key taken once it commits (free again if it rolls back)."""
    keys = [column.name for column in table.primary_key.columns]
    connection = bind.connection() if isinstance(bind, Session) else bind
    prepared, defaulted = (_insert_new_prepared(connection.dialect, table, tuple(rows[0]))
                           if 0 < len(rows) <= PREPARED_INSERT_ROWS else (None, ()))
    if prepared is not None and all(len(row) == len(rows[0]) for row in rows):
        bound = rows if not defaulted else [{**row, **{column.name: python_default(column) for column in defaulted}}
                                            for row in rows]
        inserted = {row for answer in prepared.each(connection, bound) for row in answer}
        return [row for row in rows if tuple(row[key] for key in keys) not in inserted]
    inserted = set(map(tuple, bind.execute(_insert_new(_dialect(bind), table), rows)))
    return [row for row in rows if tuple(row[key] for key in keys) not in inserted]


def insert_all(connection: Connection, table: Table, rows: list[dict[str, object]],
               common: Mapping[str, object]) -> None:
    """Insert rows whose keys no stored row can hold (new GUIDs made for them: there is no conflict to look for, as
    insert_new does), all in one executemany on the driver's cursor. A row gives each column's value by name, but for
    those in `common`, which every row has (bound once); a column a row leaves out takes its Python-side default, as
    Connection.execute would give it. A column that no row names and that has no default of either side is left out
    of the statement, null as it would be bound (a thousand rows of a table of 15 columns, 9 of them given: 1.2 ms
    of SQLite's 7 to bind the other 6 nulls)."""
    prepared, defaults = _insert_all_prepared(table, frozenset(common).union(*rows))
    prepared.many(connection, rows, common, defaults)


def _null_left_out(column: Column) -> bool:
    """Whether a row that leaves the column out of an INSERT stores null there, as binding null would."""
    return column.default is None and column.server_default is None and not column.primary_key


@lru_cache(maxsize=256)  # a statement for each set of columns the calls' rows name (clients choose which they send)
def _insert_all_prepared(table: Table, named: frozenset[str]) -> tuple[Prepared, dict[str, object]]:
    """insert_all's statement for rows naming the columns `named`, and what a row that leaves one out gives it: the
    default's value, or a function making a new one for each row (a callable default)."""
    columns = [column for column in table.columns if column.key in named or not _null_left_out(column)]
    keys = tuple(column.key for column in columns)
    defaults = {column.key: (lambda column=column: python_default(column))
                if column.default is not None and column.default.is_callable else python_default(column)
                for column in columns}
    return Prepared(table.insert(), keys), defaults


_NONE: Mapping[str, object] = MappingProxyType({})
_REQUIRED = object()
"""A value no row may leave out (bound_many)."""


class Prepared:
    """A statement of the call path compiled once for each dialect, then run on the database driver's cursor of a
    connection, in its transaction: what Connection.execute adds around each statement (an execution context, its
    events, a result object) cost 15 to 90 us a statement against 5 us in sqlite3, a tenth of a small call. The
    values are bound and the rows read through the column types' own processors, as Connection.execute would; a
    statement with `keys` (an INSERT) binds exactly those columns. Not for statements with IN lists (expanding
    parameters)."""

    def __init__(self, statement: Executable, keys: tuple[str, ...] | None = None) -> None:
        self.statement = statement
        self.keys = keys
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, connection: Connection, parameters: Mapping[str, object]) -> list[tuple]:
        """The rows the statement answers (none for an INSERT without RETURNING)."""
        return self.each(connection, (parameters,))[0]

    def first(self, connection: Connection, parameters: Mapping[str, object]) -> tuple | None:
        found = self.rows(connection, parameters)
        return found[0] if found else None

    def each(self, connection: Connection, parameter_sets: Iterable[Mapping[str, object]]) -> list[list[tuple]]:
        """The statement run once for each of `parameter_sets`, on one cursor: the rows each run answers."""
        compiled = self._compiled.get(connection.dialect.name) or self.compile_for(connection.dialect)
        if not connection.in_transaction():
            connection.begin()  # as Connection.execute would (on SQLite: BEGIN IMMEDIATE, in the begin event)
        answers = []
        cursor = connection.connection.cursor()
        try:
            for parameters in parameter_sets:
                cursor.execute(compiled.sql, compiled.bound(parameters))
                answers.append(compiled.read(cursor) if cursor.description is not None else [])
        finally:
            cursor.close()
        return answers

    def many(self, connection: Connection, rows: list[Mapping[str, object]], common: Mapping[str, object] = _NONE,
             defaults: Mapping[str, object] = _NONE) -> None:
        """The statement (one that answers no rows: an INSERT, an UPDATE) run for each of `rows` in one executemany
        of the driver: a bulk call's thousand rows without the thousand parameter sets Connection.execute builds
        first. See _Compiled.bound_many for `common` and `defaults`."""
        if not rows:
            return
        compiled = self._compiled.get(connection.dialect.name) or self.compile_for(connection.dialect)
        if not connection.in_transaction():
            connection.begin()
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(compiled.sql, compiled.bound_many(rows, common, defaults))
        finally:
            cursor.close()

    def compile_for(self, dialect: Dialect) -> _Compiled:
        compiled = _Compiled(self.statement, dialect, self.keys)
        self._compiled[dialect.name] = compiled
        return compiled


class _Compiled:
    """A statement's text in one dialect, and how its values are bound and its rows read there."""

    def __init__(self, statement: Executable, dialect: Dialect, keys: tuple[str, ...] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        if compiled.insert_prefetch:  # defaults Connection.execute would compute for columns the keys leave out
            raise ValueError(f"{statement} needs values for {', '.join(map(str, compiled.insert_prefetch))}")
        self.sql = compiled.string
        by_name = {name: parameter for parameter, name in compiled.bind_names.items()}
        # (its name in the text, the caller's name for it, its literal value where the statement holds one, how its
        # type binds it), in the order of the text where the driver takes values by position
        self._binds = tuple(
            (name, by_name[name].key, by_name[name].value, by_name[name].required,
             by_name[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in (compiled.positiontup if compiled.positional else by_name))
        self._positional = compiled.positional
        self._types = tuple(column.type.dialect_impl(dialect) for column in statement.exported_columns)
        self._dialect = dialect
        self._results: tuple | None = None  # from the first answer's description (the driver's own column types)

    def bound(self, parameters: Mapping[str, object]) -> tuple | dict:
        values = []
        for _name, key, literal, required, process in self._binds:
            value = parameters[key] if required or key in parameters else literal
            values.append(value if process is None else process(value))
        return tuple(values) if self._positional else {bind[0]: value for bind, value in zip(self._binds, values,
                                                                                              strict=True)}

    def bound_many(self, rows: list[Mapping[str, object]], common: Mapping[str, object] = _NONE,
                   defaults: Mapping[str, object] = _NONE) -> list[tuple] | list[dict]:
        """What `bound` makes of each of `rows`, a column at a time (1000 activities: 2 ms, against 5 ms a row at a
        time), each distinct value processed once (the same date in every row formatted once): a value of `common`
        is every row's; a value a row leaves out is its column's in `defaults` (a callable: called for each such
        row), else the statement's own, as `bound` takes it."""
        named = set().union(*rows)
        columns: list[list[object]] = []
        for _name, key, literal, required, process in self._binds:
            default = common[key] if key in common else defaults[key] if key in defaults else (
                _REQUIRED if required else literal)
            if (key in common or key not in named) and default is not _REQUIRED and not callable(default):
                columns.append([default if process is None else process(default)] * len(rows))  # every row's
                continue
            if default is _REQUIRED:
                values = list(map(itemgetter(key), rows))
            elif callable(default):
                values = [row[key] if key in row else default() for row in rows]
            else:
                values = [row.get(key, default) for row in rows]
            if process is not None:
                # The one value of every row (the call's time, a flag) is processed once.
                first = values[0]
                values = ([process(first)] * len(values) if all(value is first for value in values)
                          else _processed(process, values))
            columns.append(values)
        if self._positional:
            return list(zip(*columns, strict=True))
        names = [bind[0] for bind in self._binds]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    def read(self, cursor: DBAPICursor) -> list[tuple]:
        rows = cursor.fetchall()
        if self._results is None:
            self._results = tuple(kind.result_processor(self._dialect, column[1])
                                  for kind, column in zip(self._types, cursor.description, strict=True))
        if not any(self._results):
            return rows
        return [tuple(value if process is None else process(value)
                      for process, value in zip(self._results, row, strict=True)) for row in rows]


def _processed(process: Callable[[object], object], values: list) -> list:
    """`process` applied to each of `values`, once for each distinct value (values of a type that hashes). Values
    are told apart by type as well: 1, 1.0 and True are equal keys, which a processor may still write differently."""
    done: dict = {}
    try:
        return [done[key] if (key := (value.__class__, value)) in done else done.setdefault(key, process(value))
                for value in values]
    except TypeError:  # unhashable values (JSON documents): each processed on its own
        return list(map(process, values))


def take_turns(connection: Connection, name: str) -> None:
    """The calls that reach this point with the same `name` go on one at a time, each until its transaction ends: on
    PostgreSQL a transaction-scoped advisory lock; SQLite's writers take turns already (WriteQueue)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": zlib.crc32(name.encode())})


def turn_taken(connection: Connection, name: str) -> bool:
    """Whether this call is the one of those reaching this point with the same `name` that goes on now, without
    waiting (the others skip what follows): on PostgreSQL a transaction-scoped advisory lock, taken if free; on
    SQLite always (its writers take turns already)."""
    if connection.dialect.name != "postgresql":
        return True
    return bool(connection.execute(_TRY_ADVISORY_LOCK, {"key": zlib.crc32(name.encode())}).scalar())


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_TRY_ADVISORY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_SESSION_ADVISORY_LOCK = text("SELECT pg_advisory_lock(:key)")
_SESSION_ADVISORY_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_MIGRATION_LOCK_KEY = zlib.crc32(b"xweb_emulator.migration")


@cache
def _insert_new(dialect: str, table: Table):
    keys = list(table.primary_key.columns)
    return _insert_in(dialect)(table).on_conflict_do_nothing(index_elements=keys).returning(*keys)


@cache
def _insert_new_prepared(dialect: Dialect, table: Table,
                         keys: tuple[str, ...]) -> tuple[Prepared | None, tuple[Column, ...]]:
    """insert_new's statement for rows naming `keys`, run a row at a time on the driver's cursor, and the columns
    whose Python-side default it binds as well (as Connection.execute would compute them): on SQLite, where a
    statement costs no round trip, a few rows go in faster so than in one statement of many rows through SQLAlchemy
    (PREPARED_INSERT_ROWS). None on PostgreSQL, where each statement would be a round trip."""
    if dialect.name != "sqlite":
        return None, ()
    defaulted = tuple(column for column in table.columns if column.name not in keys and column.default is not None
                      and (column.default.is_callable or column.default.is_scalar))
    prepared = Prepared(_insert_new(dialect.name, table), keys + tuple(column.name for column in defaulted))
    prepared.compile_for(dialect)
    return prepared, defaulted


def python_default(column: Column) -> object:
    """The value a column's Python-side default gives a new row (None where it has none), as an ORM insert gives it."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _dialect(bind: Connection | Session) -> str:
    return (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name


def _insert_in(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def alembic_config() -> Config:
    # Alembic is imported only where the schema is upgraded or inspected: a server worker saves about 0.5 s.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(importlib.resources.files("xweb_emulator.migrations")))
    return config
