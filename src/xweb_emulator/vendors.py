"""Every vendor the emulator speaks for, in the order their paths are tried."""

from __future__ import annotations

from xweb_emulator.crmcom.vendor import CrmCom
from xweb_emulator.sap.vendor import SAP
from xweb_emulator.vendor import Vendor
from xweb_emulator.xweb.vendor import XWeb

VENDORS: tuple[type[Vendor], ...] = (
    XWeb,
    SAP,
    CrmCom,
)
