"""The tenant being served: its profile (merged over the default one) made into the objects GetQuery and the facade
operations read, and its users' object security.

The profile in force is in the database (xweb_tenant), so that every worker and replica serves the same tenant and a
reset that switches profile switches it for all of them. A worker compiles each profile once: a call reads the
profile's digest and finds its compiled tenant by it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from xweb_emulator.settings import Settings
from xweb_emulator.xweb.errors import InvalidInput, XWebError
from xweb_emulator.xweb.facade import FACADE_OBJECTS, FacadeObject
from xweb_emulator.xweb.models import AuthenticationToken, Tenant as TenantRow, XWebUser
from xweb_emulator.xweb.profile import Profile, ProfileError, default_profile, merged, read_profile
from xweb_emulator.xweb.stored import StoredObject
from xweb_emulator.xweb.wsdl import column_type, data_object_types

_ROW = 1
DIGEST = select(TenantRow.digest).where(TenantRow.id == _ROW).scalar_subquery()
"""The profile in force's digest, as a call reads it on arrival (XWeb.arrival_state)."""
_PROFILE = select(TenantRow.digest, TenantRow.profile).where(TenantRow.id == _ROW)


class NotAuthorized(XWebError):
    """Object security: the xWeb user may not do this to this object."""

    def __init__(self, right: str, object_name: str) -> None:
        super().__init__(f"Account is not authorized to perform {right.title()} on {object_name} object")


@dataclass(frozen=True, eq=False)
class Tenant:
    profile: Profile

    @cached_property
    def objects(self) -> dict[str, FacadeObject | StoredObject]:
        """Every object served, by name in lower case, in the profile's order."""
        objects: dict[str, FacadeObject | StoredObject] = {}
        for declared in self.profile.objects:
            built_in = FACADE_OBJECTS.get(declared.name.lower())
            objects[declared.name.lower()] = StoredObject.of(declared) if built_in is None else built_in.shaped(declared)
        return objects

    @cached_property
    def wsdl_extras(self) -> dict[str, list[tuple[str, str]]]:
        """The extender columns the served WSDL adds to the typed objects: a built-in object's to every data-object
        type that carries its key column (as a tenant's WSDL has ind_cst_passcode_ext in every Individual type)."""
        extras: dict[str, list[tuple[str, str]]] = {}
        for served in self.objects.values():
            if isinstance(served, FacadeObject) and served.extension is not None:
                elements = [(column.name, column_type(column.type, column.kind, column.width))
                            for column in served.extension.columns]
                for type_name in data_object_types(served.key_column):
                    extras.setdefault(type_name, []).extend(elements)
        return extras

    def facade_object(self, name: str | None) -> FacadeObject | StoredObject:
        found = self.objects.get((name or "").strip().lower())
        if found is None:
            raise InvalidInput(f"Invalid object name '{name}'.")
        return found

    @cached_property
    def _rights(self) -> dict[str, dict[str, frozenset[str]] | None]:
        return {user.name: None if user.rights is None else
                {name.lower(): frozenset(rights) for name, rights in user.rights.items()}
                for user in self.profile.users}

    def check(self, user: str | None, right: str, object_name: str) -> None:
        """Raise NotAuthorized unless `user` may `right` (select, insert, update) the object. A user the profile
        does not list (the configured one), or lists without rights, may do everything."""
        rights = self._rights.get(user or "")
        if rights is None:
            return
        allowed = rights.get(object_name.lower(), rights.get("*", frozenset()))
        if right not in allowed:
            raise NotAuthorized(right, object_name)


# ------------------------------------------------------------------------------------------------- in force


def profile_of(settings: Settings, document: str | Mapping[str, Any] | None = None) -> Profile:
    """The profile to serve, merged over the default one: `document` (a reset's: YAML or JSON text, or parsed),
    else the configured file."""
    if document is not None:
        return merged(default_profile(), read_profile(document))
    if settings.xweb_profile is None:
        return default_profile()
    return merged(default_profile(), read_profile(Path(settings.xweb_profile)))


def settled(settings: Settings) -> Settings:
    """`settings` with the configured profile's settings where none was given (flag, environment, argument)."""
    if settings.xweb_profile is None:
        return settings
    given = settings.model_fields_set
    profile_settings = profile_of(settings).settings.model_dump(exclude_none=True)
    update = {f"xweb_{name}": value for name, value in profile_settings.items() if f"xweb_{name}" not in given}
    return settings.model_copy(update=update) if update else settings


def check_objects(profile: Profile) -> None:
    """Raise ProfileError for an object the profile cannot describe (a default list naming no column). Part of
    methods.check_servable, which a profile passes before it is put in force."""
    for served in Tenant(profile).objects.values():
        try:
            served.queryable
        except ValueError as error:
            raise ProfileError(f"{profile.name}: objects: {served.name}: list_columns: {error}") from None


def activate(session: Session, settings: Settings, profile: Profile) -> None:
    """Make `profile` the one in force, with its users (and the configured one); users no longer there lose their
    tokens. The profile is one that passed methods.check_servable (or the built-in one)."""
    row = session.get(TenantRow, _ROW)
    if row is None:
        session.add(TenantRow(id=_ROW, digest=profile.digest, profile=profile.canonical_json()))
    else:
        row.digest, row.profile = profile.digest, profile.canonical_json()
    users = {settings.xweb_user: settings.xweb_password} | {user.name: user.password for user in profile.users}
    session.execute(delete(AuthenticationToken).where(AuthenticationToken.user_name.not_in(users)))
    session.execute(delete(XWebUser).where(XWebUser.user_name.not_in(users)))
    for name, password in users.items():
        user = session.get(XWebUser, name)
        if user is None:
            session.add(XWebUser(user_name=name, password=password))
        else:
            user.password = password
    session.flush()


def tenant_of(connection: Connection | Session, digest: str | None = None) -> Tenant:
    """The tenant in force: the one whose digest a call read on arrival, else the one the database holds now."""
    if digest is None:
        digest = connection.execute(select(DIGEST)).scalar()
    if digest is None:
        return _default_tenant()
    return _compiled(digest, connection)


def _compiled(digest: str, connection: Connection | Session) -> Tenant:
    found = _TENANTS.get(digest)
    if found is None:
        # Read with its digest: a reset may have switched profile since `digest` was read (PostgreSQL's read
        # committed), and a profile is only ever kept under its own.
        digest, profile = connection.execute(_PROFILE).one()
        with _COMPILING:  # the calls of a worker's threads
            found = _TENANTS.setdefault(digest, Tenant(Profile.model_validate_json(profile)))
            while len(_TENANTS) > 16:  # a suite that switches among many profiles
                _TENANTS.pop(next(iter(_TENANTS)))
    return found


_TENANTS: dict[str, Tenant] = {}
_COMPILING = threading.Lock()


@lru_cache(maxsize=1)
def _default_tenant() -> Tenant:
    return Tenant(default_profile())
