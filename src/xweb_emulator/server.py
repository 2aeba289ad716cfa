"""Serving the WSGI application on granian (measured faster than gunicorn on this spyne stack: see bench/)."""

from __future__ import annotations

import os
import socket

import click
from granian import Granian
from granian.constants import Interfaces

from xweb_emulator.app import prepare_database
from xweb_emulator.pipeline import CONTROL_PREFIX
from xweb_emulator.faults import InvalidFaultRule
from xweb_emulator.settings import Settings


def serve(settings: Settings) -> None:
    try:
        emulator = prepare_database(settings)
    except InvalidFaultRule as error:
        raise click.UsageError(f"fault rule (--fault, XWEB_EMULATOR_FAULTS): {error}") from None
    port = settings.port or _free_port(settings.host)
    settings = settings.model_copy(update={"port": port})
    # Workers are separate processes: they rebuild the same Settings from the environment.
    os.environ.update(settings.as_environment())
    base = f"http://{settings.host}:{port}"
    lines = [*emulator.describe(base), f"database     {settings.database_url}"]
    if settings.control_plane:
        lines.append(f"control      {base}{CONTROL_PREFIX}   (reset, seed, state, requests, faults, clock)")
        lines.append(f"dashboard    {base}{CONTROL_PREFIX}ui/")
    click.echo(f"xweb-emulator listening on {base}\n" + "".join(f"  {line}\n" for line in lines), err=True, nl=False)
    Granian(
        "xweb_emulator.app:wsgi_app",
        factory=True,
        address=settings.host,
        port=port,
        interface=Interfaces.WSGI,
        workers=settings.workers,
        blocking_threads=settings.threads,
        log_access=False,
    ).serve()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
