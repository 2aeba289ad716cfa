"""The request journal: every vendor call with when, what, who, how it ended and how long it took, with the request
and response bodies up to a size cap. It shows the newest `limit` calls.

An entry is written in the call's own transaction, so it is there exactly when the call's effects are. Older entries
are deleted beside the calls, every PRUNE_SECONDS (prune): the journal's readers see only the newest `limit` ids, so
what is not deleted yet is never shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus
from xml.sax.saxutils import escape

from sqlalchemy import ColumnElement, Connection, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from xweb_emulator.db import Prepared, turn_taken
from xweb_emulator.models import JournalEntry

FILTERS = ("vendor", "operation", "outcome")
PRUNE_SECONDS = 1.0
"""How often a serving process deletes the entries the journal no longer shows (prune)."""

_COLUMNS = ("at", "vendor", "operation", "user_name", "outcome", "status", "duration_ms", "method", "path",
            "client_address", "fault_rule_id", "request_body", "request_truncated", "response_body",
            "response_truncated")
# RETURNING declared: PostgreSQL's dialect would add it anyway (the id its sequence gave), and the cursor's row is
# then read as the statement's. The id itself is not used.
_INSERT = Prepared(insert(JournalEntry).returning(JournalEntry.id), keys=_COLUMNS)
_PRUNE = delete(JournalEntry).where(JournalEntry.id <= select(func.max(JournalEntry.id)).scalar_subquery()
                                    - bindparam("limit"))


@dataclass(frozen=True)
class Entry:
    at: datetime
    vendor: str
    operation: str | None
    user: str | None
    outcome: str
    status: int
    duration_ms: float
    method: str
    path: str
    client_address: str | None
    fault_rule_id: int | None
    request_body: bytes
    response_body: bytes


def record(connection: Connection, entry: Entry, *, body_bytes: int) -> None:
    """The call's entry, with what the journal keeps of its bodies (kept): `body_bytes` of each."""
    request_body, request_truncated = kept(entry.request_body, body_bytes)
    response_body, response_truncated = kept(entry.response_body, body_bytes)
    _INSERT.rows(connection, {
        # Capped to the columns' lengths (PostgreSQL refuses longer text): a client chooses what names its call.
        "at": entry.at, "vendor": entry.vendor[:32], "operation": _cut(entry.operation, 128),
        "user_name": _cut(entry.user, 255), "outcome": entry.outcome[:64], "status": entry.status,
        "duration_ms": round(entry.duration_ms, 3), "method": entry.method[:16], "path": _text(entry.path)[:2048],
        "client_address": _cut(entry.client_address, 64),
        "fault_rule_id": entry.fault_rule_id, "request_body": request_body, "request_truncated": request_truncated,
        "response_body": response_body, "response_truncated": response_truncated,
    })


def prune(connection: Connection, *, limit: int) -> None:
    """Delete the entries the journal no longer shows (all but the newest `limit`): run beside the calls (the pipeline
    has each serving process do it every PRUNE_SECONDS), never on a call's path, where a deletion took 1 ms and at
    times 20 (SQLite, 128 entries of the sample's size)."""
    # Two deletions at once (PostgreSQL: workers, replicas) would each wait for rows the other deleted first, and
    # deadlock: one goes on, the others leave it to their next turn.
    if turn_taken(connection, "journal pruning"):
        connection.execute(_PRUNE, {"limit": limit})


def shown(limit: int) -> ColumnElement[bool]:
    """The entries the journal shows: the newest `limit`."""
    return JournalEntry.id > select(func.max(JournalEntry.id)).scalar_subquery() - limit


def entries(session: Session, filters: Mapping[str, str], *, limit: int, after_id: int | None = None,
            before_id: int | None = None, count: int | None = None, newest_first: bool = False) -> list[JournalEntry]:
    """The newest `limit` calls in the order they arrived (or newest first), filtered (without regard to case);
    at most `count`."""
    statement = select(JournalEntry).where(shown(limit)).order_by(
        JournalEntry.id.desc() if newest_first else JournalEntry.id)
    for name, value in filters.items():
        statement = statement.where(func.lower(getattr(JournalEntry, name)) == value.lower())
    if after_id is not None:
        statement = statement.where(JournalEntry.id > after_id)
    if before_id is not None:
        statement = statement.where(JournalEntry.id < before_id)
    if count is not None:
        statement = statement.limit(count)
    return list(session.scalars(statement))


def entry(session: Session, entry_id: int, *, limit: int) -> JournalEntry | None:
    newest = session.scalar(select(func.max(JournalEntry.id)))
    if newest is None or entry_id <= newest - limit:
        return None
    return session.get(JournalEntry, entry_id)


def clear(session: Session) -> None:
    session.execute(delete(JournalEntry))


def as_json(entry: JournalEntry) -> dict:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(timespec="milliseconds") + "Z",
        "vendor": entry.vendor,
        "operation": entry.operation,
        "user": entry.user_name,
        "outcome": entry.outcome,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "method": entry.method,
        "path": entry.path,
        "client_address": entry.client_address,
        "fault_rule_id": entry.fault_rule_id,
        "request": {"body": entry.request_body, "truncated": entry.request_truncated},
        "response": {"body": entry.response_body, "truncated": entry.response_truncated},
    }


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else _text(value)[:length]


def _text(value: str) -> str:
    """Text every database stores: no lone surrogates, no NUL."""
    return value.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "\ufffd")


_PASSWORD_ELEMENT = re.compile(rb"(<(?:[\w.-]+:)?password\b[^>]*(?<!/)>)(.*?)(</(?:[\w.-]+:)?password\s*>)",
                               re.IGNORECASE | re.DOTALL)
_PASSWORD_MEMBER = re.compile(rb'("password"\s*:\s*)"(?:\\.|[^"\\])*"', re.IGNORECASE)
_PASSWORD_FORM_FIELD = re.compile(rb"((?:^|&)password=)[^&]*", re.IGNORECASE)


# Sign-on secrets (xWeb's web users): the passwords of WebLogin and WEBWebUser*, and the sign-on tokens they issue
# and WebValidate, WebLogout and WEBWebUserValidateToken take; masked as passwords are, in requests and answers.
_SIGN_ON_NAMES = (b"passwordPlain", b"oldPassword", b"newPassword", b"cst_new_password", b"cst_new_password_confirm",
                  b"authenticationToken", b"WebLoginResult", b"ind_token")
_SIGN_ON_NAME = b"|".join(_SIGN_ON_NAMES)
_SIGN_ON_ELEMENT = re.compile(rb"(<(?:[\w.-]+:)?(?:" + _SIGN_ON_NAME + rb")\b[^>]*(?<!/)>)(.*?)(</(?:[\w.-]+:)?(?:"
                              + _SIGN_ON_NAME + rb")\s*>)", re.IGNORECASE | re.DOTALL)
_SIGN_ON_MEMBER = re.compile(rb'("(?:' + _SIGN_ON_NAME + rb')"\s*:\s*)"(?:\\.|[^"\\])*"', re.IGNORECASE)
_SECRET_NAME = rb"(?:password|" + _SIGN_ON_NAME + rb")"
# A form's or query string's (ASMX's HTTP bindings, eWeb's sign-on page).
_SECRET_FIELD = re.compile(rb"((?:^|[?&])" + _SECRET_NAME + rb"=)[^&]*", re.IGNORECASE)
# A secret that the end of a kept part of a body cuts through (kept): its element or JSON string still open at the
# end, masked to it. (A form field's value runs to the end anyway.)
_OPEN_SECRET_ELEMENT = re.compile(rb"(<(?:[\w.-]+:)?" + _SECRET_NAME + rb"\b[^>]*(?<!/)>)(?:(?!</(?:[\w.-]+:)?"
                                  + _SECRET_NAME + rb"\s*>).)*\Z", re.IGNORECASE | re.DOTALL)
_OPEN_SECRET_MEMBER = re.compile(rb'("' + _SECRET_NAME + rb'"\s*:\s*)"(?:\\.|[^"\\])*\\?\Z', re.IGNORECASE)
# What every secret's name holds, looked for as plain substrings of the lower-cased body: a case-blind regex search
# crawls (some 100 µs a kilobyte), and an answer may be tens of MB (GetQuery).
_SECRET_MARKS = (b"password", b"authenticationtoken", b"webloginresult", b"ind_token")


MASK = b"***"
"""What the journal keeps of a secret."""


def masked(body: bytes, *, cut: bool = False) -> bytes:
    """A request or answer body as the journal keeps it: any password in it (xWeb Authenticate's password element, a
    JSON "password" member such as CRM.COM's login or JSON Authenticate, a form's password field) and any sign-on
    secret replaced by ***. With `cut`, `body` is the beginning of a longer one: a secret it ends in is masked too."""
    if not _holds_secret(body):
        return body
    body = _SIGN_ON_ELEMENT.sub(rb"\1***\3", body)
    body = _SIGN_ON_MEMBER.sub(rb'\1"***"', body)
    body = _PASSWORD_ELEMENT.sub(rb"\1***\3", body)
    body = _SECRET_FIELD.sub(rb"\1***", body)
    body = _PASSWORD_MEMBER.sub(rb'\1"***"', body)
    if cut:
        body = _OPEN_SECRET_ELEMENT.sub(rb"\1***", body)
        body = _OPEN_SECRET_MEMBER.sub(rb'\1"***', body)
    return body


def kept(body: bytes, limit: int) -> tuple[str, bool]:
    """What the journal keeps of a body: its first `limit` bytes with their secrets masked (masked), as text every
    database stores (what is no UTF-8, and NUL, which PostgreSQL's text refuses, shown as U+FFFD); and whether the
    body was longer. Only the kept bytes are looked at: a bulk call's 300 kB request masked whole, to keep 64 kB of
    it, took a millisecond (and a GetQuery answer of megabytes, milliseconds for every one)."""
    cut = len(body) > limit
    text = masked(body[:limit], cut=True)[:limit] if cut else masked(body)  # a mask is longer than a secret's start
    return text.decode("utf-8", errors="replace").replace("\x00", "\ufffd"), cut


def masked_path(path: str) -> str:
    encoded = path.encode()
    return _SECRET_FIELD.sub(rb"\1***", encoded).decode() if _holds_secret(encoded) else path


def _holds_secret(text: bytes) -> bool:
    lowered = text.lower()
    return any(mark in lowered for mark in _SECRET_MARKS)


def with_password(body: str, password: str) -> str:
    """A journalled body with the mask replaced by `password`: what a replay of the call sends."""
    body = _PASSWORD_ELEMENT.sub(lambda match: match.group(1) + escape(password).encode() + match.group(3),
                                 body.encode()).decode()
    body = _PASSWORD_FORM_FIELD.sub(lambda match: match.group(1) + quote_plus(password).encode(), body.encode()).decode()
    return _PASSWORD_MEMBER.sub(lambda match: match.group(1) + json.dumps(password).encode(), body.encode()).decode()
