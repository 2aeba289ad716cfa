"""The speed the emulator must reach (issues 9 and 24), measured beside its stack's limit in the same run.

    make bench                                  # every figure, 10 s latency runs
    make bench ARGS=--full                      # the same with 60 s latency runs
    make bench ARGS="throughput inprocess"      # only some benchmarks
    make bench ARGS="--duration 20 --rounds 5"  # longer, more rounds
    make bench ARGS="latency --database-url postgresql+psycopg://user@127.0.0.1/db"

The reference is bench/stack_limit.py, the least any emulator on this stack can do for the same call: spyne reads the
sample InsertFacadeObject and writes the answer, the token checked with one SELECT and the records inserted and
committed through the database driver directly (sqlite3 in WAL with synchronous=NORMAL, or psycopg), on granian like
the emulator. It writes into the emulator's own tables (created from its table definitions: the same columns, keys
and indexes) the rows the emulator writes, by the driver's executemany: an INSERT per record
(co_customer_messaging_activity), an UPDATE per outbound of the campaign outbounds it seeds as the emulator's are
seeded (sap_campaign_outbound, each found by its key), an INSERT per web customer event (crmcom_web_customer_event,
numbered by crmcom_number_sequence); its module's docstring says what each row holds. Each figure is a median; ratio =
emulator / reference. The emulator runs as `xweb-emulator serve` with its defaults (SQLite, one worker, eight
threads, control plane and journal on), each server in a temporary directory of its own. Load (wrk -t1, 8
connections) goes to 127.0.0.1 only and is bounded in time. The paging benchmark keeps its own stand-in
(bench/standin.py: lxml and SQLAlchemy Core, a keyset SELECT).

Benchmarks (positional arguments; default all):
  throughput  the vendor's sample InsertFacadeObject (two records) by wrk for --duration s, --rounds rounds,
              emulator and stack limit interleaved (A B A B ...): requests/s.  target: >= 0.5x the stack limit
  inprocess   the same request through the WSGI app called directly (no server), --calls calls each, the
              apps interleaved in blocks: us per call.                target: <= 2x the stack limit's
              A third app beside them: spyne alone reading the request and answering it, no database.
  latency     wrk --latency, 8 connections, --latency-duration s (--full: 60 s): p50/p99/max on SQLite with 1 and
              with 2 workers, PostgreSQL with 2 workers (a throwaway server as the test suite starts one, or
              --database-url).                                                target: p99 <= 50 ms, max <= 250 ms
              Beside p99, each server's seconds on a CPU and runnable but waiting for one (/proc schedstat, its
              threads summed): on a shared machine the waiting is the others' share of the cores.
              On PostgreSQL, its rate against the stack limit's (2 workers each).  target: >= 0.5x
  bulk        over HTTP, --bulk-rounds rounds: one InsertFacadeObject of 1000 records (records/s), SAP
              MaintainFailedDeliveryStatusBundle of 1000 outbounds (seeded first in both, /_emulator/seed;
              items/s), CRM.COM bulk create of 1000 web customer events (items/s), each against the stack limit
              doing the same writes by executemany (an INSERT per record or event, an UPDATE per outbound of
              the outbounds seeded in it alike) into the emulator's tables.  target: >= 0.8x the stack limit
  memory      VmRSS of the one worker after --rss-calls sample calls (the throughput rounds count).  <= 120 MB
  startup     `xweb-emulator serve` on a fresh SQLite file, from process start to its first answer (GET
              /_emulator/health), --starts times, against a new interpreter that only imports spyne, SQLAlchemy
              and alembic.                                         target: <= the stack's imports + 0.5 s
  paging      --individuals Individuals (100,000) seeded through /_emulator/seed, then read as connectors page
              them, GetQuery `Individual @TOP 100` + `ind_cst_key > '<last>'` ordered by the key, by wrk on one
              connection for --duration s: ms per page (issue 10)             target: p99 <= 20 ms
              and how much the worker's heap grows while it answers one `@TOP -1` of every Individual, over
              SOAP and over the JSON twin (RssAnon sampled every 5 ms: VmHWM would count the database's pages
              read through the memory map too)
              The same number of records of an object a tenant profile declares (kept in xweb_tenant_record),
              paged alike beside the Individuals on the same server: its p50 against theirs.  target: <= 1.5x
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import common
from common import (
    AUTHENTICATE_HEADERS,
    CRMCOM_ACCOUNTS,
    CRMCOM_PATH,
    CRMCOM_UNIT,
    INSERT_HEADERS,
    SAP_GLOBAL,
    SAP_PATH,
    SOAP_ENV,
    XWEB,
    XWEB_PATH,
    BenchError,
    Figure,
    Server,
    median,
    number,
    spread_text,
)

BENCHMARKS = ("throughput", "inprocess", "latency", "bulk", "memory", "startup", "mixed", "paging")
SECTIONS = {"throughput": 1, "inprocess": 2, "latency": 3, "bulk": 4, "memory": 5, "startup": 5, "mixed": 6,
            "paging": 7}
ORDER = ("inprocess", "throughput", "memory", "bulk", "latency", "mixed", "paging", "startup")  # servers are shared in this order

# Issue 24's targets: ratios to the stack limit of the same run (bench/stack_limit.py), but for latency and memory.
THROUGHPUT_RATIO = 0.5
INPROCESS_RATIO = 2.0
LATENCY_P99_MS, LATENCY_MAX_MS = 50, 250
BULK_RATIO = 0.8
RSS_MB = 120
STARTUP_OVER_IMPORTS_S = 0.5
LIMIT = "stack limit"
PAGE_MS = 20
PROFILE_PAGE_RATIO = 1.5  # a profile object's keyset page against the built-in Individual's (issue 20)

# What any emulator on the stack the project is built on (spyne for SOAP, lxml, SQLAlchemy with alembic migrations)
# imports before it can migrate a fresh database and answer: the floor of its start-up.
STACK_IMPORTS = ("import xweb_emulator  # spyne importable on Python 3.12+ (xweb_emulator/_spyne_compat.py)\n"
                 "import alembic.command, alembic.config, lxml.etree, spyne.protocol.soap, spyne.server.wsgi, "
                 "sqlalchemy")

SAP_CAMPAIGN = "9000"
SAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8",
               "SOAPAction": '"http://sap.com/xi/A1S/Global/ManageCampaignInboundIn/'
                             'MaintainFailedDeliveryStatusBundleRequest"',
               "Authorization": "Basic ZGVtbzpkZW1v"}  # demo:demo, the default communication user
JSON_HEADERS = {"Content-Type": "application/json"}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------- servers


@dataclass
class Side:
    """A served application under load: the emulator, the stack limit or the paging stand-in."""

    label: str
    server: Server
    fixed_token: str | None = None  # the references'; the emulator's are fresh from Authenticate (they expire)

    def token(self) -> str:
        return self.fixed_token or common.authenticate(self.server.url)

    def load(self, seconds: float, connections: int, latency: bool = False) -> common.WrkResult:
        """The sample InsertFacadeObject by wrk for `seconds`; every answer must be a success."""
        result = common.wrk(self.server.url + XWEB_PATH, common.wrk_script(common.sample_body(self.token()),
                                                                           INSERT_HEADERS), seconds, connections, latency)
        self.server.calls += result.requests
        if result.failed:
            raise BenchError(f"{self.label}: {result.failed} of {result.requests} sample calls failed "
                             f"({result.errors}); the figures would be meaningless.\n"
                             f"Server log (end):\n{self.server.output()[-3000:]}")
        return result

    def worker_pid(self) -> int:
        pids = self.server.worker_pids()
        if len(pids) != 1:
            raise BenchError(f"{self.label}: expected one granian worker, found processes {pids}")
        return pids[0]


def start_emulator(directory: Path, name: str, workers: int = 1, database_url: str | None = None,
                   arguments: tuple[str, ...] = ()) -> Side:
    """`xweb-emulator serve` with its defaults (a fresh SQLite file in a directory of its own) but for `workers`
    and `arguments`."""
    place = directory / name
    place.mkdir()
    arguments = ["--workers", str(workers), *arguments] + (["--database-url", database_url] if database_url else [])
    server = common.start_server(name, common.emulator_command(*arguments), place, workers,
                                 probe="/_emulator/health")
    return Side("emulator", server)


def start_limit(directory: Path, name: str, workers: int = 1, database_url: str | None = None) -> Side:
    """bench/stack_limit.py served on granian (`workers`, eight threads each), on a fresh SQLite file or
    `database_url`."""
    place = directory / name
    place.mkdir()
    server = common.start_server(name, common.stack_limit_command(place / "limit.db", workers, database_url), place,
                                 workers)
    return Side(LIMIT, server, re.search(r"token (\S+)", server.output()).group(1))


class Shared:
    """The emulator (SQLite, one worker) and the stack limit that throughput, memory and bulk share, started when
    first needed and stopped by close()."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._emulator: Side | None = None
        self._limit: Side | None = None

    def emulator(self) -> Side:
        if self._emulator is None:
            say("starting xweb-emulator serve (SQLite, 1 worker) ...")
            self._emulator = start_emulator(self.directory, "emulator")
        return self._emulator

    def limit(self) -> Side:
        if self._limit is None:
            say("starting the stack limit (SQLite, 1 worker) ...")
            self._limit = start_limit(self.directory, "limit")
        return self._limit

    def close(self) -> None:
        for side in (self._emulator, self._limit):
            if side is not None:
                side.server.stop()
        self._emulator = self._limit = None


@contextlib.contextmanager
def serving(*starts: Callable[[], Side]) -> Iterator[list[Side]]:
    """Servers for the length of a block, each stopped after it however it ends."""
    with contextlib.ExitStack() as stack:
        sides = []
        for start in starts:
            side = start()
            stack.callback(side.server.stop)
            sides.append(side)
        yield sides


# -------------------------------------------------------------------------------------------------- benchmarks


def throughput(args: argparse.Namespace, shared: Shared) -> list[Figure]:
    sides = [shared.emulator(), shared.limit()]
    for side in sides:
        side.load(args.warmup, args.connections)
    rates: dict[str, list[float]] = {side.label: [] for side in sides}
    for number_ in range(1, args.rounds + 1):
        for side in sides:
            rates[side.label].append(side.load(args.duration, args.connections).rate)
        say(f"  throughput round {number_}/{args.rounds}: "
            + ", ".join(f"{label} {rate[-1]:.1f} req/s" for label, rate in rates.items()))
    emulator, limit = rates["emulator"], rates[LIMIT]
    return [Figure("sample InsertFacadeObject, SQLite, 1 worker", "req/s", median(emulator), median(limit),
                   target=THROUGHPUT_RATIO, target_is_ratio=True, versus=LIMIT,
                   note=f"{args.rounds} x {args.duration:g} s; rounds {spread_text(emulator)} / {spread_text(limit)}")]


def inprocess(args: argparse.Namespace, directory: Path) -> list[Figure]:
    import stack_limit
    from xweb_emulator.app import create_app, prepare_database
    from xweb_emulator.settings import Settings

    settings = Settings(database_url=f"sqlite:///{directory / 'inprocess-emulator.db'}")
    state = prepare_database(settings)
    emulator = create_app(settings, state)
    reference_url = f"sqlite:///{directory / 'inprocess-limit.db'}"
    reference_token = stack_limit.prepare(reference_url)
    reference = stack_limit.StackLimit(reference_url)
    try:
        status, answer = common.call_wsgi(emulator, XWEB_PATH, common.authenticate_envelope(), AUTHENTICATE_HEADERS)
        if not status.startswith("200"):
            raise BenchError(f"in-process Authenticate answered {status}: {answer[:2000]!r}")
        apps = {"emulator": (emulator, common.sample_body(common.token_of(answer))),
                LIMIT: (reference, common.sample_body(reference_token)),
                "spyne alone": (stack_limit.soap_application(None), common.sample_body(common.token_of(answer)))}
        times: dict[str, list[float]] = {label: [] for label in apps}

        def timed(label: str, calls: int, keep: bool = True) -> None:
            app, body = apps[label]
            for _ in range(calls):
                started = time.perf_counter_ns()
                status, answer = common.call_wsgi(app, XWEB_PATH, body, INSERT_HEADERS)
                elapsed = time.perf_counter_ns() - started
                if not status.startswith("200"):
                    raise BenchError(f"in-process {label}: InsertFacadeObject answered {status}: {answer[:2000]!r}")
                if keep:
                    times[label].append(elapsed / 1000)

        for label in apps:
            timed(label, min(200, max(10, args.calls // 10)), keep=False)  # warm-up: caches, first writes
        done = 0
        while done < args.calls:  # in blocks, so that both apps see the same spells of noise
            block = min(100, args.calls - done)
            for label in apps:
                timed(label, block)
            done += block
    finally:
        state.database.dispose()
    emulator_us, limit_us, spyne_us = times["emulator"], times[LIMIT], times["spyne alone"]
    say(f"  in-process: emulator {median(emulator_us):.0f} us, stack limit {median(limit_us):.0f} us, "
        f"spyne alone {median(spyne_us):.0f} us per call")
    return [Figure("sample InsertFacadeObject, WSGI app called directly", "us/call", median(emulator_us),
                   median(limit_us), target=INPROCESS_RATIO, target_is_ratio=True, higher_is_better=False,
                   versus=LIMIT, note=f"{args.calls} calls each; p90 {number(percentile(emulator_us, 90))} / "
                                      f"{number(percentile(limit_us, 90))}"),
            Figure("spyne alone, same request, no database", "us/call", None, median(spyne_us),
                   note="bench/stack_limit.py soap_application(None): spyne reads and answers it, nothing else")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def memory(args: argparse.Namespace, shared: Shared) -> list[Figure]:
    readings = {}
    for side in (shared.emulator(), shared.limit()):
        rate = None
        while side.server.calls < args.rss_calls:
            remaining = args.rss_calls - side.server.calls
            seconds = min(60.0, max(1.0, remaining / rate)) if rate else min(5.0, args.duration)
            rate = side.load(seconds, args.connections).rate
        readings[side.label] = (common.rss_mb(side.worker_pid()), side.server.calls)
        say(f"  memory: {side.label} worker {readings[side.label][0]:.0f} MB after {side.server.calls} calls")
    (emulator_mb, emulator_calls), (limit_mb, limit_calls) = readings["emulator"], readings[LIMIT]
    return [Figure(f"worker VmRSS after {args.rss_calls:,}+ sample calls", "MB", emulator_mb, limit_mb,
                   target=RSS_MB, higher_is_better=False, versus=LIMIT,
                   note=f"after {emulator_calls:,} / {limit_calls:,} calls")]


def bulk(args: argparse.Namespace, shared: Shared) -> list[Figure]:
    """Each vendor's bulk call to the emulator and to the stack limit in turn (the first round warms up): items/s."""
    emulator, limit = shared.emulator(), shared.limit()
    items = args.bulk_items

    # SAP: a campaign with `items` outbounds, each to an account and contact person of its own, seeded first in
    # both (the stack limit takes the same document at the same path).
    for side in (emulator, limit):
        started = time.perf_counter()
        status, answer = common.http_request(side.server.url, "POST", "/_emulator/seed",
                                             json.dumps(sap_seed(items)).encode(), JSON_HEADERS)
        if status != 200:
            raise BenchError(f"seeding the {side.label}'s SAP campaign failed: HTTP {status}\n"
                             f"{answer[:2000].decode(errors='replace')}")
        say(f"  bulk SAP: seeded the {side.label}'s {items} accounts, contact persons and outbounds in "
            f"{time.perf_counter() - started:.1f} s")

    def crmcom_body(side: Side) -> bytes:
        token = side.fixed_token or crmcom_login(side.server.url)
        return json.dumps({"token": token, "web_customer_events_set": crmcom_events(items)}).encode()

    calls = (
        (f"InsertFacadeObject of {items} records", "records/s", XWEB_PATH, INSERT_HEADERS,
         lambda side, _round: xweb_bulk(side.token(), items),
         lambda answer: f'recordReturn="{items}"'.encode() in answer),
        (f"SAP MaintainFailedDeliveryStatusBundle, {items} outbounds", "items/s", SAP_PATH, SAP_HEADERS,
         lambda _side, round_: sap_bounces(items, round_), sap_accepted),
        (f"CRM.COM bulk create, {items} web customer events", "items/s",
         CRMCOM_PATH + "customer_events/bulk/web/create", JSON_HEADERS, lambda side, _round: crmcom_body(side),
         lambda answer: len(json.loads(answer)["data"]["processed_customer_events_set"]) == items),
    )
    figures = []
    for title, unit, path, headers, body_for, check in calls:
        rates: dict[str, list[float]] = {emulator.label: [], limit.label: []}
        for round_ in range(args.bulk_rounds + 1):
            for side in (emulator, limit):
                seconds = timed_post(side.server.url, path, body_for(side, round_), headers, check)
                if round_:
                    rates[side.label].append(items / seconds)
        ours, theirs = rates[emulator.label], rates[limit.label]
        say(f"  bulk, {title}: emulator {median(ours):,.0f}, stack limit {median(theirs):,.0f} {unit}")
        figures.append(Figure(title, unit, median(ours), median(theirs), target=BULK_RATIO, target_is_ratio=True,
                              versus=LIMIT, note=f"rounds {spread_text(ours)} / {spread_text(theirs)}"))
    return figures


def memory_after_bulk(shared: Shared) -> Figure:
    emulator, limit = shared.emulator(), shared.limit()
    return Figure("worker VmRSS after the bulk calls as well", "MB", common.rss_mb(emulator.worker_pid()),
                  common.rss_mb(limit.worker_pid()), versus=LIMIT)


def timed_post(base_url: str, path: str, body: bytes, headers: dict[str, str], check: Callable[[bytes], bool]) -> float:
    """Seconds one POST took, from sending to the whole answer read; the answer must be a success."""
    started = time.perf_counter()
    status, answer = common.http_request(base_url, "POST", path, body, headers)
    seconds = time.perf_counter() - started
    try:
        accepted = status == 200 and check(answer)
    except (ValueError, KeyError, TypeError):
        accepted = False
    if not accepted:
        raise BenchError(f"POST {path} was not accepted whole: HTTP {status}\n{answer[:3000].decode(errors='replace')}")
    return seconds


def xweb_bulk(token: str, records: int) -> bytes:
    record = ("<ns:CustomerMessagingActivityObject><ns:cma_cst_key>2a50c454-eac0-4768-9a85-0c97968be7fd"
              "</ns:cma_cst_key><ns:cma_activity_id>{n}</ns:cma_activity_id><ns:cma_message_id>998787"
              "</ns:cma_message_id><ns:cma_activity_code>Opened</ns:cma_activity_code>"
              "<ns:cma_eml_address>someone@somewhere.com</ns:cma_eml_address>"
              "<ns:cma_activity_date>03/12/2012 14:44:55.892</ns:cma_activity_date>"
              "</ns:CustomerMessagingActivityObject>")
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:ns="{XWEB}"><soapenv:Header><ns:AuthorizationToken>'
            f"<ns:Token>{token}</ns:Token></ns:AuthorizationToken></soapenv:Header><soapenv:Body>"
            "<ns:InsertFacadeObject><ns:szObjectName>CustomerMessagingActivity</ns:szObjectName><ns:oNode>"
            "<ns:CustomerMessagingActivityObjects>" + "".join(record.format(n=n) for n in range(records))
            + "</ns:CustomerMessagingActivityObjects></ns:oNode></ns:InsertFacadeObject></soapenv:Body>"
            "</soapenv:Envelope>").encode()


def sap_seed(items: int) -> dict:
    """Accounts B00000…, contact persons BC00000… and campaign 9000 (external execution) with an outbound to each."""
    return {"sap": {
        "Customer": [{"InternalID": f"B{n:05d}", "Name": f"Bench account {n}"} for n in range(items)],
        "ContactPerson": [{"InternalID": f"BC{n:05d}", "CustomerInternalID": f"B{n:05d}"} for n in range(items)],
        "Campaign": [{"ID": SAP_CAMPAIGN, "Name": "Bench bounces", "ExecutionTypeCode": "7",
                      "Outbound": [{"CustomerInternalID": f"B{n:05d}", "ContactPersonInternalID": f"BC{n:05d}"}
                                   for n in range(items)]}],
    }}


def sap_bounces(items: int, round_: int) -> bytes:
    """A bounce for every outbound of the bench campaign; the code differs from one round to the next, so that
    every round changes every outbound."""
    code = f"5.1.{2 + round_ % 2}"
    outbounds = "".join(
        f"<Outbound><ObjectNodeSenderTechnicalID>{n + 1}</ObjectNodeSenderTechnicalID>"
        f"<CustomerInternalID>B{n:05d}</CustomerInternalID><ContactPersonInternalID>BC{n:05d}</ContactPersonInternalID>"
        f"<MailSystemErrorCode>{code}</MailSystemErrorCode>"
        "<CommunicationDataUsageDeniedIndicator>true</CommunicationDataUsageDeniedIndicator></Outbound>"
        for n in range(items))
    root = "CampaignFailedDeliveryStatusBundleMaintainRequest_sync"
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Header/><soapenv:Body>'
            f'<n0:{root} xmlns:n0="{SAP_GLOBAL}"><BasicMessageHeader><ID>00163E01277C1EE186B9834511A002AB</ID>'
            f"</BasicMessageHeader><Campaign><ObjectNodeSenderTechnicalID>1</ObjectNodeSenderTechnicalID>"
            f"<ID>{SAP_CAMPAIGN}</ID>{outbounds}</Campaign></n0:{root}></soapenv:Body></soapenv:Envelope>").encode()


def sap_accepted(answer: bytes) -> bool:
    """The confirmation confirms the campaign and logs no error (MaximumLogItemSeverityCode 3)."""
    return (f"<ID>{SAP_CAMPAIGN}</ID>".encode() in answer
            and re.search(rb"<MaximumLogItemSeverityCode>3<", answer) is None)


def crmcom_login(base_url: str) -> str:
    credentials = {"username": "demo", "password": "demo", "organisation": "demo"}
    status, answer = common.http_request(base_url, "POST", CRMCOM_PATH + "authentication/token",
                                         json.dumps(credentials).encode(), JSON_HEADERS)
    try:
        return json.loads(answer)["data"]["token"]
    except (ValueError, KeyError, TypeError):
        raise BenchError(f"CRM.COM login failed: HTTP {status}\n{answer[:2000].decode(errors='replace')}") from None


def crmcom_events(items: int) -> list[dict]:
    return [{"request_unique_identifier": str(n), "accounts_receivable_identifier": {"number": CRMCOM_ACCOUNTS[n % 2]},
             "performed_by_unit_identifier": {"name": CRMCOM_UNIT}, "performed_on": "2016-06-22T15:00:00",
             "website": "www.crm.com"} for n in range(items)]


def latency(args: argparse.Namespace, directory: Path) -> list[Figure]:
    figures = []
    configurations = [("SQLite, 1 worker", "sqlite", 1), ("SQLite, 2 workers", "sqlite", 2),
                      ("PostgreSQL, 2 workers", "postgresql", 2)]
    for title, kind, workers in configurations:
        with contextlib.ExitStack() as stack:
            database_url = None
            if kind == "postgresql":
                database_url = args.database_url or stack.enter_context(common.throwaway_postgresql())
                if database_url is None:
                    say(f"  latency, {title}: skipped: no PostgreSQL")
                    figures.append(Figure(f"latency, {title}", "ms", None, note="skipped: no PostgreSQL"))
                    continue
            name = f"{kind}-{workers}w"
            say(f"  latency, {title}: {args.latency_duration:g} s each ...")
            results, scheduled = {}, {}
            try:
                sides = stack.enter_context(serving(
                    lambda: start_emulator(directory, f"latency-emulator-{name}", workers, database_url),
                    lambda: start_limit(directory, f"latency-limit-{name}", workers, database_url)))
                for side in sides:
                    side.load(args.warmup, args.connections)
                    with common.scheduling([side.server.process.pid, *side.server.worker_pids()]) as seen:
                        results[side.label] = side.load(args.latency_duration, args.connections, latency=True)
                    scheduled[side.label] = seen
            except BenchError as error:  # the other configurations' figures still stand
                say(f"  latency, {title} FAILED: {error}")
                figures.append(Figure(f"latency p99, {title}", "ms", None, target=LATENCY_P99_MS,
                                      higher_is_better=False, note=f"FAILED: {str(error).splitlines()[0]}"))
                continue
        emulator, limit = results["emulator"], results[LIMIT]
        say(f"  latency, {title}: emulator p50/p99/max {emulator.p50_ms:.1f}/{emulator.p99_ms:.1f}/"
            f"{emulator.max_ms:.1f} ms ({scheduled['emulator'].text()}), stack limit {limit.p50_ms:.1f}/"
            f"{limit.p99_ms:.1f}/{limit.max_ms:.1f} ms ({scheduled[LIMIT].text()})")
        note = f"{args.latency_duration:g} s; {emulator.rate:.0f} / {limit.rate:.0f} req/s"
        figures += [
            Figure(f"latency p50, {title}", "ms", emulator.p50_ms, limit.p50_ms, versus=LIMIT, note=note),
            Figure(f"latency p99, {title}", "ms", emulator.p99_ms, limit.p99_ms, target=LATENCY_P99_MS,
                   higher_is_better=False, versus=LIMIT, note=f"emulator {scheduled['emulator'].text()}; "
                                                              f"stack limit {scheduled[LIMIT].text()}"),
            Figure(f"latency max, {title}", "ms", emulator.max_ms, limit.max_ms, target=LATENCY_MAX_MS,
                   higher_is_better=False, versus=LIMIT),
        ]
        if kind == "postgresql":  # issue 24: the throughput target on PostgreSQL, against the limit on it
            figures.append(Figure(f"sample InsertFacadeObject, {title}", "req/s", emulator.rate, limit.rate,
                                  target=THROUGHPUT_RATIO, target_is_ratio=True, versus=LIMIT,
                                  note=f"the latency runs' rates ({args.latency_duration:g} s each)"))
    return figures


def mixed(args: argparse.Namespace, directory: Path) -> list[Figure]:
    """Every vendor's calls and the dashboard's polling, in turn on 8 connections, on PostgreSQL with 2 workers (as
    QA loads a shared endpoint): every answer must be a success (issue 13: no 5xx)."""
    with contextlib.ExitStack() as stack:
        database_url = args.database_url or stack.enter_context(common.throwaway_postgresql())
        if database_url is None:
            say("  mixed: skipped: no PostgreSQL")
            return [Figure("mixed calls, PostgreSQL, 2 workers", "failed", None, note="skipped: no PostgreSQL")]
        side = stack.enter_context(serving(lambda: start_emulator(directory, "mixed-emulator", 2, database_url)))[0]
        base = side.server.url
        crmcom_token = crmcom_login(base)
        basic = {"Authorization": "Basic ZGVtbzpkZW1v"}  # demo:demo, every vendor's default user
        preferences = (common.ROOT / "tests" / "fixtures" / "xweb" /
                       "set_customer_communication_preferences.request.json").read_bytes()
        sap_sample = (common.ROOT / "tests" / "fixtures" / "sap" / "failed_delivery_status.request.xml").read_bytes()
        requests = [
            ("POST", XWEB_PATH, INSERT_HEADERS, common.sample_body(side.token())),
            ("POST", "/xWeb/JSON/SetCustomerCommunicationPreferences", {**JSON_HEADERS, **basic}, preferences),
            ("POST", "/xWeb/JSON/GetVersion", {**JSON_HEADERS, **basic}, b"{}"),
            ("POST", SAP_PATH, SAP_HEADERS, sap_envelope(sap_sample)),
            ("POST", CRMCOM_PATH + "customer_events/bulk/web/create", JSON_HEADERS,
             json.dumps({"token": crmcom_token, "web_customer_events_set": crmcom_events(2)}).encode()),
            ("GET", "/_emulator/requests?limit=20", {}, b""),
        ]
        say(f"  mixed: {args.latency_duration:g} s ...")
        result = common.wrk(base + "/", common.wrk_mixed_script(requests), args.latency_duration, args.connections,
                            latency=True)
    failed = result.failed
    say(f"  mixed: {result.requests} calls, {failed} not answered with a success, p99 {result.p99_ms:.1f} ms")
    return [Figure("mixed calls, PostgreSQL, 2 workers: answers not 2xx", "calls", failed, target=0,
                   higher_is_better=False,
                   note=f"{args.latency_duration:g} s; {result.requests} calls, {result.rate:.0f}/s, "
                        f"p99 {result.p99_ms:.0f} ms, max {result.max_ms:.0f} ms")]


def paging(args: argparse.Namespace, directory: Path) -> list[Figure]:
    count = args.individuals
    profile = directory / "paging-profile.yaml"
    profile.write_text(PAGING_PROFILE, encoding="utf-8")
    with serving(lambda: start_emulator(directory, "paging-emulator", arguments=("--profile", str(profile))),
                 lambda: start_paging_standin(directory, count)) as (emulator, standin):
        say(f"  paging: seeding {count:,} Individuals and as many registrants (a profile's object) ...")
        seeded = {}
        for object_name, seed_of in (("Individual", individuals_seed), ("EventsRegistrant", registrants_seed)):
            began, chunk = time.perf_counter(), 5_000
            for start in range(0, count, chunk):
                seed = seed_of(start, min(count, start + chunk))
                status, answer = common.http_request(emulator.server.url, "POST", "/_emulator/seed",
                                                     json.dumps(seed).encode(), JSON_HEADERS)
                if status != 200:
                    raise BenchError(f"seeding {object_name} answered {status}: {answer[:500]!r}")
            seeded[object_name] = time.perf_counter() - began
        results = {}
        pages = (("emulator", emulator, "Individual", "ind_cst_key", QUERY_COLUMNS),
                 ("stand-in", standin, "Individual", "ind_cst_key", QUERY_COLUMNS),
                 ("profile", emulator, "EventsRegistrant", "reg_key", REGISTRANT_COLUMNS))
        for label, side, object_name, key, columns in pages:
            token = side.token()
            script = common.wrk_paging_script(
                lambda where: query_envelope(token, f"{object_name} @TOP 100", where, columns, key), QUERY_HEADERS,
                key, 100)
            common.wrk(side.server.url + XWEB_PATH, script, args.warmup, connections=1)
            results[label] = result = common.wrk(side.server.url + XWEB_PATH, script, args.duration,
                                                 connections=1, latency=True)
            if result.failed:
                raise BenchError(f"paging, {label}: {result.failed} of {result.requests} pages failed")
        pid = emulator.worker_pid()
        token = emulator.token()
        every_row = {}  # wire: (answer, seconds, the worker's heap before and at its peak, MB)
        for wire, path, body, headers in (
                ("SOAP", XWEB_PATH, query_envelope(token, "Individual @TOP -1", ""), QUERY_HEADERS),
                ("JSON", "/xWeb/JSON/GetQuery", json.dumps({"GetQuery": {
                    "szObjectName": "Individual @TOP -1", "szColumnList": QUERY_COLUMNS, "szWhereClause": "",
                    "szOrderBy": "ind_cst_key"}}).encode(), {**JSON_HEADERS, "Authorization": f"Bearer {token}"})):
            before = common.heap_mb(pid)
            began = time.perf_counter()
            (status, answer), peak = common.peak_heap_mb_during(
                pid, lambda: common.http_request(emulator.server.url, "POST", path, body, headers))
            every_row[wire] = (answer, time.perf_counter() - began, before, peak)
            count_written = f'recordReturn="{count + 2}"' if wire == "SOAP" else f'"@recordReturn": "{count + 2}"'
            if status != 200 or count_written.encode() not in answer[:1000]:  # and the two demo individuals
                raise BenchError(f"{wire} @TOP -1 answered {status}: {answer[:300]!r}")
    ours, theirs, profiled = results["emulator"], results["stand-in"], results["profile"]
    say(f"  paging: emulator p50/p99/max {ours.p50_ms:.1f}/{ours.p99_ms:.1f}/{ours.max_ms:.1f} ms, stand-in "
        f"{theirs.p50_ms:.1f}/{theirs.p99_ms:.1f}/{theirs.max_ms:.1f} ms; @TOP -1: " + "; ".join(
            f"{wire} {len(answer) / 1e6:.1f} MB in {seconds:.1f} s, heap {before:.0f} MB before, {peak:.0f} at its peak"
            for wire, (answer, seconds, before, peak) in every_row.items()))
    note = (f"reference: bench/standin.py; {count:,} Individuals (seeded at {count / seeded['Individual']:,.0f}/s); "
            f"{ours.rate:.0f} / {theirs.rate:.0f} pages/s")
    return [
        Figure("a profile object's GetQuery page of 100 (keyset), p50, against Individual's", "ms", profiled.p50_ms,
               ours.p50_ms, target=PROFILE_PAGE_RATIO, target_is_ratio=True, higher_is_better=False,
               versus="Individual",
               note=f"{count:,} records (seeded at {count / seeded['EventsRegistrant']:,.0f}/s); p99 "
                    f"{profiled.p99_ms:.1f} ms against {ours.p99_ms:.1f}; {profiled.rate:.0f} pages/s"),
        Figure("GetQuery page of 100 (keyset), p50", "ms", ours.p50_ms, theirs.p50_ms, note=note),
        Figure("GetQuery page of 100 (keyset), p99", "ms", ours.p99_ms, theirs.p99_ms, target=PAGE_MS,
               higher_is_better=False),
        *(Figure(f"GetQuery @TOP -1 ({wire}), worker's heap growth", "MB", peak - before, None,
                 note=f"{before:.0f} MB before; an answer of {len(answer) / 1e6:.1f} MB in {seconds:.1f} s")
          for wire, (answer, seconds, before, peak) in every_row.items()),
    ]


def individuals_seed(start: int, stop: int) -> dict:
    """A control-plane seed of the Individuals numbered start to stop - 1."""
    return {"xweb": {"Individual": [
        {"ind_first_name": f"First{number}", "ind_last_name": f"Member{number}",
         "eml_address": f"member{number}@example.org"} for number in range(start, stop)]}}


def registrants_seed(start: int, stop: int) -> dict:
    """A control-plane seed of the registrants numbered start to stop - 1 (PAGING_PROFILE's object)."""
    return {"xweb": {"EventsRegistrant": [
        {"reg_cst_key": str(uuid.UUID(int=number)), "reg_evt_key": EVENT_KEY,
         "reg_registration_date": "11/30/2026 9:00:00 AM", "reg_grade_ext": "P"} for number in range(start, stop)]}}


# An object no built-in shape has, as a tenant profile declares it: its records are kept in xweb_tenant_record.
PAGING_PROFILE = """\
objects:
  - name: EventsRegistrant
    prefix: reg
    table: ev_registrant
    columns:
      - {name: reg_cst_key, type: av_key, nullable: false}
      - {name: reg_evt_key, type: av_key, nullable: false}
      - {name: reg_registration_date, type: av_date}
      - {name: reg_grade_ext, type: nvarchar, width: 10, ext: true}
"""
EVENT_KEY = "5d2c8f7e-1b3a-4c6d-9e8f-0a1b2c3d4e5f"
REGISTRANT_COLUMNS = "reg_cst_key, reg_registration_date, reg_grade_ext"


def start_paging_standin(directory: Path, individuals_count: int) -> Side:
    place = directory / "paging-standin"
    place.mkdir()
    command = common.standin_command(place / "standin.db", 1, None, "--individuals", str(individuals_count))
    server = common.start_server("paging-standin", command, place, 1)
    return Side("stand-in", server, re.search(r"token (\S+)", server.output()).group(1))


QUERY_COLUMNS = "ind_first_name, ind_last_name, eml_address"
QUERY_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{XWEB}GetQuery"'}


def query_envelope(token: str, object_name: str, where: str, columns: str = QUERY_COLUMNS,
                   key: str = "ind_cst_key") -> bytes:
    """GetQuery of `columns` (the Individuals' names and e-mail addresses), ordered by the key."""
    return (f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:x="{XWEB}"><soap:Header><x:AuthorizationToken>'
            f"<x:Token>{token}</x:Token></x:AuthorizationToken></soap:Header><soap:Body><x:GetQuery>"
            f"<x:szObjectName>{object_name}</x:szObjectName>"
            f"<x:szColumnList>{columns}</x:szColumnList>"
            f"<x:szWhereClause>{where}</x:szWhereClause><x:szOrderBy>{key}</x:szOrderBy>"
            "</x:GetQuery></soap:Body></soap:Envelope>").encode()


def sap_envelope(payload: bytes) -> bytes:
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'.encode() + payload
            + b"</soapenv:Body></soapenv:Envelope>")


def startup(args: argparse.Namespace, directory: Path) -> list[Figure]:
    """From process start to the first answer, on a fresh SQLite file each time (a new directory, the default
    database file name)."""
    times: dict[str, list[float]] = {"emulator": [], "stack imports": []}
    commands = {"emulator": (lambda place: common.emulator_command(), "/_emulator/health")}
    for number_ in range(args.starts):
        for label, (command, probe) in commands.items():
            place = directory / f"startup-{label}-{number_}"
            place.mkdir()
            log = place / "server.log"
            with open(log, "wb") as out:
                started = time.perf_counter()
                process = subprocess.Popen(command(place), cwd=place, env=common.clean_environment(),
                                                  stdout=out, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True)
            server = Server(label, process, log, workers=1)
            answered: list[float] = []
            try:
                common.wait_until_answering(server, probe, first_answer=answered.append)
            finally:
                server.stop()
            times[label].append(answered[0] - started)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", STACK_IMPORTS], check=True, env=common.clean_environment())
        times["stack imports"].append(time.perf_counter() - started)
    emulator, imports = times["emulator"], times["stack imports"]
    say(f"  start-up: emulator {median(emulator):.2f} s, the stack's imports {median(imports):.2f} s")
    return [Figure("serve on a fresh SQLite file: start to first answer", "s", median(emulator), median(imports),
                   target=round(median(imports) + STARTUP_OVER_IMPORTS_S, 2), higher_is_better=False, versus="the stack's imports",
                   note=f"{args.starts} starts; {spread_text(emulator)}; reference: a new interpreter importing "
                        f"spyne, SQLAlchemy and alembic, to its exit ({spread_text(imports)}); target: it + "
                        f"{STARTUP_OVER_IMPORTS_S:g} s")]


# ------------------------------------------------------------------------------------------------------ report


def report(figures: dict[str, list[Figure]], failures: dict[str, str], args: argparse.Namespace,
           seconds: float, load_before: str) -> None:
    print()
    print(f"xweb-emulator benchmarks ({os.cpu_count()} cores, load average {load_before} before and "
          f"{common.load_average()} after; wrk -t1 -c{args.connections} on 127.0.0.1; medians; "
          "ratio = emulator / reference: the stack limit (bench/stack_limit.py) but where the target names another)")
    header = f"{'#':<2} {'figure':<56} {'unit':<10} {'emulator':>10} {'reference':>10} {'ratio':>7}  " \
             f"{'target':<22} {'':<4}  note"
    print(header)
    print("-" * len(header))
    for name in sorted(figures, key=lambda name: (SECTIONS[name], BENCHMARKS.index(name))):
        for figure in figures[name]:
            ratio = f"{figure.ratio:.2f}" if figure.ratio is not None else "-"
            print(f"{SECTIONS[name]:<2} {figure.name:<56} {figure.unit:<10} {number(figure.emulator):>10} "
                  f"{number(figure.reference):>10} {ratio:>7}  {figure.target_text():<22} {figure.verdict:<4}  "
                  f"{figure.note}")
    for name, message in failures.items():
        print(f"{SECTIONS[name]:<2} {name}: FAILED: {message.splitlines()[0]}")
    print(f"\n(ran {', '.join(name for name in ORDER if name in figures or name in failures)} "
          f"in {seconds:.0f} s)")


# ------------------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmarks", nargs="*", metavar="BENCHMARK",
                        help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--full", action="store_true", help="60 s latency runs (unless --latency-duration)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each throughput round (10)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds of each side (3)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before measuring a server (2)")
    parser.add_argument("--latency-duration", type=float, help="seconds of each latency run (10; --full: 60)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--calls", type=int, default=2000, help="in-process calls of each app (2000)")
    parser.add_argument("--bulk-items", type=int, default=1000, help="records / outbounds / events per call (1000)")
    parser.add_argument("--bulk-rounds", type=int, default=15,
                        help="bulk calls of each kind, after one warm-up (15: the stack limit's calls vary by 20x, "
                             "as now and then a commit of its copies the write-ahead log back)")
    parser.add_argument("--rss-calls", type=int, default=10_000, help="sample calls before reading VmRSS (10000)")
    parser.add_argument("--starts", type=int, default=5, help="fresh starts for the start-up time (5)")
    parser.add_argument("--individuals", type=int, default=100_000, help="Individuals the paging reads (100000)")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database for the latency benchmark, written to "
                                               "by both servers (default: a throwaway server)")
    args = parser.parse_args()
    unknown = sorted(set(args.benchmarks) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}: choose from {', '.join(BENCHMARKS)}")
    selected = [name for name in ORDER if name in (args.benchmarks or BENCHMARKS)]
    if args.latency_duration is None:
        args.latency_duration = 60 if args.full else 10
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url is the PostgreSQL of the latency benchmark (postgresql+psycopg://…)")
    for name in list(os.environ):
        if name.startswith("XWEB_EMULATOR_"):  # the figures are the defaults'
            del os.environ[name]
    if set(selected) & {"throughput", "latency", "memory", "mixed", "paging"}:
        common.require_wrk()

    # Interrupted or terminated, the run still stops its servers (each in a session of its own) and removes its files.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminated)
    began, load_before = time.perf_counter(), common.load_average()
    if float(load_before.replace("?", "0")) > (os.cpu_count() or 1):
        say(f"note: the load average is {load_before} on {os.cpu_count()} cores: other work shares the machine, "
            "read the ratios rather than the absolute figures")
    figures: dict[str, list[Figure]] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="xweb-bench-") as name:
        directory = Path(name)
        shared = Shared(directory)
        try:
            for benchmark in selected:
                say(f"{benchmark} ...")
                try:
                    if benchmark == "inprocess":
                        figures[benchmark] = inprocess(args, directory)
                    elif benchmark == "throughput":
                        figures[benchmark] = throughput(args, shared)
                    elif benchmark == "memory":
                        figures[benchmark] = memory(args, shared)
                    elif benchmark == "bulk":
                        figures[benchmark] = bulk(args, shared)
                        if "memory" in figures:
                            figures["memory"].append(memory_after_bulk(shared))
                    else:
                        shared.close()  # latency and start-up start servers of their own
                        run = {"latency": latency, "mixed": mixed, "startup": startup, "paging": paging}[benchmark]
                        figures[benchmark] = run(args, directory)
                except BenchError as error:
                    say(f"{benchmark} FAILED: {error}")
                    failures[benchmark] = str(error)
        finally:
            shared.close()
    report(figures, failures, args, time.perf_counter() - began, load_before)
    return 1 if failures else 0


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted: servers stopped, temporary files removed")
        sys.exit(130)
