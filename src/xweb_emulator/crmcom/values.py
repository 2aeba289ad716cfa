"""Reading the typed values of a Web API request (strings, floats, integers, dates, fields_set) and writing dates.

Parameters arrive as a JSON body decodes. As CRM.COM's Java binding does, a number is accepted where a string is
expected and a numeric string where a number is; a value of another JSON type is refused as the wrong type. An
empty string counts as not specified.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from xweb_emulator.crmcom.errors import InvalidValue, InvalidValueType, MissingMandatoryValue
from xweb_emulator.inputs import read_integer

Params = Mapping[str, Any]


def is_specified(value: Any) -> bool:
    return value is not None and value != ""


def text(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value.__class__ is str:  # the common cases first: a bulk call's thousand events read some five thousand
        return value or None
    if value is None or value == "":  # not specified
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (str, int, float)):
        raise InvalidValueType(f"Parameter ({name}) Is Not A String.")
    return str(value)


def mandatory(value: Any, name: str) -> Any:
    if value is None:
        raise MissingMandatoryValue(f"Parameter ({name}) Not Specified.")
    return value


def mandatory_text(params: Params, name: str) -> str:
    return mandatory(text(params, name), name)


def floating(params: Params, name: str) -> float | None:
    value = params.get(name)
    if not is_specified(value):
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidValueType(f"Parameter ({name}) Is Not A Float.") from None
    if not math.isfinite(number):
        raise InvalidValueType(f"Parameter ({name}) Is Not A Float.")
    return number


def integer(params: Params, name: str) -> int | None:
    value = params.get(name)
    if not is_specified(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return read_integer(value if isinstance(value, str) else "")
    except ValueError:
        raise InvalidValueType(f"Parameter ({name}) Is Not An Integer.") from None


def date(params: Params, name: str) -> datetime | None:
    """An ISO 8601 date or date and time, as the vendor's examples write them (2016-06-22T15:00:00); one with an
    offset is stored in UTC."""
    value = params.get(name)
    if not is_specified(value):
        return None
    try:
        if not isinstance(value, str):
            raise TypeError
        return _read_date(value)
    except (TypeError, ValueError):
        raise InvalidValueType(f"Parameter ({name}) Is Not A Date.") from None


@lru_cache(maxsize=1024)  # the events of a bulk call often give the same date (what it was parsed into is immutable)
def _read_date(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip())
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def written_date(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def requested_fields(value: Any, available: Iterable[str]) -> frozenset[str] | None:
    """fields_set, "a list of fields that should be included in the results" (comma separated); None for all."""
    if not is_specified(value):
        return None
    if isinstance(value, str):
        names = [name.strip() for name in value.split(",") if name.strip()]
    elif isinstance(value, list) and all(isinstance(name, str) for name in value):
        names = [name.strip() for name in value]
    else:
        raise InvalidValueType("Parameter (fields_set) Is Not A Comma Separated List Of Strings.")
    available = set(available)
    for name in names:
        if name not in available:
            raise InvalidValue(f"Parameter (fields_set) Field ({name}) Not Available.")
    return frozenset(names)


def selected(record: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    return record if fields is None else {name: value for name, value in record.items() if name in fields}
