"""`xweb-emulator compare`: a recording (HAR, har.py) replayed in order against an emulator, answer by answer.

Each answer is held against the recorded one: the status and the fault kind; the structure (XML: element names,
order, namespaces and prefixes, which elements are present or nil; JSON: the keys); then the values. What must differ
between two services is carried over rather than ignored: a value the tenant generated (a token, a key, a record
number, a date) is learned from the pair of answers that first holds it, and wherever a later request of the
recording presents it, the emulator's value is sent instead.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from lxml import etree

from xweb_emulator import har, journal

_GUID = re.compile(r"\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?", re.IGNORECASE)
_HEX_TOKEN = re.compile(r"[0-9A-F]{32}", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
                   r"|\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?(?: [AP]M)?)?"
                   r"|\d{14}(?:\.\d+)?")  # SAP's time stamps: 20261207095612.6334290
_GENERATED_NAME = re.compile(r"(?:key|recno|_id|^id|token|number|_no|date|_dt)$", re.IGNORECASE)
_BEARER_TOKEN = re.compile(r"bearer\s+(?:token\s*=\s*)?(\S+)", re.IGNORECASE)
_SHORTEST_CARRIED = 6
"""Values shorter than this are not replaced in requests: a record number 12 would replace every 12 of a body."""
_NOT_SENT = har.HOP_BY_HOP | {"host", "content-length"}
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

STATUS, FAULT, STRUCTURE, VALUE = "status", "fault", "structure", "value"


@dataclass(frozen=True)
class Difference:
    kind: str
    """status, fault, structure or value."""
    where: str
    """Where in the answer: an element path (/Envelope/Body/…), a JSON path ($.data.id), a header."""
    tenant: str | None
    emulator: str | None
    allowed: bool = False


@dataclass
class CallReport:
    order: int
    method: str
    path: str
    operation: str
    tenant_status: int
    emulator_status: int
    differences: list[Difference] = field(default_factory=list)
    carried: list[tuple[str, str, str]] = field(default_factory=list)
    """What differs as it must, each (where, tenant's value, emulator's value)."""
    tenant_body: str = ""
    emulator_body: str = ""

    @property
    def same(self) -> bool:
        return all(difference.allowed for difference in self.differences)


@dataclass
class Report:
    calls: list[CallReport]

    @property
    def differences(self) -> list[Difference]:
        return [each for call in self.calls for each in call.differences if not each.allowed]

    @property
    def clean(self) -> bool:
        return not self.differences

    def as_json(self) -> dict:
        return {"clean": self.clean, "differences": len(self.differences),
                "allowed": sum(each.allowed for call in self.calls for each in call.differences),
                "calls": [{**asdict(call), "same": call.same,
                           "carried": [dict(zip(("where", "tenant", "emulator"), each)) for each in call.carried]}
                          for call in self.calls]}


class Carried:
    """The values a tenant generated, each with the emulator's value in its place: learned from pairs of answers,
    put into the requests that follow."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._pattern: re.Pattern | None = None

    def learn(self, tenant: str, emulator: str) -> None:
        if tenant != emulator and self._values.get(tenant) != emulator:
            self._values[tenant] = emulator
            self._pattern = None

    def value(self, tenant: str) -> str:
        return self._values.get(tenant, tenant)

    def into(self, text: str) -> str:
        """`text` with every learned value of the tenant's replaced by the emulator's."""
        if self._pattern is None:
            replaced = sorted((value for value in self._values if len(value) >= _SHORTEST_CARRIED), key=len,
                              reverse=True)
            if not replaced:
                return text
            self._pattern = re.compile("|".join(map(re.escape, replaced)))
        return self._pattern.sub(lambda match: self._values[match.group(0)], text)


# ------------------------------------------------------------------------------------------------------ replay


def replay(entries: Sequence[Mapping], base_url: str, passwords: Mapping[str, str],
           allow: Iterable[str] = (), timeout: float = 60) -> Report:
    """Send the recorded requests to the emulator at `base_url`, in order, and hold each answer against the
    recorded one. `passwords`: the emulator's, by vendor (xweb, sap, crmcom), sent where the recording masks one."""
    rules = list(allow)
    base_url = base_url.rstrip("/")
    carried = Carried()
    session = requests.Session()
    session.headers.clear()
    session.trust_env = False
    calls = []
    for order, entry in enumerate(entries, 1):
        request = entry["request"]
        split = urlsplit(request["url"])
        recorded_base = f"{split.scheme}://{split.netloc}"
        password = passwords.get(vendor_of(split.path) or "", "")
        path = split.path + (f"?{journal.with_password(split.query, password)}" if split.query else "")
        path = carried.into(path)
        headers = {name: carried.into(har.basic_unmasked(value, password)) for name, value in har.headers(request)
                   if name.lower() not in _NOT_SENT}
        body = carried.into(journal.with_password(har.request_body(entry), password))
        tenant_body = har.response_body(entry).decode("utf-8", errors="replace").replace(recorded_base, base_url)
        call = CallReport(order, request["method"], split.path, operation_of(split.path, headers, body),
                          entry["response"]["status"], 0, tenant_body=tenant_body)
        try:
            answer = session.request(request["method"], base_url + path, headers=headers,
                                     data=body.encode("utf-8"), timeout=timeout, allow_redirects=False)
        except requests.RequestException as error:
            call.differences.append(Difference(STATUS, "", str(call.tenant_status), f"no answer: {error}"))
            answer = None
        if answer is not None:
            call.emulator_status, call.emulator_body = answer.status_code, answer.content.decode(
                "utf-8", errors="replace")
        if entry.get("_error"):
            call.differences.append(Difference(STATUS, "", f"no answer: {entry['_error']}",
                                               str(call.emulator_status)))
        elif answer is not None:
            _compare(call, har.headers(entry["response"]), answer, carried)
        call.differences = [_allowed(each, call.operation, rules) for each in call.differences]
        calls.append(call)
    return Report(calls)


def vendor_of(path: str) -> str | None:
    lowered = path.lower()
    if lowered.startswith("/xweb/"):
        return "xweb"
    if lowered.startswith("/sap/"):
        return "sap"
    if lowered.startswith("/crmapi/"):
        return "crmcom"
    return None


def operation_of(path: str, headers: Mapping[str, str], body: str) -> str:
    """The operation a request calls, as far as its wire shows it: the SOAPAction's or the body's first element
    (SOAP), the last segment of the path (the JSON twin, ASMX's HTTP bindings), the method's path (CRM.COM)."""
    if path.lower().startswith("/crmapi/rest/v2/"):
        return path[len("/crmapi/rest/v2/"):].strip("/")
    action = next((value for name, value in headers.items() if name.lower() == "soapaction"), None)
    if action and action.strip('"'):
        name = action.strip('"').rstrip("/").rsplit("/", 1)[-1]
        # SAP's actions name the request message: …/ManageCampaignInboundIn/MaintainReactionBundleRequest
        return name.removesuffix("Request") if path.lower().startswith("/sap/") else name
    if body.lstrip().startswith("<"):
        try:
            envelope = etree.fromstring(body.encode("utf-8"), etree.XMLParser(resolve_entities=False,
                                                                               no_network=True))
            payload = next((child for element in envelope if etree.QName(element).localname == "Body"
                            for child in element if isinstance(child.tag, str)), None)
            if payload is not None:
                return etree.QName(payload).localname
        except etree.XMLSyntaxError:
            pass
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _allowed(difference: Difference, operation: str, rules: list[str]) -> Difference:
    """A difference `--allow KIND[:OPERATION[:WHERE]]` (shell patterns, without regard to case) lists."""
    subject = (difference.kind, operation, difference.where)
    for rule in rules:
        parts = rule.split(":", 2)
        if all(fnmatch.fnmatch(value.lower(), pattern.lower()) for value, pattern in zip(subject, parts)):
            return Difference(difference.kind, difference.where, difference.tenant, difference.emulator, True)
    return difference


# ------------------------------------------------------------------------------------------------- comparison


def _compare(call: CallReport, tenant_headers: list[tuple[str, str]], answer: requests.Response,
             carried: Carried) -> None:
    out = call.differences
    if call.tenant_status != call.emulator_status:
        out.append(Difference(STATUS, "", str(call.tenant_status), str(call.emulator_status)))
    tenant_fault, emulator_fault = fault_kind(call.tenant_body), fault_kind(call.emulator_body)
    if tenant_fault != emulator_fault:
        # A fault against an answer (or another fault): that is the difference; their structures are not compared.
        out.append(Difference(FAULT, "", tenant_fault, emulator_fault))
        return
    tenant_header = {name.lower(): value for name, value in tenant_headers}
    if tenant_header:  # a journal's export keeps no headers
        _compare_headers(call, tenant_header, {name.lower(): value for name, value in answer.headers.items()},
                         carried)
    tenant_document, emulator_document = _parsed(call.tenant_body), _parsed(call.emulator_body)
    if type(tenant_document) is not type(emulator_document):
        out.append(Difference(STRUCTURE, "", _kind_of(tenant_document), _kind_of(emulator_document)))
    elif isinstance(tenant_document, etree._Element):
        _compare_xml(call, tenant_document, emulator_document, "", carried)
    elif isinstance(tenant_document, _Json):
        _compare_json(call, tenant_document.value, emulator_document.value, "$", "", carried)
    else:
        _compare_value(call, "body", "", call.tenant_body, call.emulator_body, carried)


def _compare_headers(call: CallReport, tenant: dict[str, str], emulator: dict[str, str], carried: Carried) -> None:
    media = [(headers.get("content-type") or "").split(";")[0].strip().lower() for headers in (tenant, emulator)]
    if media[0] != media[1]:
        call.differences.append(Difference(STRUCTURE, "header Content-Type", *media))
    tokens = [_BEARER_TOKEN.search(headers.get("www-authenticate") or "") for headers in (tenant, emulator)]
    if (tokens[0] is None) != (tokens[1] is None):
        call.differences.append(Difference(STRUCTURE, "header WWW-Authenticate", tenant.get("www-authenticate"),
                                           emulator.get("www-authenticate")))
    elif tokens[0] is not None:
        _compare_value(call, "header WWW-Authenticate", "token", tokens[0].group(1), tokens[1].group(1), carried)


@dataclass(frozen=True)
class _Json:
    value: Any


def _parsed(body: str) -> etree._Element | _Json | str:
    text = body.strip()
    if text.startswith("<"):
        try:
            return etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True,
                                                                          huge_tree=True))
        except etree.XMLSyntaxError:
            return body
    if text[:1] in ('{', '[', '"'):
        try:
            return _Json(json.loads(text))
        except ValueError:
            return body
    return body


def _kind_of(document: etree._Element | _Json | str) -> str:
    return "XML" if isinstance(document, etree._Element) else "JSON" if isinstance(document, _Json) else "text"


def fault_kind(body: str) -> str | None:
    """The kind of fault an answer is: a SOAP fault's detail (xWeb's XXXExceptionInfo) or its faultcode; a JSON
    error's kind (xWeb's twin) or its status code (CRM.COM); None for an answer that is no fault."""
    document = _parsed(body)
    if isinstance(document, etree._Element):
        fault = next(document.iter("{*}Fault"), None)
        if fault is None:
            return None
        detail = next((kind for holder in fault.iter("detail", "{*}detail", "{*}Detail") for kind in holder
                       if isinstance(kind.tag, str)), None)
        return etree.QName(detail).localname if detail is not None else (fault.findtext("faultcode") or "Fault")
    if isinstance(document, _Json) and isinstance(document.value, dict):
        status = document.value.get("status")
        if isinstance(status, dict) and status.get("code") not in (None, "OK"):
            return str(status["code"])
        if len(document.value) == 1:
            (name, value), = document.value.items()
            if name.endswith("ExceptionInfo") and isinstance(value, dict):
                return name
    return None


def _compare_xml(call: CallReport, tenant: etree._Element, emulator: etree._Element, where: str,
                 carried: Carried) -> None:
    out = call.differences
    here = f"{where}/{_step(tenant)}"
    if tenant.tag != emulator.tag:
        out.append(Difference(STRUCTURE, here, _name(tenant), _name(emulator)))
        return
    if tenant.prefix != emulator.prefix:
        out.append(Difference(STRUCTURE, here + " (prefix)", tenant.prefix, emulator.prefix))
    nil = [element.get(_XSI_NIL) in ("true", "1") for element in (tenant, emulator)]
    if nil[0] != nil[1]:
        out.append(Difference(STRUCTURE, here + " (nil)", str(nil[0]).lower(), str(nil[1]).lower()))
    attributes = [set(element.attrib) - {_XSI_NIL} for element in (tenant, emulator)]
    for name in sorted(attributes[0] ^ attributes[1]):
        out.append(Difference(STRUCTURE, f"{here}/@{etree.QName(name).localname}",
                              "present" if name in attributes[0] else None,
                              "present" if name in attributes[1] else None))
    for name in sorted(attributes[0] & attributes[1]):
        _compare_value(call, f"{here}/@{etree.QName(name).localname}", etree.QName(name).localname,
                       tenant.get(name), emulator.get(name), carried)
    children = [[child for child in element if isinstance(child.tag, str)] for element in (tenant, emulator)]
    if not children[0] and not children[1]:
        _compare_value(call, here, etree.QName(tenant).localname, tenant.text or "", emulator.text or "", carried)
        return
    names = [[child.tag for child in each] for each in children]
    for operation, t_start, t_end, e_start, e_end in difflib.SequenceMatcher(None, *names, autojunk=False).get_opcodes():
        if operation == "equal":
            for tenant_child, emulator_child in zip(children[0][t_start:t_end], children[1][e_start:e_end]):
                _compare_xml(call, tenant_child, emulator_child, here, carried)
            continue
        for child in children[0][t_start:t_end]:
            out.append(Difference(STRUCTURE, f"{here}/{_step(child)}", "present", None))
        for child in children[1][e_start:e_end]:
            out.append(Difference(STRUCTURE, f"{here}/{_step(child)}", None, "present"))


def _step(element: etree._Element) -> str:
    """An element's step in a path: its name, and its place among its namesakes where it has any (Row[2])."""
    name = etree.QName(element).localname
    parent = element.getparent()
    if parent is None:
        return name
    namesakes = [each for each in parent if each.tag == element.tag]
    return name if len(namesakes) == 1 else f"{name}[{namesakes.index(element) + 1}]"


def _name(element: etree._Element) -> str:
    name = etree.QName(element)
    return f"{{{name.namespace}}}{name.localname}" if name.namespace else name.localname


def _compare_json(call: CallReport, tenant: Any, emulator: Any, where: str, name: str, carried: Carried) -> None:
    out = call.differences
    if isinstance(tenant, dict) and isinstance(emulator, dict):
        for key in tenant.keys() - emulator.keys():
            out.append(Difference(STRUCTURE, f"{where}.{key}", "present", None))
        for key in emulator.keys() - tenant.keys():
            out.append(Difference(STRUCTURE, f"{where}.{key}", None, "present"))
        for key in (key for key in tenant if key in emulator):
            _compare_json(call, tenant[key], emulator[key], f"{where}.{key}", key, carried)
    elif isinstance(tenant, list) and isinstance(emulator, list):
        if len(tenant) != len(emulator):
            out.append(Difference(STRUCTURE, f"{where}[]", f"{len(tenant)} items", f"{len(emulator)} items"))
        for index, (tenant_item, emulator_item) in enumerate(zip(tenant, emulator)):
            _compare_json(call, tenant_item, emulator_item, f"{where}[{index}]", name, carried)
    elif isinstance(tenant, (dict, list)) or isinstance(emulator, (dict, list)):
        out.append(Difference(STRUCTURE, where, _json_kind(tenant), _json_kind(emulator)))
    elif tenant is None or emulator is None:
        if tenant is not emulator:
            out.append(Difference(STRUCTURE, where + " (null)", json.dumps(tenant), json.dumps(emulator)))
    else:
        _compare_value(call, where, name, _scalar(tenant), _scalar(emulator), carried)


def _json_kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else json.dumps(value)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _compare_value(call: CallReport, where: str, name: str, tenant: str, emulator: str, carried: Carried) -> None:
    if tenant == emulator or carried.value(tenant) == emulator:
        return
    if tenant.strip() and emulator.strip() and _generated(name, tenant, emulator):
        carried.learn(tenant, emulator)
        call.carried.append((where, tenant, emulator))
        return
    call.differences.append(Difference(VALUE, where, tenant, emulator))


def _generated(name: str, tenant: str, emulator: str) -> bool:
    """Whether two values are what each service generates for itself: tokens, keys, record numbers, dates."""
    if har.TOKEN_STAND_IN.fullmatch(tenant):
        return True
    return any(pattern.fullmatch(tenant) and pattern.fullmatch(emulator) for pattern in (_GUID, _HEX_TOKEN, _DATE)) \
        or bool(_GENERATED_NAME.search(name))


# ------------------------------------------------------------------------------------------------------ output


def table(report: Report) -> str:
    """The report as the terminal shows it: a line per call, each difference under its call."""
    lines = [f"{'#':>4}  {'operation':<40} {'tenant':>6} {'emulator':>8}  result"]
    for call in report.calls:
        shown = call.differences
        result = "same" if not shown else (
            "allowed" if call.same else f"{sum(not each.allowed for each in shown)} difference(s)")
        if call.carried and not shown:
            result += f" ({len(call.carried)} carried over)"
        lines.append(f"{call.order:>4}  {call.operation[:40]:<40} {call.tenant_status:>6} {call.emulator_status:>8}"
                     f"  {result}")
        for each in shown:
            lines.append(f"{'':>6}{'allowed ' if each.allowed else ''}{each.kind} {each.where or '(answer)'}: "
                         f"tenant {_short(each.tenant)}, emulator {_short(each.emulator)}")
    differences = len(report.differences)
    lines.append(f"{len(report.calls)} calls, " + ("no differences" if not differences else
                                                  f"{differences} difference(s) not allowed"))
    return "\n".join(lines)


def _short(value: str | None, length: int = 60) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= length else text[:length - 1] + "…\""


def html(report: Report, recording: str) -> str:
    """A self-contained page: the calls, their differences, and both answers side by side."""
    from jinja2 import Environment, PackageLoader

    environment = Environment(loader=PackageLoader("xweb_emulator.control", "templates"), autoescape=True)
    return environment.get_template("compare_report.html").render(report=report, recording=recording,
                                                                   pretty=_pretty)


def _pretty(body: str) -> str:
    document = _parsed(body)
    if isinstance(document, etree._Element):
        return etree.tostring(document, pretty_print=True, encoding="unicode")
    if isinstance(document, _Json):
        return json.dumps(document.value, indent=2, ensure_ascii=False)
    return body
