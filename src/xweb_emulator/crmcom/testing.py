"""CRM.COM's helpers on a test client: its addresses (mixed into xweb_emulator.testing.EmulatorClient)."""

from __future__ import annotations

from xweb_emulator.crmcom.rest import PREFIX


class Client:
    base_url: str

    def crmcom_url(self, method: str) -> str:
        """CRM.COM's Web API: /crmapi/rest/v2/<method>, e.g. customer_events/bulk/web/create."""
        return self.base_url + PREFIX + method.lstrip("/")
