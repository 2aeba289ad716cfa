"""SAP's helpers on a test client: its addresses (mixed into xweb_emulator.testing.EmulatorClient)."""

from __future__ import annotations

from xweb_emulator.sap.vendor import SERVICE_PATH


class Client:
    base_url: str

    @property
    def sap_url(self) -> str:
        return self.base_url + SERVICE_PATH

    @property
    def sap_wsdl_url(self) -> str:
        return self.sap_url + "?wsdl"
