"""Typed WEB* objects (CustomerPhoneType, IndividualType, CustomerEmailType): a record that travels as sections, each
the columns of one table, named and ordered as in the vendor's *_DataObjectType sequences, beside a CurrentKey.

A section sent changes only what it sends: a member not sent (nil, JSON null) is not in the section at all; a member
sent empty clears its column, except a key (a GUID column: av_key_Type in the vendor's WSDL), which it leaves as it
is. The vendor's columns and sections that the emulator does not keep are accepted and ignored (docs/xweb.md ›
Deviations).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Uuid

from xweb_emulator.xweb.errors import InvalidInput
from xweb_emulator.xweb.facade import FACADE_OBJECTS, FacadeObject, Record, check_references, parse_record, \
    render_value
from xweb_emulator.xweb.values import format_guid

Sections = dict[str, Any]
"""{"CurrentKey": text, <section>: Record or None, …}"""


@dataclass(frozen=True)
class Section:
    facade: FacadeObject
    columns: tuple[str, ...]
    """The columns the emulator keeps, in the order of the vendor's data-object type."""
    read_only: frozenset[str] = frozenset()
    """Columns a client reads but does not write: netFORUM works them out ("cannot be updated via netForum xWeb")
    or they follow other records. Sent, they are ignored, as a proxy sends back what it read."""

    @cached_property
    def _keys(self) -> frozenset[str]:
        return frozenset(name for name, column in self.facade.writable_columns.items() if isinstance(column.type, Uuid))

    def values(self, connection: Connection, sections: Sections, name: str, *,
               new_record_key: str | None = None) -> dict[str, object]:
        """The columns the section `name` writes, parsed; each key it names must name a record, except
        `new_record_key`, which names the record an insert is creating (the caller checks it)."""
        try:
            values = parse_record(self.facade, sections.get(name) or {}, unmodelled_columns_allowed=True)
            values = {column: value for column, value in values.items()
                      if column not in self.read_only and (value is not None or column not in self._keys)}
            check_references(connection, self.facade.model,
                             {column: value for column, value in values.items() if column != new_record_key})
        except InvalidInput as error:
            raise InvalidInput(f"{name}: {error.message}") from None
        return values

    def render(self, row: Any) -> Record:
        """A row (an ORM record or a result row) as the section: each column's value as clients read it."""
        table = self.facade.model.__table__
        return {name: render_value(table.c[name], getattr(row, name)) for name in self.columns}


@dataclass(frozen=True)
class TypedObject:
    name: str
    key: tuple[str, str]
    """The section and column CurrentKey stands for."""
    sections: Mapping[str, Section | None]
    """Every section of the vendor's type, in its order: those the emulator keeps, and None for the others (accepted
    when sent, not kept)."""

    def current_key(self, sections: Sections) -> str:
        """The key an update names: CurrentKey, else the key column of its own section."""
        section, column = self.key
        text = sections.get("CurrentKey") or (sections.get(section) or {}).get(column)
        if not text:
            raise InvalidInput(f"CurrentKey (or {section}/{column}) is required to update a {self.name} record.")
        return text

    def view(self, current_key: uuid.UUID, rows: Mapping[str, Any]) -> Sections:
        """The object as clients read it: CurrentKey, then every section of the vendor's type in its order, a kept
        one with its row's columns (each null where there is no row), any other empty. XmlSerializer writes a section
        whose members are all null so, and a strict client needs every section (the WSDL makes none optional)."""
        view: Sections = {"CurrentKey": format_guid(current_key)}
        for name, section in self.sections.items():
            if section is None:
                view[name] = {}
            else:
                row = rows.get(name)
                view[name] = dict.fromkeys(section.columns) if row is None else section.render(row)
        return view


# The customer record as every typed object shows it (the vendor's Individual_Customer, IndividualPhone_Customer and
# IndividualEmail_Customer types list these columns in the same order).
CUSTOMER = Section(
    FACADE_OBJECTS["customer"],
    ("cst_key", "cst_type", "cst_name_cp", "cst_sort_name_dn", "cst_ind_full_name_dn", "cst_add_date", "cst_add_user",
     "cst_change_date", "cst_change_user", "cst_delete_flag", "cst_recno", "cst_id", "cst_no_email_flag",
     "cst_eml_address_dn", "cst_eml_key", "cst_no_phone_flag", "cst_phn_number_complete_dn", "cst_cph_key",
     "cst_member_flag"),
    # Calculated by netFORUM as the vendor's WSDL documents; the primary e-mail's and phone's keys follow those
    # records (an Email section, WEBEmail*'s eml_primary).
    read_only=frozenset({"cst_name_cp", "cst_sort_name_dn", "cst_ind_full_name_dn", "cst_recno", "cst_id",
                         "cst_eml_address_dn", "cst_phn_number_complete_dn", "cst_eml_key", "cst_cph_key"}),
)

# An e-mail (the vendor's Individual_Email and IndividualEmail_Email types list these columns in the same order).
EMAIL_COLUMNS = ("eml_key", "eml_address", "eml_cst_key", "eml_type", "eml_add_user", "eml_add_date",
                 "eml_change_user", "eml_change_date", "eml_delete_flag", "eml_invalid_flag", "eml_invalid_reason",
                 "eml_unlisted_flag", "eml_primary")
