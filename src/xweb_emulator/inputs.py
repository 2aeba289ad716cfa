"""Reading what a client sends safely, for every wire: whatever reaches an operation is text every database stores.

A JSON body (`read_json`, every JSON wire): bytes that are no UTF-8, escapes of characters no database stores (a lone
surrogate, which no encoding writes; NUL, which PostgreSQL's text refuses), nesting deeper than a real stack reads,
and syntax errors all end in `UnreadableJson`, which says what was wrong and where, so that each wire words the
refusal as its vendor does. Nothing of Python's own wording reaches a client: `UnreadableJson.json_net` is JSON.NET's
phrase for it.

Values sent in no document (`read_values`, `read_value`: a query string, a form, HTTP Basic credentials): one holding
a NUL ends in `UnreadableValue`, which names it. (werkzeug keeps bytes that are no UTF-8 percent-escaped, and reads
no HTTP Basic credentials that are not UTF-8: a lone surrogate cannot arrive this way.)

XML cannot carry either: an XML 1.0 document holds no NUL, and lxml refuses one (soap.unreadable_xml words it). A
document that came in no request (a seed file) is checked by `unfit_for_a_database`.

Integers (`read_integer`: in JSON, where the document's number becomes one, and wherever text is read as one, in a
query string, a form, an XML element, a query's literal): ASCII digits only, and no more than MAX_DIGITS of them.
Python refuses to convert longer ones (ValueError, beyond 4,300 digits by default); `UnreadableNumber` says so before
it does, so that each wire refuses the number as its vendor refuses a bad value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

MAX_DEPTH = 64
"""JSON.NET's default JsonReader.MaxDepth (Json.NET 13): deeper documents are refused."""

MAX_DIGITS = 640
"""The most digits an integer sent may have: the fewest any Python interpreter converts (sys.set_int_max_str_digits
takes no limit below 640). No vendor stores an integer of more than 20 digits; the rest is kept for their range
checks to word."""

SYNTAX, END, DEPTH, ENCODING, ESCAPE, NUMBER = "syntax", "end", "depth", "encoding", "escape", "number"

# What no database stores: NUL (PostgreSQL's text refuses it) and lone surrogates (no encoding writes them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnreadableJson(ValueError):
    """A request body that is no JSON document the vendor's stack would read."""

    def __init__(self, kind: str, line: int = 1, column: int = 1, character: str = "") -> None:
        super().__init__(f"{kind} at line {line}, column {column}")
        self.kind, self.line, self.column, self.character = kind, line, column, character

    @property
    def json_net(self) -> str:
        """The refusal as JSON.NET (ASP.NET's JSON reader) words it."""
        where = f"Path '', line {self.line}, position {self.column}."
        if self.kind == END:
            return f"Unexpected end when reading JSON. {where}"
        if self.kind == DEPTH:
            return f"The reader's MaxDepth of {MAX_DEPTH} has been exceeded. {where}"
        if self.kind == ESCAPE:
            return f"Bad JSON escape sequence: {self.character}. {where}"
        if self.kind == NUMBER:
            return f"JSON integer {self.character} is too large or small for an Int64. {where}"
        return f"Unexpected character encountered while parsing value: {self.character}. {where}"


def read_json(body: bytes, loads: Callable[..., Any] = json.loads, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON document in `body` (UTF-8, a byte-order mark allowed); UnreadableJson for anything else. `loads`
    takes json.loads's parse_int and gives its containers (dicts and lists, as the depth check reads them)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_column(body[:error.start].decode("utf-8", errors="replace"), error.start)
        raise UnreadableJson(ENCODING, line, column, "\ufffd") from None
    try:
        value = loads(text, parse_int=_json_integer)
    except UnreadableNumber as error:
        position = text.find(error.text)
        line, column = _line_column(text[:position], position)
        raise UnreadableJson(NUMBER, line, column, error.shown) from None
    except json.JSONDecodeError as error:
        kind = END if error.pos >= len(text.rstrip()) else SYNTAX
        character = text[error.pos] if error.pos < len(text) else ""
        raise UnreadableJson(kind, error.lineno, error.colno, character) from None
    except RecursionError:
        raise UnreadableJson(DEPTH, 1, _deep_position(text, max_depth)) from None
    _check(value, text, max_depth)
    return value


def unfit_for_a_database(document: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """What keeps a parsed document that came in no request (a seed file's) out of a database, or None: a character
    no database stores, or nesting deeper than `max_depth`."""
    try:
        for text in _texts(document, max_depth):
            found = _unstorable(text)
            if found is not None:
                return f"it holds the character {_escape(found)}, which no database stores"
    except _TooDeep:
        return f"it is nested deeper than {max_depth} levels"
    return None


class _TooDeep(Exception):
    pass


def _texts(document: Any, max_depth: int) -> Iterator[str]:
    """Every string of a parsed document, names included, without recursion; _TooDeep past `max_depth` levels."""
    pending = [(document, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            yield item
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            raise _TooDeep
        if isinstance(item, dict):
            for name in item:
                if isinstance(name, str):
                    yield name
            item = item.values()
        for member in item:
            if isinstance(member, str):
                yield member
            elif isinstance(member, (dict, list)):
                pending.append((member, depth + 1))


_CONTAINERS = (dict, list)  # json.loads's: no subclass of either


def _within_depth(container: dict | list, levels: int) -> bool:
    """Whether no container nests more than `levels` - 1 levels deeper than `container` (at most `levels` deep
    itself: a recursion of no more than `levels` calls)."""
    for member in container.values() if container.__class__ is dict else container:
        if member.__class__ in _CONTAINERS and (levels == 1 or not _within_depth(member, levels - 1)):
            return False
    return True


def _unstorable(text: str) -> str | None:
    if "\x00" not in text and text.isascii():
        return None
    found = _UNSTORABLE.search(text)
    return None if found is None else found.group()


def _escape(character: str) -> str:
    return f"\\u{ord(character):04x}"


def _check(value: Any, text: str, max_depth: int) -> None:
    """Depth and Unicode of a parsed JSON document. Text decoded from UTF-8 holds no lone surrogate and JSON no raw
    NUL: only a \\u escape can make one, so a document without any has only its depth checked, on its containers
    alone (a bulk call's thousand events hold some ten thousand strings: 1.5 -> 0.6 ms)."""
    if "\\u" not in text:
        if value.__class__ in _CONTAINERS and (max_depth < 1 or not _within_depth(value, max_depth)):
            raise UnreadableJson(DEPTH, 1, _deep_position(text, max_depth))
        return
    try:
        for item in _texts(value, max_depth):
            found = _unstorable(item)
            if found is not None:
                # JSON holds such a character only as an escape: the refusal points at it.
                escape = _escape(found)
                position = text.lower().find(escape)
                line, column = _line_column(text[:position], position) if position >= 0 else (1, 1)
                raise UnreadableJson(ESCAPE, line, column + 1, escape)
    except _TooDeep:
        raise UnreadableJson(DEPTH, 1, _deep_position(text, max_depth)) from None


class UnreadableValue(ValueError):
    """A value sent in no document (a query string, a form, HTTP Basic) that holds a NUL, which no PostgreSQL text
    holds: `name` is the value's name as a client reads it (a NUL in it escaped)."""

    def __init__(self, name: str) -> None:
        self.name = name.replace("\x00", "\\u0000")
        super().__init__(f"the value of {self.name} holds a NUL")


def read_value(name: str, value: str) -> str:
    """`value`, sent as `name` in no document; UnreadableValue if either holds a NUL."""
    if "\x00" in value or "\x00" in name:
        raise UnreadableValue(name)
    return value


def read_values(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Name and value pairs as a query string or a form carries them; UnreadableValue for the first holding a NUL."""
    return [(name, read_value(name, value)) for name, value in pairs]


class UnreadableNumber(ValueError):
    """An integer written with more digits than MAX_DIGITS: `text` as it was sent, `shown` abbreviated for a
    message."""

    def __init__(self, text: str) -> None:
        self.text = text
        digits = text.strip()
        self.shown = f"{digits[:12]}…{digits[-4:]}"
        super().__init__(f"the integer {self.shown} has more than {MAX_DIGITS} digits")


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def read_integer(text: str) -> int:
    """The integer `text` writes in ASCII digits, with a sign and white space around it allowed. ValueError for any
    other text (int() would take "1_000" and other scripts' digits), UnreadableNumber (a ValueError) for more than
    MAX_DIGITS digits."""
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"not an integer: {text[:40]!r}")
    if len(text) > MAX_DIGITS and len(text.strip().lstrip("+-")) > MAX_DIGITS:
        raise UnreadableNumber(text)
    return int(text)


def _json_integer(digits: str) -> int:
    """read_integer for an integer JSON's grammar has read already (digits after an optional minus): only its length
    is left to check, at a third of the cost for a document of numbers."""
    if len(digits) > MAX_DIGITS and len(digits.lstrip("-")) > MAX_DIGITS:
        raise UnreadableNumber(digits)
    return int(digits)


def _line_column(before: str, position: int) -> tuple[int, int]:
    line = before.count("\n") + 1
    return line, position - (before.rfind("\n") + 1) + 1


def _deep_position(text: str, max_depth: int) -> int:
    """Roughly where nesting passes `max_depth` (brackets counted, strings not told apart: a position only)."""
    depth = 0
    for position, character in enumerate(text[: 64 * 1024], start=1):
        if character in "[{":
            depth += 1
            if depth > max_depth:
                return position
        elif character in "]}":
            depth -= 1
    return 1
