"""xWeb authentication as a tenant's web.config sets it: users, GUID tokens, expiration policy, lock-out.

Tokens and failure counts live in the database, so every worker and replica sees the same ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from xweb_emulator.xweb.errors import InvalidCredentials, InvalidToken, LockedCredentials
from xweb_emulator.xweb.models import AuthenticationFailures, AuthenticationToken, XWebUser

ABSOLUTE, SLIDING = "Absolute", "Sliding"


@dataclass(frozen=True)
class TokenPolicy:
    expiration: str = ABSOLUTE
    timeout: timedelta = timedelta(minutes=20)
    fail_count: int = 25  # -1: no lock-out
    lockout: timedelta = timedelta(hours=1)


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
    return _issue(session, policy, user_name, now)


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


def check_token(session: Session, token_text: str | None, now: datetime) -> AuthenticationToken:
    if token_text is None or not token_text.strip():
        raise InvalidToken("Failed to validate the authentication token: no token was supplied.")
    try:
        key = uuid.UUID(token_text.strip().strip("{}"))
    except ValueError:
        # A value that is no token at all (typically AuthenticateResult's namespace URI, read from the body by
        # mistake): live tenants answer "Locked" to every such call.
        raise InvalidToken("Locked") from None
    token = session.get(AuthenticationToken, key)
    if token is None or token.expires_at <= now:
        raise InvalidToken("Failed to validate the authentication token: it has expired or is not valid.")
    return token


def answer_token(session: Session, policy: TokenPolicy, token: AuthenticationToken, now: datetime) -> uuid.UUID:
    """The token a successful call answers with: the same one (Absolute), or its replacement (Sliding)."""
    if policy.expiration != SLIDING:
        return token.token
    session.delete(token)
    return _issue(session, policy, token.user_name, now)


def invalidate(session: Session, token_text: str | None) -> None:
    try:
        key = uuid.UUID((token_text or "").strip().strip("{}"))
    except ValueError:
        return
    session.execute(delete(AuthenticationToken).where(AuthenticationToken.token == key))


def _issue(session: Session, policy: TokenPolicy, user_name: str, now: datetime) -> uuid.UUID:
    token = AuthenticationToken(token=uuid.uuid4(), user_name=user_name, issued_at=now, expires_at=now + policy.timeout)
    session.add(token)
    return token.token
