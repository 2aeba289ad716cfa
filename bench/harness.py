"""How fast the test harness is: what a test suite waits for before its first test and between two tests.

    make bench-harness
    make bench-harness ARGS="--database-url postgresql+psycopg://…"   # resets on PostgreSQL (start-up uses SQLite)

Measures:
  1. start-up: a fresh interpreter imports the plugin's means (xweb_emulator.testing) and starts the emulator as the
     `xweb_emulator_server` fixture does (run_emulator over a new temporary SQLite database: schema migrated, demo
     data loaded, server listening) until GET /_emulator/health answers; --starts fresh processes, each timed from
     inside (import, then start to ready);
  2. reset: POST /_emulator/reset, as the `xweb_emulator` fixture sends before every test, after a call that wrote
     records, --resets times.
Goals (issue 3): under 0.5 s to a ready server, under 50 ms per reset on SQLite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

STARTUP = """
import json, sys, tempfile, time
started = time.perf_counter()
from xweb_emulator.settings import Settings
from xweb_emulator.testing import run_emulator
imported = time.perf_counter()
with tempfile.TemporaryDirectory() as directory:
    with run_emulator(Settings(database_url=f"sqlite:///{directory}/emulator.db")) as emulator:
        emulator.health()
        ready = time.perf_counter()
print(json.dumps({"import": imported - started, "start": ready - imported}))
"""


def startup(starts: int) -> None:
    runs = [json.loads(subprocess.run([sys.executable, "-c", STARTUP], check=True, capture_output=True,
                                      text=True).stdout) for _ in range(starts)]
    for phase in ("import", "start"):
        times = [run[phase] * 1000 for run in runs]
        print(f"start-up, {phase:6}: median {statistics.median(times):6.0f} ms, max {max(times):6.0f} ms")
    totals = [(run["import"] + run["start"]) * 1000 for run in runs]
    print(f"start-up, total : median {statistics.median(totals):6.0f} ms, max {max(totals):6.0f} ms  ({starts} runs)")


def resets(database_url: str | None, count: int) -> None:
    from xweb_emulator.settings import Settings
    from xweb_emulator.testing import run_emulator

    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(database_url=database_url or f"sqlite:///{directory}/emulator.db")
        with run_emulator(settings) as emulator:
            kind = emulator.health()["database"]["kind"]
            times = []
            for number in range(count):
                # What a test leaves behind: records, a journal entry, a fault rule, a clock offset.
                emulator.seed({"xweb": {"Customer": [{"cst_type": "Individual", "cst_name_cp": f"Bench {number}"}]}})
                emulator.http.post(emulator.json_url("GetVersion"), auth=("demo", "demo"), timeout=30)
                emulator.add_fault("xweb", "latency", latency_ms=0)
                emulator.advance_clock(60)
                started = time.perf_counter()
                emulator.reset()
                times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"reset ({kind}): median {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, "
          f"max {times[-1]:.1f} ms  ({count} resets, over HTTP)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--resets", type=int, default=100)
    parser.add_argument("--database-url", help="for the resets; default: a temporary SQLite database")
    args = parser.parse_args()
    startup(args.starts)
    resets(args.database_url, args.resets)


if __name__ == "__main__":
    main()
