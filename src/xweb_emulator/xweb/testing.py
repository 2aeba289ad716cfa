"""xWeb's helpers on a test client: its addresses (mixed into xweb_emulator.testing.EmulatorClient)."""

from __future__ import annotations

from xweb_emulator.xweb.vendor import SOAP_PATH


class Client:
    base_url: str

    @property
    def soap_url(self) -> str:
        """xWeb's SOAP endpoint."""
        return self.base_url + SOAP_PATH

    @property
    def wsdl_url(self) -> str:
        return self.soap_url + "?WSDL"

    def json_url(self, method: str) -> str:
        """xWeb's JSON twin: /xWeb/JSON/<Method>."""
        return f"{self.base_url}/xWeb/JSON/{method}"
