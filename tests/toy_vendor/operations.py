"""The toy's operation table: each operation declared once and bound to its domain function."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xweb_emulator.vendor import Operation
from toy_vendor.errors import ToyError


def greeting(name: Any, now: datetime) -> dict[str, str]:
    """The domain: a greeting for `name` at the emulator's clock. No JSON, no HTTP."""
    if not isinstance(name, str) or not name.strip():
        raise ToyError("name is required.")
    return {"greeting": f"Hello, {name.strip()}", "at": now.isoformat()}


OPERATIONS = {operation.name: operation for operation in (
    Operation(name="Greet", run=lambda call, params: greeting(params.get("name"), call.now)),
)}
VENDOR_OPERATIONS = ("Greet", "Wave")  # the toy service's own list: Wave is not emulated
