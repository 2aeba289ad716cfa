"""The neutral form written out. As XML markup (jsonnet.markup, which every SOAP and HTTP answer of ours is written
by) byte for byte as lxml serializes the same elements, which is what clients parsed before the writer went straight
to bytes; fill, which reads that markup back into an element tree; and as JSON.NET writes an XmlNode result
(jsonnet.xml_node_json, the JSON twin's answers)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import etree

from xweb_emulator import jsonnet

XSI = "http://www.w3.org/2001/XMLSchema-instance"
NAMESPACE = "http://www.avectra.com/2005/"

AWKWARD_TEXTS = ["", " ", "plain", "a & b < c > d", 'quoted "twice" and \'once\'', "line\r\nbreak\tand tab",
                 "]]>", "é ü ß 中文 🙂", "&amp; already escaped", "\x7f\x85 (allowed controls)"]


def lxml_reference(name: str, value: Any, omit_none: bool) -> bytes:
    """The same elements built with lxml and serialized by it: the oracle."""
    root = etree.Element("root", nsmap={"xsi": XSI})
    _append(root, name, value, omit_none)
    root.text = ""  # written <root …></root> when it holds nothing
    whole = etree.tostring(root, encoding="utf-8")
    return whole[whole.index(b">") + 1:-len(b"</root>")]  # what is inside the root, its xsi declaration aside


def _append(parent: etree._Element, name: str, value: Any, omit_none: bool) -> None:
    if isinstance(value, list):
        for item in value:
            _append(parent, name, item, omit_none)
        return
    if value is None and omit_none:
        return
    element = etree.SubElement(parent, name)
    if value is None:
        return
    if not isinstance(value, dict):
        element.text = jsonnet.text_of(value)
        return
    for key, item in value.items():
        if key.startswith("@"):
            element.set(f"{{{XSI}}}{key[5:]}" if key.startswith("@xsi:") else key[1:], jsonnet.text_of(item))
        elif key == "#text":
            element.text = jsonnet.text_of(item)
        else:
            _append(element, key, item, omit_none)


def written(name: str, value: Any, omit_none: bool = False) -> bytes:
    return bytes(jsonnet.markup(name, value, omit_none))


def as_lxml_writes_it(markup: bytes) -> bytes:
    """lxml writes an empty element `<x/>`; our answers, as .NET does, `<x />`."""
    return re.sub(rb"(<[^<>]*[^<> ])/>", rb"\1 />", markup)


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_text_and_attribute_values_are_escaped_as_lxml_escapes_them(text: str) -> None:
    value = {"@code": text, "@xsi:type": text, "leaf": text, "mixed": {"@a": text, "#text": text}}
    assert written("Record", value) == as_lxml_writes_it(lxml_reference("Record", value, False))


@pytest.mark.parametrize("omit_none", [False, True])
def test_shapes_of_the_neutral_form(omit_none: bool) -> None:
    value = {
        "@xsi:schemaLocation": f"{NAMESPACE} Individual.xsd",
        "IndividualObject": [
            {"ind_cst_key": "2a50c454-0000-0000-0000-000000000001", "ind_mid_name": None, "flag": True,
             "count": 3, "nested": {"deeper": {"deepest": "x"}}, "empty": {}},
            {"ind_cst_key": "2a50c454-0000-0000-0000-000000000002", "ind_mid_name": "M", "flag": False,
             "count": 0, "nested": None, "empty": {"@only": "attribute"}},
        ],
        "text_and_children": {"#text": "before", "child": "c"},
        "empty_text": {"#text": ""},
        "no_items": [],
        "@recordReturn": "2",
    }
    assert written("IndividualObjects", value, omit_none) == as_lxml_writes_it(
        lxml_reference("IndividualObjects", value, omit_none))


def test_a_count_written_after_the_elements_it_counts_is_in_the_start_tag() -> None:
    records = jsonnet.Streamed(iter([{"key": "1"}, {"key": "2"}, {"key": "3"}]))
    value = {"Record": records, "@recordReturn": records.count}
    assert written("Records", value) == (b'<Records recordReturn="3"><Record><key>1</key></Record>'
                                         b"<Record><key>2</key></Record><Record><key>3</key></Record></Records>")


def test_a_leaf_and_a_null_at_the_top() -> None:
    assert written("Result", "a<b") == b"<Result>a&lt;b</Result>"
    assert written("Result", None) == b"<Result />"
    assert written("Result", None, omit_none=True) == b""
    assert written("Result", ["1", "2"]) == b"<Result>1</Result><Result>2</Result>"


@pytest.mark.parametrize("text", ["\x00", "bell\x07", "\x0b", "\x1f", "\ufffe", "\uffff"])
def test_text_no_xml_document_may_hold_is_refused_as_lxml_refuses_it(text: str) -> None:
    with pytest.raises(ValueError, match="All strings must be XML compatible") as ours:
        written("Record", {"leaf": text})
    with pytest.raises(ValueError) as lxml_error:
        lxml_reference("Record", {"leaf": text}, False)
    assert str(ours.value) == str(lxml_error.value)
    with pytest.raises(ValueError, match="All strings must be XML compatible"):
        written("Record", {"@attribute": text})


def test_a_lone_surrogate_fails_as_utf_8() -> None:
    with pytest.raises(UnicodeEncodeError):
        written("Record", {"leaf": "\ud800"})


@pytest.mark.parametrize("name", ["a b", "1st", "x:y", "<x>", ""])
def test_a_name_that_is_no_xml_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        written("Record", {name: "value"})
    with pytest.raises(ValueError):
        written("Record", {f"@{name}": "value"})


def test_fill_reads_the_markup_back_into_an_element_in_the_namespace_given() -> None:
    envelope = etree.Element("{urn:envelope}Body", nsmap={"e": "urn:envelope", "xsi": XSI})
    result = etree.SubElement(envelope, f"{{{NAMESPACE}}}Result")
    jsonnet.fill(result, {"@recordReturn": "1", "@xsi:schemaLocation": "s", "#text": "t",
                          "Item": [{"a": "1 & 2", "b": None}, "x"]}, NAMESPACE)
    assert result.get("recordReturn") == "1" and result.get(f"{{{XSI}}}schemaLocation") == "s"
    assert result.text == "t"
    items = result.findall(f"{{{NAMESPACE}}}Item")
    assert [etree.QName(child).namespace for child in items[0]] == [NAMESPACE, NAMESPACE]
    assert items[0].findtext(f"{{{NAMESPACE}}}a") == "1 & 2" and items[1].text == "x"
    assert jsonnet.element_value(result) == {"@recordReturn": "1", "@xsi:schemaLocation": "s",
                                             "Item": [{"a": "1 & 2", "b": None}, "x"]}


def test_fill_with_no_namespace_writes_unqualified_children() -> None:
    root = etree.Element("{urn:sap}Confirmation", nsmap={"n0": "urn:sap"})
    jsonnet.fill(root, {"Log": {"Item": "i"}}, "")
    assert etree.tostring(root) == b'<n0:Confirmation xmlns:n0="urn:sap"><Log><Item>i</Item></Log></n0:Confirmation>'


def as_json(value: Any) -> Any:
    return json.loads(jsonnet.xml_node_json(value))


def test_json_attributes_come_first_though_one_counts_the_elements_written_before_it() -> None:
    records = jsonnet.Streamed(iter([{"key": "1", "name": None}, {"key": "2", "name": "Ann"}]))
    answer = jsonnet.xml_node_json({"Objects": {"@xsi:schemaLocation": "s", "Object": records,
                                                "@recordReturn": records.count}})
    assert answer == (b'{"Objects": {"@xsi:schemaLocation": "s", "@recordReturn": "2", "Object": [{"key": "1", '
                      b'"name": null}, {"key": "2", "name": "Ann"}]}}')


def test_json_a_repeated_element_occurring_once_is_an_object_and_never_an_absent_member() -> None:
    assert as_json({"Objects": {"@recordReturn": "1", "Object": [{"key": "1"}]}}) == {
        "Objects": {"@recordReturn": "1", "Object": {"key": "1"}}}
    assert as_json({"Objects": {"@recordReturn": "0", "Object": jsonnet.Streamed(iter([]))}}) == {
        "Objects": {"@recordReturn": "0"}}
    assert as_json({"Objects": {"Object": []}}) == {"Objects": {}}
    assert as_json([]) == [] and as_json(["only"]) == "only" and as_json(["a", "b"]) == ["a", "b"]


def test_json_values_keep_their_json_types_and_attributes_are_text() -> None:
    assert as_json({"@count": 3, "@none": None, "flag": True, "number": 2, "nested": {"list": [{"a": "é 🙂"}, None]},
                    "#text": "t"}) == {"@count": "3", "@none": None, "flag": True, "number": 2,
                                       "nested": {"list": [{"a": "é 🙂"}, None]}, "#text": "t"}
    assert jsonnet.xml_node_json({"text": "é"}) == '{"text": "é"}'.encode()  # not \\u-escaped, as JSON.NET writes it
