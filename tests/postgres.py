"""A throwaway PostgreSQL server for the test suite, from the machine's PostgreSQL binaries.

PostgreSQL refuses to run as root; as root, the server runs as the `postgres` system user that Debian's package
creates, in a directory made for it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy

DATABASE = "xweb_emulator_test"


def find_bindir() -> Path | None:
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class PostgresServer:
    bindir: Path
    directory: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        subprocess.run(prefix + list(command), check=True, capture_output=True, text=True)

    def start(self) -> None:
        data = self.directory / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off " \
                  "-c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                  str(self.directory / "server.log"), "-w", "start")
        engine = sqlalchemy.create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
        engine.dispose()

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_server() -> PostgresServer:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (pg_ctl) on PATH or in /usr/lib/postgresql/*/bin")
    directory = Path(tempfile.mkdtemp(prefix="xweb-emulator-pg-"))
    run_as = None
    if os.geteuid() == 0:
        run_as = "postgres"
        shutil.chown(directory, user=run_as)
    server = PostgresServer(bindir, directory, _free_port(), run_as)
    for attempt in range(3):
        try:
            server.start()
            return server
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            shutil.rmtree(directory / "data", ignore_errors=True)
            server.port = _free_port()
            time.sleep(0.2)
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
