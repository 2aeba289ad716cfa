"""The netFORUM xWeb contract, as the project describes it (contract.json beside this module): every operation of the
vendor's service, emulated or not, with its parameters, result, token rule and the vendor's documentation, and the
types they use. The operation table (operations.py) binds the emulated ones to their domain functions; the served
WSDL (wsdl.py), ASMX's help pages (documents.py), the coverage list and docs/xweb-contract.md are all written from
this one description.

contract.json was derived once from the vendor's 2010 WSDL and 2015 operation list (scripts/derive-xweb-contract)
and is the project's own from then on; docs/xweb-contract.md describes its fields and where it departs from the
vendor's.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

# .NET's simple types, as ASMX declares them in a message: (XSD type, whether the element may be left out).
SIMPLE_TYPES = {"String": ("s:string", True), "Guid": ("s1:guid", False), "Int32": ("s:int", False),
                "Boolean": ("s:boolean", False), "Decimal": ("s:decimal", False), "DateTime": ("s:dateTime", False)}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a vendor method: its .NET type (a simple type, XmlNode, a typed object, or an array <Type>[]),
    and how ASMX declares it where that differs from the type's default: `nillable` (minOccurs 1, xsi:nil for null:
    the vendor's [XmlElement(IsNullable = true)]), `flat` (an array as repeated elements, no ArrayOf<Type> wrapper)."""

    name: str
    kind: str
    nillable: bool = False
    flat: bool = False

    @classmethod
    def parse(cls, declaration: str) -> Parameter:
        """"[nillable|flat] <Type> <name>", as contract.json writes it."""
        *modifiers, kind, name = declaration.split()
        unknown = set(modifiers) - {"nillable", "flat"}
        if unknown or len(modifiers) > 1:
            raise ValueError(f"unreadable parameter declaration: {declaration!r}")
        return cls(name, kind, nillable="nillable" in modifiers, flat="flat" in modifiers)

    @property
    def declaration(self) -> str:
        """As .NET shows it in a stack trace: "String szObjectName"."""
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class OperationContract:
    name: str
    message: str
    """The name its messages, request element and SOAPAction carry: the method's name but where the vendor gave it
    another (ASMX's MessageName)."""
    parameters: tuple[Parameter, ...]
    returns: str
    """The .NET result type: a simple type, XmlNode, void, a typed object or ArrayOf<Type>."""
    result_element: str | None
    """The result's element, <message>Result but where the vendor names it otherwise; None for void."""
    token_in: bool
    """Whether the AuthorizationToken header comes in (and goes out again)."""
    token_out: bool
    documentation: str | None
    source: str = "2010"
    """Where its declaration comes from: "2010", the vendor's 2010 WSDL; "2015", the 2015 operation list and the
    proxies generated from that WSDL (its types partly guessed: docs/xweb-contract.md)."""

    @property
    def signature(self) -> str:
        """The .NET signature, as a fault's stack trace shows it: "String szObjectName, XmlNode oNode"."""
        return ", ".join(parameter.declaration for parameter in self.parameters)

    @property
    def http_bindings(self) -> bool:
        """Whether ASMX binds it to HTTP GET and HTTP POST too (/netForumXML.asmx/<Operation>?name=value), as the
        vendor's WSDL declares for every operation whose parameters a query string can carry (its ScalarFormatter:
        no Guid, no object)."""
        return all(parameter.kind in HTTP_SCALAR_TYPES for parameter in self.parameters)


# What ASMX's HTTP GET and POST bindings can read from a query string or a form.
HTTP_SCALAR_TYPES = frozenset({"String", "Int32", "Boolean", "Decimal", "DateTime"})


@cache
def description() -> dict[str, Any]:
    """contract.json as read: the operations, and the schema's types (complex_types, simple_types, columns,
    facade_roots) that wsdl.py writes."""
    source = importlib.resources.files("xweb_emulator.xweb").joinpath("contract.json").read_bytes()
    return json.loads(source)


@cache
def operation_contracts() -> dict[str, OperationContract]:
    """Every operation of the vendor's service, by name, in the description's (alphabetical) order."""
    contracts = {}
    for entry in description()["operations"]:
        message = entry.get("message", entry["name"])
        token = entry.get("token", "in")
        contract = OperationContract(
            name=entry["name"], message=message,
            parameters=tuple(Parameter.parse(text) for text in entry["parameters"].split(", ") if text),
            returns=entry["returns"],
            result_element=None if entry["returns"] == "void" else entry.get("result", f"{message}Result"),
            token_in=token == "in", token_out=token != "none", documentation=entry.get("documentation"),
            source=entry.get("source", "2010"))
        contracts[contract.name] = contract
    return contracts
