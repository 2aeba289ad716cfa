"""A bounce or mailing permission bundle's Outbound nodes, which the wire leaves as elements, are read straight from
them where they are plain (request.read_outbound_element); whatever the element, the message reads as it does from
its neutral form alone: the same Campaign nodes, or the same refusal.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree

from xweb_emulator import jsonnet
from xweb_emulator.sap.bounces import FAILED_DELIVERY_STATUS
from xweb_emulator.sap.errors import MalformedRequest
from xweb_emulator.sap.request import read_campaigns, read_outbound_element

XSI = "http://www.w3.org/2001/XMLSchema-instance"
READ = ["ObjectNodeSenderTechnicalID", "CustomerUUID", "CustomerInternalID", "ContactPersonUUID",
        "ContactPersonInternalID", "MailSystemErrorCode", "CommunicationDataUsageDeniedIndicator",
        "FailedDeliveryStatusDateTime", "MailingPermissionDeniedIndicator"]
VALUES = ["A2001", " CP 2002 ", "", "   ", "5.1.1", "true", "0", "maybe", "2024-05-01T10:11:12.5Z", "2024-13-01",
          "00163e02-8b34-1ed1-bad4-6ecb99642001", "not-a-uuid", "\tB\n1 "]

names = st.one_of(st.sampled_from(READ), st.sampled_from(["Unread", "ID"]))
tags = st.tuples(st.sampled_from(["", "{urn:other}"]), names).map("".join)
attributes = st.dictionaries(
    st.sampled_from(["actionCode", "ActionCode", "schemeID", "{urn:other}actionCode", f"{{{XSI}}}nil"]),
    st.sampled_from(["02", " 01 ", "true", "false", ""]), max_size=2)


@st.composite
def children(draw: Any, depth: int = 0) -> etree._Element:
    child = etree.Element(draw(tags), draw(attributes) if draw(st.booleans()) else {})
    if depth < 1 and draw(st.integers(0, 5)) == 0:
        child.extend(draw(st.lists(children(depth + 1), max_size=2)))
    else:
        child.text = draw(st.one_of(st.none(), st.sampled_from(VALUES)))
    return child


@st.composite
def outbounds(draw: Any) -> etree._Element:
    element = etree.Element("Outbound", draw(attributes))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            element.append(etree.Comment("a comment"))
        elif kind == 1:
            element.append(etree.ProcessingInstruction("pi", "x"))
        else:
            element.append(draw(children()))
    if draw(st.booleans()):
        element.text = draw(st.sampled_from(["", "text", "  "]))
    return element


def reading(message: etree._Element, kept: bool) -> tuple:
    """The message's Campaign nodes as the bounce bundle reads them, or its refusal's text."""
    bundle = FAILED_DELIVERY_STATUS
    try:
        if kept:
            return ("read", read_campaigns(jsonnet.element_value(message, bundle.kept), bundle.node_element,
                                           bundle.read_node, bundle.read_element))
        return ("read", read_campaigns(jsonnet.element_value(message), bundle.node_element, bundle.read_node))
    except MalformedRequest as error:
        return ("refused", error.message)


def nil(children: str = "") -> etree._Element:
    return etree.fromstring(f'<Outbound xmlns:xsi="{XSI}" xsi:nil="true">{children}</Outbound>')


@given(st.lists(outbounds(), min_size=1, max_size=3))
@example([nil()])  # a node not sent: none read
@example([nil("<CustomerInternalID>A1</CustomerInternalID>")])  # a nil node with children is read
def test_outbound_nodes_read_from_their_elements_as_from_their_neutral_form(nodes):
    message = etree.Element("Message")
    campaign = etree.SubElement(message, "Campaign")
    etree.SubElement(campaign, "ID").text = "1112"
    campaign.extend(nodes)

    assert reading(message, kept=True) == reading(message, kept=False)


def test_a_plain_outbound_is_read_from_its_element_and_any_other_left_to_its_neutral_form():
    plain = etree.fromstring('<Outbound actionCode="02"><!-- c --><ObjectNodeSenderTechnicalID> 1 '
                             "</ObjectNodeSenderTechnicalID><x:Unread xmlns:x='urn:x' a='1'><y/></x:Unread>"
                             "<CustomerInternalID>A2001</CustomerInternalID></Outbound>")
    node = read_outbound_element(plain)
    assert (node.reference, node.action_code, node.party.customer_internal_id) == ("1", "02", "A2001")
    for other in ('<Outbound schemeID="x"><ID>1</ID></Outbound>',  # an attribute it does not read
                  "<Outbound><CustomerInternalID a='1'>A1</CustomerInternalID></Outbound>",
                  "<Outbound><CustomerInternalID>A1</CustomerInternalID><CustomerInternalID/></Outbound>",
                  "<Outbound><CustomerInternalID><x/></CustomerInternalID></Outbound>",
                  "<Outbound><!-- no element --></Outbound>"):
        assert read_outbound_element(etree.fromstring(other)) is None, other
