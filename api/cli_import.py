"""``mileage import``: load the previous system's records from CSV files, one per record type.

Clinics first, then patients, then events and balances (a row names its clinic or patient by
the old system's id). Every row is its own transaction: a bad row is written to the error
file with its reason and the rest goes on; a file imported again books nothing new.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import inspect

from actions.importing import (
    FileKind,
    ImportReport,
    check_columns,
    import_file,
    read_csv,
    write_differences,
    write_rejected,
)
from ledger.db import make_engine, make_session_factory
from ledger.errors import InvalidInput, RuleSetError
from ledger.rules import rule_book_for
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar

SHOWN_DIFFERENCES = 20


@click.group("import")
def import_group() -> None:
    """Load the previous system's records: clinics, then patients, then events or balances."""


def file_options(command: click.decorators.FC) -> click.decorators.FC:
    """The argument and options every import command takes."""
    command = click.option(
        "--errors",
        "errors_path",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="where rejected rows go [default: FILE's name with .errors.csv]",
    )(command)
    command = click.option(
        "--encoding",
        help="the file's encoding [default: UTF-8 if it reads as UTF-8, else CP949]",
    )(command)
    return click.argument(
        "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
    )(command)


@import_group.command("clinics")
@file_options
def import_clinics(file: Path, encoding: str | None, errors_path: Path | None) -> None:
    """Register the old system's clinics (legacy_id, name, kind, district, ...)."""
    finish(*run("clinics", file, encoding), file, errors_path)


@import_group.command("patients")
@file_options
def import_patients(file: Path, encoding: str | None, errors_path: Path | None) -> None:
    """Register the old system's patients at their clinics, booking enrolment awards."""
    finish(*run("patients", file, encoding), file, errors_path)


@import_group.command("events")
@file_options
def import_events(file: Path, encoding: str | None, errors_path: Path | None) -> None:
    """Replay visits and education attendances, in date order, through the rules."""
    finish(*run("events", file, encoding), file, errors_path)


@import_group.command("balances")
@file_options
@click.option(
    "--differences",
    "differences_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="where the replay-vs-record report goes [default: FILE's name with .differences.csv]",
)
def import_balances(
    file: Path, encoding: str | None, errors_path: Path | None, differences_path: Path | None
) -> None:
    """Book recorded balances at the cut-over as migration transactions."""
    columns, report = run("balances", file, encoding)
    path = differences_path or file.with_name(f"{file.stem}.differences.csv")
    write_differences(path, report.differences)
    click.echo(
        f"{len(report.differences)} patient(s) whose replayed events do not add up to the "
        f"recorded balance (the migration made up the difference): {path}"
    )
    for d in report.differences[:SHOWN_DIFFERENCES]:
        click.echo(
            f"  {d.patient_legacy_id} ({d.patient_id}) at {d.as_of}: recorded {d.recorded:,} M, "
            f"replayed {d.replayed:,} M, difference {d.difference:+,} M"
        )
    if len(report.differences) > SHOWN_DIFFERENCES:
        click.echo(f"  ... and {len(report.differences) - SHOWN_DIFFERENCES} more in {path}")
    finish(columns, report, file, errors_path)


def run(kind: FileKind, file: Path, encoding: str | None) -> tuple[list[str], ImportReport]:
    """Read and check the file, import its rows (a progress bar on stderr); its header too."""
    settings = get_settings()
    try:
        csv_file = read_csv(file, encoding=encoding)
        check_columns(kind, csv_file.columns)
        rule_book_for(settings.rules_dir)
    except (InvalidInput, RuleSetError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{file.name}: {len(csv_file.rows)} row(s), read as {csv_file.encoding}")
    calendar = SendingCalendar(settings.send_window_start, settings.send_window_end)
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("import_rows"):
            raise click.ClickException(
                "the database has no import_rows table: run `mileage db upgrade` first"
            )
        with click.progressbar(
            length=len(csv_file.rows),
            label=f"importing {kind}",
            file=sys.stderr,
        ) as bar:
            report = import_file(
                make_session_factory(engine),
                kind,
                csv_file.rows,
                calendar=calendar,
                on_row=lambda: bar.update(1),
            )
    finally:
        engine.dispose()
    return csv_file.columns, report


def finish(columns: list[str], report: ImportReport, file: Path, errors_path: Path | None) -> None:
    """Write the error file, print the counts; exit 1 when a row was rejected."""
    path = errors_path or file.with_name(f"{file.stem}.errors.csv")
    write_rejected(path, columns, report.rejected)
    click.echo(
        f"imported {report.imported}, already imported {report.already_imported}, "
        f"rejected {len(report.rejected)}"
    )
    click.echo(f"rejected rows and their reasons: {path}")
    if report.rejected:
        sys.exit(1)
