"""HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the format browsers, WireMock, Hoverfly and Microcks
read: what `xweb-emulator record` writes, `GET /_emulator/requests?format=har` exports, `compare` replays and
`serve --recording` answers from (RecordedAnswers).

Passwords are masked as the journal masks them (journal.masked, masked_path), and an HTTP Basic password too. Tokens
(xWeb's AuthorizationToken, its JSON twin's Token and bearer headers, CRM.COM's token member and parameter) are
replaced by a stand-in numbered per file, `***token-1***`: the same token is the same stand-in wherever it appears, so
that a replay can tell which answer issued the token a later request presents.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from xweb_emulator import __version__, journal
from xweb_emulator.call import Answer

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade"})
"""Headers that belong to one connection (RFC 9110 7.6.1), never passed on by a proxy."""

TOKEN_STAND_IN = re.compile(r"\*\*\*token-\d+\*\*\*")
MASK = "***"

_XML_TOKEN = re.compile(r"(<(?:[\w.-]+:)?Token\b[^>]*(?<!/)>)([^<]*)(</(?:[\w.-]+:)?Token\s*>)")
_JSON_TOKEN = re.compile(r'("token"\s*:\s*")((?:\\.|[^"\\])*)"', re.IGNORECASE)
_QUERY_TOKEN = re.compile(r"([?&]token=)([^&#]*)", re.IGNORECASE)
_BEARER = re.compile(r"^(bearer\s+(?:token\s*=\s*)?)(\S+)\s*$", re.IGNORECASE)
_SPACE_BETWEEN_ELEMENTS = re.compile(r">\s+<")


class HarError(Exception):
    """A file that is no HAR document this module can read."""


class Masker:
    """Masks what one HAR file must not hold. Tokens get stand-ins numbered in the order they are first seen; a
    masker is shared by every exchange of a file (thread-safe)."""

    def __init__(self) -> None:
        self._stand_ins: dict[str, str] = {}
        self._lock = threading.Lock()

    def token(self, value: str) -> str:
        if not value.strip() or TOKEN_STAND_IN.fullmatch(value):
            return value
        with self._lock:
            return self._stand_ins.setdefault(value, f"***token-{len(self._stand_ins) + 1}***")

    def url(self, url: str) -> str:
        url = journal.masked_path(url)
        return _QUERY_TOKEN.sub(lambda match: match.group(1) + self.token(match.group(2)), url)

    def text(self, text: str) -> str:
        text = journal.masked(text.encode()).decode()
        text = _XML_TOKEN.sub(lambda match: match.group(1) + self.token(match.group(2)) + match.group(3), text)
        return _JSON_TOKEN.sub(lambda match: match.group(1) + self.token(match.group(2)) + '"', text)

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie", "x-emulator-token"):
            return MASK
        if lowered not in ("authorization", "www-authenticate"):
            return value
        if value[:6].lower() == "basic ":
            return "Basic " + _basic_masked(value[6:].strip())
        bearer = _BEARER.match(value)
        if bearer is not None:
            return bearer.group(1) + self.token(bearer.group(2))
        return MASK if lowered == "authorization" else value


def _basic_masked(credentials: str) -> str:
    """HTTP Basic credentials with the user name kept and the password masked."""
    try:
        user = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return MASK
    return base64.b64encode(f"{user}:{MASK}".encode()).decode()


def basic_unmasked(value: str, password: str) -> str:
    """An Authorization header of a recording with the masked HTTP Basic password replaced by `password`."""
    if value[:6].lower() != "basic ":
        return value
    try:
        user, _, given = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return value
    if given != MASK:
        return value
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---------------------------------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Exchange:
    """One call as a HAR entry holds it, unmasked; `status` 0 and `error` where no answer came."""

    started: datetime
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    response_body: bytes
    wait_ms: float
    error: str | None = None


def entry(exchange: Exchange, masker: Masker, **extra: Any) -> dict:
    """The HAR entry of an exchange, masked; `extra` becomes `_`-prefixed custom fields (HAR 1.2 allows them)."""
    url = masker.url(exchange.url)
    request_headers = [{"name": name, "value": masker.header(name, value)} for name, value in exchange.request_headers]
    request: dict[str, Any] = {
        "method": exchange.method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": request_headers,
        "queryString": [{"name": name, "value": value}
                        for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(exchange.request_body),
    }
    if exchange.request_body or exchange.method not in ("GET", "HEAD"):
        request["postData"] = {"mimeType": _header(exchange.request_headers, "content-type") or "",
                               "text": masker.text(_text(exchange.request_body))}
    content: dict[str, Any] = {"size": len(exchange.response_body),
                               "mimeType": _header(exchange.response_headers, "content-type") or ""}
    try:
        content["text"] = masker.text(exchange.response_body.decode("utf-8"))
    except UnicodeDecodeError:
        content["text"], content["encoding"] = base64.b64encode(exchange.response_body).decode(), "base64"
    result = {
        "startedDateTime": exchange.started.astimezone(timezone.utc).isoformat(timespec="milliseconds"),
        "time": round(exchange.wait_ms, 3),
        "request": request,
        "response": {
            "status": exchange.status, "statusText": exchange.reason, "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": [{"name": name, "value": masker.header(name, value)}
                        for name, value in exchange.response_headers],
            "content": content, "redirectURL": _header(exchange.response_headers, "location") or "",
            "headersSize": -1, "bodySize": len(exchange.response_body) if exchange.status else -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(exchange.wait_ms, 3), "receive": 0},
    }
    if exchange.error is not None:
        result["_error"] = exchange.error
    result.update({"_" + name: value for name, value in extra.items()})
    return result


def document(entries: Iterable[dict]) -> dict:
    return {"log": {"version": "1.2", "creator": {"name": "xweb-emulator", "version": __version__},
                    "entries": list(entries)}}


class HarFile:
    """A HAR file that grows an exchange at a time and is whole at every moment: the whole document is written to a
    file beside it, which then replaces it (os.replace is atomic), under a lock. A recorder stopped or a client gone
    mid-call leaves the last whole document. Each entry is serialised once, on a line of its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.masker = Masker()
        self._entries: list[str] = []
        self._lock = threading.Lock()
        head = json.dumps(document([]), ensure_ascii=False)
        self._head, self._tail = head[:-3] + "\n", "\n" + head[-3:] + "\n"  # {"log": {…, "entries": [ … ]}}
        self._write()

    def append(self, exchange: Exchange) -> int:
        """Add an exchange; its place in the file (1-based)."""
        with self._lock:
            order = len(self._entries) + 1
            self._entries.append(json.dumps(entry(exchange, self.masker, order=order), ensure_ascii=False))
            self._write()
            return order

    def _write(self) -> None:
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(self._head)
                file.write(",\n".join(self._entries))
                file.write(self._tail)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def read(path: Path) -> list[dict]:
    """The entries of a HAR file, in the file's order."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = loaded["log"]["entries"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise HarError(f"{path} is not a HAR file: {error}") from None
    if not isinstance(entries, list) or not all(map(_replayable, entries)):
        raise HarError(f"{path} is not a HAR file: log.entries must be a list of entries, each with its request's "
                       "method and url and its response's status")
    return entries


def _replayable(entry: Any) -> bool:
    try:
        return (isinstance(entry["request"]["method"], str) and isinstance(entry["request"]["url"], str)
                and isinstance(entry["response"]["status"], int))
    except (KeyError, TypeError):
        return False


def request_body(har_entry: Mapping) -> str:
    return (har_entry["request"].get("postData") or {}).get("text") or ""


def response_body(har_entry: Mapping) -> bytes:
    content = har_entry["response"].get("content") or {}
    text = content.get("text") or ""
    return base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")


def headers(message: Mapping) -> list[tuple[str, str]]:
    return [(each["name"], each["value"]) for each in message.get("headers") or ()]


def fingerprint(path: str, body: bytes | str) -> tuple[str, str]:
    """What a request is matched by when the emulator answers from a recording: its path and query (without regard
    to case) and its body, with passwords masked, every token alike and the white space between elements gone."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    masker = _SameStandIn()
    return masker.url(path).lower(), _SPACE_BETWEEN_ELEMENTS.sub("><", masker.text(text).strip())


class _SameStandIn(Masker):
    def token(self, value: str) -> str:
        return MASK


def _header(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in pairs if key.lower() == name), None)


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def journal_document(calls: Iterable[Mapping], base_url: str, vendors: Mapping[str, Any]) -> dict:
    """The request journal's calls (journal.as_json) as a HAR document: what a replay sends (the headers each vendor
    says a call needs, Vendor.replay) and what the emulator answered. The journal keeps no headers of its own, and a
    body only up to --journal-body-bytes (`_truncated` says where)."""
    masker = Masker()
    entries = []
    for call in calls:
        vendor = vendors.get(call["vendor"])
        body = call["request"]["body"]
        request_headers: list[tuple[str, str]] = []
        if vendor is not None:
            replay = vendor.replay(call["path"], call["operation"], body)
            request_headers = [tuple(part.strip() for part in header.split(":", 1)) for header in replay.headers]
            if replay.basic is not None:
                request_headers.append(("Authorization", "Basic " + base64.b64encode(
                    f"{replay.basic[0]}:{MASK}".encode()).decode()))
        exchange = Exchange(
            started=datetime.fromisoformat(call["at"].replace("Z", "+00:00")), method=call["method"],
            url=base_url.rstrip("/") + call["path"], request_headers=request_headers, request_body=body.encode(),
            status=call["status"], reason="", response_headers=[],
            response_body=call["response"]["body"].encode(), wait_ms=call["duration_ms"],
            error=None if call["status"] else call["outcome"])
        truncated = [part for part in ("request", "response") if call[part]["truncated"]]
        entries.append(entry(exchange, masker, order=len(entries) + 1, vendor=call["vendor"],
                             operation=call["operation"], outcome=call["outcome"],
                             **({"truncated": truncated} if truncated else {})))
    return document(entries)


class RecordedAnswers:
    """The answers of a recording, by the request each answered (`fingerprint`): what `serve --recording` answers a
    call to an operation the emulator does not emulate with. Where the recording answered the same request more
    than once, the first answer stands. Exchanges that got no answer are left out."""

    def __init__(self, entries: Iterable[Mapping]) -> None:
        self._answers: dict[tuple[str, str], Answer] = {}
        for each in entries:
            if each["response"]["status"] <= 0 or each.get("_error"):
                continue
            split = urlsplit(each["request"]["url"])
            answer = Answer(each["response"]["status"],
                            [(name, value) for name, value in headers(each["response"])
                             if name.lower() not in HOP_BY_HOP | {"content-length", "content-encoding"}],
                            response_body(each))
            self._answers.setdefault(fingerprint(split.path + (f"?{split.query}" if split.query else ""),
                                                 request_body(each)), answer)

    @classmethod
    def of_file(cls, path: str) -> RecordedAnswers:
        """The file's answers, read once for every vendor of the process (again once the file has changed)."""
        return _recorded_answers(str(Path(path).resolve()), os.stat(path).st_mtime_ns)

    def answer(self, path: str, body: bytes) -> Answer | None:
        """The recorded answer to a request of this path (with its query) and body, if the recording holds one."""
        return self._answers.get(fingerprint(path, body))


@functools.lru_cache(maxsize=4)
def _recorded_answers(path: str, modified: int) -> RecordedAnswers:
    return RecordedAnswers(read(Path(path)))
