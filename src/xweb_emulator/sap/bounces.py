"""Bounces (MaintainFailedDeliveryStatusBundle): the error code of a failed e-mail, recorded on the campaign
outbound it was sent for, and what the code says about the address.

| MailSystemErrorCode | CommunicationDataUsageDeniedIndicator | outbound communication status |
|---------------------|---------------------------------------|-------------------------------|
| 2.x.x               | not relevant                          | not affected                  |
| 4.1.x, 5.1.x        | true                                  | 3                             |
| other 4.x.x, 5.x.x  | applied if the request says true      | 3                             |

An indicator sent in the request overrules the table for every code but 2.x.x. Only the error code, the indicator,
the status and (where sent) FailedDeliveryStatusDateTime change; the rest of the outbound stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Boolean, DateTime, String, bindparam, func, update

from xweb_emulator.sap import log
from xweb_emulator.db import Prepared
from xweb_emulator.sap.bundle import EXTERNAL_EXECUTION, STORED_UUID, UPDATE, Bundle, CampaignScope, Change
from xweb_emulator.sap.models import CampaignOutbound
from xweb_emulator.sap.request import OutboundNode, read_outbound, read_outbound_element

FAILED = "3"  # the outbound communication status code a bounce sets
# RFC 3463: class "." subject "." detail; class 2, 4 or 5; subject and detail of 1 to 3 digits.
_MAIL_SYSTEM_ERROR_CODE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")


@dataclass(frozen=True)
class BounceEffect:
    """What a bounce does to its outbound besides recording the code (None: leave as it is)."""

    communication_data_usage_denied_indicator: bool | None
    outbound_communication_status_code: str | None


@lru_cache(maxsize=256)  # a bundle's thousand bounces carry a few codes
def bounce_effect(code: str, indicator: bool | None) -> BounceEffect | None:
    """The effect of a MailSystemErrorCode with the request's CommunicationDataUsageDeniedIndicator; None for a code
    that is not one."""
    valid = _MAIL_SYSTEM_ERROR_CODE.match(code)
    if valid is None:
        return None
    error_class, subject, _detail = valid.groups()
    if error_class == "2":
        return BounceEffect(None, None)
    if subject == "1":
        return BounceEffect(True if indicator is None else indicator, FAILED)
    return BounceEffect(True if indicator else None, FAILED)


def check_bounce(scope: CampaignScope, node: OutboundNode) -> Change | None:
    scope.check_action_code(node, "Outbound", UPDATE)
    outbound_uuid = scope.named_outbound(node.party)
    addressee = scope.addressee(node) if outbound_uuid is None else None
    code = node.mail_system_error_code
    effect = None if code is None else bounce_effect(code, node.communication_data_usage_denied_indicator)
    if code is None:
        scope.error(log.MAIL_SYSTEM_ERROR_CODE_REQUIRED, node.reference)
    elif effect is None:
        scope.error(log.MAIL_SYSTEM_ERROR_CODE_INVALID, node.reference, code=code)
    if outbound_uuid is None:
        if addressee is None:
            return None
        outbound = scope.outbound(addressee)
        if outbound is None:
            scope.error(log.OUTBOUND_MISSING, node.reference, campaign=scope.campaign.id,
                        addressee=addressee.describe())
            return None
        outbound_uuid = outbound.uuid
    if effect is None:
        return None
    # The bounce's row of the campaign's one UPDATE, written only once every node passed.
    return {"outbound": outbound_uuid, "code": code, "denied": effect.communication_data_usage_denied_indicator,
            "status": effect.outbound_communication_status_code, "failed_at": node.failed_delivery_status_date_time,
            "changed_at": scope.now}


_OUTBOUNDS = CampaignOutbound.__table__
# One statement for every bounce of a campaign (a bundle of a thousand bounces is one executemany): where a bounce
# leaves a column as it is (None), the column keeps its own value. The outbound is named by its UUID as stored.
_RECORD_BOUNCE = Prepared(update(_OUTBOUNDS).where(
    _OUTBOUNDS.c.uuid == bindparam("outbound", type_=STORED_UUID)).values(
    mail_system_error_code=bindparam("code"),
    communication_data_usage_denied_indicator=func.coalesce(
        bindparam("denied", type_=Boolean), _OUTBOUNDS.c.communication_data_usage_denied_indicator),
    outbound_communication_status_code=func.coalesce(
        bindparam("status", type_=String), _OUTBOUNDS.c.outbound_communication_status_code),
    failed_delivery_status_date_time=func.coalesce(
        bindparam("failed_at", type_=DateTime), _OUTBOUNDS.c.failed_delivery_status_date_time),
    changed_at=bindparam("changed_at"),
))


FAILED_DELIVERY_STATUS = Bundle("FailedDeliveryStatus", "bounces", "Outbound", read_outbound,
                                (EXTERNAL_EXECUTION,), check_bounce, statement=_RECORD_BOUNCE,
                                read_element=read_outbound_element)
