"""``mileage backup`` and ``mileage restore``: a consistent copy of the live database, and its
restore into an empty database, followed by the ledger's verification."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from actions import backups
from actions.context import Context, system_context
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.errors import LedgerError
from ledger.services.verify import verify
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar


def _command_line() -> Context:
    settings = get_settings()
    calendar = SendingCalendar(settings.send_window_start, settings.send_window_end)
    return system_context("command line", calendar, client="command line")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the database to FILE while the service runs (SQLite: the online backup API;
    PostgreSQL: pg_dump -Fc). FILE must not exist; it is readable by its owner only."""
    engine = make_engine(get_settings().database_url)
    try:
        made = backups.back_up(engine, _command_line(), file)
    except LedgerError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    click.echo(f"backed up the {made.engine} database to {made.path} ({made.size:,} bytes)")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore FILE into the configured database, which must be empty (no tables: create
    it, do not start the service on it); then verify the ledger, exit 1 on any mismatch."""
    engine = make_engine(get_settings().database_url)
    try:
        backups.restore(engine, _command_line(), file)
        click.echo(f"restored {file} into {engine.url.render_as_string()}")
        with session_scope(make_session_factory(engine)) as session:
            mismatches = verify(session)
    except LedgerError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    for mismatch in mismatches:
        click.echo(f"MISMATCH {mismatch}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es): the restored ledger's kept totals are wrong")
        sys.exit(1)
    click.echo("ledger verified: every balance and counter matches its entries")
