"""The request journal: every vendor call with when, what, who, how it ended and how long it took, with the request
and response bodies up to a size cap. It shows the newest `limit` calls.

An entry is written in the call's own transaction, so it is there exactly when the call's effects are. Older entries
are deleted in batches, not on every call: the journal's readers see only the newest `limit` ids, so what a batch has
not deleted yet is never shown.
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
PRUNE_EVERY = 128
"""Entries written between two deletions of the old ones (ids only grow, so the id tells when a batch is due)."""

_COLUMNS = ("at", "vendor", "operation", "user_name", "outcome", "status", "duration_ms", "method", "path",
            "client_address", "fault_rule_id", "request_body", "request_truncated", "response_body",
            "response_truncated")
_INSERT = Prepared(insert(JournalEntry).returning(JournalEntry.id), keys=_COLUMNS)
_PRUNE = delete(JournalEntry).where(JournalEntry.id <= bindparam("oldest_gone"))


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


def record(connection: Connection, entry: Entry, *, limit: int, body_bytes: int) -> None:
    request_body, request_truncated = _capped(entry.request_body, body_bytes)
    response_body, response_truncated = _capped(entry.response_body, body_bytes)
    (entry_id,) = _INSERT.first(connection, {
        # Capped to the columns' lengths (PostgreSQL refuses longer text): a client chooses what names its call.
        "at": entry.at, "vendor": entry.vendor[:32], "operation": _cut(entry.operation, 128),
        "user_name": _cut(entry.user, 255), "outcome": entry.outcome[:64], "status": entry.status,
        "duration_ms": round(entry.duration_ms, 3), "method": entry.method[:16], "path": _text(entry.path)[:2048],
        "client_address": _cut(entry.client_address, 64),
        "fault_rule_id": entry.fault_rule_id, "request_body": request_body, "request_truncated": request_truncated,
        "response_body": response_body, "response_truncated": response_truncated,
    })
    # Two calls' deletions at once (PostgreSQL, under load) would each wait for rows the other deleted first: one
    # of them deadlocked and failed its call. The later one leaves it to the next batch.
    if entry_id % PRUNE_EVERY == 0 and turn_taken(connection, "journal pruning"):
        connection.execute(_PRUNE, {"oldest_gone": entry_id - limit})


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
_SIGN_ON_NAMES = rb"passwordPlain|oldPassword|newPassword|cst_new_password|cst_new_password_confirm|" \
                 rb"authenticationToken|WebLoginResult|ind_token"
_SIGN_ON_ELEMENT = re.compile(rb"(<(?:[\w.-]+:)?(?:" + _SIGN_ON_NAMES + rb")\b[^>]*(?<!/)>)(.*?)(</(?:[\w.-]+:)?(?:"
                              + _SIGN_ON_NAMES + rb")\s*>)", re.IGNORECASE | re.DOTALL)
_SIGN_ON_MEMBER = re.compile(rb'("(?:' + _SIGN_ON_NAMES + rb')"\s*:\s*)"(?:\\.|[^"\\])*"', re.IGNORECASE)
_SIGN_ON_MARK = re.compile(_SIGN_ON_NAMES, re.IGNORECASE)
_SIGN_ON_MARKS = (b"oken", b"OKEN", b"assword", b"ASSWORD", b"ebLoginResult", b"EBLOGINRESULT")
# The names as plain substrings of a body in lower case: what _SIGN_ON_MARK finds, at a tenth of its time in a body
# that holds none (a CRM.COM bulk call of 200 kB, its "token" passing the marks: 10 ms by the regex).
_SIGN_ON_LOWER = tuple(_SIGN_ON_NAMES.lower().split(b"|"))
# A form's or query string's (ASMX's HTTP bindings, eWeb's sign-on page).
_SECRET_FIELD = re.compile(rb"((?:^|[?&])(?:password|" + _SIGN_ON_NAMES + rb")=)[^&]*", re.IGNORECASE)


MASK = b"***"
"""What the journal keeps of a secret."""


def masked(body: bytes) -> bytes:
    """A request or answer body as the journal keeps it: any password in it (xWeb Authenticate's password element, a
    JSON "password" member such as CRM.COM's login or JSON Authenticate, a form's password field) and any sign-on
    secret replaced by ***."""
    # Looked for by plain substrings first: an answer may be tens of MB (GetQuery), which a regex would crawl.
    if any(mark in body for mark in _SIGN_ON_MARKS) and _holds_sign_on_name(body):
        body = _SIGN_ON_ELEMENT.sub(rb"\1***\3", body)
        body = _SIGN_ON_MEMBER.sub(rb'\1"***"', body)
        body = _SECRET_FIELD.sub(rb"\1***", body)
    if b"assword" not in body and b"ASSWORD" not in body:
        return body
    body = _PASSWORD_ELEMENT.sub(rb"\1***\3", body)
    body = _SECRET_FIELD.sub(rb"\1***", body)
    return _PASSWORD_MEMBER.sub(rb'\1"***"', body)


def _holds_sign_on_name(body: bytes) -> bool:
    lowered = body.lower()  # ASCII only, as _SIGN_ON_MARK's IGNORECASE on bytes
    return any(name in lowered for name in _SIGN_ON_LOWER)


def masked_path(path: str) -> str:
    return _SECRET_FIELD.sub(rb"\1***", path.encode()).decode() if _SIGN_ON_MARK.search(path.encode()) or (
        "assword" in path.lower()) else path


def with_password(body: str, password: str) -> str:
    """A journalled body with the mask replaced by `password`: what a replay of the call sends."""
    body = _PASSWORD_ELEMENT.sub(lambda match: match.group(1) + escape(password).encode() + match.group(3),
                                 body.encode()).decode()
    body = _PASSWORD_FORM_FIELD.sub(lambda match: match.group(1) + quote_plus(password).encode(), body.encode()).decode()
    return _PASSWORD_MEMBER.sub(lambda match: match.group(1) + json.dumps(password).encode(), body.encode()).decode()


def _capped(body: bytes, limit: int) -> tuple[str, bool]:
    # As text every database stores: what is no UTF-8, and NUL (which PostgreSQL's text refuses), shown as U+FFFD.
    return body[:limit].decode("utf-8", errors="replace").replace("\x00", "\ufffd"), len(body) > limit
