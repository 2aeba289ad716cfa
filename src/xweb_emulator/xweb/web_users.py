"""Web users and sign-on: a customer's web login (user name or e-mail, by the tenant's useEmailForAuthorization
option), its password, lock-out and "remember me" token, its web roles, and the sign-on tokens that WebLogin,
WEBWebUserLogin and eWeb's sign-on page issue.

Sign-on tokens are not xWeb tokens: they name a customer, not an xWeb user; they live `sign_on.token_minutes` on the
emulator's clock and die at WebLogout. Failed logins are counted on the web user once the call's writes are rolled
back, and lock it out at `sign_on.fail_count` (until WEBWebUserUnlock).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from xweb_emulator.xweb.errors import InvalidInput, XWebError
from xweb_emulator.xweb.facade import FACADE_OBJECTS, Actor, insert_records
from xweb_emulator.xweb.models import Customer, CustomerPhone, Individual, Phone, SignOnToken, WebRole, WebUser, \
    WebUserRole
from xweb_emulator.xweb.profile import ProfileSignOn
from xweb_emulator.xweb.values import format_guid, parse_guid

NO_CUSTOMER = "00000000-0000-0000-0000-000000000000"
"""What WebValidate answers for a token that is unknown, expired or logged out (live tenants' answer: no fault)."""

_LOGIN_LENGTH = WebUser.__table__.c.cst_web_login.type.length
_ROLE_LENGTH = WebRole.__table__.c.role_name.type.length
# A cheap hash: these are test accounts, and a login must not cost a second of a 2-core CI machine.
_HASH_METHOD = "pbkdf2:sha256:1000"


class LoginFailed(XWebError):
    """A wrong login or password, or a locked-out web user: the vendor says no more than this."""

    def __init__(self, *, locked: bool = False, after_rollback: Any = None) -> None:
        super().__init__("Unable to login user.", after_rollback=after_rollback)
        self.locked = locked


# ------------------------------------------------------------------------------------------------------ logins

_USER_NAME = func.coalesce(WebUser.cst_web_login, func.cast(Customer.cst_recno, WebUser.cst_web_login.type))
"""A web user's user name: cst_web_login, or its customer number where it has none."""


def find_by_login(session: Session, sign_on: ProfileSignOn, login: str | None) -> WebUser | None:
    """The web user a login names: by the customer's primary e-mail address where the tenant signs in by e-mail,
    else by user name (cst_web_login, or the customer's recno where it has none); case does not matter."""
    login = (login or "").strip()
    if not login:
        return None
    statement = select(WebUser).join(Customer, Customer.cst_key == WebUser.cst_key).where(Customer.cst_delete_flag == 0)
    if sign_on.use_email_for_authorization:
        statement = statement.where(func.lower(Customer.cst_eml_address_dn) == login.lower())
    else:
        statement = statement.where(func.lower(_USER_NAME) == login.lower())
    return session.scalars(statement.order_by(Customer.cst_recno).limit(1)).first()


def login(session: Session, sign_on: ProfileSignOn, login_name: str | None, password: str | None) -> WebUser:
    """The web user whose login and password these are; LoginFailed else (the failure counted on the web user)."""
    user = find_by_login(session, sign_on, login_name)
    if user is None:
        raise LoginFailed()
    if user.cst_web_login_disabled_flag:
        raise LoginFailed(locked=True)
    if not check_password_hash(user.cst_web_password, password or ""):
        raise LoginFailed(after_rollback=partial(_count_failure, cst_key=user.cst_key, fail_count=sign_on.fail_count))
    user.failed_logins = 0
    return user


def _count_failure(session: Session, *, cst_key: uuid.UUID, fail_count: int) -> None:
    """After a wrong password, once the call's writes are rolled back: one more failure, and the lock-out once the
    tenant's count is reached."""
    session.execute(update(WebUser).where(WebUser.cst_key == cst_key).values(failed_logins=WebUser.failed_logins + 1))
    if fail_count > 0:
        session.execute(update(WebUser).where(WebUser.cst_key == cst_key, WebUser.failed_logins >= fail_count)
                        .values(cst_web_login_disabled_flag=1))


def issue_token(session: Session, sign_on: ProfileSignOn, user: WebUser, now: datetime) -> uuid.UUID:
    """A new sign-on token for the web user (expired ones are cleared on the way)."""
    session.execute(delete(SignOnToken).where(SignOnToken.expires_at <= now))
    token = SignOnToken(token=uuid.uuid4(), cst_key=user.cst_key, issued_at=now,
                        expires_at=now + timedelta(minutes=sign_on.token_minutes))
    session.add(token)
    session.flush()
    return token.token


def token_key(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID((text or "").strip().strip("{}"))
    except ValueError:
        return None


def validate(session: Session, token_text: str | None, now: datetime) -> uuid.UUID | None:
    """The customer a live sign-on token names; None for one unknown, expired or logged out."""
    key = token_key(token_text)
    if key is None:
        return None
    return session.scalars(select(SignOnToken.cst_key).where(SignOnToken.token == key,
                                                             SignOnToken.expires_at > now)).first()


def logout(session: Session, token_text: str | None) -> None:
    key = token_key(token_text)
    if key is not None:
        session.execute(delete(SignOnToken).where(SignOnToken.token == key))


def remember(session: Session, user: WebUser) -> uuid.UUID:
    """A new "remember me" token for the web user (the one before it no longer works)."""
    user.remember_me = uuid.uuid4()
    return user.remember_me


def by_remember_me(session: Session, token_text: str | None) -> WebUser:
    key = token_key(token_text)
    user = session.scalars(select(WebUser).where(WebUser.remember_me == key)).first() if key else None
    if user is None or user.cst_web_login_disabled_flag:
        raise LoginFailed(locked=user is not None)
    return user


# ------------------------------------------------------------------------------------------------ the web user


def web_user(session: Session, cst_key: uuid.UUID, token: uuid.UUID | None = None) -> dict[str, Any]:
    """WebUserType: CurrentKey, then every section of the vendor's type in its order, each with the members that
    have a value (a null member is left out, as .NET's XmlSerializer leaves it out). A section with none is written
    empty rather than left out as live tenants do: a strict client (zeep) needs every section before the last. The
    emulator keeps no addresses or faxes: Business_Address and Business_Fax* are always empty. `token`:
    Individual/ind_token."""
    customer = session.get(Customer, cst_key)
    individual = session.get(Individual, cst_key)
    user = session.get(WebUser, cst_key)
    phone = (session.execute(select(Phone.phn_number, CustomerPhone.cph_extension)
                             .join(Phone, Phone.phn_key == CustomerPhone.cph_phn_key)
                             .where(CustomerPhone.cph_key == customer.cst_cph_key)).first()
             if customer.cst_cph_key is not None else None)
    sections = {
        "Individual": {"ind_cst_key": format_guid(cst_key),
                       "ind_first_name": individual.ind_first_name if individual else None,
                       "ind_mid_name": individual.ind_mid_name if individual else None,
                       "ind_last_name": individual.ind_last_name if individual else None,
                       "ind_full_name_cp": customer.cst_ind_full_name_dn,
                       "ind_token": format_guid(token) if token else None},
        "Customer": {"cst_recno": None if customer.cst_recno is None else str(customer.cst_recno),
                     "cst_web_login": user.cst_web_login if user else None},
        "Email": {"eml_address": customer.cst_eml_address_dn},
        "Business_Address": {},
        "Business_Phone": {"phn_number": phone.phn_number if phone else None},
        "Business_Phone_XRef": {"cph_extension": phone.cph_extension if phone else None},
        "Business_Fax": {},
        "Business_Fax_XRef": {},
    }
    return {"CurrentKey": format_guid(cst_key)} | {
        name: {member: value for member, value in members.items() if value is not None}
        for name, members in sections.items()}


def _recno(text: str | None) -> int | None:
    """A customer number, if `text` can be one (an int column's: at most nine digits)."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _customer_by_recno(session: Session, recno: str | None) -> WebUser | None:
    number = _recno(recno)
    if number is None:
        return None
    return session.scalars(select(WebUser).join(Customer, Customer.cst_key == WebUser.cst_key)
                           .where(Customer.cst_recno == number)).first()


def get(session: Session, cst_key_text: str | None) -> uuid.UUID:
    """The key of the web user a cst_key names (InvalidInput else)."""
    key = parse_guid(cst_key_text or "", "cst_key")
    if session.get(WebUser, key) is None:
        raise InvalidInput("Invalid Parameters.")
    return key


def set_password(user: WebUser, password: str) -> None:
    user.cst_web_password = generate_password_hash(password, method=_HASH_METHOD)
    user.remember_me = None  # a new password ends "remember me"


def create(session: Session, actor: Actor, sections: Mapping[str, Any]) -> uuid.UUID:
    """A web user from a WebUserType: for the individual CurrentKey (or Individual/ind_cst_key) names, else for a
    new one made from the Individual and Email sections. Customer/cst_new_password (and its confirmation) is the
    password; Customer/cst_web_login the user name (left empty: the recno, or the e-mail where the tenant signs in
    by e-mail)."""
    individual = sections.get("Individual") or {}
    customer = sections.get("Customer") or {}
    password = customer.get("cst_new_password")
    if not password:
        raise InvalidInput("Customer/cst_new_password is required to create a web user.")
    if customer.get("cst_new_password_confirm") not in (None, password):
        raise InvalidInput("The password and its confirmation differ.")
    key_text = sections.get("CurrentKey") or individual.get("ind_cst_key")
    if key_text:
        key = parse_guid(key_text, "CurrentKey")
        if session.get(Individual, key) is None:
            raise InvalidInput(f"No individual has the key {key_text}.")
    else:
        record = {name: individual.get(name) for name in ("ind_first_name", "ind_mid_name", "ind_last_name")
                  if individual.get(name)}
        email = (sections.get("Email") or {}).get("eml_address")
        if email:
            record["eml_address"] = email
        session.flush()
        (key,) = insert_records(session.connection(), actor, FACADE_OBJECTS["individual"], [record])
    add(session, key, customer.get("cst_web_login") or None, password)
    return key


def add(session: Session, cst_key: uuid.UUID, login_name: str | None, password: str, roles: Sequence[str] = (),
        locked: bool = False) -> WebUser:
    """The customer's web login (InvalidInput for a customer that has one, or a user name another has)."""
    if session.get(WebUser, cst_key) is not None:
        raise InvalidInput(f"The customer {format_guid(cst_key)} has a web login already.")
    return put(session, cst_key, login_name, password, roles, locked)


def put(session: Session, cst_key: uuid.UUID, login_name: str | None, password: str, roles: Sequence[str] = (),
        locked: bool = False) -> WebUser:
    """The customer's web login made as given, whether it had one or not (its sign-on tokens live on where the
    password stays)."""
    if session.get(Customer, cst_key) is None:
        raise InvalidInput(f"No customer has the key {format_guid(cst_key)}.")
    _check_login_free(session, login_name, cst_key)
    user = session.get(WebUser, cst_key)
    if user is None:
        user = WebUser(cst_key=cst_key, failed_logins=0)
        session.add(user)
    user.cst_web_login, user.cst_web_login_disabled_flag = login_name, int(locked)
    if user.cst_web_password is None or not check_password_hash(user.cst_web_password, password):
        set_password(user, password)
    session.flush()
    session.execute(delete(WebUserRole).where(WebUserRole.cst_key == cst_key))
    for role in dict.fromkeys(roles):
        if len(role) > _ROLE_LENGTH:
            raise InvalidInput(f"The role name {role[:20]}… is longer than {_ROLE_LENGTH} characters.")
        if session.get(WebRole, role) is None:
            session.add(WebRole(role_name=role))
        session.add(WebUserRole(cst_key=cst_key, role_name=role))
    session.flush()
    return user


def _check_login_free(session: Session, login_name: str | None, cst_key: uuid.UUID) -> None:
    """The user name fits (cst_web_login: 100 characters) and no other web user has it."""
    if login_name and len(login_name) > _LOGIN_LENGTH:
        raise InvalidInput(f"cst_web_login is longer than {_LOGIN_LENGTH} characters.")
    if login_name and session.scalars(select(WebUser.cst_key).where(
            func.lower(WebUser.cst_web_login) == login_name.lower(), WebUser.cst_key != cst_key)).first():
        raise InvalidInput(f"The login {login_name} is taken.")


def update_user(session: Session, sections: Mapping[str, Any]) -> uuid.UUID:
    """A web user's user name and password (Customer/cst_web_login, cst_new_password), by CurrentKey."""
    individual = sections.get("Individual") or {}
    key_text = sections.get("CurrentKey") or individual.get("ind_cst_key")
    if not key_text:
        raise InvalidInput("CurrentKey (or Individual/ind_cst_key) is required to update a web user.")
    user = session.get(WebUser, parse_guid(key_text, "CurrentKey"))
    if user is None:
        raise InvalidInput(f"No web user has the key {key_text}.")
    customer = sections.get("Customer") or {}
    if customer.get("cst_web_login"):
        _check_login_free(session, customer["cst_web_login"], user.cst_key)
        user.cst_web_login = customer["cst_web_login"]
    password = customer.get("cst_new_password")
    if password:
        if customer.get("cst_new_password_confirm") not in (None, password):
            raise InvalidInput("The password and its confirmation differ.")
        set_password(user, password)
    session.flush()
    return user.cst_key


def change_password(session: Session, recno: str | None, old: str | None, new: str | None) -> bool:
    user = _customer_by_recno(session, recno)
    if user is None or not new or not check_password_hash(user.cst_web_password, old or ""):
        return False
    set_password(user, new)
    return True


def set_locked(session: Session, recno: str | None, locked: bool) -> bool:
    user = _customer_by_recno(session, recno)
    if user is None:
        return False
    user.cst_web_login_disabled_flag = int(locked)
    user.failed_logins = 0
    return True


# ---------------------------------------------------------------------------------------------- finding users

_FOUND = (Customer.cst_key, Customer.cst_recno, WebUser.cst_web_login, Individual.ind_first_name,
          Individual.ind_last_name, Customer.cst_eml_address_dn.label("eml_address"))


def _found(session: Session, *conditions: Any) -> list[dict[str, str | None]]:
    """The matching web users as WEBWebUserFind*'s <Results><Result> records."""
    statement = (select(*_FOUND).join(Customer, Customer.cst_key == WebUser.cst_key)
                 .outerjoin(Individual, Individual.ind_cst_key == WebUser.cst_key)
                 .where(Customer.cst_delete_flag == 0, *conditions).order_by(Customer.cst_recno))
    return [{"cst_key": format_guid(row.cst_key), "cst_recno": str(row.cst_recno),
             "cst_web_login": row.cst_web_login, "ind_first_name": row.ind_first_name,
             "ind_last_name": row.ind_last_name, "eml_address": row.eml_address}
            for row in session.execute(statement)]


def _like(column: Any, text: str | None) -> Any:
    """Contains `text`, case aside (netFORUM's LIKE '%…%'); the text's own wildcards are matched as themselves."""
    escaped = (text or "").lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def find_by_email(session: Session, text: str | None) -> list[dict]:
    return _found(session, _like(Customer.cst_eml_address_dn, text))


def find_by_name(session: Session, text: str | None) -> list[dict]:
    return _found(session, or_(_like(_USER_NAME, text), _like(Individual.ind_first_name, text),
                               _like(Individual.ind_last_name, text)))


def find_by_names(session: Session, user_name: str | None, first: str | None, last: str | None) -> list[dict]:
    return _found(session, _like(_USER_NAME, user_name), _like(Individual.ind_first_name, first),
                  _like(Individual.ind_last_name, last))


# ------------------------------------------------------------------------------------------------------- roles


def all_roles(session: Session) -> list[dict]:
    return [{"role_name": name} for name in session.scalars(select(WebRole.role_name).order_by(WebRole.role_name))]


def _by_user_name(session: Session, user_name: str | None) -> uuid.UUID | None:
    name = (user_name or "").strip().lower()
    return session.scalars(select(WebUser.cst_key).join(Customer, Customer.cst_key == WebUser.cst_key)
                           .where(func.lower(_USER_NAME) == name)).first() if name else None


def roles_for_user(session: Session, user_name: str | None) -> list[dict]:
    key = _by_user_name(session, user_name)
    return [{"role_name": name} for name in session.scalars(
        select(WebUserRole.role_name).where(WebUserRole.cst_key == key).order_by(WebUserRole.role_name))]


def is_in_role(session: Session, user_name: str | None, role: str | None) -> bool:
    key = _by_user_name(session, user_name)
    return key is not None and session.get(WebUserRole, (key, role or "")) is not None


def users_in_role(session: Session, role: str | None, user_name: str | None = None) -> list[dict]:
    conditions = [WebUser.cst_key.in_(select(WebUserRole.cst_key).where(WebUserRole.role_name == (role or "")))]
    if user_name is not None:
        conditions.append(_like(_USER_NAME, user_name))
    return _found(session, *conditions)


def role_exists(session: Session, role: str | None) -> bool:
    return session.get(WebRole, role or "") is not None


# -------------------------------------------------------------------------------------------------------- seeds


def seed(session: Session, records: Any) -> list[str]:
    """Web users from a seed ({"WebUser": [{"cst_key", "login", "password", "roles", "locked"}]}): their keys."""
    if not isinstance(records, Sequence) or isinstance(records, str) or not all(
            isinstance(record, Mapping) for record in records):
        raise InvalidInput("WebUser: expected a list of records.")
    keys = []
    for position, record in enumerate(records):
        unknown = set(record) - {"cst_key", "login", "password", "roles", "locked"}
        if unknown:
            raise InvalidInput(f"WebUser {position}: unknown member {sorted(unknown)[0]!r}.")
        roles = record.get("roles") or ()
        if not isinstance(record.get("password"), str) or not record["password"] or isinstance(roles, str) or not all(
                isinstance(role, str) and role for role in roles):
            raise InvalidInput(f"WebUser {position}: a password (text) is required; roles is a list of names.")
        key = parse_guid(str(record.get("cst_key") or ""), f"WebUser {position}: cst_key")
        user = add(session, key, record.get("login") or None, record["password"], roles, bool(record.get("locked")))
        keys.append(format_guid(user.cst_key))
    return keys


# ------------------------------------------------------------------------------------- eWeb's sign-on page

TOKEN_PLACEHOLDER = "{token}"


class ReturnAddressRefused(XWebError):
    """A return address the tenant does not allow (sign_on.return_addresses): the sign-on page is no open redirect."""

    def __init__(self, address: str) -> None:
        super().__init__(f"The return address {address} is not one this site sends a browser back to.")


def check_return_address(sign_on: ProfileSignOn, address: str | None) -> str | None:
    """`address` if the tenant allows it: its scheme and host those of an allowed address, and its port and path
    too where that address gives them. None where there is none."""
    if not address:
        return None
    try:
        wanted = urlsplit(address)
        wanted_port = wanted.port
    except ValueError:
        raise ReturnAddressRefused(address) from None
    for allowed in sign_on.return_addresses:
        rule = urlsplit(allowed)
        if (wanted.scheme.lower() == rule.scheme.lower() and wanted.hostname is not None
                and wanted.hostname == rule.hostname and (rule.port is None or rule.port == wanted_port)
                and _under(wanted.path, rule.path.rstrip("/"))):
            return address
    raise ReturnAddressRefused(address)


def _under(path: str, allowed: str) -> bool:
    return not allowed or path == allowed or path.startswith(allowed + "/")


def destination(address: str, token: uuid.UUID) -> str:
    """Where a signed-in browser goes: the return address with {token} (or %7Btoken%7D) replaced by the sign-on
    token, else with Token=<token> added to its query."""
    for placeholder in (TOKEN_PLACEHOLDER, "%7Btoken%7D", "%7btoken%7d"):
        if placeholder in address:
            return address.replace(placeholder, str(token))
    return f"{address}{'&' if '?' in address else '?'}Token={token}"
