"""Every vendor the emulator speaks for, in the order their paths are tried: the one place a vendor is registered.

A vendor is a package (xweb_emulator.vendor lists its files) named in PACKAGES. From it the emulator takes its
`Vendor` (vendor.py: `VENDOR`), its settings (settings.py: `Settings`, mixed into xweb_emulator.settings.Settings)
and its helpers for a test client (testing.py: `Client`, mixed into xweb_emulator.testing.EmulatorClient).
The packages are imported when first asked for: their modules import the settings these are made of.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

PACKAGES: tuple[str, ...] = (
    "xweb_emulator.xweb",
    "xweb_emulator.sap",
    "xweb_emulator.crmcom",
)


def part(package: str, module: str, name: str) -> Any:
    """What a vendor's package gives the emulator: `name` of its module `module`."""
    return getattr(import_module(f"{package}.{module}"), name)


def vendor_classes(packages: tuple[str, ...] = PACKAGES) -> tuple[type, ...]:
    """Each package's `Vendor` subclass (xweb_emulator.vendor.Vendor: not imported here, as it imports these)."""
    return tuple(part(package, "vendor", "VENDOR") for package in packages)


def __getattr__(name: str) -> Any:
    if name == "VENDORS":  # the registered vendors' classes
        return vendor_classes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
