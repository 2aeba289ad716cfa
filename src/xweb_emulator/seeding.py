"""Seed documents: records for each vendor, loaded through that vendor's own rules.

    {"xweb": {"Customer": [{…}], "CustomerMessagingActivity": [{…}]}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xweb_emulator.clock import utcnow
from xweb_emulator.db import Database
from xweb_emulator.settings import Settings
from xweb_emulator.xweb import seed as xweb_seed
from xweb_emulator.xweb.errors import XWebError
from xweb_emulator.xweb.facade import Actor


class SeedError(Exception):
    """A seed that cannot be loaded; nothing of it was written."""


def load_seed(settings: Settings, document: Any) -> dict[str, Any]:
    """Load every vendor's records in one transaction; answer the keys created, by vendor and object."""
    if not isinstance(document, Mapping) or not document:
        raise SeedError('a seed is an object of vendors, e.g. {"xweb": {"Customer": [...]}}')
    unknown = set(document) - {"xweb"}
    if unknown:
        raise SeedError(f"unknown vendor {sorted(unknown)[0]!r}: this emulator seeds 'xweb'")
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            return {"xweb": xweb_seed.load(session, Actor(xweb_seed.SEED_USER, utcnow()), document["xweb"])}
    except XWebError as error:
        raise SeedError(f"xweb: {error.message}") from None
    finally:
        database.dispose()
