"""The stateful stand-in of the paging benchmark (bench/run.py); the request path's reference is bench/stack_limit.py.

A minimal WSGI application, served on granian like the emulator, that does for the vendor's sample
InsertFacadeObject the work any stateful emulator must do, and nothing else:

  - parse the SOAP envelope with lxml;
  - one SELECT of the token, in a transaction that takes SQLite's write lock first (BEGIN IMMEDIATE, as the emulator);
  - insert the CustomerMessagingActivity records (a table of its own, SQLAlchemy Core, no ORM) and commit (SQLite in
    WAL mode, synchronous=NORMAL, as the emulator);
  - build the answer with lxml: the token header and one cma_key per record, as xWeb answers.

For the paging benchmark it answers a GetQuery page of Individuals as well (`--individuals N` seeds N of them at
start): the envelope parsed, the token read, one keyset SELECT (`ind_cst_key > '<last>'` ORDER BY the key, @TOP
rows), the answer built with lxml.

No validation, no journal, no fault rules, no spyne. It seeds one token at start and prints it:

    python bench/standin.py --port 8090 --database /tmp/standin.db
    standin listening on http://127.0.0.1:8090   token 6f1c…

It takes a SQLAlchemy URL too (--database-url postgresql+psycopg://…): then the same statements, in PostgreSQL's
default transactions.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from lxml import etree
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, create_engine, event, select

import common

XWEB = "http://www.avectra.com/2005/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OBJECT = "CustomerMessagingActivity"
DATE_FORMATS = ("%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")
ENVIRONMENT = "XWEB_STANDIN_DATABASE_URL"  # how the server's workers learn the database

metadata = MetaData()
tokens = Table(
    "standin_token", metadata,
    Column("token", String(36), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)
activities = Table(
    "standin_activity", metadata,
    Column("cma_key", String(36), primary_key=True),
    Column("cma_cst_key", String(36), nullable=False),
    Column("cma_eml_address", String(80)),
    Column("cma_activity_date", DateTime),
    Column("cma_activity_id", String(50)),
    Column("cma_message_id", String(50)),
    Column("cma_recipient_id", String(50)),
    Column("cma_activity_code", String(50)),
    Column("cma_activity_subcode", String(100)),
)
COLUMNS = tuple(column.name for column in activities.columns if column.name != "cma_key")
individuals = Table(
    "standin_individual", metadata,
    Column("ind_cst_key", String(36), primary_key=True),
    Column("ind_first_name", String(30)),
    Column("ind_last_name", String(30)),
    Column("eml_address", String(80)),
)
_PAGE_AFTER = re.compile(r"ind_cst_key\s*>\s*'([0-9a-f-]{36})'")
_PAGE_SIZE = re.compile(r"@TOP\s+(\d+)", re.IGNORECASE)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
_TOKEN = f"{{{SOAP_ENV}}}Header/{{{XWEB}}}AuthorizationToken/{{{XWEB}}}Token"
_CALL = f"{{{SOAP_ENV}}}Body/{{{XWEB}}}InsertFacadeObject"
_QUERY = f"{{{SOAP_ENV}}}Body/{{{XWEB}}}GetQuery"
_RECORDS = f"{{{XWEB}}}oNode/{{{XWEB}}}{OBJECT}Objects/{{{XWEB}}}{OBJECT}Object"


def engine_for(url: str) -> Engine:
    """An engine set up as the emulator sets up its own (SQLite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE)."""
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def prepare(url: str, user: str = "demo", individuals_count: int = 0) -> str:
    """Create the stand-in's tables where missing, seed a token good for a day and `individuals_count` Individuals
    (named as bench/run.py seeds the emulator's); answer the token."""
    engine = engine_for(url)
    try:
        metadata.create_all(engine)
        token = str(uuid.uuid4())
        with engine.begin() as connection:
            connection.execute(tokens.insert(), {"token": token, "user_name": user,
                                                 "expires_at": datetime.now() + timedelta(days=1)})
            if individuals_count:
                connection.execute(individuals.insert(), [
                    {"ind_cst_key": str(uuid.uuid4()), "ind_first_name": f"First{number}",
                     "ind_last_name": f"Member{number}", "eml_address": f"member{number}@example.org"}
                    for number in range(individuals_count)])
        return token
    finally:
        engine.dispose()


class StandIn:
    """The WSGI application."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            return _answer(start_response, "405 Method Not Allowed", b"POST an InsertFacadeObject envelope\n",
                           "text/plain")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            envelope = etree.fromstring(environ["wsgi.input"].read(length), _PARSER)
        except etree.XMLSyntaxError as error:
            return _fault(start_response, f"Unreadable XML: {error}")
        token = envelope.findtext(_TOKEN)
        query = envelope.find(_QUERY)
        if query is not None:
            return self.page(start_response, token, query)
        call = envelope.find(_CALL)
        if call is None or call.findtext(f"{{{XWEB}}}szObjectName") != OBJECT:
            return _fault(start_response, f"The stand-in answers InsertFacadeObject of {OBJECT} only.")
        rows = []
        for record in call.iterfind(_RECORDS):
            values = {etree.QName(child).localname: child.text for child in record}
            row = {name: values.get(name) for name in COLUMNS}
            row["cma_activity_date"] = _date(row["cma_activity_date"])
            row["cma_key"] = str(uuid.uuid4())
            rows.append(row)
        try:
            with self.engine.begin() as connection:
                expires_at = connection.execute(select(tokens.c.expires_at).where(tokens.c.token == token)).scalar()
                if expires_at is None or expires_at <= datetime.now():
                    raise _InvalidToken()  # rolls the transaction back
                if rows:
                    connection.execute(activities.insert(), rows)
        except _InvalidToken:
            return _fault(start_response, "Failed to validate the authentication token.")
        return _answer(start_response, "200 OK", _response(token, [row["cma_key"] for row in rows]))


    def page(self, start_response: Callable, token: str | None, query: etree._Element) -> Iterable[bytes]:
        """A keyset page of Individuals, as GetQuery answers one."""
        after = _PAGE_AFTER.search(query.findtext(f"{{{XWEB}}}szWhereClause") or "")
        size = _PAGE_SIZE.search(query.findtext(f"{{{XWEB}}}szObjectName") or "")
        statement = select(individuals).order_by(individuals.c.ind_cst_key).limit(int(size.group(1)) if size else 100)
        if after:
            statement = statement.where(individuals.c.ind_cst_key > after.group(1))
        try:
            with self.engine.begin() as connection:
                expires_at = connection.execute(select(tokens.c.expires_at).where(tokens.c.token == token)).scalar()
                if expires_at is None or expires_at <= datetime.now():
                    raise _InvalidToken()
                rows = connection.execute(statement).all()
        except _InvalidToken:
            return _fault(start_response, "Failed to validate the authentication token.")
        envelope, result = _envelope(token, "GetQuery")
        objects = etree.SubElement(result, f"{{{XWEB}}}IndividualObjects", recordReturn=str(len(rows)))
        for row in rows:
            record = etree.SubElement(objects, f"{{{XWEB}}}IndividualObject")
            for name, value in row._mapping.items():
                etree.SubElement(record, f"{{{XWEB}}}{name}").text = value
        return _answer(start_response, "200 OK", etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


class _InvalidToken(Exception):
    pass


def _date(text: str | None) -> datetime | None:
    if text is None:
        return None
    for format in DATE_FORMATS:
        try:
            return datetime.strptime(text, format)
        except ValueError:
            continue
    return None


def _envelope(token: str, operation: str) -> tuple[etree._Element, etree._Element]:
    """An answer's envelope with the token header, and its <Operation>Result element."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    authorization = etree.SubElement(header, f"{{{XWEB}}}AuthorizationToken", nsmap={None: XWEB})
    etree.SubElement(authorization, f"{{{XWEB}}}Token").text = token
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    response = etree.SubElement(body, f"{{{XWEB}}}{operation}Response", nsmap={None: XWEB})
    return envelope, etree.SubElement(response, f"{{{XWEB}}}{operation}Result")


def _response(token: str, keys: list[str]) -> bytes:
    envelope, result = _envelope(token, "InsertFacadeObject")
    objects = etree.SubElement(result, f"{{{XWEB}}}{OBJECT}Objects", recordReturn=str(len(keys)))
    for key in keys:
        etree.SubElement(etree.SubElement(objects, f"{{{XWEB}}}{OBJECT}Object"), f"{{{XWEB}}}cma_key").text = key
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _fault(start_response: Callable, message: str) -> Iterable[bytes]:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Server"
    etree.SubElement(fault, "faultstring").text = message
    return _answer(start_response, "500 Internal Server Error",
                   etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _answer(start_response: Callable, status: str, body: bytes, content_type: str = "text/xml") -> list[bytes]:
    start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def wsgi_app() -> StandIn:
    """The factory granian's workers call: the database from the environment main() set."""
    return StandIn(os.environ[ENVIRONMENT])


def main() -> None:
    parser = common.reference_arguments(__doc__, 8090, "standin.db")
    parser.add_argument("--individuals", type=int, default=0, help="Individuals to seed for GetQuery pages (0)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.database.resolve()}"
    common.serve_reference("standin", ENVIRONMENT, url, prepare(url, individuals_count=args.individuals), args)


if __name__ == "__main__":
    main()
