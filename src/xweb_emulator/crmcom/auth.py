"""The Web API's login method and its tokens: "Token expires after one hour of idle time (i.e. one hour of not using
the token)" (CRM.COM, POST authentication/token); the idle time is a setting.

Tokens live in the database, so every worker accepts every token; each call made with one moves its expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from xweb_emulator.crmcom.errors import InvalidCredentials, InvalidToken
from xweb_emulator.crmcom.models import CrmComUser, LoginToken, new_id
from xweb_emulator.db import Prepared
from xweb_emulator.settings import Settings


def idle(settings: Settings) -> timedelta:
    """How long a token lives unused."""
    return timedelta(minutes=settings.crmcom_token_idle_minutes)


def ensure_user(session: Session, username: str, password: str, organisation: str) -> None:
    """Create the Web API user, or reset its password and organisation to the configured ones. The configured user
    is the only one: any other (configured before) is removed, with its tokens."""
    session.execute(delete(LoginToken).where(LoginToken.username != username))
    session.execute(delete(CrmComUser).where(CrmComUser.username != username))
    user = session.get(CrmComUser, username)
    if user is None:
        session.add(CrmComUser(username=username, password=password, organisation=organisation))
    else:
        user.password, user.organisation = password, organisation


def login(session: Session, username: str, password: str, organisation: str, now: datetime,
          idle: timedelta) -> str:
    user = session.get(CrmComUser, username)
    # One answer for every wrong part, so that it tells nothing about which users or organisations exist.
    if user is None or user.password != password or user.organisation != organisation:
        raise InvalidCredentials("Invalid Username, Password Or Organisation.")
    session.execute(delete(LoginToken).where(LoginToken.expires_at <= now))
    token = LoginToken(token=new_id(), username=username, issued_at=now, expires_at=now + idle)
    session.add(token)
    return token.token


def use_token(connection: Connection, token_text: str | None, now: datetime) -> tuple[str, str]:
    """The live token a call is made with, as stored, and its user."""
    if not token_text:
        raise InvalidToken("Token Not Specified.")
    token = token_text.strip().upper()
    live = _LIVE_TOKEN_USER.first(connection, {"token": token, "now": now})
    if live is None:
        raise InvalidToken("Token Not Valid Or Expired.")
    return token, live[0]


def restart_idle_time(connection: Connection, token: str, now: datetime, idle: timedelta) -> None:
    """A call made with `token` succeeded: the token's idle time starts again. Written as the call ends, so that
    concurrent calls with one token hold its row (PostgreSQL) only while they commit."""
    _RESTART_IDLE_TIME.rows(connection, {"token": token, "until": now + idle})


# On the driver's cursor (Prepared), rather than the token loaded through an ORM Session and its new expiry flushed
# at the Session's commit: with the events' look-ups (events.Finder), what made a bulk create of a thousand events
# need a Session at all.
_LIVE_TOKEN_USER = Prepared(select(LoginToken.username)
                            .where(LoginToken.token == bindparam("token"), LoginToken.expires_at > bindparam("now")))
_RESTART_IDLE_TIME = Prepared(update(LoginToken).where(LoginToken.token == bindparam("token"))
                              .values(expires_at=bindparam("until")))


def token_user(connection: Connection, token_text: str | None) -> str | None:
    """Whom a token was issued to, live or not; None for no token the emulator holds."""
    if not token_text or not token_text.strip():
        return None
    return connection.scalar(select(LoginToken.username).where(LoginToken.token == token_text.strip().upper()))


def expire_all(session: Session, now: datetime) -> None:
    session.execute(update(LoginToken).values(expires_at=now))
