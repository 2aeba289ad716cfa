"""The tenant profile: a file that says what a netFORUM tenant has where tenants differ (its facade objects and their
columns, extender columns on the built-in objects, default lists, xWeb users and their object security, web.config's
settings). It is read from YAML or JSON and checked before anything is served: an error names the file, the line and
what is wrong there.

The built-in objects' own shape is the default profile (profiles/default.yaml, shipped in the package); a user's
profile adds objects and columns to it, or overrides an object's description, default list and order.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# netFORUM's own column types (md_column.mdc_data_type) and SQL Server's, by the kind of value they hold.
DATA_TYPES: dict[str, str] = {
    **dict.fromkeys(("av_key", "uniqueidentifier"), "guid"),
    **dict.fromkeys(("av_date", "av_date_small", "av_datetime", "datetime", "datetime2", "smalldatetime", "date"),
                    "datetime"),
    **dict.fromkeys(("av_flag", "av_delete_flag", "bit"), "flag"),
    **dict.fromkeys(("av_integer", "av_recno", "int", "integer", "smallint", "tinyint", "bigint"), "integer"),
    **dict.fromkeys(("av_currency", "av_decimal", "av_float", "money", "smallmoney", "decimal", "numeric", "float",
                     "real"), "decimal"),
    **dict.fromkeys(("av_text", "av_user", "av_email", "av_url", "av_phone", "av_zip", "av_description", "nvarchar",
                     "varchar", "nchar", "char", "ntext", "text", "sysname"), "string"),
}
AUDIT_SUFFIXES = ("_add_user", "_add_date", "_change_user", "_change_date", "_delete_flag")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RIGHTS = ("select", "insert", "update")
_DEFAULT_FILE = "default.yaml"


class ProfileError(ValueError):
    """A profile that cannot be served; the message names where and what."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _declared_once(kind: str, names: list[str]) -> None:
    folded = [name.lower() for name in names]
    duplicate = next((name for name in folded if folded.count(name) > 1), None)
    if duplicate:
        raise ValueError(f"{kind} {duplicate!r} is declared twice")


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{value!r} is not a name netFORUM allows (letters, digits and _, not starting with a digit)")
    return value


class ProfileColumn(_Strict):
    """A column of an object's List Table, as GetQueryDefinition describes it (md_column)."""

    name: str
    type: str = "nvarchar"
    """mdc_data_type: netFORUM's own (av_key, av_date, av_flag, av_currency …) or SQL Server's (nvarchar, int …)."""
    width: int | None = Field(None, ge=1)
    """mdc_width_max: the most characters a string column holds (none: no limit)."""
    nullable: bool = True
    ext: bool = False
    """An extender column (mdc_ext = 1): kept in the object's extender table, <table>_ext."""
    description: str | None = None
    table: str | None = None
    """mdc_table_name: the table the column belongs to (by default the object's, or its extender table)."""

    _name = field_validator("name", "table")(lambda value: value if value is None else _identifier(value))

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value.lower() not in DATA_TYPES:
            raise ValueError(f"unknown data type {value!r}: the types are {', '.join(sorted(DATA_TYPES))}")
        return value.lower()

    @property
    def kind(self) -> str:
        return DATA_TYPES[self.type]


class ProfileTable(_Strict):
    """A table of an object's List Table after its first, with how it is joined (ListFromTable)."""

    name: str
    alias: str | None = None
    join_type: Literal["INNER JOIN", "LEFT OUTER JOIN", "LEFT JOIN", "RIGHT OUTER JOIN"] = "LEFT OUTER JOIN"
    join: str = ""

    _name = field_validator("name", "alias")(lambda value: value if value is None else _identifier(value))


class ProfileObject(_Strict):
    """A facade object. For an object the emulator builds in (Individual, CustomerMessagingActivity …) only name,
    description, columns (extender columns it adds), list_columns and order_by may be given."""

    name: str
    key: str | None = None
    """obj_key; by default derived from the name, the same across restarts and databases."""
    description: str | None = None
    prefix: str | None = None
    """The three or so letters its columns start with; by default the key column's."""
    table: str | None = None
    """lst_mdt_name, its first table; by default <prefix>_<name in lower case>."""
    key_column: str | None = None
    """By default <prefix>_key."""
    tables: tuple[ProfileTable, ...] = ()
    columns: tuple[ProfileColumn, ...] = ()
    list_columns: tuple[str, ...] | None = None
    """GetQuery's default list when szColumnList is empty (the key column comes first in any case)."""
    order_by: str | None = None
    """The default order of a GetQuery that sends no szOrderBy."""

    _name = field_validator("name", "prefix", "table", "key_column")(
        lambda value: value if value is None else _identifier(value))

    @model_validator(mode="after")
    def _consistent(self) -> ProfileObject:
        _declared_once("column", [column.name for column in self.columns])
        return self


class ProfileUser(_Strict):
    """An xWeb user (web.config's xWeb users) and its object security."""

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=128)
    rights: dict[str, tuple[Literal["select", "insert", "update"], ...]] | None = None
    """By object name ("*": every object not named): what the user may do. None: everything on every object."""


class ProfileSettings(_Strict):
    """web.config's xWeb settings and the list row cap; a setting given on the command line or in the environment
    wins over the profile's."""

    token_expiration: Literal["Absolute", "Sliding"] | None = None
    token_timeout_minutes: int | None = Field(None, ge=1)
    fail_count: int | None = Field(None, ge=-1)
    lockout_hours: float | None = Field(None, gt=0)
    query_row_cap: int | None = Field(None, ge=-1)


LOOPBACK_RETURN_ADDRESSES = ("http://localhost", "https://localhost", "http://127.0.0.1", "https://127.0.0.1",
                             "http://[::1]", "https://[::1]")


class ProfileSignOn(_Strict):
    """Web users' sign-on: netFORUM's useEmailForAuthorization system option, where eWeb's sign-on page may send a
    browser back to, how long a sign-on token lives, and how many failed logins lock a web user out."""

    use_email_for_authorization: bool = False
    """Web users sign in with their e-mail address (else with their user name, cst_web_login)."""
    return_addresses: tuple[str, ...] = LOOPBACK_RETURN_ADDRESSES
    """The return addresses the sign-on page sends a browser back to: each a scheme and host, with a port and a path
    where only those may be used (https://lms.example.org, http://localhost:8080/sso/). Any other is refused."""
    token_minutes: int = Field(20, ge=1)
    """How long a sign-on token lives, on the emulator's clock."""
    fail_count: int = Field(5, ge=-1)
    """Failed logins in a row that lock a web user out (until WEBWebUserUnlock); -1: never."""

    @field_validator("return_addresses")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", address):
                raise ValueError(f"{address!r} is no return address: a scheme (http, https) and host, then any port "
                                 "and path")
        return value


class ProfileWebUser(_Strict):
    """A web user, seeded when the profile is put in force: the web login of a customer that exists by then (the
    demo data's, or one a seed file of the configured profile's tenant holds)."""

    cst_key: uuid.UUID
    login: str | None = Field(None, min_length=1, max_length=100)
    """cst_web_login; by default the customer's recno."""
    password: str = Field(min_length=1, max_length=128)
    roles: tuple[str, ...] = ()
    locked: bool = False


class Profile(_Strict):
    """A tenant profile as the file gives it."""

    name: str = "default"
    description: str | None = None
    settings: ProfileSettings = ProfileSettings()
    users: tuple[ProfileUser, ...] = ()
    objects: tuple[ProfileObject, ...] = ()
    sign_on: ProfileSignOn = ProfileSignOn()
    web_users: tuple[ProfileWebUser, ...] = ()
    web_services: tuple[WebService, ...] = ()
    queries: tuple[SavedDefinition, ...] = ()
    audiences: tuple[SavedAudience, ...] = ()

    @property
    def digest(self) -> str:
        """What tells two profiles apart: the hash of their canonical JSON."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_defaults=True), sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------------- reading


def read_profile(source: str | Path | Mapping[str, Any], *, name: str | None = None) -> Profile:
    """A profile from a file's path, a YAML or JSON document's text, or its parsed form. Raises ProfileError naming
    the file, the line and what is wrong."""
    if isinstance(source, Mapping):
        return _validated(dict(source), None, name or "profile")
    if isinstance(source, Path):
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ProfileError(f"{source}: cannot be read: {error}") from None
        name = name or str(source)
    else:
        text, name = source, name or "profile"
    import yaml  # JSON is YAML: one reader for both, which knows the line of every value

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ProfileError(f"{name}{where}: not valid YAML or JSON: {problem}") from None
    if not isinstance(document, Mapping):
        raise ProfileError(f"{name}: a profile is a mapping (name, settings, users, objects)")
    return _validated(document, node, name)


def _validated(document: dict[str, Any], node: Any, name: str) -> Profile:
    try:
        profile = Profile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        location = first["loc"]
        line = _line_of(node, location)
        where = f", line {line}" if line else ""
        path = ".".join(str(part) for part in location) or "the profile"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown key {location[-1]!r}"
        raise ProfileError(f"{name}{where}: {path}: {message}") from None
    _check_references(profile, node, name)
    return profile


def _check_references(profile: Profile, node: Any, name: str) -> None:
    """What the schema alone cannot say: names declared once, rights that name a declared object, only extender
    columns added to a built-in object."""
    for kind, names in (("objects", [each.name.lower() for each in profile.objects]),
                        ("users", [each.name for each in profile.users])):
        for position, each in enumerate(names):
            if each in names[:position]:
                line = _line_of(node, (kind, position, "name"))
                raise ProfileError(f"{name}{f', line {line}' if line else ''}: {kind}.{position}.name: "
                                   f"{each!r} is declared twice")
    for section, names in ((("web_services",), [each.name.lower() for each in profile.web_services]),
                           (("queries",), [each.name.lower() for each in profile.queries]),
                           (("audiences",), [each.name.lower() for each in profile.audiences]),
                           *((("web_services", position, "methods"), [method.name.lower() for method in service.methods])
                             for position, service in enumerate(profile.web_services))):
        for position, each in enumerate(names):
            if each in names[:position]:
                line = _line_of(node, (*section, position, "name"))
                path = ".".join(map(str, (*section, position, "name")))
                raise ProfileError(f"{name}{f', line {line}' if line else ''}: {path}: {each!r} is declared twice")
    declared = {each.name.lower() for each in profile.objects}
    if name != _DEFAULT_FILE:
        built_in = {each.name.lower() for each in default_profile().objects}
        declared |= built_in
        for position, each in enumerate(profile.objects):
            for index, column in enumerate(each.columns):
                if each.name.lower() in built_in and not column.ext:
                    line = _line_of(node, ("objects", position, "columns", index))
                    raise ProfileError(f"{name}{f', line {line}' if line else ''}: objects.{position}.columns."
                                       f"{index}: {each.name} is built in: a column added to it is an extender "
                                       f"column (ext: true, a name ending in _ext)")
    for position, user in enumerate(profile.users):
        for object_name in user.rights or {}:
            if object_name != "*" and object_name.lower() not in declared:
                line = _line_of(node, ("users", position, "rights", object_name))
                raise ProfileError(f"{name}{f', line {line}' if line else ''}: users.{position}.rights: "
                                   f"no object {object_name!r} is declared")


def _line_of(node: Any, location: tuple[Any, ...]) -> int | None:
    """The line of the value at `location` in a composed YAML document (1-based), or of the nearest one above it."""
    import yaml

    line = None if node is None else node.start_mark.line + 1
    for part in location:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == str(part)), None)
            if found is None:
                key = next((key for key, _ in node.value if key.value == str(part)), None)
                return key.start_mark.line + 1 if key is not None else line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


@cache
def default_profile() -> Profile:
    """The built-in objects' shape, as shipped."""
    text = resources.files("xweb_emulator.xweb.profiles").joinpath(_DEFAULT_FILE).read_text(encoding="utf-8")
    return read_profile(text, name=_DEFAULT_FILE)


def merged(base: Profile, overlay: Profile) -> Profile:
    """`overlay` over `base`: its objects added, or merged into the base's of the same name (columns added or
    replaced by name, the other fields replaced where given); its users and settings where it gives them."""
    objects = {each.name.lower(): each for each in base.objects}
    for each in overlay.objects:
        under = objects.get(each.name.lower())
        if under is None:
            objects[each.name.lower()] = each
            continue
        columns = {column.name.lower(): column for column in under.columns}
        columns.update((column.name.lower(), column) for column in each.columns)
        given = each.model_dump(exclude_unset=True, exclude_none=True, exclude={"columns", "name"})
        objects[each.name.lower()] = under.model_copy(update={**given, "columns": tuple(columns.values())})
    settings = base.settings.model_copy(update=overlay.settings.model_dump(exclude_none=True))
    return Profile(name=overlay.name, description=overlay.description or base.description, settings=settings,
                   users=overlay.users or base.users, objects=tuple(objects.values()),
                   sign_on=overlay.sign_on if "sign_on" in overlay.model_fields_set else base.sign_on,
                   web_users=overlay.web_users or base.web_users,
                   web_services=overlay.web_services, queries=overlay.queries, audiences=overlay.audiences)


# ------------------------------------------------------------------------------ web methods and saved queries
# The profile's web_services, queries and audiences sections.

class MethodParameter(_Strict):
    """A parameter a web method or a saved query takes, as the caller names it in Parameter/Name."""

    name: str
    type: str = "nvarchar"
    """A column type (av_key, av_date, int, nvarchar …): the value sent must read as one."""
    required: bool = False

    _name = field_validator("name")(lambda value: _identifier(value))
    _type = field_validator("type")(lambda value: ProfileColumn._known_type(value))

    @property
    def kind(self) -> str:
        return DATA_TYPES[self.type]


class SavedQuery(_Strict):
    """A query over one object: what a query web method, a saved dynamic query and an audience run. The where clause
    is T-SQL as GetQuery reads it, `@name` standing for a parameter's value (bound, never pasted into the text)."""

    object: str
    columns: str = ""
    """szColumnList: by default the object's default list."""
    where: str = ""
    order_by: str = ""
    top: int | None = Field(None, ge=-1)
    """The most rows answered (-1: all); by default the query row cap."""


class MethodWrite(_Strict):
    """A write a web method does: an insert of a record, or an update of the one `key` names. Each value is a column's:
    text, or `@name` for a parameter's value."""

    insert: str | None = None
    update: str | None = None
    key: str | None = None
    """The parameter holding the updated record's key (update only)."""
    values: dict[str, str | None] = {}

    @model_validator(mode="after")
    def _one_kind(self) -> MethodWrite:
        if (self.insert is None) == (self.update is None):
            raise ValueError("a write is an insert or an update of one object")
        if (self.update is None) != (self.key is None):
            raise ValueError("an update names the parameter holding its key (key), an insert none")
        return self


class WebMethod(_Strict):
    """A Toolkit web method (Web Service → Web Method): its parameters, what it does and answers, and its Web Method
    Security. It answers a query's records, the records it wrote, or a fixed answer."""

    name: str
    parameters: tuple[MethodParameter, ...] = ()
    query: SavedQuery | None = None
    writes: tuple[MethodWrite, ...] = ()
    """Done in order, in the call's transaction: a later one failing undoes the earlier ones."""
    answer: dict[str, Any] | None = None
    """A fixed answer (an XML node in JSON.NET's form: {"Result": {"Status": "OK"}}) for a method that acknowledges."""
    users: tuple[str, ...] | None = None
    """The xWeb users who may call it; by default every one."""
    anonymous: bool = False
    """Allow Anonymous Access: callable without a token, by anyone."""

    _name = field_validator("name")(lambda value: _identifier(value))

    @model_validator(mode="after")
    def _answers_one_way(self) -> WebMethod:
        if sum((self.query is not None, bool(self.writes), self.answer is not None)) != 1:
            raise ValueError("a web method has one of query, writes or answer")
        _declared_once("parameter", [each.name for each in self.parameters])
        declared = {each.name.lower() for each in self.parameters}
        for write in self.writes:
            named = [write.key or "", *(value[1:] for value in write.values.values() if value and value[0] == "@")]
            undeclared = next((name for name in named if name and name.lower() not in declared), None)
            if undeclared is not None:
                raise ValueError(f"a write names the parameter {undeclared!r}, which the method does not declare")
        return self


class WebService(_Strict):
    """A Toolkit web service, the serviceName ExecuteMethod names."""

    name: str
    methods: tuple[WebMethod, ...] = ()

    _name = field_validator("name")(lambda value: _identifier(value))


class SavedDefinition(SavedQuery):
    """A saved dynamic query (iWeb's Run Query form) or audience: a query with a name, a key and its security."""

    name: str = Field(min_length=1)
    key: str | None = None
    """que_key or qrh_key; by default derived from the name, the same across restarts and databases."""
    description: str | None = None
    parameters: tuple[MethodParameter, ...] = ()
    users: tuple[str, ...] | None = None
    """The xWeb users who may run it; by default every one."""

    @model_validator(mode="after")
    def _parameters_once(self) -> SavedDefinition:
        _declared_once("parameter", [each.name for each in self.parameters])
        return self


class SavedAudience(SavedDefinition):
    customer_key: str
    """The column holding the customer's key (an audience is a list of customers)."""
    page_size: int = Field(100, ge=1)
    """The rows of one of GetAudience's pages (currentPage)."""


Profile.model_rebuild()  # its web_services, queries and audiences are declared above
