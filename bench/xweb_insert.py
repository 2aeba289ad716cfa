"""Throughput of the xWeb write path, measured against a real `xweb-emulator serve` on this machine.

    make bench                      # granian, SQLite, 1 worker
    make bench ARGS="--workers 2 --database-url postgresql+psycopg://…"
    make bench ARGS="--server gunicorn"   # the comparison that picked granian (needs: pip install gunicorn)

Measures, after a warm-up:
  1. requests/s for the vendor's sample InsertFacadeObject request (two CustomerMessagingActivity records), sent by
     --clients concurrent clients, --requests requests in all;
  2. records/s for one InsertFacadeObject of 1000 records, --rounds times.
Load goes to 127.0.0.1 only and is bounded in count.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

NS = "http://www.avectra.com/2005/"
SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "xweb" / "insert_customer_messaging_activity.request.xml"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}InsertFacadeObject"'}
RECORD = (
    "<ns:CustomerMessagingActivityObject><ns:cma_cst_key>2a50c454-eac0-4768-9a85-0c97968be7fd</ns:cma_cst_key>"
    "<ns:cma_activity_id>{n}</ns:cma_activity_id><ns:cma_activity_code>Opened</ns:cma_activity_code>"
    "<ns:cma_eml_address>someone@somewhere.com</ns:cma_eml_address>"
    "<ns:cma_activity_date>03/12/2012 14:44:55.892</ns:cma_activity_date></ns:CustomerMessagingActivityObject>"
)


@contextlib.contextmanager
def server(args: argparse.Namespace):
    with tempfile.TemporaryDirectory(prefix="xweb-bench-") as directory:
        database_url = args.database_url or f"sqlite:///{directory}/bench.db"
        env = {**os.environ, "XWEB_EMULATOR_DATABASE_URL": database_url}
        if args.server == "granian":
            command = [sys.executable, "-m", "xweb_emulator", "serve", "--port", str(args.port),
                       "--workers", str(args.workers)]
        else:
            prepare = "from xweb_emulator.app import prepare_database; from xweb_emulator.settings import Settings; " \
                      "prepare_database(Settings())"
            subprocess.run([sys.executable, "-c", prepare], env=env, check=True, capture_output=True)
            command = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", "8",
                       "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning", "xweb_emulator.app:wsgi_app()"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{args.port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{base}/xWeb/secure/netForumXML.asmx?WSDL", timeout=1).raise_for_status()
                    break
                except requests.RequestException:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"server did not start:\n{process.stderr.read()}") from None
                    time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def authenticate(base: str) -> str:
    envelope = (f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="{NS}">'
                "<soapenv:Body><ns:Authenticate><ns:userName>demo</ns:userName><ns:password>demo</ns:password>"
                "</ns:Authenticate></soapenv:Body></soapenv:Envelope>")
    response = requests.post(f"{base}/xWeb/secure/netForumXML.asmx", data=envelope,
                             headers={**HEADERS, "SOAPAction": f'"{NS}Authenticate"'}, timeout=10)
    response.raise_for_status()
    return re.search(r"<(?:\w+:)?Token>([^<]+)</", response.text).group(1)


def post(session: requests.Session, url: str, body: bytes) -> None:
    response = session.post(url, data=body, headers=HEADERS, timeout=60)
    if response.status_code != 200:
        raise SystemExit(f"InsertFacadeObject failed: HTTP {response.status_code}\n{response.text[:2000]}")


def sample_requests_per_second(base: str, token: str, clients: int, total: int) -> float:
    body = SAMPLE.read_bytes().replace(b"***************", token.encode())
    url = f"{base}/xWeb/secure/netForumXML.asmx"

    def client(count: int) -> None:
        with requests.Session() as session:
            for _ in range(count):
                post(session, url, body)

    shares = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, shares[:1]))  # warm-up: connections, caches, first writes
        started = time.perf_counter()
        list(pool.map(client, shares))
    return total / (time.perf_counter() - started)


def bulk_records_per_second(base: str, token: str, records: int, rounds: int) -> list[float]:
    body = (f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="{NS}">'
            f"<soapenv:Header><ns:AuthorizationToken><ns:Token>{token}</ns:Token></ns:AuthorizationToken>"
            "</soapenv:Header><soapenv:Body><ns:InsertFacadeObject>"
            "<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName><ns:oNode>"
            "<ns:CustomerMessagingActivityObjects>"
            + "".join(RECORD.format(n=n) for n in range(records))
            + "</ns:CustomerMessagingActivityObjects></ns:oNode></ns:InsertFacadeObject></soapenv:Body>"
            "</soapenv:Envelope>").encode()
    url = f"{base}/xWeb/secure/netForumXML.asmx"
    rates = []
    with requests.Session() as session:
        for _ in range(rounds):
            started = time.perf_counter()
            post(session, url, body)
            rates.append(records / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with server(args) as base:
        token = authenticate(base)
        rps = sample_requests_per_second(base, token, args.clients, args.requests)
        bulk = bulk_records_per_second(base, token, args.records, args.rounds)
    backend = (args.database_url or "sqlite").split(":", 1)[0]
    print(f"server={args.server} workers={args.workers} database={backend} clients={args.clients}")
    print(f"seed InsertFacadeObject (2 records): {rps:8.1f} requests/s over {args.requests} requests")
    print(f"InsertFacadeObject of {args.records} records: {statistics.median(bulk):8.0f} records/s "
          f"(median of {args.rounds}; min {min(bulk):.0f}, max {max(bulk):.0f})")


if __name__ == "__main__":
    main()
