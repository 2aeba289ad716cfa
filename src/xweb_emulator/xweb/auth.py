"""xWeb authentication as a tenant's web.config sets it: users, GUID tokens, expiration policy, lock-out.

Tokens and failure counts live in the database, so every worker and replica sees the same ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

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


# Built once: these run on nearly every call.
_TOKEN = select(AuthenticationToken.user_name, AuthenticationToken.expires_at).where(
    AuthenticationToken.token == bindparam("token"))
_INSERT_TOKEN = insert(AuthenticationToken)
_DELETE_TOKEN = delete(AuthenticationToken).where(AuthenticationToken.token == bindparam("token"))


def ensure_user(session: Session, user_name: str, password: str) -> None:
    """Create the xWeb user, or reset its password to the configured one."""
    user = session.get(XWebUser, user_name)
    if user is None:
        session.add(XWebUser(user_name=user_name, password=password))
    else:
        user.password = password


def authenticate(
    session: Session, policy: TokenPolicy, user_name: str, password: str, client_address: str, now: datetime
) -> uuid.UUID:
    failures = session.get(AuthenticationFailures, (user_name, client_address))
    if failures is not None and failures.locked_until is not None:
        if failures.locked_until > now:
            raise LockedCredentials("Credentials Locked Out")
        session.delete(failures)
        failures = None
    user = session.get(XWebUser, user_name)
    if user is None or user.password != password:
        raise InvalidCredentials(
            "Invalid Credentials Supplied",
            after_rollback=partial(_count_failure, policy=policy, user_name=user_name,
                                   client_address=client_address, now=now),
        )
    if failures is not None:
        session.delete(failures)
    session.execute(delete(AuthenticationToken).where(AuthenticationToken.expires_at <= now))
    return _issue(session.connection(), policy, user_name, now)


def _count_failure(session: Session, *, policy: TokenPolicy, user_name: str, client_address: str,
                   now: datetime) -> None:
    key = (user_name, client_address)
    if session.get(AuthenticationFailures, key) is None:
        session.add(AuthenticationFailures(user_name=user_name, client_address=client_address, failures=0))
        session.flush()
    # An UPDATE that increments in the database, so concurrent failures are all counted.
    session.execute(
        update(AuthenticationFailures)
        .where(AuthenticationFailures.user_name == user_name, AuthenticationFailures.client_address == client_address)
        .values(failures=AuthenticationFailures.failures + 1)
    )
    failures = session.get(AuthenticationFailures, key, populate_existing=True)
    if policy.fail_count >= 0 and failures.failures >= policy.fail_count:
        failures.locked_until = now + policy.lockout


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
    found = connection.execute(_TOKEN, {"token": key}).first()
    if found is None or found.expires_at <= now:
        raise InvalidToken("Failed to validate the authentication token: it has expired or is not valid.")
    return key, found.user_name


def answer_token(connection: Connection, policy: TokenPolicy, token: uuid.UUID, user_name: str,
                 now: datetime) -> uuid.UUID:
    """The token a successful call answers with: the same one (Absolute), or its replacement (Sliding)."""
    if policy.expiration != SLIDING:
        return token
    connection.execute(_DELETE_TOKEN, {"token": token})
    return _issue(connection, policy, user_name, now)


def invalidate(connection: Connection, token_text: str | None) -> None:
    try:
        key = uuid.UUID((token_text or "").strip().strip("{}"))
    except ValueError:
        return
    connection.execute(_DELETE_TOKEN, {"token": key})


def _issue(connection: Connection, policy: TokenPolicy, user_name: str, now: datetime) -> uuid.UUID:
    token = uuid.uuid4()
    connection.execute(_INSERT_TOKEN, {"token": token, "user_name": user_name, "issued_at": now,
                                       "expires_at": now + policy.timeout})
    return token
