"""The request messages of the three bundles, read from their neutral form (xweb_emulator.jsonnet) into typed nodes;
the nodes of a bounce or mailing permission bundle, which the wire leaves as elements (jsonnet's `kept`), straight
from their elements where they are plain (see read_outbound_element).

Only what the XSD types decide is checked here: a value that is not a boolean, a date-time, a UUID, or a node that is
not an element, is a request the SOAP runtime cannot deserialize (MalformedRequest). Whether a value is allowed
(action codes, mandatory elements, code lists) is a business rule, checked by the bundles and logged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from datetime import UTC, datetime
from typing import Any, NamedTuple

from lxml import etree

from xweb_emulator import jsonnet
from xweb_emulator.sap.errors import MalformedRequest

_TRUE, _FALSE = ("true", "1"), ("false", "0")
# xsd:dateTime; SAP's GLOBAL_DateTime restricts it to UTC ("Z") with up to 7 fractional digits.
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$")


# Party and OutboundNode are named tuples, not frozen dataclasses: a bundle makes a thousand of each, and a frozen
# dataclass sets each field through object.__setattr__ (2 us a node against 0.6).


class Party(NamedTuple):
    """The addressee identifiers of an inbound node: an account and maybe one of its contact persons, each by UUID
    or internal ID."""

    customer_uuid: uuid.UUID | None = None
    customer_internal_id: str | None = None
    contact_person_uuid: uuid.UUID | None = None
    contact_person_internal_id: str | None = None


class OutboundNode(NamedTuple):
    """An Outbound node: a bounce (MailSystemErrorCode …) or a mailing permission (MailingPermissionDeniedIndicator)."""

    reference: str | None
    action_code: str | None
    party: Party
    mail_system_error_code: str | None = None
    communication_data_usage_denied_indicator: bool | None = None
    failed_delivery_status_date_time: datetime | None = None
    mailing_permission_denied_indicator: bool | None = None


# Made as a named tuple's own __new__ makes it, without that Python frame: half the cost, a thousand of each a bundle.
_new_party, _new_outbound = partial(tuple.__new__, Party), partial(tuple.__new__, OutboundNode)


@dataclass(frozen=True)
class ReactionNode:
    """An InboundBusinessTransactionDocumentReference node: one reaction to create."""

    reference: str | None
    action_code: str | None
    party: Party
    creation_date_time: datetime | None
    campaign_reaction_type_code: str | None
    target_link_uuid: uuid.UUID | None
    target_link_web_uri: str | None


Node = OutboundNode | ReactionNode


@dataclass(frozen=True)
class CampaignNode:
    reference: str | None
    action_code: str | None
    id: str | None
    reference_id: str | None
    list_complete_transmission_indicator: bool | None
    nodes: list[Node]


def read_campaigns(content: Any, node_element: str, read_node: Callable[[Mapping], Node],
                   read_element: Callable[[etree._Element], Node | None] | None = None) -> list[CampaignNode]:
    """A request message's Campaign nodes, each with its `node_element` children read by `read_node`; a child left
    as its element by `read_element`, or, where that does not read it (None), by `read_node` from its neutral form."""
    if content is None:
        return []
    message = _element(content, "the request message")
    return [
        CampaignNode(
            reference=text(campaign, "ObjectNodeSenderTechnicalID"),
            action_code=action_code(campaign),
            id=text(campaign, "ID"),
            reference_id=text(campaign, "ReferenceID"),
            list_complete_transmission_indicator=indicator(
                campaign, "@inboundBusinessTransactionDocumentReferenceListCompleteTransmissionIndicator"),
            nodes=[_node(node, node_element, read_node, read_element) for node in _repeated(campaign, node_element)],
        )
        for campaign in (_element(item, "Campaign") for item in _repeated(message, "Campaign"))
    ]


def _node(value: Any, name: str, read_node: Callable[[Mapping], Node],
          read_element: Callable[[etree._Element], Node | None] | None) -> Node:
    if isinstance(value, etree._Element):
        node = read_element(value) if read_element is not None else None
        return node if node is not None else read_node(_element(jsonnet.element_value(value), name))
    return read_node(_element(value, name))


def read_outbound(node: Mapping) -> OutboundNode:
    return _outbound(_tokens(node))


# What _outbound reads: the elements an Outbound node's plain reading takes, and its attributes (by their own name).
_OUTBOUND_ELEMENTS = frozenset({
    "ObjectNodeSenderTechnicalID", "CustomerUUID", "CustomerInternalID", "ContactPersonUUID",
    "ContactPersonInternalID", "MailSystemErrorCode", "CommunicationDataUsageDeniedIndicator",
    "FailedDeliveryStatusDateTime", "MailingPermissionDeniedIndicator"})
_ACTION_CODE_ATTRIBUTES = ("actionCode", "ActionCode")


def read_outbound_element(element: etree._Element) -> OutboundNode | None:
    """An Outbound node read straight from its element, as read_outbound reads its neutral form, where the element is
    plain: element children, each of the elements _outbound reads at most once and holding text alone, no
    attribute but the action code. None for any other (read_outbound then reads its neutral form): the neutral
    form's rules for attributes, nil, repeated and mixed content are not repeated here. A message of a thousand
    nodes is read so in 4.5 ms rather than 5.05."""
    tokens: dict[str, str | None] = {}
    for name, value in element.items():
        if name not in _ACTION_CODE_ATTRIBUTES:
            return None
        tokens[f"@{name}"] = _token(value)
    has_elements = False
    for child in element:
        tag = child.tag
        if tag.__class__ is not str:
            continue  # not comments, not processing instructions
        has_elements = True
        name = _OUTBOUND_TAGS.get(tag)
        if name is None:
            name = _outbound_tag(tag)
        if not name:
            continue  # an element the node does not read, whatever it holds
        if len(child) or child.items() or name in tokens:
            return None
        value = child.text
        # _token's, in line: a thousand nodes hold five thousand values
        tokens[name] = (value if value.isalnum() else " ".join(value.split()) or None) if value else None
    return _outbound(tokens.get) if has_elements else None


_OUTBOUND_TAGS: dict[str, str] = {}
"""Tags' local names where _outbound reads them, else "". Bounded, as tags are the clients'."""


def _outbound_tag(tag: str) -> str:
    name = jsonnet.local_name(tag)
    name = name if name in _OUTBOUND_ELEMENTS else ""
    if len(_OUTBOUND_TAGS) < 4096:
        _OUTBOUND_TAGS[tag] = name
    return name


def _outbound(token: Callable[[str], str | None]) -> OutboundNode:
    # Positional, and each conversion called only for a value sent (a bundle reads a thousand nodes); values read
    # in the order of the node's elements, so that the first bad one is the one refused.
    reference, action = token("ObjectNodeSenderTechnicalID"), token("@actionCode") or token("@ActionCode")
    party, code = _party(token), token("MailSystemErrorCode")
    denied = token("CommunicationDataUsageDeniedIndicator")
    denied = None if denied is None else _indicator(denied, "CommunicationDataUsageDeniedIndicator")
    failed_at = token("FailedDeliveryStatusDateTime")
    failed_at = None if failed_at is None else _date_time(failed_at, "FailedDeliveryStatusDateTime")
    permission_denied = token("MailingPermissionDeniedIndicator")
    permission_denied = (None if permission_denied is None
                         else _indicator(permission_denied, "MailingPermissionDeniedIndicator"))
    return _new_outbound((reference, action, party, code, denied, failed_at, permission_denied))


def read_reaction(node: Mapping) -> ReactionNode:
    tracking = node.get("ReactionTracking")
    tracking = {} if tracking is None else _element(tracking, "ReactionTracking")
    token = _tokens(node)
    return ReactionNode(
        reference=token("ObjectNodeSenderTechnicalID"),
        action_code=token("@actionCode") or token("@ActionCode"),
        party=_party(token),
        creation_date_time=_date_time(token("CreationDateTime"), "CreationDateTime"),
        campaign_reaction_type_code=token("CampaignReactionTypeCode"),
        target_link_uuid=uuid_value(tracking, "TargetLinkUUID"),
        target_link_web_uri=text(tracking, "TargetLinkWebURI"),
    )


def read_party(node: Mapping) -> Party:
    return _party(_tokens(node))


def _party(token: Callable[[str], str | None]) -> Party:
    customer_uuid = token("CustomerUUID")
    customer_uuid = None if customer_uuid is None else _uuid(customer_uuid, "CustomerUUID")
    customer_internal_id = token("CustomerInternalID")
    contact_person_uuid = token("ContactPersonUUID")
    contact_person_uuid = None if contact_person_uuid is None else _uuid(contact_person_uuid, "ContactPersonUUID")
    return _new_party((customer_uuid, customer_internal_id, contact_person_uuid, token("ContactPersonInternalID")))


# ----------------------------------------------------------------------------------------------------------- values


def text(node: Mapping, name: str) -> str | None:
    """A simple element's (or an attribute's, "@name") value as a token: white space collapsed, None when empty."""
    value = node.get(name)
    if value is None:
        return None
    if isinstance(value, str):  # the common case first: a bundle of a thousand nodes reads some ten thousand values
        return " ".join(value.split()) or None
    if isinstance(value, Mapping):  # an element with attributes (schemeID …): its text
        if any(not key.startswith("@") and key != "#text" for key in value):
            raise MalformedRequest(f"Element {name} must hold a value, not elements")
        value = value.get("#text")
    if isinstance(value, list):
        raise MalformedRequest(f"Element {name} occurs more than once")
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _tokens(node: Mapping) -> Callable[[str], str | None]:
    """`text` of the node's elements by name: for a node of simple elements only (a bundle's thousand nodes are),
    each value collapsed at once, in one pass, rather than each read on its own (11 reads of an Outbound node,
    most of absent elements)."""
    tokens: dict[str, str | None] = {}
    for name, value in node.items():
        if value.__class__ is str:
            tokens[name] = _token(value)
        elif value is not None:  # an element with attributes, repeated, or with children: `text` says which
            return partial(text, node)
    return tokens.get


def _token(value: str) -> str | None:
    """A value as a token: white space collapsed, None when empty. Most (IDs, codes, indicators) hold letters and
    digits alone: nothing to collapse."""
    return value if value.isalnum() else " ".join(value.split()) or None


def action_code(node: Mapping) -> str | None:
    """The node's actionCode attribute (some SAP nodes spell it ActionCode)."""
    return text(node, "@actionCode") or text(node, "@ActionCode")


def indicator(node: Mapping, name: str) -> bool | None:
    return _indicator(text(node, name), name)


def _indicator(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise MalformedRequest(f"Value '{value}' of {name.lstrip('@')} is not an Indicator (true or false)")


def _date_time(value: str | None, name: str) -> datetime | None:
    """A GLOBAL_DateTime as naive UTC (a 7th fractional digit is dropped; an offset, where sent, is applied)."""
    if value is None:
        return None
    match = _DATE_TIME.match(value)
    if match is None:
        raise MalformedRequest(f"Value '{value}' of {name} is not a date-time (CCYY-MM-DDThh:mm:ss(.sss)Z)")
    seconds, fraction, zone = match.groups()
    offset = "+00:00" if zone in (None, "Z") else zone
    try:
        parsed = datetime.fromisoformat(f"{seconds}.{(fraction or '0')[:6]:0<6}{offset}")
    except ValueError:
        raise MalformedRequest(f"Value '{value}' of {name} is not a valid date-time") from None
    return parsed.astimezone(UTC).replace(tzinfo=None)


def uuid_value(node: Mapping, name: str) -> uuid.UUID | None:
    return _uuid(text(node, name), name)


def _uuid(value: str | None, name: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise MalformedRequest(f"Value '{value}' of {name} is not a UUID") from None


def _element(value: Any, name: str) -> Mapping:
    """A node that must be an element with children (an empty one reads as no children)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedRequest(f"{name} must be an element with child elements")
    return value


def _repeated(node: Mapping, name: str) -> list[Any]:
    if name not in node:
        return []
    value = node[name]  # None for an empty element, which is still a node
    return value if isinstance(value, list) else [value]
