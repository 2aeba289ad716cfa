"""Serving the application on granian (measured faster than gunicorn on this spyne stack: see bench/), behind its RSGI
interface (rsgi.py)."""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
import threading

import click
from granian import Granian
from granian.constants import Interfaces

from xweb_emulator.app import prepare_database
from xweb_emulator.pipeline import CONTROL_PREFIX
from xweb_emulator.faults import InvalidFaultRule
from xweb_emulator.settings import Settings
from xweb_emulator.vendor import SeedError

# How long a stopping server waits for its workers to finish the calls they are answering.
WORKERS_KILL_SECONDS = 5


def serve(settings: Settings) -> None:
    try:
        emulator = prepare_database(settings)
    except InvalidFaultRule as error:
        raise click.UsageError(f"fault rule (--fault, XWEB_EMULATOR_FAULTS): {error}") from None
    except SeedError as error:
        raise click.UsageError(str(error)) from None
    port = settings.port or _free_port(settings.host)
    settings = emulator.settings.model_copy(update={"port": port})
    # Workers are separate processes: they rebuild the same Settings from the environment.
    os.environ.update(settings.as_environment())
    base = f"http://{settings.host}:{port}"
    lines = [*emulator.describe(base), f"database     {settings.database_url}"]
    if settings.control_plane:
        lines.append(f"control      {base}{CONTROL_PREFIX}   (reset, seed, state, requests, faults, clock)")
        lines.append(f"dashboard    {base}{CONTROL_PREFIX}ui/")
    click.echo(f"xweb-emulator listening on {base}\n" + "".join(f"  {line}\n" for line in lines), err=True, nl=False)
    warning = exposure_warning(settings)
    if warning:
        click.secho(f"WARNING: {warning}", err=True, fg="yellow")
    if not gc.isenabled():  # off for the start (__main__.py)
        # What the start made lives as long as the server, or is a few thousand objects of its garbage: out of the
        # collector's sight, and shared with the workers forked next.
        gc.freeze()
        gc.enable()
    _Granian(
        "xweb_emulator.app:rsgi_app",
        factory=True,
        address=settings.host,
        port=port,
        # Bodies are read by each worker's event loop against --body-read-timeout, calls run on --threads threads of
        # the application's own (rsgi.py): granian runs the one Python thread of the loop, and no thread waits on a
        # slow client.
        interface=Interfaces.RSGI,
        websockets=False,
        workers=settings.workers,
        # Should a worker not stop all the same (see _Granian), it is killed after this long.
        workers_kill_timeout=WORKERS_KILL_SECONDS,
        log_access=False,
    ).serve()


class _Granian(Granian):
    """granian's server, its workers stopping when signalled before they handle the signal themselves, and its main
    loop woken by a signal whenever it comes.

    A worker is forked with the main process's handler of SIGINT and SIGTERM, and runs it until it sets up its own,
    once its application is built. That handler only sets a flag in the worker's copy of the server, so a stop signal
    in between was lost, and the server waited for that worker for ever: a test harness that stops a server still
    starting hung (tests/system/test_cli.py). Now such a worker ends at once. One that had not yet run since its fork
    when the signal came still misses it (CPython clears what reached it before its after-fork clean-up), and is killed
    once WORKERS_KILL_SECONDS have passed.

    granian's handlers wake the main loop by setting the event it waits on. A handler runs in the main thread, which,
    entering or leaving that wait, may hold the event's lock at that moment: the handler then waited for the main
    thread, that is for itself, for ever, and the signal was lost (a server signalled as its last worker was spawned
    never stopped). The event is set from a thread of its own instead."""

    def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
        if self.pid is not None and os.getpid() != self.pid:
            raise SystemExit(0)  # a worker that has not set up its own handler yet
        self.interrupt_signal = True
        threading.Thread(target=self.main_loop_interrupt.set, daemon=True).start()

    def signal_handler_reload(self, *args: object, **kwargs: object) -> None:
        self.reload_signal = True
        threading.Thread(target=self.main_loop_interrupt.set, daemon=True).start()


def exposure_warning(settings: Settings) -> str | None:
    """What to say when the control plane is open to other machines with no token to guard it."""
    if not settings.control_plane or settings.control_token or _loopback(settings.host):
        return None
    return (f"the control plane ({CONTROL_PREFIX}: reset, seed, state, journal) is served on {settings.host}, "
            "reachable from other machines, with no token: anyone who reaches it can reset or read the emulator. "
            "Set --control-token (XWEB_EMULATOR_CONTROL_TOKEN), serve on 127.0.0.1, or --no-control-plane.")


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
