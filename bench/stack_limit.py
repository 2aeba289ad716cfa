"""The stack limit: the reference of the request path's figures (bench/run.py, issue 24).

The least any emulator built on this stack can do for the vendor's sample InsertFacadeObject, served as the emulator
is served (granian, WSGI, eight threads a worker):

  - spyne reads the envelope and writes the answer: the AuthorizationToken header in and out, oNode as XML (AnyXml),
    one cma_key per record;
  - the token checked with one SELECT, the records inserted (the driver's executemany) and committed, through the
    database driver directly: sqlite3 (WAL, synchronous=NORMAL, BEGIN IMMEDIATE as the emulator), or psycopg on
    PostgreSQL;

and nothing else: no validation, no journal, no fault rules, no clock. For the bulk benchmark it does the same
inserts as the emulator's SAP and CRM.COM bulk calls, read with lxml and json and inserted by executemany, one row
per outbound or event, under one SELECT of the token (CRM.COM) or the user (SAP).

    python bench/stack_limit.py --port 8091 --database /tmp/limit.db
    stack_limit listening on http://127.0.0.1:8091   token 6f1c…
    python bench/stack_limit.py --database-url postgresql+psycopg://user@127.0.0.1/db --workers 2
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from lxml import etree

import common

XWEB = "http://www.avectra.com/2005/"
OBJECT = "CustomerMessagingActivity"
COLUMNS = ("cma_cst_key", "cma_eml_address", "cma_activity_date", "cma_activity_id", "cma_message_id",
           "cma_recipient_id", "cma_activity_code", "cma_activity_subcode")
SAP_PATH = "/sap/bc/srt/scs/sap/managecampaigninboundin"
CRMCOM_BULK_PATH = "/crmapi/rest/v2/customer_events/bulk/web/create"
ENVIRONMENT = "XWEB_STACK_LIMIT_DATABASE_URL"  # how the server's workers learn the database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS limit_token (token VARCHAR(36) PRIMARY KEY, user_name VARCHAR(64) NOT NULL, "
    "expires_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS limit_activity (cma_key VARCHAR(36) PRIMARY KEY, "
    + ", ".join(f"{name} VARCHAR(100)" for name in COLUMNS) + ")",
    "CREATE TABLE IF NOT EXISTS limit_bounce (campaign VARCHAR(36), outbound VARCHAR(36), account VARCHAR(36), "
    "contact VARCHAR(36), code VARCHAR(20), denied VARCHAR(5))",
    "CREATE TABLE IF NOT EXISTS limit_event (event_key VARCHAR(36) PRIMARY KEY, identifier VARCHAR(100), "
    "account VARCHAR(40), unit VARCHAR(40), performed_on VARCHAR(40), website VARCHAR(100))",
)
INSERT_ACTIVITY = (f"INSERT INTO limit_activity (cma_key, {', '.join(COLUMNS)}) "
                   f"VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))})")
INSERT_BOUNCE = "INSERT INTO limit_bounce VALUES (%s, %s, %s, %s, %s, %s)"
INSERT_EVENT = "INSERT INTO limit_event VALUES (%s, %s, %s, %s, %s, %s)"
SELECT_TOKEN = "SELECT expires_at FROM limit_token WHERE token = %s"
SELECT_USER = "SELECT 1 FROM limit_token WHERE user_name = %s"
USER = "demo"  # the token's user, and SAP's communication user (Basic demo:demo, as bench/run.py sends)


class Store:
    """The statements of a call through the driver directly, a connection per thread; `transaction(work)` runs
    `work(cursor)` in one transaction (SQLite: BEGIN IMMEDIATE, the write lock first) and commits it."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.url = url.removeprefix("sqlite:///") if self.sqlite else url.replace("postgresql+psycopg", "postgresql")
        self._local = threading.local()

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self.sqlite:
                connection = sqlite3.connect(self.url, isolation_level=None, check_same_thread=False, timeout=30)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
            else:
                import psycopg

                connection = psycopg.connect(self.url)
            self._local.connection = connection
        return connection

    def statement(self, text: str) -> str:
        return text.replace("%s", "?") if self.sqlite else text

    def transaction(self, work: Callable) -> object:
        connection = self._connection()
        cursor = connection.cursor()
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        try:
            result = work(cursor)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return result

    def token_valid(self, cursor, token: str | None) -> bool:
        cursor.execute(self.statement(SELECT_TOKEN), (token,))
        row = cursor.fetchone()
        if row is None:
            return False
        expires_at = datetime.fromisoformat(row[0]) if isinstance(row[0], str) else row[0]
        return expires_at > datetime.now()


def prepare(url: str) -> str:
    """Create the tables where missing and seed a token good for a day; answer the token."""
    store = Store(url)
    token = str(uuid.uuid4())

    def work(cursor) -> None:
        for statement in SCHEMA:
            cursor.execute(statement)
        cursor.execute(store.statement("INSERT INTO limit_token VALUES (%s, %s, %s)"),
                       (token, USER, (datetime.now() + timedelta(days=1)).isoformat(sep=" ")))

    store.transaction(work)
    store._connection().close()
    return token


class InvalidToken(Exception):
    pass


def soap_application(store: Store | None) -> Callable:
    """spyne's WSGI application of InsertFacadeObject: the token header in and out, oNode as XML, one cma_key per
    record; with `store`, the token checked and the records inserted and committed through it; without, spyne alone
    (no database: a row of bench/run.py's in-process figures)."""
    from xweb_emulator import _spyne_compat

    _spyne_compat.install()  # spyne importable on Python 3.12+
    from spyne import AnyXml, Application, ComplexModel, Fault, ServiceBase, Unicode, rpc
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

    class AuthorizationToken(ComplexModel):
        __namespace__ = XWEB
        Token = Unicode

    record_path = f"{{{XWEB}}}{OBJECT}Object"
    tags = {f"{{{XWEB}}}{name}": index for index, name in enumerate(COLUMNS, start=1)}

    class Limit(ServiceBase):
        __in_header__ = AuthorizationToken
        __out_header__ = AuthorizationToken

        @rpc(Unicode, AnyXml, _returns=AnyXml)
        def InsertFacadeObject(ctx, szObjectName, oNode):  # noqa: N802, N803  (the vendor's names)
            rows = []
            for record in oNode.iterfind(record_path):
                row = [str(uuid.uuid4())] + [None] * len(COLUMNS)
                for child in record:
                    index = tags.get(child.tag)
                    if index is not None:
                        row[index] = child.text
                rows.append(row)
            if store is not None:
                token = ctx.in_header.Token if ctx.in_header is not None else None

                def work(cursor) -> None:
                    if not store.token_valid(cursor, token):
                        raise InvalidToken()
                    cursor.executemany(store.statement(INSERT_ACTIVITY), rows)

                try:
                    store.transaction(work)
                except InvalidToken:
                    raise Fault("Server", "Failed to validate the authentication token.") from None
            ctx.out_header = ctx.in_header
            objects = etree.Element(f"{{{XWEB}}}{OBJECT}Objects", recordReturn=str(len(rows)))
            for row in rows:
                etree.SubElement(etree.SubElement(objects, record_path), f"{{{XWEB}}}cma_key").text = row[0]
            return objects

    return WsgiApplication(Application([Limit], XWEB, in_protocol=Soap11(), out_protocol=Soap11()))


class StackLimit:
    """The WSGI application: InsertFacadeObject through spyne; SAP's bounce bundle and CRM.COM's bulk create (the
    bulk benchmark's other calls) read with lxml and json and inserted by executemany."""

    def __init__(self, url: str) -> None:
        self.store = Store(url)
        self.soap = soap_application(self.store)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == SAP_PATH:
            return self.sap_bounces(environ, start_response)
        if path == CRMCOM_BULK_PATH:
            return self.crmcom_events(environ, start_response)
        return self.soap(environ, start_response)

    def sap_bounces(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """A bounce row per Outbound of MaintainFailedDeliveryStatusBundle, and the campaign confirmed."""
        envelope = etree.fromstring(_body(environ))
        campaign = envelope.find(".//Campaign")
        campaign_id = campaign.findtext("ID")
        rows = [(campaign_id, outbound.findtext("ObjectNodeSenderTechnicalID"), outbound.findtext("CustomerInternalID"),
                 outbound.findtext("ContactPersonInternalID"), outbound.findtext("MailSystemErrorCode"),
                 outbound.findtext("CommunicationDataUsageDeniedIndicator"))
                for outbound in campaign.iterfind("Outbound")]

        user = base64.b64decode(environ.get("HTTP_AUTHORIZATION", "").removeprefix("Basic ")).split(b":")[0].decode()

        def work(cursor) -> None:
            cursor.execute(self.store.statement(SELECT_USER), (user,))  # the communication user, one SELECT
            if cursor.fetchone() is None:
                raise InvalidToken()
            cursor.executemany(self.store.statement(INSERT_BOUNCE), rows)

        try:
            self.store.transaction(work)
        except InvalidToken:
            return _answer(start_response, b"unknown user", "text/plain", "401 Unauthorized")
        answer = (f"<Confirmation><Campaign><ID>{campaign_id}</ID></Campaign><Log><MaximumLogItemSeverityCode>1"
                  "</MaximumLogItemSeverityCode></Log></Confirmation>").encode()
        return _answer(start_response, answer, "text/xml")

    def crmcom_events(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """A row per web customer event of the bulk create, under one SELECT of the token."""
        request = json.loads(_body(environ))
        events = request["web_customer_events_set"]
        rows = [(str(uuid.uuid4()), event.get("request_unique_identifier"),
                 event.get("accounts_receivable_identifier", {}).get("number"),
                 event.get("performed_by_unit_identifier", {}).get("name"), event.get("performed_on"),
                 event.get("website")) for event in events]

        def work(cursor) -> None:
            if not self.store.token_valid(cursor, request.get("token")):
                raise InvalidToken()
            cursor.executemany(self.store.statement(INSERT_EVENT), rows)

        try:
            self.store.transaction(work)
        except InvalidToken:
            return _answer(start_response, b'{"error": "invalid token"}', "application/json", "401 Unauthorized")
        answer = json.dumps({"data": {"processed_customer_events_set": [
            {"request_unique_identifier": event.get("request_unique_identifier"), "id": row[0]}
            for event, row in zip(events, rows, strict=True)]}}).encode()
        return _answer(start_response, answer, "application/json")


def _body(environ: dict) -> bytes:
    return environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))


def _answer(start_response: Callable, body: bytes, content_type: str, status: str = "200 OK") -> list[bytes]:
    start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def wsgi_app() -> StackLimit:
    """The factory granian's workers call: the database from the environment main() set."""
    return StackLimit(os.environ[ENVIRONMENT])


def main() -> None:
    args = common.reference_arguments(__doc__, 8091, "limit.db").parse_args()
    url = args.database_url or f"sqlite:///{args.database.resolve()}"
    common.serve_reference("stack_limit", ENVIRONMENT, url, prepare(url), args)


if __name__ == "__main__":
    main()
