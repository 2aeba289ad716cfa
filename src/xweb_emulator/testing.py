"""The emulator as a test drives it: `EmulatorClient` speaks the control plane (/_emulator/) of any running emulator
over HTTP, and `run_emulator` starts one inside the test process. The pytest plugin
(xweb_emulator.pytest_plugin) builds its fixtures on these; other harnesses can use them directly:

    with run_emulator(Settings(database_url="sqlite:///tmp/e.db")) as emulator:
        emulator.seed({"xweb": {"Customer": [...]}})
        ...connector under test, pointed at emulator.base_url...
        assert emulator.journal(operation="InsertFacadeObject")[0]["outcome"] == "ok"
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from xweb_emulator import vendors
from xweb_emulator.app import create_app, prepare_database
from xweb_emulator.emulator import Emulator
from xweb_emulator.settings import Settings


class ControlPlaneError(Exception):
    """The control plane refused a request; the message is its answer."""


class EmulatorClientBase:
    """A running emulator: its addresses, the credentials it accepts, and its control plane. The vendors' own
    helpers (their addresses: soap_url, sap_url, crmcom_url …) come from their packages (see `client_class`)."""

    packages: ClassVar[tuple[str, ...]] = vendors.PACKAGES
    """The vendors' packages of the emulator it speaks to (its helpers are theirs; see client_class)."""

    def __init__(self, base_url: str, settings: Settings | None = None, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.settings = settings if settings is not None else Settings()
        self.http = requests.Session()
        if self.settings.control_token:
            self.http.headers["X-Emulator-Token"] = self.settings.control_token
        self.timeout = timeout

    # ------------------------------------------------------------------------------------- addresses, users

    @property
    def credentials(self) -> dict[str, dict[str, str]]:
        """Per vendor, what its configured user logs in with."""
        return {vendor.name: vendor.client_credentials(self.settings)
                for vendor in vendors.vendor_classes(self.packages)}

    def zeep_client(self, vendor: str = "xweb", **client_options: Any):
        """A zeep client bound to the emulator's WSDL for `vendor` (xweb, or sap with its HTTP Basic user).
        zeep is not a dependency of the emulator: install it with the `test` extra or on its own."""
        import zeep

        soap = {each.name: each for each in vendors.vendor_classes(self.packages) if each.wsdl_path is not None}
        if vendor not in soap:
            raise ValueError(f"{vendor} has no WSDL: only {' and '.join(soap)} speak SOAP")
        session = requests.Session()
        session.auth = soap[vendor].wsdl_auth(self.settings)
        return zeep.Client(self.base_url + soap[vendor].wsdl_path, transport=zeep.Transport(session=session),
                           **client_options)

    # ------------------------------------------------------------------------------------------ control plane

    def health(self) -> dict:
        return self._control("GET", "health")

    def coverage(self) -> dict[str, dict]:
        """Per vendor, every operation of its service and whether the emulator emulates it."""
        return self._control("GET", "coverage")

    def reset(self, *, empty: bool = False, vendor: str | None = None,
              profile: str | os.PathLike | dict | None = None) -> dict:
        """Back to the demo data (empty=True: no records but the configured users); clears the journal, the fault
        rules added since start-up and the clock offset. With `vendor`, that vendor's records only. With `profile`
        (a tenant profile's file, or its document), xWeb serves that profile from now on."""
        if isinstance(profile, os.PathLike):
            profile = Path(profile).read_text(encoding="utf-8")
        return self._control("POST", "reset", json={"empty": empty, **({"vendor": vendor} if vendor else {}),
                                                    **({"profile": profile} if profile is not None else {})})

    def seed(self, document: dict) -> dict[str, dict[str, list[str]]]:
        """Load records ({"xweb": {"Customer": [...]}, "sap": {...}, "crmcom": {...}}); answers their keys."""
        return self._control("POST", "seed", json=document)["created"]

    def state(self, vendor: str, object_name: str, **filters: Any) -> list[dict]:
        """The stored records of one object, filtered by column: state("xweb", "Customer", cst_id="000000001I")."""
        return self._control("GET", f"state/{vendor}/{object_name}", params=filters)["records"]

    def journal(self, **filters: Any) -> list[dict]:
        """The calls the emulator answered, oldest first: journal(operation="InsertFacadeObject", outcome="ok");
        also vendor=, after_id=, limit=."""
        return self._control("GET", "requests", params=filters)["requests"]

    def clear_journal(self) -> None:
        self._control("DELETE", "requests")

    def add_fault(self, vendor: str, action: str, **rule: Any) -> dict:
        """Add a fault rule (see GET /_emulator/faults): add_fault("xweb", "throttle", operation="GetVersion",
        count=1); add_fault("xweb", "fault", fault_kind="InvalidTokenExceptionInfo", probability=0.5, seed=7)."""
        return self._control("POST", "faults", json={"vendor": vendor, "action": action, **rule})["rules"][0]

    def fault_rules(self) -> list[dict]:
        return self._control("GET", "faults")["rules"]

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def clock(self) -> dict:
        return self._control("GET", "clock")

    def advance_clock(self, seconds: float) -> dict:
        """Move the emulator's clock on (tokens and lock-outs expire as if the time had passed)."""
        return self._control("POST", "clock", json={"advance_seconds": seconds})

    def set_clock(self, *, offset_seconds: float | None = None, now: str | None = None) -> dict:
        body = {"now": now} if now is not None else {"offset_seconds": offset_seconds or 0}
        return self._control("POST", "clock", json=body)

    def reset_clock(self) -> dict:
        return self._control("DELETE", "clock")

    def _control(self, method: str, path: str, **options: Any) -> Any:
        response = self.http.request(method, f"{self.base_url}/_emulator/{path}", timeout=self.timeout, **options)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise ControlPlaneError(f"{method} /_emulator/{path}: {response.status_code} {message}")
        return response.json()


def client_class(packages: tuple[str, ...]) -> type[EmulatorClientBase]:
    """The client of an emulator of these vendors' packages: the base, and each vendor's helpers."""
    return type("EmulatorClient", (*(vendors.part(package, "testing", "Client") for package in packages),
                                   EmulatorClientBase), {"packages": packages, "__module__": __name__})


EmulatorClient = client_class(vendors.PACKAGES)


class RunningEmulator(EmulatorClient):
    """An emulator started in this process by `run_emulator`: its state (database, vendors) is at hand as well."""

    def __init__(self, base_url: str, settings: Settings, emulator: Emulator) -> None:
        super().__init__(base_url, settings)
        self.emulator = emulator


Running = TypeVar("Running", bound=RunningEmulator)


class _QuietHandler(WSGIRequestHandler):
    """The journal records every call; a line per request on stderr would only bury a test's own output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def run_emulator(settings: Settings, factory: type[Running] = RunningEmulator) -> Iterator[Running]:
    """The emulator on a free port of 127.0.0.1, served by threads of this process, for as long as the context is
    open. Its database is brought to the latest schema and prepared first."""
    emulator = prepare_database(settings)
    server = make_server("127.0.0.1", 0, create_app(settings, emulator), threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="xweb-emulator", daemon=True)
    thread.start()
    try:
        yield factory(f"http://127.0.0.1:{server.server_port}", emulator.settings, emulator)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        emulator.database.dispose()
