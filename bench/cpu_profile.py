"""Where a call's time goes: the WSGI app called directly (no server, no client), CPU time per call, and a profile.

    make bench-profile ARGS=xweb                 # InsertFacadeObject of 1000 records: CPU ms per call
    make bench-profile ARGS="sap --profile"      # ... and the functions that took the most CPU
    make bench-profile ARGS="sample --calls 2000"
    make bench-profile ARGS="page --items 100000 --calls 300"
    make bench-profile ARGS="crmcom --stack-limit"  # the stack limit's CPU for the same call, what make bench compares

Kinds: xweb, sap, crmcom (the calls of `make bench`'s bulk benchmark, built by bench/run.py), sample (the vendor's
sample InsertFacadeObject), page (the paging benchmark's GetQuery `Individual @TOP 100` from a random key on, over
--items Individuals seeded first). The reference machine is shared: a process's CPU time moves far less with the load than
its wall time does, so this is what to compare from one change to the next (interleave the two versions' runs all the
same). The collector is set as a server worker sets it (app.collect_as_a_server), and its time is reported on its
own; --profile runs cProfile on the CPU clock, which slows Python code several times over: read its shares, not its
seconds. --stack-limit measures bench/stack_limit.py's application for the same calls (its database on the same
temporary disk): the emulator's CPU over the limit's is the ratio a change moves, without the HTTP around the call.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import common
import run
from common import AUTHENTICATE_HEADERS, CRMCOM_PATH, INSERT_HEADERS, SAP_PATH, XWEB_PATH, BenchError

KINDS = ("xweb", "sap", "crmcom", "sample", "page")

Request = tuple[str, bytes, dict[str, str]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--calls", type=int, help="calls measured, after one warm-up (bulk: 15; sample: 1000)")
    parser.add_argument("--items", type=int, default=1000, help="records / outbounds / events per bulk call (1000)")
    parser.add_argument("--profile", action="store_true", help="then profile as many calls again (cProfile)")
    parser.add_argument("--top", type=int, default=30, help="functions listed by --profile (30)")
    parser.add_argument("--save", type=Path, help="--profile's statistics also written to this file (pstats, snakeviz)")
    parser.add_argument("--stack-limit", action="store_true",
                        help="the same calls to the stack limit instead (bench/stack_limit.py, what make bench compares "
                             "the emulator with; not page)")
    args = parser.parse_args()
    if args.stack_limit and args.kind == "page":
        parser.error("the stack limit answers no GetQuery: page has no stack limit")
    calls = args.calls or {"sample": 1000, "page": 300}.get(args.kind, 15)

    from xweb_emulator.app import collect_as_a_server, create_app, prepare_database
    from xweb_emulator.settings import Settings

    with tempfile.TemporaryDirectory(prefix="xweb-profile-") as directory:
        url = f"sqlite:///{Path(directory) / 'profile.db'}"
        if args.stack_limit:
            import stack_limit

            token = stack_limit.prepare(url)
            app, dispose = stack_limit.StackLimit(url), None
        else:
            settings = Settings(database_url=url)
            emulator = prepare_database(settings)
            app, token, dispose = create_app(settings, emulator), None, emulator.database.dispose
        collect_as_a_server()
        try:
            next_request = _requests(app, args.kind, args.items, token)
            _post(app, *next_request())  # warm-up: caches, the first writes
            cpu, collected = _measure(app, next_request, calls)
            items = args.items if args.kind in ("xweb", "sap", "crmcom") else 1
            per_call = statistics.median(cpu)
            print(f"{args.kind}: {calls} calls, CPU per call median {per_call * 1000:.3f} ms, minimum "
                  f"{min(cpu) * 1000:.3f} ms ({items / per_call:,.0f} items per CPU second); collector "
                  f"{collected * 1000 / calls:.1f} ms per call")
            if args.profile:
                profile = cProfile.Profile(time.process_time)
                for _ in range(calls):
                    request = next_request()
                    profile.enable()
                    _post(app, *request)
                    profile.disable()
                if args.save:
                    profile.dump_stats(args.save)
                pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        finally:
            if dispose is not None:
                dispose()
    return 0


def _requests(app: Callable, kind: str, items: int, token: str | None) -> Callable[[], Request]:
    """What the next call sends (a bulk call is built anew each time: SAP's bounce code changes every round), with
    `token` where the application hands out none (the stack limit's), else one it hands out."""
    if kind in ("xweb", "sample"):
        token = token or common.token_of(_post(app, XWEB_PATH, common.authenticate_envelope(), AUTHENTICATE_HEADERS))
        body = common.sample_body(token) if kind == "sample" else run.xweb_bulk(token, items)
        return lambda: (XWEB_PATH, body, INSERT_HEADERS)
    if kind == "page":
        for start in range(0, items, 5_000):
            _post(app, "/_emulator/seed", json.dumps(run.individuals_seed(start, min(items, start + 5_000))).encode(),
                  run.JSON_HEADERS)
        token = common.token_of(_post(app, XWEB_PATH, common.authenticate_envelope(), AUTHENTICATE_HEADERS))
        # A random lower bound reads a page from anywhere in the key order, as a keyset walk does.
        return lambda: (XWEB_PATH, run.query_envelope(token, "Individual @TOP 100", f"ind_cst_key > '{uuid.uuid4()}'"),
                        run.QUERY_HEADERS)
    if kind == "sap":
        _post(app, "/_emulator/seed", json.dumps(run.sap_seed(items)).encode(), run.JSON_HEADERS)
        rounds = iter(range(1, 1_000_000))
        return lambda: (SAP_PATH, run.sap_bounces(items, next(rounds)), run.SAP_HEADERS)

    def crmcom() -> Request:
        signed_on = token
        if signed_on is None:
            login = json.dumps({"username": "demo", "password": "demo", "organisation": "demo"}).encode()
            answer = _post(app, CRMCOM_PATH + "authentication/token", login, run.JSON_HEADERS)
            signed_on = json.loads(answer)["data"]["token"]
        body = json.dumps({"token": signed_on, "web_customer_events_set": run.crmcom_events(items)}).encode()
        return CRMCOM_PATH + "customer_events/bulk/web/create", body, run.JSON_HEADERS

    return crmcom


def _measure(app: Callable, next_request: Callable[[], Request], calls: int) -> tuple[list[float], float]:
    """CPU seconds of each call, and the collector's seconds over all of them."""
    collecting: list[float] = []
    collected = 0.0

    def timed_collection(phase: str, _info: dict) -> None:
        nonlocal collected
        if phase == "start":
            collecting.append(time.process_time())
        else:
            collected += time.process_time() - collecting.pop()

    gc.callbacks.append(timed_collection)
    try:
        cpu = []
        for _ in range(calls):
            request = next_request()
            started = time.process_time()
            _post(app, *request)
            cpu.append(time.process_time() - started)
    finally:
        gc.callbacks.remove(timed_collection)
    return cpu, collected


def _post(app: Callable, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    status, answer = common.call_wsgi(app, path, body, headers)
    if not status.startswith("200"):
        raise BenchError(f"POST {path} answered {status}: {answer[:2000]!r}")
    return answer


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
