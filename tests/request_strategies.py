"""Hypothesis strategies for the property-based fuzz (tests/integration/test_property_fuzz.py): a valid request for an
operation drawn from a vendor's own operation table (or a route of the control plane's URL map), then mutated: a value
replaced by one of the wrong type, a huge or tiny number, odd Unicode (lone surrogates, NUL, other scripts' digits),
deep nesting; an element or member removed, repeated or renamed; bytes that are no UTF-8 put into the body.

Requests are built in the neutral form (dicts, lists, scalars) and written by each wire's own rules: JSON, XML (a
list is a repeated element), a query string or form. A number too long for json.dumps (or Python's int()) is a
`Digits`, written as its digits wherever it lands.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st
from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Digits:
    """An integer written with `count` digits (a sign first if `negative`): thousands of them as often as not."""

    count: int
    negative: bool = False

    def __str__(self) -> str:
        return ("-" if self.negative else "") + "9" * self.count


# ------------------------------------------------------------------------------------------------ odd values

# Every character, lone surrogates and NUL among them (Hypothesis leaves surrogates out unless told).
_ANY_CHARACTER = st.characters(exclude_categories=())
_ODD_TEXT = st.one_of(
    st.text(_ANY_CHARACTER, max_size=12),
    st.sampled_from(["", " ", "\x00", "\ud800", "\udfff", "١٢٣", "²", "1_000", "NaN", "-0", "\u202e", "\ufeff",
                     "' OR 1=1 --", "<x/>", "&amp;", "]]>", "%ff", "{guid}", "9" * 5000]),
)
# Numbers too long for a 64-bit integer, for a double, for Python's int(): a mutation of their own too, so that a
# reader letting one through is met within a bounded run.
_LONG_NUMBERS = st.builds(Digits, st.sampled_from([20, 309, 641, 4301, 10_000]), st.booleans())
_NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    _LONG_NUMBERS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, -5e-324, 0.0, -0.0, 1e-30]),
)
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _ODD_TEXT)


# Nesting deeper than JSON.NET's 64 levels, yet shallow enough for this module's recursive writers (a frame per
# level) three mutations deep.
_DEPTHS = st.integers(min_value=30, max_value=120)


def _nested(depth: int, leaf: Any) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"n": leaf}
    return leaf


ODD_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(_ODD_TEXT, _SCALARS, max_size=3),
    st.builds(_nested, _DEPTHS, _SCALARS),
)


# -------------------------------------------------------------------------------------------------- mutation


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a neutral-form tree: the path of keys and indexes to each node."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, path + (index,))
    return found


def _replace(tree: Any, path: tuple, change) -> Any:
    """A copy of `tree` with the node at `path` changed to change(node); change returns _GONE to remove it."""
    if not path:
        return change(tree)
    head, rest = path[0], path[1:]
    copy = dict(tree) if isinstance(tree, dict) else list(tree)
    changed = _replace(copy[head], rest, change)
    if changed is _GONE:
        del copy[head]
    else:
        copy[head] = changed
    return copy


_GONE = object()


@st.composite
def mutated(draw, tree: Any) -> Any:
    """`tree` with one to three mutations, each at a node drawn from it."""
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(tree)))
        # Long numbers twice as often as any other change: the outside fuzz's largest family.
        kind = draw(st.sampled_from(["replace", "long number", "long number", "remove", "repeat", "rename", "nest"]))
        if kind in ("replace", "long number") or not path:
            odd = draw(_LONG_NUMBERS if kind == "long number" else ODD_VALUES)
            tree = _replace(tree, path, lambda node: odd)
        elif kind == "remove":
            tree = _replace(tree, path, lambda node: _GONE)
        elif kind == "repeat":  # a repeated element, in XML; a list where one value belongs, in JSON
            tree = _replace(tree, path, lambda node: [node, node])
        elif kind == "nest":
            depth = draw(_DEPTHS)
            tree = _replace(tree, path, lambda node: _nested(depth, node))
        elif isinstance(path[-1], str):
            name = draw(_ODD_TEXT)
            parent, key = path[:-1], path[-1]
            tree = _replace(tree, parent, lambda node: {(name if each == key else each): value
                                                        for each, value in node.items()})
    return tree


@st.composite
def garbled(draw, body: bytes) -> bytes:
    """`body`, or (one time in four) with bytes that are no UTF-8 put in, or cut short."""
    kind = draw(st.sampled_from(["as is", "as is", "as is", "bytes", "cut"]))
    if kind == "as is" or not body:
        return body
    where = draw(st.integers(min_value=0, max_value=len(body)))
    if kind == "cut":
        return body[:where]
    bad = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00",
                                b"\xe2\x82", b"\xc0\xaf"]))
    return body[:where] + bad + body[where:]


# --------------------------------------------------------------------------------------------------- writing


def to_json(value: Any) -> bytes:
    """JSON as a client writes it: escapes for what UTF-8 cannot carry (a lone surrogate), digits for a Digits."""
    digits: list[str] = []

    def default(item: Any) -> Any:
        if isinstance(item, Digits):
            digits.append(str(item))
            return f"\x00digits{len(digits) - 1}\x00"
        raise TypeError(type(item))

    text = json.dumps(value, default=default, allow_nan=True)
    for index, number in enumerate(digits):
        text = text.replace(f'"\\u0000digits{index}\\u0000"', number)
    return text.encode("utf-8", "surrogatepass")


def text_of(value: Any) -> str:
    """A scalar as the text of an element or a form field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return repr(value)
    return str(value)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_element(name: Any, value: Any) -> str:
    """An element as XmlSerializer reads one: a dict's members as children ("@name": an attribute), a list as the
    element repeated. A name no element may have is written all the same (a mutation renamed it)."""
    # Loops, not generator expressions: one frame per level, for the mutations' deep nesting.
    name = text_of(name) or "_"
    if isinstance(value, list):
        repeated = []
        for item in value:
            repeated.append(xml_element(name, item))
        return "".join(repeated)
    attributes, children = [], []
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str) and key.startswith("@"):
                attributes.append(f' {key[1:]}="{_escape(text_of(child)).replace(chr(34), "&quot;")}"')
            else:
                children.append(xml_element(key, child))
    else:
        children.append(_escape(text_of(value)))
    return f"<{name}{''.join(attributes)}>{''.join(children)}</{name}>"


def to_xml(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def form(pairs: dict[str, Any]) -> str:
    """name=value&… (UTF-8, percent-escaped; a lone surrogate as the bytes surrogatepass writes)."""
    return "&".join(f"{quote(text_of(name).encode('utf-8', 'surrogatepass'))}="
                    f"{quote(text_of(value).encode('utf-8', 'surrogatepass'))}" for name, value in pairs.items())


def neutral(element: etree._Element) -> Any:
    """An element of a sample message in the neutral form: attributes as "@name", children by name (repeated ones as
    a list), or its text."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children and not element.attrib:
        return element.text or ""
    tree: dict[str, Any] = {f"@{name}": value for name, value in element.attrib.items()}
    for child in children:
        name = etree.QName(child).localname
        value = neutral(child)
        if name in tree:
            tree[name] = tree[name] + [value] if isinstance(tree[name], list) else [tree[name], value]
        else:
            tree[name] = value
    return tree
