"""What the control-plane, fault-injection and plugin tests share: raw control requests (status codes included),
xWeb calls over SOAP and JSON, and a second server over the same database with some settings changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from support import XWEB, Emulator, fault
from xweb_emulator.testing import run_emulator

SAMPLE_CUSTOMER = "2a50c454-eac0-4768-9a85-0c97968be7fd"  # demo data: has someone@somewhere.com
SAMPLE_CUSTOMER_PHONE = "ae0c81e1-4af5-43bb-95f1-221459c07a80"
SAMPLE_PHONE = "d8d6f804-fc51-4f5d-8a42-4384aa2d37ba"
DEMO_PHONE_NUMBER = "800-555-0100"
TIMEOUT = 30


def control(emulator, method: str, path: str, **options: Any) -> requests.Response:
    """A control-plane request as it is answered, refusals included: control(e, "GET", "state/xweb/Customer")."""
    return requests.request(method, f"{emulator.base_url}/_emulator/{path}", timeout=TIMEOUT, **options)


def control_ok(emulator, method: str, path: str, **options: Any) -> Any:
    response = control(emulator, method, path, **options)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def refusal(response: requests.Response, status: int = 400) -> str:
    """The error message of a control-plane refusal, checked to be JSON {"error": …} with `status`."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    message = response.json()["error"]
    assert isinstance(message, str) and message
    return message


def add_rule(emulator, **rule: Any) -> dict:
    response = control(emulator, "POST", "faults", json={"vendor": "xweb", **rule})
    assert response.status_code == 201, response.text
    (added,) = response.json()["rules"]
    return added


def rule_state(emulator, rule_id: int) -> dict:
    (found,) = [rule for rule in control_ok(emulator, "GET", "faults")["rules"] if rule["id"] == rule_id]
    return found


def get_version(emulator: Emulator, token: str | None) -> requests.Response:
    return emulator.soap("GetVersion", "", token)


def token_kind(response: requests.Response) -> str | None:
    """The kind of an xWeb SOAP fault, None for a successful answer."""
    return None if response.status_code == 200 else fault(response)["kind"]


def json_call(emulator, method: str, params: dict | None = None, *, token: str | None = None,
              basic: bool = True) -> requests.Response:
    """POST /xWeb/JSON/<method> as the vendor documents it, with HTTP Basic (or the Bearer `token`)."""
    options: dict[str, Any] = {}
    if token is not None:
        options["headers"] = {"Authorization": f"Bearer {token}"}
    elif basic:
        options["auth"] = (emulator.settings.xweb_user, emulator.settings.xweb_password)
    return requests.post(emulator.json_url(method), json={method: params or {}}, timeout=TIMEOUT, **options)


def insert_activity_body(customer: str = SAMPLE_CUSTOMER, code: str = "Opened") -> str:
    """InsertFacadeObject's parameters for one CustomerMessagingActivity of `customer`."""
    return (
        "<ns:szObjectName>CustomerMessagingActivity</ns:szObjectName><ns:oNode>"
        f'<CustomerMessagingActivityObjects xmlns="{XWEB}"><CustomerMessagingActivityObject>'
        f"<cma_cst_key>{customer}</cma_cst_key><cma_activity_code>{code}</cma_activity_code>"
        "<cma_eml_address>someone@somewhere.com</cma_eml_address>"
        "<cma_activity_date>03/12/2012 14:44:55</cma_activity_date>"
        "</CustomerMessagingActivityObject></CustomerMessagingActivityObjects></ns:oNode>"
    )


def insert_activity(emulator: Emulator, token: str, code: str = "Opened") -> requests.Response:
    return emulator.soap("InsertFacadeObject", insert_activity_body(code=code), token)


def activities(emulator) -> list[dict]:
    return control_ok(emulator, "GET", "state/xweb/CustomerMessagingActivity")["records"]


def journal(emulator, **filters: Any) -> list[dict]:
    return control_ok(emulator, "GET", "requests", params=filters)["requests"]


@contextmanager
def another_server(emulator: Emulator, **changes: Any) -> Iterator[Emulator]:
    """A second server over the same database as `emulator`, with some settings changed."""
    with run_emulator(emulator.settings.model_copy(update=changes), factory=Emulator) as other:
        yield other
