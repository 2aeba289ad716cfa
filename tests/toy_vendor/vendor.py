"""The toy's Vendor: routing, the runner's hooks, its (empty) state, its banner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from werkzeug import Request

from xweb_emulator.call import Call
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import Coverage, Endpoint, Incoming, Replay, SeedError, Vendor
from toy_vendor.errors import Broken, Grumpy, NotAllowed
from toy_vendor.operations import OPERATIONS, VENDOR_OPERATIONS
from toy_vendor.rest import PREFIX, JsonWire


class Toy(Vendor):
    name = "toy"
    title = "Toy Greeting Service"
    short_title = "Toy"
    state_objects = {}
    fault_kinds = {"Grumpy": "HTTP 503 with a Grumpy error"}
    coverage = Coverage("Toy Greeting Service (V1)", VENDOR_OPERATIONS, frozenset(OPERATIONS))

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._wire = JsonWire()

    @classmethod
    def client_credentials(cls, settings: Settings) -> dict[str, str]:
        return {"username": settings.toy_user, "password": settings.toy_password}

    def route(self, request: Request) -> Endpoint | None:
        if not request.path.startswith(PREFIX):
            return None
        name = request.path.removeprefix(PREFIX)
        return Endpoint(self._wire, OPERATIONS.get(name), requested=name)

    def authenticate(self, call: Call, incoming: Incoming) -> None:
        if incoming.credentials != (self.settings.toy_user, self.settings.toy_password):
            raise NotAllowed("Wrong user or password.")
        call.user = self.settings.toy_user

    def injected_error(self, kind: str) -> Grumpy:
        return Grumpy("Not today.")

    def internal_error(self, call: Call) -> Broken:
        return Broken("The toy broke.")

    def prepare(self, session: Session, now: datetime, demo_data: bool, profile: Any = None) -> None:
        pass  # no tables, no users stored: the one user is in the settings

    def load_seed(self, session: Session, now: datetime, section: Any) -> dict[str, list[str]]:
        raise SeedError("the toy stores nothing")

    def describe(self, base_url: str) -> list[str]:
        return [f"Toy          {base_url}{PREFIX}Greet   (user {self.settings.toy_user})"]

    def replay(self, path: str, operation: str | None, body: str) -> Replay:
        return Replay(body, ("Content-Type: application/json",),
                      (self.settings.toy_user, self.settings.toy_password))


VENDOR = Toy
