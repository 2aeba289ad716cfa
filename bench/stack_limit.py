"""The stack limit: the reference of the request path's figures (bench/run.py, issue 24).

The least any emulator built on this stack can do for the vendor's sample InsertFacadeObject, served as the emulator
is served (granian, WSGI, eight threads a worker):

  - spyne reads the envelope and writes the answer: the AuthorizationToken header in and out, oNode as XML (AnyXml),
    one cma_key per record;
  - the token checked with one SELECT, the records inserted (the driver's executemany) and committed, through the
    database driver directly: sqlite3 (WAL, synchronous=NORMAL, BEGIN IMMEDIATE as the emulator), or psycopg on
    PostgreSQL;

and nothing else: no validation, no journal, no fault rules, no clock offset.

It writes the emulator's own tables: those the bulk benchmark's three calls write (and the few they read to name
rows), created from the emulator's SQLAlchemy definitions compiled to DDL for the database (CREATE TABLE with its
keys and unique constraints, then CREATE INDEX of each index), made anew at each start. The definitions serve as DDL
only: the statements below are the driver's, on its connection; no emulator code runs. Each row is the one the
emulator writes for the item, every column it fills filled, in the same storage form (UUIDs and datetimes as
SQLAlchemy stores them: on SQLite 32 hex digits and 'YYYY-MM-DD HH:MM:SS.ffffff'):

  - InsertFacadeObject (the sample's two records, the bulk benchmark's thousand): an INSERT per record into
    co_customer_messaging_activity (primary key, two indexes): a new cma_key, the record's eight columns (cma_cst_key
    a UUID, cma_activity_date a datetime), the audit columns (the token's user and now, UTC, as add and change),
    cma_delete_flag 0;
  - SAP MaintainFailedDeliveryStatusBundle: an UPDATE per Outbound of the campaign outbound seeded before (POST
    /_emulator/seed with the document bench/run.py seeds the emulator with): mail_system_error_code,
    communication_data_usage_denied_indicator (the request's), outbound_communication_status_code 3 (failed: the
    bench's codes are all 5.1.x) and changed_at, found by its key (uuid, the primary key); and the campaign's
    change_state_id, as the emulator changes it. The keys come from one SELECT of the campaign's outbounds (its
    campaign_uuid index) with their account's and contact person's internal IDs (their primary keys), which the
    request names them by: the outbound table has no index on what the request gives, and an UPDATE naming its row
    through subqueries of sap_customer and sap_contact_person (their internal_id indexes, then the outbound's
    customer_uuid index) took 3.9 ms for a thousand against 3.4 ms for this;
  - CRM.COM bulk create: an INSERT per event into crmcom_web_customer_event (primary key, unique number, four
    indexes): a new id (32 upper-case hex digits), its number drawn as the emulator draws it (one UPDATE … RETURNING
    of crmcom_number_sequence), POSTED, the accounts receivable's and unit's ids (one SELECT of each account number
    and unit name the call names, of the records prepare() seeds), performed_on a datetime, website, and the token's
    user and now as created_by_user and created_date.

The stand-in checks no foreign key, where the emulator's inserts check theirs (its SQLite connections set PRAGMA
foreign_keys=ON: a thousand events' INSERT took 7.4 ms with the checks against 6.6 ms without, here). On SQLite the
pragma stays off, so a table may refer to a table not made (co_customer, co_email, crmcom_rewards_participant,
crmcom_customer_event_classification); on PostgreSQL the tables are created without their foreign key constraints,
in a schema of their own, stack_limit, beside the emulator's when both use one database. Its token (valid a day) is
in a table of its own, limit_token: the calls' one SELECT of the token (InsertFacadeObject, CRM.COM) or of the
communication user (SAP).

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
from datetime import UTC, datetime, timedelta

from lxml import etree
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

import common
from xweb_emulator.crmcom.models import (
    WEB_CUSTOMER_EVENT_NUMBERS,
    AccountsReceivable,
    NumberSequence,
    Unit,
    WebCustomerEvent,
)
from xweb_emulator.sap.models import Campaign, CampaignOutbound, ContactPerson, Customer
from xweb_emulator.xweb.models import CustomerMessagingActivity

XWEB = "http://www.avectra.com/2005/"
OBJECT = "CustomerMessagingActivity"
COLUMNS = ("cma_cst_key", "cma_eml_address", "cma_activity_date", "cma_activity_id", "cma_message_id",
           "cma_recipient_id", "cma_activity_code", "cma_activity_subcode")
XWEB_DATE = "%m/%d/%Y %H:%M:%S.%f"  # cma_activity_date as the sample and the bulk benchmark send it
SAP_PATH = "/sap/bc/srt/scs/sap/managecampaigninboundin"
CRMCOM_BULK_PATH = "/crmapi/rest/v2/customer_events/bulk/web/create"
SEED_PATH = "/_emulator/seed"
ENVIRONMENT = "XWEB_STACK_LIMIT_DATABASE_URL"  # how the server's workers learn the database
POSTGRESQL_SCHEMA = "stack_limit"

# The emulator's tables the bulk calls write, and those they read to name the rows they write.
TABLES = tuple(model.__table__ for model in (
    CustomerMessagingActivity,
    Customer, ContactPerson, Campaign, CampaignOutbound,
    AccountsReceivable, Unit, NumberSequence, WebCustomerEvent,
))
TOKEN_TABLE = ("CREATE TABLE limit_token (token VARCHAR(36) PRIMARY KEY, user_name VARCHAR(64) NOT NULL, "
               "expires_at TIMESTAMP NOT NULL)")

INSERT_ACTIVITY = (
    f"INSERT INTO co_customer_messaging_activity (cma_key, {', '.join(COLUMNS)}, cma_add_user, cma_add_date, "
    f"cma_change_user, cma_change_date, cma_delete_flag) VALUES ({', '.join(['%s'] * (len(COLUMNS) + 6))})")
CHANGE_CAMPAIGN = "UPDATE sap_campaign SET change_state_id = %s WHERE id = %s RETURNING uuid"
CAMPAIGN_OUTBOUNDS = (
    "SELECT customer.internal_id, contact_person.internal_id, outbound.uuid FROM sap_campaign_outbound outbound "
    "JOIN sap_customer customer ON customer.uuid = outbound.customer_uuid "
    "LEFT JOIN sap_contact_person contact_person ON contact_person.uuid = outbound.contact_person_uuid "
    "WHERE outbound.campaign_uuid = %s")
RECORD_BOUNCE = ("UPDATE sap_campaign_outbound SET mail_system_error_code = %s, "
                 "communication_data_usage_denied_indicator = %s, outbound_communication_status_code = %s, "
                 "changed_at = %s WHERE uuid = %s")
FAILED = "3"  # the outbound communication status a bounce of a 4.x.x or 5.x.x code sets
TAKE_NUMBERS = "UPDATE crmcom_number_sequence SET last_value = last_value + %s WHERE name = %s RETURNING last_value"
SELECT_ACCOUNT = "SELECT id FROM crmcom_accounts_receivable WHERE number = %s"
SELECT_UNIT = "SELECT id FROM crmcom_unit WHERE name = %s"
INSERT_EVENT = ("INSERT INTO crmcom_web_customer_event (id, number, life_cycle_state, accounts_receivable_id, "
                "performed_by_unit_id, performed_on, website, created_date, created_by_user) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)")
POSTED = "POSTED"
SELECT_TOKEN = "SELECT user_name, expires_at FROM limit_token WHERE token = %s"
SELECT_USER = "SELECT 1 FROM limit_token WHERE user_name = %s"
USER = "demo"  # the token's user, and SAP's communication user (Basic demo:demo, as bench/run.py sends)


def schema(sqlite: bool) -> list[str]:
    """The DDL of TABLES for the database, each table dropped where it is and created anew with its indexes. On
    PostgreSQL without foreign key constraints: the tables they refer to are not made (see the module's docstring)."""
    dialect = sqlite_dialect.dialect() if sqlite else postgresql.psycopg.dialect()
    statements = ["DROP TABLE IF EXISTS limit_token", TOKEN_TABLE]
    for table in TABLES:
        statements.append(DropTable(table, if_exists=True))
        statements.append(CreateTable(table, include_foreign_key_constraints=None if sqlite else ()))
        statements += [CreateIndex(index) for index in table.indexes]
    return [statement if isinstance(statement, str) else str(statement.compile(dialect=dialect))
            for statement in statements]


def utcnow() -> datetime:
    """Now as the emulator stores it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


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

                connection = psycopg.connect(self.url, options=f"-c search_path={POSTGRESQL_SCHEMA}")
            self._local.connection = connection
        return connection

    def statement(self, text: str) -> str:
        return text.replace("%s", "?") if self.sqlite else text

    def stored_uuid(self, value: uuid.UUID) -> object:
        """A UUID as a Uuid column holds it: SQLite 32 hex digits (CHAR(32)), PostgreSQL uuid."""
        return value.hex if self.sqlite else value

    def stored_time(self, value: datetime) -> object:
        """A datetime as a DateTime column holds it: SQLite the text SQLAlchemy writes, PostgreSQL timestamp."""
        return value.isoformat(" ", "microseconds") if self.sqlite else value

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

    def first(self, cursor, text: str, *parameters: object) -> tuple | None:
        cursor.execute(self.statement(text), parameters)
        return cursor.fetchone()

    def token_user(self, cursor, token: str | None) -> str | None:
        """The user of `token`, None where it is unknown or expired."""
        row = self.first(cursor, SELECT_TOKEN, token)
        if row is None:
            return None
        user, expires_at = row
        expires_at = datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else expires_at
        return user if expires_at > datetime.now() else None


def prepare(url: str) -> str:
    """Create the tables anew (schema()), and seed a token good for a day and the accounts receivable and unit the
    bulk benchmark's CRM.COM events name; answer the token."""
    store = Store(url)
    token = str(uuid.uuid4())

    def work(cursor) -> None:
        if not store.sqlite:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {POSTGRESQL_SCHEMA}")
        for statement in schema(store.sqlite):
            cursor.execute(statement)
        cursor.execute(store.statement("INSERT INTO limit_token VALUES (%s, %s, %s)"),
                       (token, USER, (datetime.now() + timedelta(days=1)).isoformat(sep=" ")))
        cursor.executemany(store.statement("INSERT INTO crmcom_accounts_receivable VALUES (%s, %s, %s)"),
                           [(new_id(), number, f"Bench account {number}") for number in common.CRMCOM_ACCOUNTS])
        cursor.execute(store.statement("INSERT INTO crmcom_unit VALUES (%s, %s, NULL)"), (new_id(), common.CRMCOM_UNIT))
        cursor.execute(store.statement("INSERT INTO crmcom_number_sequence VALUES (%s, 0)"),
                       (WEB_CUSTOMER_EVENT_NUMBERS,))

    store.transaction(work)
    store._connection().close()
    return token


def new_id() -> str:
    """A CRM.COM id: 32 upper-case hex digits."""
    return uuid.uuid4().hex.upper()


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
            records = []
            for record in oNode.iterfind(record_path):
                values: list = [uuid.uuid4()] + [None] * len(COLUMNS)
                for child in record:
                    index = tags.get(child.tag)
                    if index is not None:
                        values[index] = child.text
                records.append(values)
            if store is not None:
                token = ctx.in_header.Token if ctx.in_header is not None else None

                def work(cursor) -> None:
                    user = store.token_user(cursor, token)
                    if user is None:
                        raise InvalidToken()
                    now = store.stored_time(utcnow())
                    # Each distinct text converted once, as the emulator reads a call's values (a thousand records
                    # of one customer on one date: one UUID and one date to read).
                    customers = {text: store.stored_uuid(uuid.UUID(text)) for text in {values[1] for values in records}}
                    dates = {text: store.stored_time(datetime.strptime(text, XWEB_DATE))
                             for text in {values[3] for values in records}}
                    cursor.executemany(store.statement(INSERT_ACTIVITY), [
                        (store.stored_uuid(key), customers[customer], address, dates[date], *texts, user, now, user,
                         now, 0)
                        for key, customer, address, date, *texts in records])

                try:
                    store.transaction(work)
                except InvalidToken:
                    raise Fault("Server", "Failed to validate the authentication token.") from None
            ctx.out_header = ctx.in_header
            objects = etree.Element(f"{{{XWEB}}}{OBJECT}Objects", recordReturn=str(len(records)))
            for values in records:
                etree.SubElement(etree.SubElement(objects, record_path), f"{{{XWEB}}}cma_key").text = str(values[0])
            return objects

    return WsgiApplication(Application([Limit], XWEB, in_protocol=Soap11(), out_protocol=Soap11()))


class StackLimit:
    """The WSGI application: InsertFacadeObject through spyne; SAP's bounce bundle and CRM.COM's bulk create (the
    bulk benchmark's other calls) read with lxml and json and written by executemany; the SAP records the bounces
    are recorded on seeded as bench/run.py seeds the emulator's."""

    def __init__(self, url: str) -> None:
        self.store = Store(url)
        self.soap = soap_application(self.store)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == SAP_PATH:
            return self.sap_bounces(environ, start_response)
        if path == CRMCOM_BULK_PATH:
            return self.crmcom_events(environ, start_response)
        if path == SEED_PATH:
            return self.seed(environ, start_response)
        return self.soap(environ, start_response)

    def sap_bounces(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """MaintainFailedDeliveryStatusBundle: each Outbound's bounce recorded on its campaign outbound, the
        campaign's change state moved (see the module's docstring)."""
        envelope = etree.fromstring(_body(environ))
        campaign = envelope.find(".//Campaign")
        campaign_id = campaign.findtext("ID")
        bounces = [(outbound.findtext("CustomerInternalID"), outbound.findtext("ContactPersonInternalID"),
                    outbound.findtext("MailSystemErrorCode"),
                    outbound.findtext("CommunicationDataUsageDeniedIndicator") == "true")
                   for outbound in campaign.iterfind("Outbound")]
        user = base64.b64decode(environ.get("HTTP_AUTHORIZATION", "").removeprefix("Basic ")).split(b":")[0].decode()
        now = utcnow()
        change_state_id = now.strftime("%Y%m%d%H%M%S.%f") + "0"  # as a tenant writes it

        def work(cursor) -> None:
            if self.store.first(cursor, SELECT_USER, user) is None:  # the communication user, one SELECT
                raise InvalidToken()
            (campaign_uuid,) = self.store.first(cursor, CHANGE_CAMPAIGN, change_state_id, campaign_id)
            cursor.execute(self.store.statement(CAMPAIGN_OUTBOUNDS), (campaign_uuid,))
            outbounds = {(customer, contact_person): key for customer, contact_person, key in cursor.fetchall()}
            changed_at = self.store.stored_time(now)
            cursor.executemany(self.store.statement(RECORD_BOUNCE), [
                (code, denied, FAILED, changed_at, outbounds[customer, contact_person])
                for customer, contact_person, code, denied in bounces])

        try:
            self.store.transaction(work)
        except InvalidToken:
            return _answer(start_response, b"unknown user", "text/plain", "401 Unauthorized")
        answer = (f"<Confirmation><Campaign><ChangeStateID>{change_state_id}</ChangeStateID><ID>{campaign_id}</ID>"
                  "</Campaign><Log><MaximumLogItemSeverityCode>1</MaximumLogItemSeverityCode></Log>"
                  "</Confirmation>").encode()
        return _answer(start_response, answer, "text/xml")

    def crmcom_events(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """The bulk create: a row per web customer event (see the module's docstring), under one SELECT of the
        token."""
        request = json.loads(_body(environ))
        events = request["web_customer_events_set"]
        ids = [new_id() for _ in events]

        def work(cursor) -> list[int]:
            user = self.store.token_user(cursor, request.get("token"))
            if user is None:
                raise InvalidToken()
            (last,) = self.store.first(cursor, TAKE_NUMBERS, len(events), WEB_CUSTOMER_EVENT_NUMBERS)
            numbers = range(last - len(events) + 1, last + 1)
            accounts = {number: self.store.first(cursor, SELECT_ACCOUNT, number)[0] for number in
                        {event["accounts_receivable_identifier"]["number"] for event in events}}
            units = {name: self.store.first(cursor, SELECT_UNIT, name)[0] for name in
                     {event["performed_by_unit_identifier"]["name"] for event in events}}
            now = self.store.stored_time(utcnow())
            cursor.executemany(self.store.statement(INSERT_EVENT), [
                (id_, number, POSTED, accounts[event["accounts_receivable_identifier"]["number"]],
                 units[event["performed_by_unit_identifier"]["name"]],
                 self.store.stored_time(datetime.fromisoformat(event["performed_on"])), event["website"], now, user)
                for id_, number, event in zip(ids, numbers, events, strict=True)])
            return numbers

        try:
            numbers = self.store.transaction(work)
        except InvalidToken:
            return _answer(start_response, b'{"error": "invalid token"}', "application/json", "401 Unauthorized")
        answer = json.dumps({"data": {"processed_customer_events_set": [
            {"number": str(number), "id": id_, "request_unique_identifier": event.get("request_unique_identifier")}
            for number, id_, event in zip(numbers, ids, events, strict=True)]}}).encode()
        return _answer(start_response, answer, "application/json")

    def seed(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """The "sap" part of the document bench/run.py seeds the emulator with (/_emulator/seed, run.py sap_seed):
        its accounts, contact persons and campaigns with their outbounds inserted as given, the other columns as the
        emulator's seed fills them (a campaign active, an outbound sent and not denied). Not measured."""
        sap = json.loads(_body(environ))["sap"]
        stored = self.store.stored_uuid
        customers = {record["InternalID"]: uuid.uuid4() for record in sap.get("Customer", [])}
        contact_persons = {record["InternalID"]: uuid.uuid4() for record in sap.get("ContactPerson", [])}
        campaigns = [(uuid.uuid4(), record) for record in sap.get("Campaign", [])]
        change_state_id = utcnow().strftime("%Y%m%d%H%M%S.%f") + "0"

        def work(cursor) -> None:
            cursor.executemany(self.store.statement(
                "INSERT INTO sap_customer (uuid, internal_id, name) VALUES (%s, %s, %s)"),
                [(stored(customers[record["InternalID"]]), record["InternalID"], record.get("Name"))
                 for record in sap.get("Customer", [])])
            cursor.executemany(self.store.statement(
                "INSERT INTO sap_contact_person (uuid, internal_id, customer_uuid, name) VALUES (%s, %s, %s, %s)"),
                [(stored(contact_persons[record["InternalID"]]), record["InternalID"],
                  stored(customers[record["CustomerInternalID"]]), record.get("Name"))
                 for record in sap.get("ContactPerson", [])])
            cursor.executemany(self.store.statement(
                "INSERT INTO sap_campaign (uuid, id, name, execution_type_code, life_cycle_status_code, "
                "change_state_id) VALUES (%s, %s, %s, %s, '2', %s)"),
                [(stored(key), record["ID"], record.get("Name"), record.get("ExecutionTypeCode", "7"),
                  change_state_id) for key, record in campaigns])
            cursor.executemany(self.store.statement(
                "INSERT INTO sap_campaign_outbound (uuid, campaign_uuid, customer_uuid, contact_person_uuid, "
                "communication_data_usage_denied_indicator, outbound_communication_status_code) "
                "VALUES (%s, %s, %s, %s, %s, '2')"),
                [(stored(uuid.uuid4()), stored(key), stored(customers[outbound["CustomerInternalID"]]),
                  stored(contact_persons[outbound["ContactPersonInternalID"]])
                  if "ContactPersonInternalID" in outbound else None, False)
                 for key, record in campaigns for outbound in record.get("Outbound", [])])

        self.store.transaction(work)
        return _answer(start_response, b"{}", "application/json")


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
