"""What the benchmarks share: the sample requests, servers started and stopped cleanly, wrk runs, /proc readings,
a throwaway PostgreSQL server, medians and the report's verdicts.

Load goes to 127.0.0.1 only, and every load run is bounded in time (wrk -d).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
FIXTURES = ROOT / "tests" / "fixtures"

XWEB = "http://www.avectra.com/2005/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XWEB_PATH = "/xWeb/secure/netForumXML.asmx"
SAP_PATH = "/sap/bc/srt/scs/sap/managecampaigninboundin"
CRMCOM_PATH = "/crmapi/rest/v2/"
SAP_GLOBAL = "http://sap.com/xi/SAPGlobal20/Global"
CRMCOM_ACCOUNTS = ("ACR0000000020", "ACR0000000077")  # in the demo data: the bulk benchmark's events name them
CRMCOM_UNIT = "Admin Unit"  # in the demo data: the unit they name

SAMPLE = FIXTURES / "xweb" / "insert_customer_messaging_activity.request.xml"
MASKED_TOKEN = b"***************"
INSERT_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}InsertFacadeObject"'}

STARTUP_SECONDS = 60
STOP_SECONDS = 30


# --------------------------------------------------------------------------------------------- requests sent


def sample_body(token: str) -> bytes:
    """The vendor's sample InsertFacadeObject (two CustomerMessagingActivity records), its masked token replaced."""
    body = SAMPLE.read_bytes()
    if MASKED_TOKEN not in body:
        raise SystemExit(f"{SAMPLE} no longer holds the masked token {MASKED_TOKEN.decode()}")
    return body.replace(MASKED_TOKEN, token.encode())


def authenticate_envelope(user: str = "demo", password: str = "demo") -> bytes:
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ns="{XWEB}"><soapenv:Body><ns:Authenticate>'
            f"<ns:userName>{user}</ns:userName><ns:password>{password}</ns:password></ns:Authenticate>"
            "</soapenv:Body></soapenv:Envelope>").encode()


AUTHENTICATE_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}Authenticate"'}


def token_of(answer: bytes) -> str:
    """The token an Authenticate answer carries (in its AuthorizationToken header, as on a real tenant)."""
    match = re.search(rb"<(?:\w+:)?Token>([^<]+)</", answer)
    if match is None:
        raise SystemExit(f"Authenticate answered no token:\n{answer[:2000].decode(errors='replace')}")
    return match.group(1).decode()


def authenticate(base_url: str) -> str:
    """A fresh xWeb token from a served emulator (tokens expire: take one per load run)."""
    status, answer = http_request(base_url, "POST", XWEB_PATH, authenticate_envelope(), AUTHENTICATE_HEADERS)
    if status != 200:
        raise SystemExit(f"Authenticate failed: HTTP {status}\n{answer[:2000].decode(errors='replace')}")
    return token_of(answer)


def http_request(base_url: str, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, bytes]:
    """One HTTP request on a connection of its own (the standard library's client: no session state to carry)."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ----------------------------------------------------------------------------------------- the WSGI app, direct


def call_wsgi(app: Callable, path: str, body: bytes, headers: dict[str, str]) -> tuple[str, bytes]:
    """Call a WSGI application as a server would (no server, no socket): its status line and body."""
    environ = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    status: list[str] = []

    def start_response(status_line: str, _headers: list, _exc_info: Any = None) -> Callable[[bytes], None]:
        status.append(status_line)
        return lambda _data: None

    iterable = app(environ, start_response)
    try:
        answer = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return status[0], answer


# ------------------------------------------------------------------------------------------------- servers


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any XWEB_EMULATOR_* setting (a benchmark measures the defaults), plus
    `variables`."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("XWEB_EMULATOR_")}
    environment.update(variables)
    return environment


@dataclass
class Server:
    """A server process of ours (a granian master and its workers), started in a directory of its own."""

    name: str
    process: subprocess.Popen
    log: Path
    workers: int
    url: str = ""
    calls: int = 0  # sample calls sent so far (what the memory figure counts)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        stop_process(self.process)


def start_server(name: str, command: Sequence[str], directory: Path, workers: int,
                 env: dict[str, str] | None = None, probe: str = "/") -> Server:
    """Start `command` (which prints "listening on http://…" and serves on granian) in `directory`; answer once its
    address answers HTTP and all its workers have started. granian never exits if signalled while a worker it is
    spawning has not started yet, so a server is handed out only once every worker has said so."""
    log = directory / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(list(command), cwd=directory, env=env or clean_environment(), stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(name, process, log, workers)
    try:
        wait_until_answering(server, probe)
    except BaseException:
        stop_process(process)
        raise
    return server


def wait_until_answering(server: Server, probe: str, interval: float = 0.01,
                         first_answer: Callable[[float], None] | None = None) -> None:
    """Wait until the server's log names its address, it answers `probe` (any HTTP status), and every worker has
    started. `first_answer` gets the perf_counter() time of the first answer."""
    deadline = time.monotonic() + STARTUP_SECONDS
    answered = False
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited with {server.process.returncode} before answering:\n"
                             f"{server.output()}")
        output = server.output()
        if not server.url:
            match = re.search(r"listening on (http://\S+)", output)
            server.url = match.group(1) if match else ""
        if server.url and not answered:
            host, port = server.url.removeprefix("http://").split(":")
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            try:
                connection.request("GET", probe)
                connection.getresponse().read()
                answered = True
                if first_answer is not None:
                    first_answer(time.perf_counter())
            except OSError:
                pass
            finally:
                connection.close()
        if answered and len(set(re.findall(r"Started worker-(\d+)$", output, re.MULTILINE))) >= server.workers:
            return
        time.sleep(interval)
    raise BenchError(f"{server.name} did not answer within {STARTUP_SECONDS}s (address: {server.url or 'none'}):\n"
                     f"{server.output()}")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM (granian stops its workers and exits); SIGKILL to the whole process group if it does not in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"  (process {process.pid} did not stop within {STOP_SECONDS}s of SIGTERM: killed)", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


def emulator_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "xweb_emulator", "serve", "--port", "0", *args]


def standin_command(database: Path, workers: int = 1, database_url: str | None = None, *args: str) -> list[str]:
    command = [sys.executable, str(BENCH / "standin.py"), "--port", "0", "--workers", str(workers), *args]
    return command + (["--database-url", database_url] if database_url else ["--database", str(database)])


def stack_limit_command(database: Path, workers: int = 1, database_url: str | None = None) -> list[str]:
    command = [sys.executable, str(BENCH / "stack_limit.py"), "--port", "0", "--workers", str(workers)]
    return command + (["--database-url", database_url] if database_url else ["--database", str(database)])


def reference_arguments(description: str, port: int, database: str) -> argparse.ArgumentParser:
    """The command line of a reference server (bench/stack_limit.py, bench/standin.py): where it listens, its granian
    workers and threads, its database."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help="0: any free port (printed)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8, help="request threads per worker (the emulator's default)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database", type=Path, default=Path(database), help=f"SQLite file (default: {database})")
    where.add_argument("--database-url", help="postgresql+psycopg://… instead")
    return parser


def serve_reference(module: str, environment: str, url: str, token: str, args: argparse.Namespace) -> None:
    """Serve `module`'s wsgi_app factory on granian as the emulator is served, its workers told the database `url`
    through `environment`; print its address and `token` as start_server waits for them."""
    port = args.port
    if port == 0:
        with socket.socket() as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    os.environ[environment] = url
    print(f"{module} listening on http://{args.host}:{port}   token {token}", file=sys.stderr, flush=True)

    from granian import Granian
    from granian.constants import Interfaces

    Granian(f"{module}:wsgi_app", factory=True, working_dir=BENCH, address=args.host, port=port,
            interface=Interfaces.WSGI, workers=args.workers, blocking_threads=args.threads, log_access=False).serve()


class BenchError(Exception):
    """A benchmark could not be run; the message says why."""


# -------------------------------------------------------------------------------------------------- /proc


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (granian's workers are its master's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class Scheduling:
    """Seconds the threads of some processes spent on a CPU, and runnable but waiting for one (the kernel's
    schedstat), over a stretch of time. On a shared machine the waiting is the other work's share of the cores: a
    server whose calls spend a third of the time waiting answers them a third later."""

    on_cpu: float = 0.0
    waiting: float = 0.0

    def text(self) -> str:
        return f"on a CPU {self.on_cpu:.1f} s, waiting for one {self.waiting:.1f} s"


@contextlib.contextmanager
def scheduling(pids: Sequence[int]) -> Iterator[Scheduling]:
    """The Scheduling of `pids` (all their threads) from entering the block to leaving it."""
    before = _schedstat(pids)
    seen = Scheduling()
    yield seen
    for thread, (on_cpu, waiting) in _schedstat(pids).items():
        was_on_cpu, was_waiting = before.get(thread, (0, 0))
        seen.on_cpu += (on_cpu - was_on_cpu) / 1e9
        seen.waiting += (waiting - was_waiting) / 1e9


def _schedstat(pids: Sequence[int]) -> dict[tuple[int, str], tuple[int, int]]:
    """Nanoseconds on a CPU and waiting on a run queue, by thread, since each thread started."""
    found = {}
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                on_cpu, waiting, _slices = Path(f"/proc/{pid}/task/{thread}/schedstat").read_text().split()
            except (OSError, ValueError):
                continue  # the thread has ended, or the kernel keeps no statistics
            found[(pid, thread)] = (int(on_cpu), int(waiting))
    return found


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (10^6 bytes)."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process (the most resident memory it has had), in MB."""
    return _status_mb(pid, "VmHWM")


def heap_mb(pid: int) -> float:
    """RssAnon of a process (its heap, without the pages of mapped files), in MB."""
    return _status_mb(pid, "RssAnon")


def peak_heap_mb_during(pid: int, action: Callable[[], Any]) -> tuple[Any, float]:
    """What `action` returns, and the most anonymous memory (RssAnon: the heap, not the pages of files such as a
    memory-mapped database, which VmHWM counts too) the process held while it ran, sampled every 5 ms, in MB."""
    samples = [heap_mb(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            samples.append(heap_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = action()
    finally:
        done.set()
        sampler.join()
    return result, max(samples)


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise BenchError(f"process {pid} has no {field}")


# -------------------------------------------------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


_WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    "\\nWRK-RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, \\"max_us\\": %d, " ..
    "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"status\\": %d, \\"timeout\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def wrk_script(body: bytes, headers: dict[str, str]) -> str:
    """A wrk Lua script that POSTs `body` with `headers` and reports its figures as one JSON line."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_long_string(body.decode())}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    return "\n".join(lines) + "\n" + _WRK_DONE


def wrk_mixed_script(requests: Sequence[tuple[str, str, dict[str, str], bytes]]) -> str:
    """A wrk Lua script that sends `requests` (method, path, headers, body), one after the other, on every
    connection, and reports as wrk_script's does."""
    lines = ["local requests = {}"]
    for method, path, headers, body in requests:
        fields = ", ".join(f"[{_lua_string(name)}] = {_lua_string(value)}" for name, value in headers.items())
        lines.append(f"requests[#requests + 1] = wrk.format({_lua_string(method)}, {_lua_string(path)}, "
                     f"{{{fields}}}, {_lua_long_string(body.decode())})")
    lines.append("local sent = 0\nrequest = function()\n  sent = sent + 1\n"
                 "  return requests[(sent - 1) % #requests + 1]\nend")
    return "\n".join(lines) + "\n" + _WRK_DONE


def wrk_paging_script(envelope: Callable[[str], bytes], headers: dict[str, str], key_element: str,
                      page_size: int) -> str:
    """A wrk Lua script that reads pages one after the other as a connector does (keyset: each request's where
    clause names the last key of the page before, `envelope(where)` the whole request), starting over after a short
    page; reports as wrk_script's does. Run it on one connection."""
    marker = "\x00WHERE\x00"
    head, tail = envelope(marker).decode().split(marker)
    after = envelope(f"{key_element} > '{marker}'").decode()
    after_head, after_tail = after.split(marker)
    lines = ['wrk.method = "POST"'] + [f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
                                       for name, value in headers.items()]
    lines += [
        f"local first = {_lua_long_string(head + tail)}",
        f"local after_head, after_tail = {_lua_long_string(after_head)}, {_lua_long_string(after_tail)}",
        "local last = nil",
        "request = function()",
        "  if last then return wrk.format(nil, nil, nil, after_head .. last .. after_tail) end",
        "  return wrk.format(nil, nil, nil, first)",
        "end",
        "response = function(status, headers, body)",
        "  local count, key = 0, nil",
        f"  for found in string.gmatch(body, {_lua_string(f'<{key_element}>([^<]+)</{key_element}>')}) do",
        "    count, key = count + 1, found",
        "  end",
        f"  if count < {page_size} then last = nil else last = key end",
        "end",
    ]
    return "\n".join(lines) + "\n" + _WRK_DONE


def _lua_long_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def _lua_string(value: str) -> str:
    return '"' + "".join(ch if ch.isalnum() or ch in " /:;=.,-_*+()'" else f"\\{ord(ch):03d}" for ch in value) + '"'


def wrk(url: str, script: str, seconds: float, connections: int = 8, latency: bool = False) -> WrkResult:
    """One wrk run of `script` (one thread, `connections` connections) of `seconds` at most, against `url` on
    127.0.0.1."""
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError(f"load goes to 127.0.0.1 only, not {url}")
    script_text = script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="xweb-bench-", delete=False) as script:
        script.write(script_text)
    try:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
                   "-s", script.name, url]
        if latency:
            command.insert(1, "--latency")
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    finally:
        os.unlink(script.name)
    match = re.search(r"^WRK-RESULT (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise BenchError(f"wrk failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(match.group(1))
    return WrkResult(
        requests=figures["requests"], seconds=figures["duration_us"] / 1e6, p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000, max_ms=figures["max_us"] / 1000,
        errors={name: figures[name] for name in ("connect", "read", "write", "status", "timeout") if figures[name]},
    )


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run scripts/ensure-wrk (make bench does), or apt-get install wrk")


# ------------------------------------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def throwaway_postgresql() -> Iterator[str | None]:
    """A throwaway PostgreSQL server started as the test suite starts one (tests/postgres.py), its URL; None (and
    why, printed) where there are no PostgreSQL server binaries or it cannot start."""
    spec = importlib.util.spec_from_file_location("xweb_bench_postgres", ROOT / "tests" / "postgres.py")
    postgres = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = postgres  # dataclasses look their module up there
    spec.loader.exec_module(postgres)
    if postgres.find_bindir() is None:
        print("  PostgreSQL: no server binaries (scripts/ensure-postgresql installs them)", file=sys.stderr)
        yield None
        return
    try:
        server = postgres.start_server()
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"  PostgreSQL could not be started: {getattr(error, 'stderr', '') or error}", file=sys.stderr)
        yield None
        return
    try:
        yield server.url
    finally:
        server.stop()


# ----------------------------------------------------------------------------------------------------- report


@dataclass
class Figure:
    """One line of the report: the emulator's value beside its reference's, the target and the verdict."""

    name: str
    unit: str
    emulator: float | None
    reference: float | None = None
    target: float | None = None
    higher_is_better: bool = True
    target_is_ratio: bool = False  # the target bounds emulator / reference, not the emulator's value
    note: str = ""
    versus: str = "stand-in"
    """What the reference column holds, where a ratio target names it."""

    @property
    def ratio(self) -> float | None:
        if self.emulator is None or not self.reference:
            return None
        return self.emulator / self.reference

    @property
    def verdict(self) -> str:
        value = self.ratio if self.target_is_ratio else self.emulator
        if self.target is None:
            return ""
        if value is None:
            return "n/a"
        met = value >= self.target if self.higher_is_better else value <= self.target
        return "PASS" if met else "MISS"

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<="
        if self.target_is_ratio:
            return f"{sign} {self.target:g}x {self.versus}"
        return f"{sign} {self.target:,g} {self.unit}"


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def load_average() -> str:
    """The machine's 1-minute load average (the other work the figures shared the cores with)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread_text(values: Sequence[float]) -> str:
    return f"{number(min(values))}..{number(max(values))}" if len(values) > 1 else ""
