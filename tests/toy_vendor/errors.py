"""The toy's errors: an EmulatorError each, with the code its clients read."""

from __future__ import annotations

from xweb_emulator.errors import EmulatorError


class ToyError(EmulatorError):
    code = "ToyError"
    status = 400


class NotAllowed(ToyError):
    code = "NotAllowed"
    status = 401


class Grumpy(ToyError):
    """The fault a rule may inject."""

    code = "Grumpy"
    status = 503


class Broken(ToyError):
    """The emulator's own failure, as the toy answers it."""

    code = "Broken"
    status = 500
