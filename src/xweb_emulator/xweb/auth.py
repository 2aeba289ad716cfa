"""xWeb authentication as a tenant's web.config sets it: users, GUID tokens, expiration policy, lock-out.

Tokens and failure counts live in the database, so every worker and replica sees the same ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial

from sqlalchemy import Connection, bindparam, case, delete, insert, select, update
from sqlalchemy.orm import Session

from xweb_emulator.db import Prepared, upsert
from xweb_emulator.settings import Settings
from xweb_emulator.xweb.errors import InvalidCredentials, InvalidToken, LockedCredentials
from xweb_emulator.xweb.models import AuthenticationFailures, AuthenticationToken, XWebUser

ABSOLUTE, SLIDING = "Absolute", "Sliding"


@dataclass(frozen=True)
class TokenPolicy:
    expiration: str = ABSOLUTE
    timeout: timedelta = timedelta(minutes=20)
    fail_count: int = 25  # -1: no lock-out
    lockout: timedelta = timedelta(hours=1)


@lru_cache(maxsize=8)
def policy(settings: Settings) -> TokenPolicy:
    """The tenant's web.config, as the settings give it."""
    return TokenPolicy(
        expiration=settings.xweb_token_expiration,
        timeout=timedelta(minutes=settings.xweb_token_timeout_minutes),
        fail_count=settings.xweb_fail_count,
        lockout=timedelta(hours=settings.xweb_lockout_hours),
    )


@dataclass(frozen=True)
class Credentials:
    """What a call authenticates with: a token (SOAP header, JSON Bearer) or a user and password (JSON Basic)."""

    token: str | None = None
    basic: tuple[str, str] | None = None
    required: bool = True
    """Whether the operation, on the wire it came by, needs them (SOAP: not for Authenticate, GetDateTime and
    TestConnection; JSON: for every method but Authenticate)."""


_KEPT = AuthenticationFailures.__table__.c.user_name.type.length  # what the failure counts' key columns hold

# Built once: these run on nearly every call.
_TOKEN = Prepared(select(AuthenticationToken.user_name, AuthenticationToken.expires_at).where(
    AuthenticationToken.token == bindparam("token")))
_INSERT_TOKEN = insert(AuthenticationToken)
_DELETE_TOKEN = delete(AuthenticationToken).where(AuthenticationToken.token == bindparam("token"))


def authenticate(
    session: Session, policy: TokenPolicy, user_name: str, password: str, client_address: str, now: datetime
) -> uuid.UUID:
    """A token for a user whose password is right. Each attempt is counted before its password is checked, in one
    atomic statement, so that N parallel guesses check at most `fail_count` passwords before the lock-out; on
    PostgreSQL the count is committed at once (a transaction of its own), so that concurrent calls see it."""
    # Counted per user name and client address as far as the columns hold them (no user's name is longer).
    user_name_kept, client_kept = user_name[:_KEPT], client_address[:_KEPT]
    attempts, locked_until = _count_attempt(session, user_name_kept, client_kept, now)
    if locked_until is not None and locked_until > now:
        raise LockedCredentials("Credentials Locked Out")
    if policy.fail_count > 0 and attempts > policy.fail_count:
        # Earlier attempts still being checked have used up the count: as if they had failed already.
        raise LockedCredentials("Credentials Locked Out")
    user = session.get(XWebUser, user_name)
    if user is None or user.password != password:
        raise InvalidCredentials(
            "Invalid Credentials Supplied",
            after_rollback=partial(_count_failure, policy=policy, user_name=user_name_kept,
                                   client_address=client_kept, now=now),
        )
    forget_failures(session, user_name, client_address)
    session.execute(delete(AuthenticationToken).where(AuthenticationToken.expires_at <= now))
    return _issue(session.connection(), policy, user_name, now)


def forget_failures(bind: Connection | Session, user_name: str, client_address: str) -> None:
    """A login that succeeded: the user's failed attempts from that address are forgotten."""
    bind.execute(delete(AuthenticationFailures).where(AuthenticationFailures.user_name == user_name[:_KEPT],
                                                      AuthenticationFailures.client_address == client_address[:_KEPT]))


def _attempt_statement(bind, user_name: str, client_address: str, now: datetime):
    """Count one attempt: a fresh count where none is kept or a lock-out has passed, else one more."""
    table = AuthenticationFailures.__table__
    lapsed = table.c.locked_until.is_not(None) & (table.c.locked_until <= now)
    return upsert(bind, table).values(
        user_name=user_name, client_address=client_address, failures=1, locked_until=None,
    ).on_conflict_do_update(
        index_elements=[table.c.user_name, table.c.client_address],
        set_={"failures": case((lapsed, 1), else_=table.c.failures + 1),
              "locked_until": case((lapsed, None), else_=table.c.locked_until)},
    ).returning(table.c.failures, table.c.locked_until)


def _count_attempt(session: Session, user_name: str, client_address: str, now: datetime) -> tuple[int, datetime | None]:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # SQLite: writers take turns, so the call's own transaction is alone; a failure is counted again once the
        # call's writes are rolled back (_count_failure).
        return tuple(connection.execute(_attempt_statement(connection, user_name, client_address, now)).one())
    with connection.engine.begin() as own:
        return tuple(own.execute(_attempt_statement(own, user_name, client_address, now)).one())


def _count_failure(session: Session, *, policy: TokenPolicy, user_name: str, client_address: str,
                   now: datetime) -> None:
    """After a wrong password, once the call's writes are rolled back: the attempt counted (again, where it was
    counted in the call's own transaction), and the lock-out once the count is reached."""
    connection = session.connection()
    table = AuthenticationFailures.__table__
    if connection.dialect.name == "postgresql":
        failures = connection.execute(select(table.c.failures).where(
            table.c.user_name == user_name, table.c.client_address == client_address)).scalar()
    else:
        failures, _ = connection.execute(_attempt_statement(connection, user_name, client_address, now)).one()
    if failures is not None and policy.fail_count >= 0 and failures >= policy.fail_count:
        connection.execute(update(table).where(
            table.c.user_name == user_name, table.c.client_address == client_address,
            table.c.locked_until.is_(None)).values(locked_until=now + policy.lockout))


def check_token(connection: Connection, token_text: str | None, now: datetime) -> tuple[uuid.UUID, str]:
    """The live token a call presents, and its user."""
    if token_text is None or not token_text.strip():
        raise InvalidToken("Failed to validate the authentication token: no token was supplied.")
    try:
        key = uuid.UUID(token_text.strip().strip("{}"))
    except ValueError:
        # A value that is no token at all (typically AuthenticateResult's namespace URI, read from the body by
        # mistake): live tenants answer "Locked" to every such call.
        raise InvalidToken("Locked") from None
    found = _TOKEN.first(connection, {"token": key})
    if found is None or found[1] <= now:
        raise InvalidToken("Failed to validate the authentication token: it has expired or is not valid.")
    return key, found[0]


def answer_token(connection: Connection, policy: TokenPolicy, token: uuid.UUID, user_name: str,
                 now: datetime) -> uuid.UUID:
    """The token a successful call answers with: the same one (Absolute), or its replacement (Sliding)."""
    if policy.expiration != SLIDING:
        return token
    connection.execute(_DELETE_TOKEN, {"token": token})
    return _issue(connection, policy, user_name, now)


def invalidate(connection: Connection, token_text: str | None) -> None:
    key = _token_key(token_text)
    if key is not None:
        connection.execute(_DELETE_TOKEN, {"token": key})


def token_user(connection: Connection, token_text: str | None) -> str | None:
    """Whom a token was issued to, live or not; None for a token the emulator did not issue (or holds no more)."""
    key = _token_key(token_text)
    found = _TOKEN.first(connection, {"token": key}) if key is not None else None
    return found[0] if found is not None else None


def _token_key(token_text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID((token_text or "").strip().strip("{}"))
    except ValueError:
        return None


def _issue(connection: Connection, policy: TokenPolicy, user_name: str, now: datetime) -> uuid.UUID:
    token = uuid.uuid4()
    connection.execute(_INSERT_TOKEN, {"token": token, "user_name": user_name, "issued_at": now,
                                       "expires_at": now + policy.timeout})
    return token
