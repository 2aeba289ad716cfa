"""The emulator's state and what may be done to it as a whole: its settings, its database, its vendors; reset,
prepare, seed, fault-rule checks, the start-up banner. The WSGI pipeline, the control plane, the command line and
tests all take an `Emulator`; it knows none of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, Table, delete, select
from sqlalchemy.orm import Session

from xweb_emulator import clock, faults, inputs
from xweb_emulator.db import Base, Database
from xweb_emulator.faults import FaultSpec, InvalidFaultRule
from xweb_emulator.models import FaultRule
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import SeedError, Vendor
from xweb_emulator.vendors import vendor_classes

class Emulator:
    def __init__(self, settings: Settings, database: Database | None = None) -> None:
        registered = vendor_classes(settings.vendor_packages)
        for vendor_class in registered:
            settings = vendor_class.settled(settings)
        self.settings = settings
        self.database = database if database is not None else Database(settings.database_url)
        self.vendors: dict[str, Vendor] = {cls.name: cls(settings) for cls in registered}
        # Only the control plane reads the journal: without it, keeping one would only slow every call down.
        self.journaling = settings.control_plane and settings.journal_limit > 0
        self._fresh_rows: dict[tuple[str | None, bool, str | None], dict[Table, Sequence[RowMapping]]] = {}  # reset()

    def reset(self, demo_data: bool | None = None, vendor: str | None = None, profile: Any = None) -> None:
        """Every record of every vendor (or of one `vendor`), the journal, the fault rules and the clock back to a
        fresh start: the configured users and fault rules, and the demo data unless `demo_data` is False. A reset of
        one vendor leaves the others, the journal, the fault rules and the clock as they are.

        The first reset of each kind in a process builds the fresh state through the vendors' own rules and keeps a
        copy of the rows it made; later ones write that copy back (a test suite resets before every test, and the
        rules take several times as long). The copy is only ever what a rule-built reset would make again, so any
        worker may build its own.

        `profile` is a tenant profile to serve from now on (its text or parsed document; None: the configured one),
        for the vendors that have profiles (xWeb)."""
        demo_data = self.settings.demo_data if demo_data is None else demo_data
        tables = self._tables(vendor)
        with self.database.transaction() as session:
            for table in reversed(tables):
                session.execute(table.delete())
            kind = (vendor, demo_data, profile if isinstance(profile, str | None) else json.dumps(profile))
            fresh = self._fresh_rows.get(kind)
            if fresh is None:
                self._prepare(session, demo_data, vendor, profile)
                session.flush()
                self._fresh_rows[kind] = {table: session.execute(select(table)).mappings().all()
                                                         for table in tables}
                return
            for table in tables:
                if fresh[table]:
                    session.execute(table.insert(), [dict(row) for row in fresh[table]])

    def _tables(self, vendor: str | None) -> list[Table]:
        """Every table, or the tables a vendor's package maps, parents first."""
        if vendor is None:
            return Base.metadata.sorted_tables
        if vendor not in self.vendors:
            raise SeedError(f"unknown vendor {vendor!r}: the vendors are {', '.join(self.vendors)}")
        package = type(self.vendors[vendor]).__module__.rpartition(".")[0] + "."
        owned = {mapper.local_table for mapper in Base.registry.mappers if mapper.class_.__module__.startswith(package)}
        return [table for table in Base.metadata.sorted_tables if table in owned]

    def prepare(self) -> None:
        """What a start needs in an existing database: the configured users and fault rules, the demo data where a
        vendor has none."""
        with self.database.transaction() as session:
            self._prepare(session, self.settings.demo_data)

    def _prepare(self, session: Session, demo_data: bool, vendor: str | None = None, profile: Any = None) -> None:
        now = clock.now(session)
        for each in self.vendors.values():
            if vendor is None or each.name == vendor:
                each.prepare(session, now, demo_data, profile)
        if vendor is None:
            session.execute(delete(FaultRule).where(FaultRule.configured))
            for spec in self.settings.faults:
                faults.add_rule(session, self.checked_fault(spec), configured=True)

    def seed(self, document: Any) -> dict[str, dict[str, list[str]]]:
        """Load a seed document, {"<vendor>": {…}, …}, in one transaction; answer the keys created."""
        if not isinstance(document, Mapping) or not document:
            raise SeedError('a seed is an object of vendors, e.g. {"xweb": {"Customer": [...]}}')
        unfit = inputs.unfit_for_a_database(document)
        if unfit is not None:
            raise SeedError(f"the seed cannot be stored: {unfit}")
        unknown = sorted(set(document) - set(self.vendors))
        if unknown:
            raise SeedError(f"unknown vendor {unknown[0]!r}: this emulator seeds {', '.join(map(repr, self.vendors))}")
        created = {}
        with self.database.transaction() as session:
            now = clock.now(session)
            for name, section in document.items():
                try:
                    created[name] = self.vendors[name].load_seed(session, now, section)
                except SeedError as error:
                    raise SeedError(f"{name}: {error}") from None
        return created

    def describe(self, base_url: str) -> list[str]:
        """The start-up banner's lines for the vendors: each one's endpoints and credentials."""
        return [line for vendor in self.vendors.values() for line in vendor.describe(base_url)]

    def checked_fault(self, spec: FaultSpec) -> FaultSpec:
        """A rule whose vendor, fault kind and action exist; InvalidFaultRule names what does not."""
        vendor = self.vendors.get(spec.vendor)
        if vendor is None:
            raise InvalidFaultRule(f"unknown vendor {spec.vendor!r}: the vendors are {', '.join(self.vendors)}")
        if spec.action == "fault" and spec.fault_kind not in vendor.fault_kinds:
            raise InvalidFaultRule(f"{spec.vendor} has no fault kind {spec.fault_kind!r}: "
                                   f"its kinds are {', '.join(vendor.fault_kinds)}")
        if spec.action == "expire_token" and not vendor.has_tokens:
            raise InvalidFaultRule(f"{spec.vendor} issues no tokens to expire")
        return spec

    def migrate(self) -> None:
        """Bring the schema to the latest migrations and the configured users, fault rules (and demo data) in. Run
        once, before workers start; it leaves no connection open (workers may fork after it). Replicas started
        together on one database do it one after another (Database.migrating): the first migrates and loads the
        demo data, the others find both there."""
        try:
            with self.database.migrating():
                self.database.upgrade()
                self.prepare()
        finally:
            self.database.dispose()
