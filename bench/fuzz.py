"""The long run of the seeded fuzzer (tests/fuzzing.py): at least 10,000 malformed requests at every endpoint of an
emulator this script starts (run_emulator, in this process) or of one already running (--base-url, whose demo
users it expects), checking every answer as tests/integration/test_fuzz.py does.

    make bench-fuzz
    make bench-fuzz ARGS="--count 20000 --seed 7 --database-url postgresql+psycopg://…"

Exits 1 and lists what it found when any answer was late, not in the vendor's shape, in internal wording, the
generic 500, or when a refused request wrote anything.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzzing  # noqa: E402
from xweb_emulator.settings import Settings  # noqa: E402
from xweb_emulator.testing import EmulatorClient, run_emulator  # noqa: E402

ENDPOINTS = ("xweb-soap", "xweb-json", "sap", "crmcom-login", "crmcom-bulk", "control")


def _tokens(client: EmulatorClient) -> tuple[str, str]:
    settings = client.settings
    soap = requests.post(client.json_url("Authenticate"), timeout=30, json={"Authenticate": {
        "userName": settings.xweb_user, "password": settings.xweb_password}}).json()["Token"]
    crmcom = requests.post(client.crmcom_url("authentication/token"), timeout=30, json={
        "username": settings.crmcom_user, "password": settings.crmcom_password,
        "organisation": settings.crmcom_organisation}).json()["data"]["token"]
    return soap, crmcom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="malformed requests in all (default 10000)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--base-url", help="a running emulator (default: one started here)")
    parser.add_argument("--database-url", help="for the emulator started here (default: a temporary SQLite file)")
    arguments = parser.parse_args()

    with ExitStack() as stack:
        if arguments.base_url:
            client = EmulatorClient(arguments.base_url)
        else:
            url = arguments.database_url or f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/f.db"
            client = stack.enter_context(run_emulator(Settings(database_url=url, journal_limit=0)))
        client.reset()
        soap_token, crmcom_token = _tokens(client)
        settings = client.settings
        bases = fuzzing.base_cases(soap_token, crmcom_token, (settings.xweb_user, settings.xweb_password),
                                   (settings.sap_user, settings.sap_password))
        findings = fuzzing.Findings()
        per_endpoint = -(-arguments.count // len(ENDPOINTS))
        started = time.perf_counter()
        with requests.Session() as session:
            for endpoint in ENDPOINTS:
                rng = random.Random(f"{arguments.seed}:{endpoint}")
                for case in fuzzing.cases(bases[endpoint], rng, per_endpoint):
                    response, elapsed = fuzzing.send(session, client.base_url, case)
                    fuzzing.check(case, response, elapsed, findings)
                client.clear_faults()
        seconds = time.perf_counter() - started
    print(f"{findings.sent} malformed requests in {seconds:.1f}s, slowest answer {findings.slowest * 1000:.0f} ms, "
          f"{len(findings.problems)} problems")
    for problem in findings.problems[:50]:
        print("  " + problem)
    sys.exit(1 if findings.problems else 0)


if __name__ == "__main__":
    main()
