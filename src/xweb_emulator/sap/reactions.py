"""Campaign reactions (MaintainReactionBundle): an e-mail opened (20) or a link clicked (21), created for an
addressee of the campaign. A click names the campaign's tracking link by UUID or web URI (the UUID wins where both
are sent). A reaction need not belong to an outbound; where the campaign has one for the addressee, it is linked.
"""

from __future__ import annotations

from sqlalchemy import select

from xweb_emulator.sap import log
from xweb_emulator.sap.bundle import CREATE, EXTERNAL_EXECUTION, Addressee, Bundle, CampaignScope, Change
from xweb_emulator.sap.models import CampaignReaction, TrackingLink
from xweb_emulator.sap.request import ReactionNode, read_reaction

OPENED, CLICKED = "20", "21"


def check_reaction(scope: CampaignScope, node: ReactionNode) -> Change | None:
    scope.check_action_code(node, "InboundBusinessTransactionDocumentReference", CREATE)
    addressee = scope.addressee(node)
    if node.creation_date_time is None:
        scope.error(log.CREATION_DATE_TIME_REQUIRED, node.reference)
    type_code = node.campaign_reaction_type_code
    link = None
    if type_code is None:
        scope.error(log.REACTION_TYPE_REQUIRED, node.reference)
    elif type_code not in (OPENED, CLICKED):
        scope.error(log.REACTION_TYPE_INVALID, node.reference, code=type_code)
    elif type_code == CLICKED:
        link = _tracking_link(scope, node)
    if addressee is None or node.creation_date_time is None or type_code not in (OPENED, CLICKED):
        return None
    if type_code == CLICKED and link is None:
        return None
    return lambda: _create_reaction(scope, node, addressee, link)


def _tracking_link(scope: CampaignScope, node: ReactionNode) -> TrackingLink | None:
    if node.target_link_uuid is None and node.target_link_web_uri is None:
        scope.error(log.TRACKING_LINK_REQUIRED, node.reference)
        return None
    in_campaign = select(TrackingLink).where(TrackingLink.campaign_uuid == scope.campaign.uuid)
    if node.target_link_uuid is not None:
        named = str(node.target_link_uuid).upper()
        link = scope.session.scalars(in_campaign.where(TrackingLink.uuid == node.target_link_uuid)).first()
    else:
        named = node.target_link_web_uri
        link = scope.session.scalars(in_campaign.where(TrackingLink.web_uri == node.target_link_web_uri)).first()
    if link is None:
        scope.error(log.TRACKING_LINK_MISSING, node.reference, campaign=scope.campaign.id, link=named)
    return link


def _create_reaction(scope: CampaignScope, node: ReactionNode, addressee: Addressee, link: TrackingLink | None) -> None:
    outbound = scope.outbound(addressee)
    scope.session.add(CampaignReaction(
        campaign_uuid=scope.campaign.uuid,
        customer_uuid=addressee.customer_uuid,
        contact_person_uuid=addressee.contact_person_uuid,
        outbound_uuid=scope.directory.as_uuid(outbound.uuid) if outbound is not None else None,
        campaign_reaction_type_code=node.campaign_reaction_type_code,
        creation_date_time=node.creation_date_time,
        tracking_link_uuid=link.uuid if link is not None else None,
        sender_technical_id=node.reference,
        recorded_at=scope.now,
    ))


REACTION = Bundle("Reaction", "reactions", "InboundBusinessTransactionDocumentReference", read_reaction,
                  (EXTERNAL_EXECUTION,), check_reaction)
