"""xweb-emulator's command line: serve, db upgrade, seed, profile, record, compare. Flags override XWEB_EMULATOR_*
variables, which override the defaults (one Settings object carries the result)."""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any

import click
from pydantic import ValidationError

from xweb_emulator import __version__, vendors
from xweb_emulator.settings import Settings


def _settings(**flags: Any) -> Settings:
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        raise click.UsageError(str(error)) from None


def _vendor_flags(command: Callable) -> Callable:
    """The flags of every vendor's settings (<vendor>/settings.py: FLAGS), in the registry's order."""
    for package in reversed(vendors.PACKAGES):
        for flag in reversed(vendors.part(package, "settings", "FLAGS")):
            command = flag(command)
    return command


_database_url = click.option("--database-url", help="SQLAlchemy URL. Default: sqlite:///xweb-emulator.db")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xweb-emulator")
@click.pass_context
def main(context: click.Context) -> None:
    """A local, stateful emulator of the CRM APIs connectors write back to: netFORUM xWeb (SOAP and JSON),
    SAP ManageCampaignInboundIn, CRM.COM web customer events."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if context.invoked_subcommand != "serve":
        gc.enable()  # off while the command line was imported (__main__.py); serve turns it on once it is ready


@main.command()
@click.option("--host", help="Address to listen on. Default: 127.0.0.1")
@click.option("--port", type=int, help="Port to listen on (0: any free port). Default: 8080")
@_database_url
@click.option("--workers", type=int, help="Server worker processes. Default: 1")
@click.option("--threads", type=int,
              help="Calls run at once per worker, each on a thread once its body is in. Default: 8")
@click.option("--recording", type=click.Path(exists=True, dir_okay=False),
              help="A HAR recording (xweb-emulator record): calls to operations the emulator does not emulate are "
                   "answered as recorded where it holds the same request. Default: none")
@_vendor_flags
@click.option("--max-request-bytes", type=int, help="Largest request body accepted. Default: 10485760")
@click.option("--body-read-timeout", "body_read_timeout_seconds", type=float,
              help="Seconds a client has to send its whole request body (then HTTP 408). Default: 30")
@click.option("--demo-data/--no-demo-data", default=None, help="Load the demo records into an empty database.")
@click.option("--control-plane/--no-control-plane", default=None,
              help="Serve /_emulator/ (reset, seed, state, journal, faults, clock). Default: on")
@click.option("--control-token", help="A secret every /_emulator/ request must present (Authorization: Bearer <token> "
                                     "or X-Emulator-Token). Default: none")
@click.option("--journal-limit", type=int, help="Vendor calls the request journal keeps, 0 for none. Default: 1000")
@click.option("--journal-body-bytes", type=int, help="Bytes of each body the journal keeps. Default: 65536")
@click.option("--fault", "faults", multiple=True, metavar="JSON",
              help='A fault rule in force from start-up and after every reset, repeatable: '
                   '\'{"vendor": "xweb", "action": "throttle", "probability": 0.2, "seed": 1}\'')
def serve(**flags: Any) -> None:
    """Serve the emulator on a production server (granian)."""
    from xweb_emulator.server import serve as run_server

    flags["faults"] = [_json_flag("--fault", text) for text in flags["faults"]] or None
    if flags["recording"] is not None:
        from xweb_emulator.har import HarError, RecordedAnswers

        try:
            RecordedAnswers.of_file(flags["recording"])
        except HarError as error:
            raise click.UsageError(str(error)) from None
    run_server(_settings(**flags))


@main.command()
@click.option("--upstream", required=True, help="The service to record: a tenant's (or an emulator's) base address, "
                                                 "e.g. https://tenant.example.org")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HAR file to write (rewritten whole after every call).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8081, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--timeout", type=float, default=60, show_default=True,
              help="Seconds to wait for the upstream's answer (then 504, recorded as a time-out).")
def record(upstream: str, out: Path, host: str, port: int, timeout: float) -> None:
    """Forward every call to --upstream unchanged and record each exchange to a HAR file (passwords and tokens
    masked), a line per call on stderr."""
    from xweb_emulator.recorder import recording_server

    server = recording_server(upstream, out, host=host, port=port, timeout=timeout)
    click.echo(f"recording {upstream} at http://{host}:{server.server_port} into {out}", err=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops it as Ctrl-C does
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--against", help="A running emulator's base address. Default: one started on a throwaway database.")
@click.option("--profile", "xweb_profile", type=click.Path(exists=True, dir_okay=False),
              help="The tenant profile the emulator started for the comparison serves.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as a self-contained HTML page, both answers side by side.")
@click.option("--allow", "allowed", multiple=True, metavar="RULE",
              help="A difference that does not fail the comparison, repeatable: KIND[:OPERATION[:WHERE]], shell "
                   "patterns (KIND: status, fault, structure, value), e.g. 'structure:WEBIndividualGet:*_ext'.")
def compare(file: Path, against: str | None, xweb_profile: str | None, as_json: bool, html_out: Path | None,
            allowed: tuple[str, ...]) -> None:
    """Replay a recording (HAR) in order against the emulator and report, call by call, where its answers differ
    from the recorded ones. Exit status 1 when anything differs beyond what --allow lists."""
    import tempfile
    from contextlib import ExitStack

    from xweb_emulator import compare as comparison
    from xweb_emulator.har import HarError, read
    from xweb_emulator.testing import EmulatorClient, run_emulator

    try:
        entries = read(file)
    except HarError as error:
        raise click.ClickException(str(error)) from None
    with ExitStack() as stack:
        if against is not None:
            target = EmulatorClient(against, _settings())
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="xweb-emulator-compare-"))
            target = stack.enter_context(run_emulator(_settings(
                database_url=f"sqlite:///{Path(folder) / 'compare.db'}", xweb_profile=xweb_profile)))
        passwords = {vendor: credentials["password"] for vendor, credentials in target.credentials.items()}
        report = comparison.replay(entries, target.base_url, passwords, allowed)
    if html_out is not None:
        html_out.write_text(comparison.html(report, str(file)), encoding="utf-8")
    click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False) if as_json else comparison.table(report))
    if not report.clean:
        sys.exit(1)


def _json_flag(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not JSON: {error}", param_hint=name) from None


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@_database_url
def upgrade(database_url: str | None) -> None:
    """Upgrade the database to the latest schema (the server also does this on start)."""
    from xweb_emulator.db import Database

    settings = _settings(database_url=database_url)
    database = Database(settings.database_url)
    try:
        database.upgrade()
    finally:
        database.dispose()
    click.echo(f"{settings.database_url}: schema up to date")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_database_url
def seed(file: Path, database_url: str | None) -> None:
    """Load the records of a JSON or YAML seed FILE, a section per vendor: {"xweb": {"<FacadeObject>": [records…]},
    "sap": {…}, "crmcom": {…}} (see docs/testing-your-connector.md, "Data")."""
    from xweb_emulator.app import prepare_database
    from xweb_emulator.vendor import SeedError

    import yaml  # only here: the other commands need no YAML

    settings = _settings(database_url=database_url)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))  # YAML is a superset of JSON
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file} is neither JSON nor YAML: {error}") from None
    emulator = prepare_database(settings)
    try:
        created = emulator.seed(document)
    except SeedError as error:
        click.echo(f"{file}: {error}", err=True)
        sys.exit(1)
    finally:
        emulator.database.dispose()
    click.echo(json.dumps(created, indent=2))


@main.group()
def profile() -> None:
    """Tenant profiles: check one, or capture one from a tenant."""


@profile.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Check a profile FILE as `serve --profile` reads it; print what it serves."""
    from xweb_emulator.xweb.profile import ProfileError, default_profile, merged, read_profile
    from xweb_emulator.xweb.methods import check_servable

    try:
        profile = merged(default_profile(), read_profile(file))
        check_servable(profile)
    except ProfileError as error:
        raise click.ClickException(str(error)) from None
    added = {each.name.lower() for each in default_profile().objects}
    methods = sum(len(service.methods) for service in profile.web_services)
    click.echo(f"{file}: tenant {profile.name!r}, {len(profile.objects)} objects "
               f"({len([each for each in profile.objects if each.name.lower() not in added])} of its own), "
               f"{len(profile.users)} users" + (
                   f", {methods} web methods, {len(profile.queries)} saved queries, {len(profile.audiences)} audiences"
                   if methods or profile.queries or profile.audiences else ""))


@profile.command()
@click.option("--url", help="The tenant's xWeb SOAP address (…/xWeb/secure/netForumXML.asmx).")
@click.option("--user", help="An xWeb user of the tenant.")
@click.option("--password", help="Its password.")
@click.option("--answers", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Instead of --url: a folder of the tenant's saved answers (GetFacadeObjectList.xml, "
                   "GetQueryDefinition-<Object>.xml, GetQuery-<Object>.xml).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The profile to write.")
@click.option("--objects", help="Only these objects, comma-separated. Default: every object the tenant lists.")
@click.option("--name", help="The profile's name. Default: the tenant's host, or the answers' folder.")
@click.option("--queries", help="Saved dynamic queries to capture as well, comma-separated Object:Name (xWeb lists "
                                "none; every audience is captured).")
def capture(url: str | None, user: str | None, password: str | None, answers: Path | None, out: Path,
            objects: str | None, name: str | None, queries: str | None) -> None:
    """Build a profile from a tenant with read operations only (never a write), or from its saved answers."""
    from urllib.parse import urlsplit

    from xweb_emulator.xweb.capture import CaptureError, capture_live, capture_saved, profile_yaml

    if (url is None) == (answers is None):
        raise click.UsageError("give either --url (with --user and --password) or --answers")
    wanted = [each.strip() for each in objects.split(",") if each.strip()] if objects else None
    saved_queries = [tuple(each.strip().split(":", 1)) for each in (queries or "").split(",") if each.strip()]
    if any(len(each) != 2 for each in saved_queries):
        raise click.UsageError("--queries names each query as Object:Name")
    with click.progressbar(length=1, label="capturing", item_show_func=lambda item: item, file=sys.stderr) as bar:
        def progress(object_name: str) -> None:
            bar.current_item = object_name
            bar.render_progress()

        try:
            if answers is not None:
                captured = capture_saved(answers, objects=wanted, name=name, progress=progress,
                                         queries=saved_queries)
            else:
                if not user or password is None:
                    raise click.UsageError("--url needs --user and --password")
                captured = capture_live(url, user, password, objects=wanted,
                                        name=name or urlsplit(url).hostname or "captured", progress=progress,
                                        queries=saved_queries)
        except CaptureError as error:
            raise click.ClickException(str(error)) from None
        bar.update(1)
    out.write_text(profile_yaml(captured.profile), encoding="utf-8")
    click.echo(f"{out}: {len(captured.profile.objects)} objects captured", err=True)
    if captured.profile.queries or captured.profile.audiences:
        click.echo(f"{out}: {len(captured.profile.queries)} saved queries, {len(captured.profile.audiences)} "
                   "audiences captured", err=True)
    for object_name, note in captured.notes.items():
        click.echo(f"  {object_name}: {note}", err=True)
    for object_name, problem in captured.problems.items():
        click.echo(f"  {object_name}: left out: {problem}", err=True)
    if captured.problems:
        sys.exit(1)
