"""xweb-emulator: a local, stateful stand-in for the CRM APIs email-marketing connectors write back to."""

from xweb_emulator import _spyne_compat

# Before anything imports spyne: see _spyne_compat for why.
_spyne_compat.install()

__version__ = "0.1.0"
