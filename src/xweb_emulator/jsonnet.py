"""XML ⇄ JSON as the vendors' .NET stacks convert it (Newtonsoft JSON.NET's SerializeXmlNode conventions).

The neutral form of an XML element is what JSON.NET makes of it: a leaf becomes its text (None when empty), an
element with children an object keyed by the children's local names, a repeated child a list, an attribute a key
"@name" (prefixed names keep their prefix: "@xsi:schemaLocation"). Namespaces are not carried: every element lives
in the one namespace the caller names when converting back.

Nil is not a value: a member sent with xsi:nil="true" (a .NET proxy's unset member), like a JSON null, is "not
sent" and is left out of the neutral record; an element sent empty (`<x />`) is there, with None, and clears what it
names.

One form serves both adapters: SOAP requests are read into it, JSON requests arrive in it, and results are built in
it, then written out as XML elements or JSON.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NIL = f"{{{XSI}}}nil"
_PREFIXES = {"xsi": XSI}


class Streamed:
    """A repeated element's values produced one at a time as the answer is written (rows read from a cursor), so
    that a large result is never held as a list as well; `count` is how many have been written, which an attribute
    placed after them in the same object (recordReturn) reads."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = items
        self.written = 0

    @property
    def count(self) -> _Count:
        # Made when asked for, not kept: a count kept here would refer back to its Streamed, a reference cycle
        # that only the garbage collector frees (tests/integration/test_reference_cycles.py).
        return _Count(self)

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            self.written += 1
            yield item


class _Count:
    def __init__(self, streamed: Streamed) -> None:
        self._streamed = streamed

    def __str__(self) -> str:
        return str(self._streamed.written)


def element_value(element: etree._Element, kept: frozenset[str] | None = None) -> Any:
    """The neutral form of an element's content (not including the element's own name). Elements with children or
    attributes whose local names are `kept` are left as they are, for a reader of their own (unless nil: those take
    their neutral form, where they are not sent)."""
    value = _content(element, kept)
    return None if value is _NOT_SENT else value


_NOT_SENT = object()
"""What _content makes of an element sent xsi:nil="true" with no content of its own: a member that was not sent,
which its parent leaves out."""


def _content(element: etree._Element, kept: frozenset[str] | None) -> Any:
    # Most elements are leaves with no attribute (a request of a thousand records holds some ten thousand): they take
    # the first return.
    childless = not len(element)  # any child: elements, comments, processing instructions
    attributes_sent = element.items()
    if childless and not attributes_sent:
        text = element.text
        return text if text and not text.isspace() else None
    nil = False
    attributes: dict[str, Any] = {}
    for name, attribute in attributes_sent:
        if name == _NIL:
            nil = attribute in ("true", "1")
        else:
            attributes[f"@{_attribute_name(name)}"] = attribute
    value = attributes
    repeated: set[str] = set()  # the names already turned into lists
    leaf = True
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # not comments, not processing instructions
        leaf = False
        name = _LOCAL_NAMES.get(tag) or _local_name(tag)
        if len(child) or child.items():
            if kept is not None and name in kept and child.get(_NIL) is None:
                child_value = child
            else:
                child_value = _content(child, kept)
                if child_value is _NOT_SENT:
                    continue
        else:  # _content's first return, without the call
            text = child.text
            child_value = text if text and not text.isspace() else None
        if name not in value:
            value[name] = child_value
        elif name in repeated:
            value[name].append(child_value)
        else:
            value[name] = [value[name], child_value]
            repeated.add(name)
    if not leaf:
        return value
    text = element.text or ""
    if nil:
        return _NOT_SENT if childless and not text.strip() else None
    if attributes:
        return {**attributes, "#text": text} if text else attributes
    return text if text.strip() else None


_LOCAL_NAMES: dict[str, str] = {}
"""Tags' local names: the records of a call name the same few tags thousands of times. Bounded, as tags are the
clients'."""


def local_name(tag: str) -> str:
    """The local name of a tag, as etree.QName gives it."""
    return _LOCAL_NAMES.get(tag) or _local_name(tag)


def _local_name(tag: str) -> str:
    name = tag[tag.index("}") + 1:] if tag[0] == "{" else tag
    if len(_LOCAL_NAMES) < 4096:
        _LOCAL_NAMES[tag] = name
    return name


def without_nulls(value: Any) -> Any:
    """A JSON value in neutral form: members that are null are left out (not sent), as nil elements are."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def children_values(element: etree._Element) -> list[Any]:
    """The neutral forms of an element's child elements, in order (an array parameter's items)."""
    return [element_value(child) for child in element if isinstance(child.tag, str)]


def markup(name: str, value: Any, omit_none: bool = False) -> bytearray:
    """`value` (neutral form) as the markup of element(s) named `name`, unprefixed (in whatever default namespace
    the markup is placed under), in UTF-8, byte for byte as lxml serializes the same elements; a list repeats the
    element.

    None is an empty element, as netFORUM writes its XmlNode results (`<ind_mid_name />`, with XmlTextWriter's space
    before the slash); with `omit_none`, no element at all, as .NET's XmlSerializer writes a typed object's null
    members. Written straight to bytes, not through an element tree (about 7 times the size of its markup, and five
    times slower to build): a GetQuery answer of every record is held once, as its bytes. Text that no XML document
    may hold raises NotXmlText (lxml's ValueError), and a name that is no XML name lxml's own ValueError.
    """
    written = bytearray()
    _write(written, _element_name(name), value, omit_none)
    return written


def fill(element: etree._Element, value: Any, namespace: str, omit_none: bool = False) -> None:
    """Write `value` (neutral form) as the content of `element` (its attributes, text and child elements), the
    child elements in `namespace`: the markup above, read back as elements."""
    if value is None:
        return
    wrapper = etree.fromstring(f'<w xmlns="{namespace}" xmlns:xsi="{XSI}">'.encode() + markup("w", value, omit_none)
                               + b"</w>")
    (written,) = wrapper
    for name, attribute in written.items():
        element.set(name, attribute)
    element.text = written.text
    element.extend(written)


def _write(written: bytearray, name: str, value: Any, omit_none: bool) -> None:
    if isinstance(value, (list, Streamed)):
        for item in value:
            _write(written, name, item, omit_none)
        return
    if value is None:
        if not omit_none:
            written += f"<{name} />".encode()
        return
    if not isinstance(value, dict):
        written += _leaf(name, text_of(value))
        return
    # The start tag is written once the content is: an attribute may count the elements written before it
    # (recordReturn after the records it counts).
    start = len(written)
    attributes: list[tuple[str, Any]] = []
    text = None
    leaves: list[str] = []  # the elements of text values (a record's), encoded together: a GetQuery writes thousands
    for key, item in value.items():
        if key[:1] == "@":
            attributes.append((key[1:], item))
        elif key == "#text":
            text = item
        elif item.__class__ is str:
            element = _element_name(key)
            leaves.append(f"<{element}>{_escaped(item, _TEXT_SPECIAL, _TEXT_ENTITIES)}</{element}>")
        elif item is None:
            if not omit_none:
                leaves.append(f"<{_element_name(key)} />")
        else:
            if leaves:
                written += "".join(leaves).encode()
                leaves.clear()
            _write(written, _element_name(key), item, omit_none)
    tag = name + "".join(f' {_attribute_name_written(attribute)}="'
                         f'{_escaped(text_of(item), _ATTRIBUTE_SPECIAL, _ATTRIBUTE_ENTITIES)}"'
                         for attribute, item in attributes) if attributes else name  # a record has none
    content = "" if text is None else _escaped(text_of(text), _TEXT_SPECIAL, _TEXT_ENTITIES)
    if len(written) == start:  # no element of its own written yet: the whole element at once
        inner = content + "".join(leaves)
        written += (f"<{tag}>{inner}</{name}>" if inner or text is not None else f"<{tag} />").encode()
        return
    written += "".join(leaves).encode()
    written[start:start] = f"<{tag}>{content}".encode()
    written += f"</{name}>".encode()


def _leaf(name: str, text: str) -> bytes:
    return f"<{name}>{_escaped(text, _TEXT_SPECIAL, _TEXT_ENTITIES)}</{name}>".encode()


# What libxml2 escapes when it serializes text and attribute values; and the characters no XML 1.0 document holds,
# which lxml refuses with this ValueError (a lone surrogate fails as UTF-8 already).
_TEXT_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_ENTITIES = {"\r": "&#13;"}
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


class NotXmlText(ValueError):
    """A value holding a character no XML document may hold (stored through JSON, say): lxml's ValueError, with the
    character, for the wire to word as its vendor would."""

    def __init__(self, character: str) -> None:
        super().__init__("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters")
        self.character = character


def _escaped(text: str, special: re.Pattern[str], entities: dict[str, str]) -> str:
    if special.search(text) is None:
        return text  # nearly every value
    not_xml = _NOT_XML.search(text)
    if not_xml:
        raise NotXmlText(not_xml.group())
    return escape(text, entities)


@lru_cache(maxsize=4096)
def _element_name(name: str) -> str:
    etree.Element(name)  # lxml's own check: ValueError for a name that is no XML name (a client's alias may be one)
    return name


@lru_cache(maxsize=1024)
def _attribute_name_written(name: str) -> str:
    """An attribute's name in neutral form ("recordReturn", "xsi:schemaLocation") as the markup writes it."""
    if name.rpartition(":")[0] not in _PREFIXES:
        etree.Element("x").set(name, "")  # lxml's own check of the name
    return name


def xml_node_json(value: Any) -> bytearray:
    """How JSON.NET writes an XmlNode result, as UTF-8 JSON: attributes first, a repeated element that occurs once an
    object, not a list, one that does not occur at all absent. Written as it goes: rows streamed from a cursor
    (GetQuery @TOP -1) are held once, as their bytes (the buffer itself, not a copy), never as a list of records."""
    written = bytearray()
    _write_json(written, value)
    return written


_ABSENT = object()


def _write_json(written: bytearray, value: Any) -> None:
    if isinstance(value, (list, Streamed)):
        items = iter(value)
        first, second = next(items, _ABSENT), next(items, _ABSENT)
        if first is _ABSENT:
            written += b"[]"
        elif second is _ABSENT:
            _write_json(written, first)
        else:
            written += b"["
            _write_json(written, first)
            for item in itertools.chain((second,), items):
                written += b", "
                _write_json(written, item)
            written += b"]"
        return
    if not isinstance(value, dict):
        written += _json(value)
        return
    if all(item is None or item.__class__ is str for item in value.values()) and not any(
            key[:1] == "@" for key in value):
        written += _json(value)  # a record: as it is, in one go
        return
    # The attributes are written before the elements once the elements are: one may count them (recordReturn).
    start = len(written)
    for key, item in value.items():
        if key[:1] == "@":
            continue
        member = len(written)
        written += b", " + _json(key) + b": "
        before = len(written)
        _write_json(written, item)
        if len(written) == before + 2 and written[before:] == b"[]":  # an element that does not occur
            del written[member:]
    attributes = b", ".join(_json(key) + b": " + _json(item if isinstance(item, str) or item is None else str(item))
                           for key, item in value.items() if key[:1] == "@")
    if len(written) == start:
        written += b"{" + attributes + b"}"
        return
    written[start:start + 2] = b"{" + attributes + b", " if attributes else b"{"  # in place of the first ", "
    written += b"}"


def _json(value: Any) -> bytes:
    # json's default separators (", " and ": ") in the markup around it too: the twin's answers as they were.
    return json.dumps(value, ensure_ascii=False).encode()


def typed_json(value: Any) -> Any:
    """How JSON.NET writes a typed result: an array member ({"Columns": {"Column": [...]}} in neutral form, which
    XmlSerializer writes as an element per item) is a JSON array, with no item name."""
    if isinstance(value, dict):
        if len(value) == 1:
            (item,) = value.values()
            if isinstance(item, list):
                return [typed_json(element) for element in item]
        return {key: typed_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed_json(item) for item in value]
    return value


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attribute_name(name: str) -> str:
    qname = etree.QName(name)
    for prefix, namespace in _PREFIXES.items():
        if qname.namespace == namespace:
            return f"{prefix}:{qname.localname}"
    return qname.localname
