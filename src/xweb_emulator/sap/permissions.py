"""Mailing permissions (MaintainMailingPermissionBundle): an account, or a contact person of it, unsubscribed
(MailingPermissionDeniedIndicator true: excluded from new campaigns) or subscribed again (false: usable again). The
node names an outbound of the campaign; the permission belongs to the person, whichever campaign it came through.
"""

from __future__ import annotations

import uuid

from xweb_emulator.db import upsert
from xweb_emulator.sap import log
from xweb_emulator.sap.bundle import FILE_EXPORT_OR_EXTERNAL_EXECUTION, UPDATE, Addressee, Bundle, CampaignScope, Change
from xweb_emulator.sap.models import MailingPermission
from xweb_emulator.sap.request import OutboundNode, read_outbound, read_outbound_element


def check_permission(scope: CampaignScope, node: OutboundNode) -> Change | None:
    scope.check_action_code(node, "Outbound", UPDATE)
    addressee = scope.addressee(node)
    denied = node.mailing_permission_denied_indicator
    if denied is None:
        scope.error(log.MAILING_PERMISSION_INDICATOR_REQUIRED, node.reference)
    if addressee is None:
        return None
    if scope.outbound(addressee) is None:
        scope.error(log.OUTBOUND_MISSING, node.reference, campaign=scope.campaign.id, addressee=addressee.describe())
        return None
    if denied is None:
        return None
    return lambda: _set_permission(scope, addressee, denied)


def _set_permission(scope: CampaignScope, addressee: Addressee, denied: bool) -> None:
    # One atomic statement on the person's unique key: concurrent first permissions of one person both land.
    table = MailingPermission.__table__
    changes = {"mailing_permission_denied_indicator": denied, "campaign_uuid": scope.campaign.uuid,
               "changed_at": scope.now}
    contact_person_uuid = addressee.contact_person_uuid
    statement = upsert(scope.session, table).values(
        uuid=uuid.uuid4(), customer_uuid=addressee.customer_uuid, contact_person_uuid=contact_person_uuid, **changes)
    if contact_person_uuid is None:
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.customer_uuid], index_where=table.c.contact_person_uuid.is_(None), set_=changes)
    else:
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.customer_uuid, table.c.contact_person_uuid], set_=changes)
    scope.session.execute(statement)


MAILING_PERMISSION = Bundle("MailingPermission", "mailing permissions", "Outbound", read_outbound,
                            FILE_EXPORT_OR_EXTERNAL_EXECUTION, check_permission, read_element=read_outbound_element)
