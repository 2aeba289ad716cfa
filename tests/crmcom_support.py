"""What the CRM.COM tests share: calls to the running emulator's Web API, the answers' envelope, the sample event,
and a look at every crmcom_ table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from support import Emulator
from xweb_emulator.crmcom.models import LoginToken
from xweb_emulator.db import Base

FIXTURES = Path(__file__).parent / "fixtures" / "crmcom"
HEX_ID = re.compile(r"[0-9A-F]{32}")
OK_STATUS = {"code": "OK", "description": "", "message": ""}

# In the demo data: what the vendor's example refers to, and a rewards participant with two access tokens.
UNIT = "Admin Unit"
ACCOUNT_20, ACCOUNT_77 = "ACR0000000020", "ACR0000000077"
PARTICIPANT = "RP0000000019"  # belongs to ACR0000000020
EFFECTIVE_TOKEN = {"authentication_code": "AC0000000019", "identifier": "6010000000000019", "pass_code": "1919"}
NOT_EFFECTIVE_TOKEN = {"authentication_code": "AC0000000018", "identifier": "6010000000000018", "pass_code": "1818"}


def post(emulator: Emulator, method: str, body: Any) -> requests.Response:
    return requests.post(emulator.crmcom_url(method), json=body, timeout=60)


def show(emulator: Emulator, token: str, identifier: str, **params: str) -> requests.Response:
    return requests.get(emulator.crmcom_url("customer_events/web/show"),
                        params={"token": token, "customer_event_identifier": identifier, **params}, timeout=30)


def login(emulator: Emulator, **changes: str) -> str:
    settings = emulator.settings
    credentials = {"username": settings.crmcom_user, "password": settings.crmcom_password,
                   "organisation": settings.crmcom_organisation, **changes}
    token = ok(post(emulator, "authentication/token", credentials))["token"]
    assert HEX_ID.fullmatch(token), token
    return token


def ok(response: requests.Response) -> Any:
    """The data of a successful answer."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert list(body) == ["data", "status"] and body["status"] == OK_STATUS, body
    return body["data"]


def refused(response: requests.Response, code: str, message: str = "", http_status: int = 200) -> dict[str, str]:
    """A request-level error: the envelope with no data and a status of `code` whose message contains `message`."""
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["data"] is None, body
    status = body["status"]
    assert status["code"] == code, body
    assert message in status["message"], body
    assert status["description"], body
    return status


def bulk(emulator: Emulator, token: str, items: list[dict[str, Any]], **params: Any) -> dict[str, list[dict]]:
    data = ok(post(emulator, "customer_events/bulk/web/create",
                   {"token": token, "web_customer_events_set": items, **params}))
    assert list(data) == ["unprocessed_customer_events_set", "processed_customer_events_set"], data
    return data


def create_one(emulator: Emulator, token: str, **fields: Any) -> requests.Response:
    """A bulk call of the one sample event, changed by `fields` (None removes a field); its single result."""
    return post(emulator, "customer_events/bulk/web/create",
                {"token": token, "web_customer_events_set": [event(**fields)]})


def event(request_unique_identifier: str = "1", **fields: Any) -> dict[str, Any]:
    """An event the demo data accepts, changed by `fields` (None removes a field)."""
    item = {
        "request_unique_identifier": request_unique_identifier,
        "accounts_receivable_identifier": {"number": ACCOUNT_20},
        "performed_by_unit_identifier": {"name": UNIT},
        "performed_on": "2016-06-22T15:00:00",
        "website": "www.crm.com",
        **fields,
    }
    return {name: value for name, value in item.items() if value is not None}


def unprocessed(data: dict[str, list[dict]], code: str, message: str) -> dict[str, str]:
    """The one result of a one-event bulk call, an unprocessed event refused with `code` and `message`."""
    assert data["processed_customer_events_set"] == [], data
    (result,) = data["unprocessed_customer_events_set"]
    assert result["error_code"] == code, result
    assert result["error_description"].startswith(f"Error:{message} - Description:"), result
    return result


def processed(data: dict[str, list[dict]]) -> dict[str, str]:
    assert data["unprocessed_customer_events_set"] == [], data
    (result,) = data["processed_customer_events_set"]
    assert HEX_ID.fullmatch(result["id"]), result
    return result


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def seed_example_request(token: str) -> str:
    """The vendor's example request, byte for byte, its Postman variable {{token}} replaced by a real token."""
    return fixture("bulk_web_create.request.json").replace("{{token}}", token)


def stored(emulator: Emulator) -> dict[str, list[tuple]]:
    """Every crmcom_ row, column by column, but the login tokens' (every accepted call restarts a token's idle time)."""
    tables = [table for table in Base.metadata.sorted_tables
              if table.name.startswith("crmcom_") and table is not LoginToken.__table__]
    with emulator.emulator.database.transaction() as session:
        return {table.name: sorted(tuple(map(str, row)) for row in session.execute(select(table))) for table in tables}


@contextmanager
def nothing_written(emulator: Emulator) -> Iterator[None]:
    before = stored(emulator)
    yield
    assert stored(emulator) == before, "a refused request changed the database"
