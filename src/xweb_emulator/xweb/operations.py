"""xWeb's operation table: every operation the emulator answers, bound to the domain call its parameters go to. What
each takes and answers (its .NET signature, which the wires and a fault's stack trace read; its result; its token
rule) is the contract's (contract.py), which describes every operation of the vendor's, emulated or not.

Parameters arrive, and results leave, in the neutral form of xweb_emulator.jsonnet (what JSON.NET makes of the
vendor's XML), so the wires share everything here and differ only in how they read and write it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC
from enum import Enum
from typing import Any

from sqlalchemy import text

from xweb_emulator import __version__, jsonnet
from xweb_emulator.call import Call
from xweb_emulator.vendor import Operation
from xweb_emulator.xweb import auth, emails, individuals, phones, preferences, web_users
from xweb_emulator.xweb.contract import OperationContract, operation_contracts
from xweb_emulator.xweb.errors import NAMESPACE, InvalidInput, NotEmulated, stack_trace
from xweb_emulator.xweb.facade import FACADE_OBJECTS, Actor, FacadeObject, get_record, insert_records, \
    object_key, query_definition, row_renderer, update_record
from xweb_emulator.xweb.models import PROMOTIONAL, SUBSCRIPTION
from xweb_emulator.xweb.sections import Sections, TypedObject
from xweb_emulator.xweb.stored import StoredObject
from xweb_emulator.xweb.tenant import Tenant, tenant_of

Params = Mapping[str, Any]
SIMPLE_TYPES = frozenset({"String", "Guid", "Int32", "Boolean", "DateTime"})


class Result(Enum):
    """How an operation's result is typed in the vendor's WSDL, which decides how the wires write it."""

    XML_NODE = "an untyped XmlNode (JSON.NET XML conventions)"
    TYPED = "a typed object or array"
    VOID = "nothing"
    SCALAR = "a string, boolean or date"


@dataclass(frozen=True)
class Reply:
    """What the wires are handed of a call that succeeded: its result, and the token the answer carries."""

    result: Any
    token: str | None


@dataclass(frozen=True, kw_only=True)
class XWebOperation(Operation):
    """An operation of the vendor's service; what it takes and answers is the contract's (contract.json)."""

    emulated: bool = True
    """False for the vendor's operations the emulator does not emulate (NOT_EMULATED): read as any other (but for the
    SOAP wire, which reads only their token), then answered with the NotEmulated fault, which shows no stack trace."""
    anonymous: Callable[[Call, Params], bool] | None = None
    """Whether a call that brings no token may run all the same (a web method allowing anonymous access)."""

    def __post_init__(self) -> None:
        if self.name not in operation_contracts():
            raise ValueError(f"{self.name} is no operation of the vendor's contract (xweb/contract.json)")

    @property
    def contract(self) -> OperationContract:
        return operation_contracts()[self.name]

    @property
    def message(self) -> str:
        """The name its request element and SOAPAction carry."""
        return self.contract.message

    @property
    def parameters(self) -> str:
        """The .NET signature, as a fault's stack trace shows it: "String szObjectName, XmlNode oNode"."""
        return self.contract.signature

    @property
    def parameter_names(self) -> list[str]:
        return [parameter.name for parameter in self.contract.parameters]

    @property
    def parameter_types(self) -> list[str]:
        return [parameter.kind for parameter in self.contract.parameters]

    @property
    def returns(self) -> str:
        """The .NET result type: String, Boolean, DateTime, XmlNode, void, a typed object or ArrayOf<Type>."""
        return self.contract.returns

    @property
    def takes_token(self) -> bool:
        """Whether the AuthorizationToken header comes in (and goes out again)."""
        return self.contract.token_in

    @property
    def result_name(self) -> str | None:
        """The result's element where it is not <Operation>Result."""
        element = self.contract.result_element
        return element if element is not None and element != f"{self.name}Result" else None

    @property
    def simple_parameters(self) -> bool:
        """Whether every parameter is a simple value: the operation may be called with a query string."""
        return all(kind in SIMPLE_TYPES for kind in self.parameter_types)

    @property
    def http_bindings(self) -> bool:
        """Whether ASMX binds it to HTTP GET and HTTP POST too (/netForumXML.asmx/<Operation>?name=value)."""
        return self.contract.http_bindings

    @property
    def result(self) -> Result:
        if self.returns == "XmlNode":
            return Result.XML_NODE
        if self.returns == "void":
            return Result.VOID
        if self.returns in SIMPLE_TYPES:
            return Result.SCALAR
        return Result.TYPED

    @property
    def issues_token(self) -> bool:
        """Authenticate: the token travels in the answer's header, the body holds the namespace."""
        return self.name == "Authenticate"

    @property
    def stack_trace(self) -> str:
        return stack_trace(self.name, self.parameters) if self.emulated else ""


# ---------------------------------------------------------------------------------------------- parameter binding


def _text(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidInput(f"{name} must be a single value.")


def _record(value: Any, where: str) -> dict[str, str | None]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must hold one element per column.")
    # Most values are text already (a call of a thousand records has thousands): the others go through _text.
    return {name: item if item.__class__ is str or item is None else _text(value, name)
            for name, item in value.items() if name[:1] != "@"}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _facade_records(object_name: str, onode: Any) -> list[dict[str, str | None]]:
    """oNode's records: <XxxObjects><XxxObject>…</XxxObject>…</XxxObjects>. Like the vendor, lenient about the two
    wrapper names (real clients send <CEUCredits><CEUCredit>, <EventsRegistrant><Registrant>)."""
    if not isinstance(onode, Mapping) or len([key for key in onode if not key.startswith("@")]) != 1:
        raise InvalidInput(f"oNode must hold one {object_name}Objects element.")
    (outer,) = [value for key, value in onode.items() if not key.startswith("@")]
    if not isinstance(outer, Mapping):
        raise InvalidInput(f"oNode must hold {object_name}Object elements inside {object_name}Objects.")
    inner = [value for key, value in outer.items() if not key.startswith("@")]
    if len(inner) != 1:
        raise InvalidInput(f"{object_name}Objects must hold {object_name}Object elements only.")
    where = f"{object_name}Object"
    return [_record(record, where) for record in _as_list(inner[0])]


def _sections(params: Params, typed: TypedObject) -> Sections:
    """oFacadeObject's CurrentKey and the sections the emulator keeps, each a record. The vendor's other sections are
    accepted and left out; an element the vendor's type does not have is refused. Names are matched without regard
    to case, as JSON.NET binds them (and as columns are)."""
    facade = params.get("oFacadeObject")
    if not isinstance(facade, Mapping):
        raise InvalidInput("oFacadeObject is required.")
    names = {name.lower(): name for name in ("CurrentKey", *typed.sections)}
    sections: Sections = {"CurrentKey": None}
    for sent_name, value in facade.items():
        if sent_name.startswith(("@", "#")):
            continue
        name = names.get(sent_name.lower())
        if name is None:
            raise InvalidInput(f"{typed.name} has no element {sent_name}.")
        if name == "CurrentKey":
            sections[name] = _text(facade, sent_name)
        elif typed.sections[name] is not None and value is not None:
            sections[name] = _record(value, name)
    return sections


def _mailing_list_settings(params: Params) -> list[preferences.MailingListSetting]:
    fields = preferences.MailingListSetting.__dataclass_fields__
    settings = []
    for item in _as_list(params.get("preferences")):
        record = _record(item, "MailingListSetting")
        unknown = set(record) - set(fields)
        if unknown:
            raise InvalidInput(f"MailingListSetting has no element {sorted(unknown)[0]}.")
        settings.append(preferences.MailingListSetting(**record))
    return settings


# ------------------------------------------------------------------------------------------------------ operations


def _actor(call: Call) -> Actor:
    return Actor(call.user, call.now)


def _authenticate(call: Call, params: Params) -> str:
    """The token it issues (which the answer carries in its header: see XWeb.conclude)."""
    return str(auth.authenticate(call.session, auth.policy(call.settings), _text(params, "userName") or "",
                                 _text(params, "password") or "", call.client_address, call.now))


def _test_connection(call: Call, params: Params) -> str:
    call.connection.execute(text("SELECT 1"))
    return "Connection to the database succeeded."


def _get_version(call: Call, params: Params) -> str:
    kind = call.connection.dialect.name
    return f"xweb-emulator {__version__} (netFORUM Enterprise xWeb emulation); database: {kind}"


def _served_object(call: Call, params: Params, right: str) -> FacadeObject | StoredObject:
    """The object szObjectName names, of the tenant served, if the caller may `right` it (object security)."""
    tenant = _tenant(call)
    facade = tenant.facade_object(_text(params, "szObjectName"))
    tenant.check(call.user, right, facade.name)
    return facade


def _tenant(call: Call) -> Tenant:
    """The tenant served, as the call found it on arrival."""
    return tenant_of(call.connection, call.arrival_state)


def _served_individual(call: Call) -> FacadeObject:
    """The Individual object of the tenant served (its extender columns travel in IndividualType's Individual)."""
    return _tenant(call).objects["individual"]


def _insert_facade_object(call: Call, params: Params) -> dict:
    facade = _served_object(call, params, "insert")
    keys = insert_records(call.connection, _actor(call), facade, _facade_records(facade.name, params.get("oNode")))
    return facade_result(facade.name, [{facade.key_column: str(key)} for key in keys])


def _get_facade_object(call: Call, params: Params) -> dict:
    facade = _served_object(call, params, "select")
    record = get_record(call.connection, facade, _text(params, "szObjectKey"))
    return facade_result(facade.name, [] if record is None else [record])


def _update_facade_object(call: Call, params: Params) -> dict:
    """The modified record, whole, as GetFacadeObject answers it."""
    facade = _served_object(call, params, "update")
    records = _facade_records(facade.name, params.get("oNode"))
    if len(records) != 1:
        raise InvalidInput(f"oNode must hold one {facade.name}Object to update.")
    key = update_record(call.connection, _actor(call), facade, _text(params, "szObjectKey"), records[0])
    return facade_result(facade.name, [get_record(call.connection, facade, str(key))])


def _get_query(call: Call, params: Params) -> dict:
    from xweb_emulator.xweb.query import build_query  # sqlglot: imported by the first GetQuery, not at start

    tenant = _tenant(call)

    def find_object(name: str) -> Any:
        facade = tenant.facade_object(name)
        tenant.check(call.user, "select", facade.name)
        return facade.queryable

    query = build_query(find_object, _text(params, "szObjectName"), _text(params, "szColumnList"),
                        _text(params, "szWhereClause"), _text(params, "szOrderBy"),
                        default_row_cap=call.settings.xweb_query_row_cap, now=call.now)
    columns = query.statement.selected_columns
    # Streamed from the cursor into the answer as it is written (@TOP -1 of a whole table is not held as a list).
    rows = call.connection.execute(query.statement.execution_options(yield_per=1000))
    return facade_result(query.queryable.name, jsonnet.Streamed(map(row_renderer(columns), rows)))


def _get_facade_object_list(call: Call, params: Params) -> dict:
    return facade_result("Object", [{"obj_name": facade.name, "obj_key": object_key(facade),
                                     "obj_description": facade.description}
                                    for facade in _tenant(call).objects.values()])


# GetIndividualInformation's record, as live tenants answer it: its elements in this order, each from the Individual
# object's column named beside it; None where the emulator keeps no such data (addresses, faxes, the job title).
_INDIVIDUAL_INFORMATION = (
    ("ind_cst_key", "ind_cst_key"), ("ind_prf_code", "ind_prf_code"), ("ind_first_name", "ind_first_name"),
    ("ind_mid_name", "ind_mid_name"), ("ind_last_name", "ind_last_name"), ("ind_sfx_code", "ind_sfx_code"),
    ("ind_designation", "ind_designation"), ("ind_int_code", "ind_int_code"), ("ind_badge_name", "ind_badge_name"),
    ("ixo_title", None), ("cst_id", "cst_id"), ("cst_member_flag", "cst_member_flag"),
    ("vst_member_flag", "cst_member_flag"), ("phn_number", "cst_phn_number_complete_dn"), ("fax_number", None),
    ("eml_address", "eml_address"), ("adr_line1", None), ("adr_line2", None), ("adr_line3", None),
    ("adr_city", None), ("adr_state", None), ("adr_post_code", None), ("adr_country", None),
)


def _get_individual_information(call: Call, params: Params) -> dict:
    key = _text(params, "IndividualKey")
    try:
        record = get_record(call.connection, FACADE_OBJECTS["individual"], key)
    except InvalidInput:
        record = None
    if record is None:
        raise InvalidInput("Invalid Parameters.")
    return facade_result("Individual", [{name: record[column] if column else None
                                         for name, column in _INDIVIDUAL_INFORMATION}])


def facade_result(object_name: str, records: list[dict] | jsonnet.Streamed) -> dict:
    """<XxxObjects xsi:schemaLocation="… Xxx.xsd" recordReturn="N"><XxxObject>…</XxxObject>…</XxxObjects>"""
    if isinstance(records, list):
        records = jsonnet.Streamed(records)
    return {f"{object_name}Objects": {
        "@xsi:schemaLocation": f"{NAMESPACE} {object_name}.xsd",
        f"{object_name}Object": records,
        "@recordReturn": records.count,  # after the records: how many were written
    }}


def _results(records: list[dict]) -> dict:
    """<Results recordReturn="N"><Result>…</Result>…</Results>: a WEB* list of records."""
    results: dict[str, Any] = {"@recordReturn": str(len(records))}
    if records:
        results["Result"] = records
    return {"Results": results}


def _mailing_types(mailing_type: str) -> Callable[[Call, Params], list]:
    return lambda call, params: [asdict(item) for item in preferences.mailing_types(call.session, mailing_type)]


def _set_preferences(call: Call, params: Params) -> None:
    preferences.set_preferences(call.session, _actor(call), _text(params, "customerKey"), _mailing_list_settings(params))


# ------------------------------------------------------------------------------- web users and sign-on (issue 21)


def _sign_on(call: Call):
    return _tenant(call).profile.sign_on


def _web_sections(params: Params) -> dict[str, Any]:
    """oWebUser: CurrentKey and its sections, each a record."""
    web_user = params.get("oWebUser")
    if not isinstance(web_user, Mapping):
        raise InvalidInput("oWebUser is required.")
    return {name: _text(web_user, name) if name == "CurrentKey" else _record(value, name)
            for name, value in web_user.items() if not name.startswith(("@", "#")) and value is not None}


def _web_login(call: Call, params: Params) -> str:
    """A sign-on token for the customer whose login and password these are."""
    sign_on = _sign_on(call)
    user = web_users.login(call.session, sign_on, _text(params, "userLoginPlain"), _text(params, "passwordPlain"))
    return str(web_users.issue_token(call.session, sign_on, user, call.now))


def _web_validate(call: Call, params: Params) -> str:
    key = web_users.validate(call.session, _text(params, "authenticationToken"), call.now)
    return web_users.NO_CUSTOMER if key is None else str(key)


def _web_user_login(call: Call, params: Params) -> dict:
    """The web user, its Individual/ind_token the sign-on token this login issues."""
    sign_on = _sign_on(call)
    user = web_users.login(call.session, sign_on, _text(params, "LoginOrEmail"), _text(params, "password"))
    return web_users.web_user(call.session, user.cst_key, web_users.issue_token(call.session, sign_on, user, call.now))


def _web_user_validate_login(call: Call, params: Params) -> dict:
    """The web user, its login and password checked; no token issued."""
    user = web_users.login(call.session, _sign_on(call), _text(params, "LoginOrEmail"), _text(params, "password"))
    return web_users.web_user(call.session, user.cst_key)


def _web_user_validate_token(call: Call, params: Params) -> dict:
    token = _text(params, "authenticationToken")
    key = web_users.validate(call.session, token, call.now)
    if key is None:
        raise InvalidInput("Invalid Token.")
    return web_users.web_user(call.session, key, web_users.token_key(token))


def _web_user_remember_me(call: Call, params: Params) -> dict:
    """The web user, its Individual/ind_token the "remember me" token (WEBWebUserLoginByRememberMe's)."""
    user = web_users.login(call.session, _sign_on(call), _text(params, "LoginOrEmail"), _text(params, "password"))
    return web_users.web_user(call.session, user.cst_key, web_users.remember(call.session, user))


def _web_user_by_remember_me(call: Call, params: Params) -> dict:
    user = web_users.by_remember_me(call.session, _text(params, "authenticationToken"))
    return web_users.web_user(call.session, user.cst_key, user.remember_me)


def _web_user_create(call: Call, params: Params) -> dict:
    key = web_users.create(call.session, _actor(call), _web_sections(params))
    return web_users.web_user(call.session, key)


def _web_user_update(call: Call, params: Params) -> dict:
    return web_users.web_user(call.session, web_users.update_user(call.session, _web_sections(params)))


WEB_USER_OPERATIONS = (
    XWebOperation(name="WebLogin", run=_web_login, secret_answer=True),  # the sign-on token
    XWebOperation(name="WebValidate", run=_web_validate),
    XWebOperation(name="WebLogout",
                  run=lambda call, params: web_users.logout(call.session, _text(params, "authenticationToken"))),
    XWebOperation(name="WEBWebUserLogin", run=_web_user_login),
    XWebOperation(name="WEBWebUserValidateLogin", run=_web_user_validate_login),
    XWebOperation(name="WEBWebUserValidateToken", run=_web_user_validate_token),
    XWebOperation(name="WEBWebUserLoginAndRememberMe", run=_web_user_remember_me),
    XWebOperation(name="WEBWebUserLoginByRememberMe", run=_web_user_by_remember_me),
    XWebOperation(name="WEBWebUserGet",
                  run=lambda call, params: web_users.web_user(
                      call.session, web_users.get(call.session, _text(params, "cst_key")))),
    XWebOperation(name="WEBWebUserCreate", run=_web_user_create),
    XWebOperation(name="WEBWebUserUpdate", run=_web_user_update),
    XWebOperation(name="WEBWebUserChangePassword",
                  run=lambda call, params: web_users.change_password(
                      call.session, _text(params, "recno"), _text(params, "oldPassword"),
                      _text(params, "newPassword"))),
    XWebOperation(name="WEBWebUserLock",
                  run=lambda call, params: web_users.set_locked(call.session, _text(params, "cst_recno"), True)),
    XWebOperation(name="WEBWebUserUnlock",
                  run=lambda call, params: web_users.set_locked(call.session, _text(params, "cst_recno"), False)),
    XWebOperation(name="WEBWebUserFindUsersByEmail",
                  run=lambda call, params: _results(web_users.find_by_email(
                      call.session, _text(params, "emailToMatch")))),
    XWebOperation(name="WEBWebUserFindUsersByName",
                  run=lambda call, params: _results(web_users.find_by_name(
                      call.session, _text(params, "usernameToMatch")))),
    XWebOperation(name="WEBWebUserFindUsersByUserNameFirstNameLastName",
                  run=lambda call, params: _results(web_users.find_by_names(
                      call.session, _text(params, "usernameToMatch"), _text(params, "firstnameToMatch"),
                      _text(params, "lastnameToMatch")))),
    XWebOperation(name="WEBGetAllRoles", run=lambda call, params: _results(web_users.all_roles(call.session))),
    XWebOperation(name="WEBGetRolesForUser",
                  run=lambda call, params: _results(web_users.roles_for_user(
                      call.session, _text(params, "username")))),
    XWebOperation(name="WEBIsUserInRole",
                  run=lambda call, params: web_users.is_in_role(
                      call.session, _text(params, "username"), _text(params, "roleName"))),
    XWebOperation(name="WEBGetUsersInRole",
                  run=lambda call, params: _results(web_users.users_in_role(
                      call.session, _text(params, "roleName")))),
    XWebOperation(name="WEBFindUsersInRole",
                  run=lambda call, params: _results(web_users.users_in_role(
                      call.session, _text(params, "roleName"), _text(params, "usernameToMatch") or ""))),
    XWebOperation(name="WEBRoleExists",
                  run=lambda call, params: web_users.role_exists(call.session, _text(params, "roleName"))),
)


# ------------------------------------------------------------ the tenant's web methods and saved queries (methods.py)


def _methods_context(call: Call) -> Any:
    from xweb_emulator.xweb import methods  # sqlglot: imported by the first call, not at start

    return methods.Context(call.connection, _tenant(call), call.user, call.now,
                           call.settings.xweb_query_row_cap)


def _answered(answer: Any) -> Any:
    """A method's or saved query's answer: its fixed node, or its records as GetQuery answers them."""
    if answer.object_name is None:
        return answer.node
    return facade_result(answer.object_name, jsonnet.Streamed(answer.records))


def _execute_method(call: Call, params: Params) -> Any:
    from xweb_emulator.xweb import methods

    return _answered(methods.execute_method(_methods_context(call), _text(params, "serviceName"),
                                            _text(params, "methodName"), params.get("parameters")))


def _get_dynamic_query(call: Call, params: Params) -> Any:
    from xweb_emulator.xweb import methods

    return _answered(methods.dynamic_query(_methods_context(call), _text(params, "szObjectName"),
                                           _text(params, "szQueryName"), params.get("Parameters")))


def _get_dynamic_query_definition(call: Call, params: Params) -> dict:
    from xweb_emulator.xweb import methods

    return methods.dynamic_query_definition(_methods_context(call), _text(params, "szObjectName"),
                                            _text(params, "szQueryName"), _text(params, "que_key"))


def _get_audience_list(call: Call, params: Params) -> Any:
    from xweb_emulator.xweb import methods

    return _answered(methods.audience_list(_methods_context(call)))


def _get_audience(call: Call, params: Params) -> Any:
    from xweb_emulator.xweb import methods

    page = _text(params, "currentPage")
    return _answered(methods.audience(_methods_context(call), _text(params, "qrh_key"), params.get("Parameters"),
                                      _page_number(page)))


def _get_audience_definition(call: Call, params: Params) -> dict:
    from xweb_emulator.xweb import methods

    return methods.audience_definition(_methods_context(call), _text(params, "qrh_key"))


def _page_number(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"currentPage: '{text}' is not an integer.") from None


def _anonymous_method(call: Call, params: Params) -> bool:
    from xweb_emulator.xweb import methods

    return methods.allows_anonymous(_tenant(call), _text(params, "serviceName"),
                                    _text(params, "methodName"))


TENANT_METHODS = (
    XWebOperation(name="ExecuteMethod", run=_execute_method, anonymous=_anonymous_method),
    XWebOperation(name="GetDynamicQuery", run=_get_dynamic_query),
    XWebOperation(name="GetDynamicQueryDefinition", run=_get_dynamic_query_definition),
    XWebOperation(name="GetAudienceList", run=_get_audience_list),
    XWebOperation(name="GetAudience", run=_get_audience),
    XWebOperation(name="GetAudienceDefinition", run=_get_audience_definition),
)


OPERATIONS: dict[str, XWebOperation] = {
    operation.name: operation
    for operation in (
        XWebOperation(name="Authenticate", run=_authenticate),
        XWebOperation(name="TestConnection", run=_test_connection),
        # With its offset, as .NET writes a DateTime: a bare time would be read in the client's own zone.
        XWebOperation(name="GetDateTime", run=lambda call, params: call.now.replace(tzinfo=UTC)),
        XWebOperation(name="GetVersion", run=_get_version),
        XWebOperation(name="InsertFacadeObject", run=_insert_facade_object),
        XWebOperation(name="GetFacadeObject", run=_get_facade_object),
        XWebOperation(name="UpdateFacadeObject", run=_update_facade_object),
        XWebOperation(name="GetQuery", run=_get_query),
        XWebOperation(name="GetQueryDefinition",
                      run=lambda call, params: query_definition(_served_object(call, params, "select"))),
        XWebOperation(name="GetFacadeObjectList", run=_get_facade_object_list),
        XWebOperation(name="GetIndividualInformation", run=_get_individual_information),
        XWebOperation(name="SetCustomerCommunicationPreferences", run=_set_preferences),
        XWebOperation(name="GetCustomerCommunicationPreference",
                      run=lambda call, params: asdict(preferences.get_preference(
                          call.session, _text(params, "customerKey"), _text(params, "preferenceTypeKey")))),
        XWebOperation(name="GetAllCustomerCommunicationPreferences",
                      run=lambda call, params: [asdict(item) for item in preferences.get_all_preferences(
                          call.session, _text(params, "customerKey"))]),
        XWebOperation(name="GetPromotionalMailingTypes", run=_mailing_types(PROMOTIONAL)),
        XWebOperation(name="GetSubscriptionMailingTypes", run=_mailing_types(SUBSCRIPTION)),
        XWebOperation(name="WEBIndividualGet",
                      run=lambda call, params: individuals.get_individual(
                          call.connection, _served_individual(call), _text(params, "key"))),
        XWebOperation(name="WEBIndividualUpdate",
                      run=lambda call, params: individuals.update_individual(
                          call.connection, _actor(call), _served_individual(call),
                          _sections(params, individuals.INDIVIDUAL_TYPE))),
        XWebOperation(name="WEBIndividualInsert",
                      run=lambda call, params: individuals.insert_individual(
                          call.connection, _actor(call), _served_individual(call),
                          _sections(params, individuals.INDIVIDUAL_TYPE))),
        XWebOperation(name="WEBPhoneUpdate",
                      run=lambda call, params: phones.update_phone(
                          call.session, _actor(call), _sections(params, phones.CUSTOMER_PHONE_TYPE))),
        XWebOperation(name="WEBPhoneGet",
                      run=lambda call, params: phones.get_phone(call.session, _text(params, "key"))),
        XWebOperation(name="WEBPhoneInsert",
                      run=lambda call, params: phones.insert_phone(
                          call.session, _actor(call), _sections(params, phones.CUSTOMER_PHONE_TYPE))),
        XWebOperation(name="WEBPhoneGetPhonesByCustomer",
                      run=lambda call, params: _results(phones.phones_by_customer(
                          call.session, _text(params, "CustomerKey")))),
        XWebOperation(name="WEBEmailGet",
                      run=lambda call, params: emails.get_email(call.connection, _text(params, "key"))),
        XWebOperation(name="WEBEmailUpdate",
                      run=lambda call, params: emails.update_email(
                          call.connection, _actor(call), _sections(params, emails.CUSTOMER_EMAIL_TYPE))),
        XWebOperation(name="WEBEmailInsert",
                      run=lambda call, params: emails.insert_email(
                          call.connection, _actor(call), _sections(params, emails.CUSTOMER_EMAIL_TYPE))),
        XWebOperation(name="WEBEmailGetEmailsByCustomer",
                      run=lambda call, params: _results(emails.emails_by_customer(
                          call.connection, _text(params, "CustomerKey")))),
        *WEB_USER_OPERATIONS,
        *TENANT_METHODS,
    )
}


def operation_named(name: str) -> XWebOperation | None:
    """One of the vendor's operations, emulated or not; method names are matched without regard to case, as ASP.NET
    routes them."""
    return _BY_LOWER_NAME.get(name.lower())


# Every operation of the vendor's service, as the contract describes it (contract.json: the 262 operations of
# netFORUM Enterprise xWeb 2015, the 2010 WSDL's 231 among them), the emulated ones (OPERATIONS) included. A call to
# any other answers NotEmulated.
VENDOR_OPERATIONS: tuple[str, ...] = tuple(operation_contracts())


def _not_emulated(call: Call, params: Params) -> None:
    raise NotEmulated(call.operation)


# Each vendor operation the table above does not emulate: routed and authenticated as any other, then refused.
NOT_EMULATED: dict[str, XWebOperation] = {
    name: XWebOperation(name=name, run=_not_emulated, emulated=False) for name in VENDOR_OPERATIONS
    if name not in OPERATIONS
}
# The same by the name its messages and SOAPAction carry (ASMX's MessageName, the method's but where the vendor gave
# it another).
NOT_EMULATED_MESSAGES: dict[str, XWebOperation] = {operation.message: operation for operation in NOT_EMULATED.values()}
_BY_LOWER_NAME = {name.lower(): operation for name, operation in (OPERATIONS | NOT_EMULATED).items()}
