"""The toy's helpers on a test client (mixed into EmulatorClient)."""

from __future__ import annotations

from toy_vendor.rest import PREFIX


class Client:
    base_url: str

    def toy_url(self, operation: str) -> str:
        return self.base_url + PREFIX + operation
