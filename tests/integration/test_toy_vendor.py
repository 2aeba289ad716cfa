"""A vendor made by the documented recipe (CONTRIBUTING.md, "Adding a vendor"): tests/toy_vendor/, a package of the
same files as xweb/, sap/ and crmcom/ and nothing else. Registered for the test (the registered packages plus it),
it answers its operation through the real pipeline (routing, the one transaction, the runner, fault rules, the
journal, the one error boundary), and its settings, client helpers and dashboard title are its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from xweb_emulator import vendors
from xweb_emulator.settings import Settings, settings_class
from xweb_emulator.testing import RunningEmulator, run_emulator

PACKAGES = (*vendors.PACKAGES, "toy_vendor")
ToySettings = settings_class(PACKAGES)


class ToyEmulator(vendors.part("toy_vendor", "testing", "Client"), RunningEmulator):
    packages = PACKAGES


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Iterator[ToyEmulator]:
    settings = ToySettings(database_url=f"sqlite:///{tmp_path_factory.mktemp('toy') / 'toy.db'}",
                           toy_password="sesame")
    with run_emulator(settings, factory=ToyEmulator) as running:
        yield running


@pytest.fixture
def emulator(toy: ToyEmulator) -> ToyEmulator:
    toy.reset()
    return toy


def greet(emulator: ToyEmulator, body: object, auth: tuple[str, str] | None = None,
          operation: str = "Greet") -> requests.Response:
    return requests.post(emulator.toy_url(operation), json=body, timeout=30,
                         auth=auth or tuple(emulator.credentials["toy"].values()))


def test_its_settings_are_its_own_and_the_registered_vendors_have_none_of_them():
    assert ToySettings(toy_user="alice").toy_user == "alice"
    assert "toy_user" not in Settings.model_fields
    with pytest.raises(ValueError):
        Settings(toy_user="alice")


def test_it_answers_its_operation_through_the_pipeline_and_the_call_is_journalled(emulator):
    response = greet(emulator, {"name": " Ada "})

    assert response.status_code == 200, response.text
    assert response.json()["greeting"] == "Hello, Ada"
    assert datetime.fromisoformat(response.json()["at"])
    (entry,) = emulator.journal(vendor="toy")
    assert (entry["operation"], entry["outcome"], entry["user"], entry["status"]) == ("Greet", "ok", "toy", 200)


def test_its_errors_are_its_own_shape_and_journalled(emulator):
    missing = greet(emulator, {})
    wrong_password = greet(emulator, {"name": "Ada"}, auth=("toy", "nope"))
    not_emulated = greet(emulator, {"name": "Ada"}, operation="Wave")

    assert (missing.status_code, missing.json()) == (400, {"error": "ToyError", "message": "name is required."})
    assert (wrong_password.status_code, wrong_password.json()["error"]) == (401, "NotAllowed")
    assert (not_emulated.status_code, not_emulated.json()["error"]) == (400, "ToyError")
    assert [(entry["operation"], entry["outcome"]) for entry in emulator.journal(vendor="toy")] == [
        ("Greet", "ToyError"), ("Greet", "NotAllowed"), ("Wave", "ToyError")]


def test_a_fault_rule_injects_its_fault_for_its_operation(emulator):
    emulator.add_fault("toy", "fault", fault_kind="Grumpy", operation="Greet", count=1)

    refused = greet(emulator, {"name": "Ada"})
    answered = greet(emulator, {"name": "Ada"})

    assert (refused.status_code, refused.json()) == (503, {"error": "Grumpy", "message": "Not today."})
    assert answered.status_code == 200


def test_the_dashboard_and_the_coverage_name_it_by_its_own_title(emulator):
    overview = emulator.http.get(emulator.base_url + "/_emulator/ui/", timeout=30)
    coverage = emulator.coverage()["toy"]

    assert overview.status_code == 200 and "Toy Greeting Service<" in overview.text
    assert coverage["service"] == "Toy Greeting Service (V1)"
    assert {operation["name"]: operation["emulated"] for operation in coverage["operations"]} == {
        "Greet": True, "Wave": False}
