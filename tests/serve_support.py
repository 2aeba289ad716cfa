"""The real command line for the suite's system tests: `python -m xweb_emulator …` subprocesses of the suite's
interpreter, each in its own temporary directory as the working directory, and what they answer.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy
from alembic.script import ScriptDirectory
from lxml import etree

from support import NS, SOAP_ENV, XWEB, parse, response_token

SOAP_PATH = "/xWeb/secure/netForumXML.asmx"
DEMO_CUSTOMER_PHONE = "ae0c81e1-4af5-43bb-95f1-221459c07a80"
DEMO_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"
STARTUP_SECONDS = 60
STOP_SECONDS = 30
COMMAND_SECONDS = 120
ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "migrations" / "versions"


# --- helpers ------------------------------------------------------------------------------------------------------


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any XWEB_EMULATOR_* setting, plus `variables`."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("XWEB_EMULATOR_")}
    environment.update(variables)
    return environment


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xweb_emulator", *args],
        cwd=cwd, env=env or clean_environment(), capture_output=True, text=True, timeout=COMMAND_SECONDS,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    @property
    def soap_url(self) -> str:
        return self.url + SOAP_PATH

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _stop(process: subprocess.Popen, signum: int) -> int | None:
    """Send `signum`; answer the exit code, or None (after killing the whole group) if it did not exit in time."""
    if process.poll() is None:
        process.send_signal(signum)
    try:
        return process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)
        return None


@contextmanager
def serving(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`xweb-emulator serve --port 0 ARGS` in `cwd`, until it answers; stopped with SIGTERM (which it must obey)."""
    process, log = _start_serve(cwd, *args, env=env)
    stopped = False
    try:
        workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
        server = Server(_wait_until_answering(process, log, workers), process, log)
        yield server
        code = _stop(process, signal.SIGTERM)
        stopped = True
        assert code is not None, f"the server did not exit within {STOP_SECONDS}s of SIGTERM:\n{server.output()}"
    finally:
        if not stopped:
            _stop(process, signal.SIGTERM)


def _start_serve(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
    """`xweb-emulator serve --port 0 ARGS` started in `cwd` in a session of its own, and the file it logs to."""
    log = cwd / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "xweb_emulator", "serve", "--port", "0", *args],
            cwd=cwd, env=env or clean_environment(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return process, log


def _wait_until_answering(process: subprocess.Popen, log: Path, workers: int) -> str:
    """The server's address once it answers and all its workers have started (each of them can be reached)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    url = None
    while time.monotonic() < deadline:
        output = log.read_text(encoding="utf-8", errors="replace")
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode} before answering:\n{output}")
        if url is None:
            match = re.search(r"xweb-emulator listening on (http://\S+)", output)
            url = match.group(1) if match else None
        # Each worker logs "Started worker-N" once, then "Started worker-N runtime-M" for its runtimes.
        if url is not None and len(set(re.findall(r"Started worker-(\d+)$", output, re.MULTILINE))) >= workers:
            try:
                if requests.get(url + SOAP_PATH + "?WSDL", timeout=5).status_code == 200:
                    return url
            except requests.ConnectionError:
                pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer within {STARTUP_SECONDS}s (address: {url}):\n"
                f"{log.read_text(encoding='utf-8', errors='replace')}")


def soap(url: str, operation: str, body: str = "", token: str | None = None) -> requests.Response:
    header = (f"<soapenv:Header><ns:AuthorizationToken><ns:Token>{token}</ns:Token></ns:AuthorizationToken>"
              "</soapenv:Header>") if token else ""
    envelope = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ns="{XWEB}">{header}<soapenv:Body>'
                f"<ns:{operation}>{body}</ns:{operation}></soapenv:Body></soapenv:Envelope>")
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}{operation}"'}
    return requests.post(url + SOAP_PATH, data=envelope, headers=headers, timeout=30)


def authenticate(url: str, user: str = "demo", password: str = "demo") -> requests.Response:
    return soap(url, "Authenticate", f"<ns:userName>{user}</ns:userName><ns:password>{password}</ns:password>")


def token_for(url: str, user: str = "demo", password: str = "demo") -> str:
    response = authenticate(url, user, password)
    assert response.status_code == 200, response.text
    return response_token(response)


def phone_get(url: str, token: str, key: str = DEMO_CUSTOMER_PHONE) -> requests.Response:
    return soap(url, "WEBPhoneGet", f"<ns:key>{key}</ns:key>", token)


def assert_demo_phone(response: requests.Response) -> None:
    assert response.status_code == 200, response.text
    result = parse(response).find("soap:Body/x:WEBPhoneGetResponse/x:WEBPhoneGetResult", NS)
    assert result is not None, response.text
    assert DEMO_CUSTOMER_PHONE in etree.tostring(result, encoding="unicode")
    assert "800-555-0100" in etree.tostring(result, encoding="unicode")


def get_customer(url: str, token: str, key: str) -> requests.Response:
    return soap(url, "GetFacadeObject", f"<ns:szObjectName>Customer</ns:szObjectName><ns:szObjectKey>{key}"
                                        "</ns:szObjectKey>", token)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def table_rows(database_url: str, statement: str, **params) -> list[tuple]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sqlalchemy.text(statement), params)]
    finally:
        engine.dispose()


def head_revisions() -> list[tuple[str]]:
    """alembic_version's rows once every branch (each vendor's, the control plane's) is at its newest migration."""
    return sorted((head,) for head in ScriptDirectory(str(MIGRATIONS.parent)).get_heads())


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
