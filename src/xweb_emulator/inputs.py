"""Reading a client's JSON safely, for every JSON wire: bytes that are no UTF-8, lone surrogates (which no answer or
database could hold), nesting deeper than a real stack reads, and syntax errors all end in `UnreadableJson`, which
says what was wrong and where, so that each wire words the refusal as its vendor does. Nothing of Python's own
wording reaches a client: `UnreadableJson.json_net` is JSON.NET's phrase for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 64
"""JSON.NET's default JsonReader.MaxDepth (Json.NET 13): deeper documents are refused."""

SYNTAX, END, DEPTH, ENCODING, SURROGATE = "syntax", "end", "depth", "encoding", "surrogate"


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
        if self.kind == SURROGATE:
            return f"Bad JSON escape sequence: {self.character}. {where}"
        return f"Unexpected character encountered while parsing value: {self.character}. {where}"


def read_json(body: bytes, loads: Callable[[str], Any] = json.loads, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON document in `body` (UTF-8, a byte-order mark allowed); UnreadableJson for anything else."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_column(body[:error.start].decode("utf-8", errors="replace"), error.start)
        raise UnreadableJson(ENCODING, line, column, "\ufffd") from None
    try:
        value = loads(text)
    except json.JSONDecodeError as error:
        kind = END if error.pos >= len(text.rstrip()) else SYNTAX
        character = text[error.pos] if error.pos < len(text) else ""
        raise UnreadableJson(kind, error.lineno, error.colno, character) from None
    except RecursionError:
        raise UnreadableJson(DEPTH, 1, _deep_position(text, max_depth)) from None
    _check(value, text, max_depth)
    return value


def _check(value: Any, text: str, max_depth: int) -> None:
    """Depth and Unicode of a parsed document, without recursion. Text decoded from UTF-8 holds no lone surrogate:
    only a \\u escape can make one, so a document without any has only its depth checked (a bulk call's thousand
    events hold some ten thousand strings)."""
    escapes = "\\u" in text
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise UnreadableJson(DEPTH, 1, _deep_position(text, max_depth))
            for key, member in item.items():
                if escapes:
                    _check_text(key, text)
                if isinstance(member, (dict, list)):
                    pending.append((member, depth + 1))
                elif escapes and isinstance(member, str):
                    _check_text(member, text)
        elif isinstance(item, list):
            if depth > max_depth:
                raise UnreadableJson(DEPTH, 1, _deep_position(text, max_depth))
            for member in item:
                if isinstance(member, (dict, list)):
                    pending.append((member, depth + 1))
                elif escapes and isinstance(member, str):
                    _check_text(member, text)
        elif escapes and isinstance(item, str):
            _check_text(item, text)


def _check_text(value: str, text: str) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        surrogate = value[error.start]
        escape = f"\\u{ord(surrogate):04x}"
        found = text.lower().find(escape)
        line, column = _line_column(text[:found], found) if found >= 0 else (1, 1)
        raise UnreadableJson(SURROGATE, line, column + 1, escape) from None


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
