"""The ``mileage`` command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from actions import access, erasure, reports
from actions.context import Context, system_context
from actions.demo import DEMO_DAYS, DemoAccount, DemoResult, demo_accounts, fill_demo
from api.cli_backup import backup_command, restore_command
from api.cli_import import import_group
from api.cli_staff import staff_group
from ledger.db import (
    make_engine,
    make_reader_factory,
    make_session_factory,
    read_scope,
    session_scope,
)
from ledger.errors import LedgerError, RuleSetError
from ledger.migrate import upgrade
from ledger.rules import RuleBook, rule_book_for
from ledger.services.access import get_key, list_keys
from ledger.services.registry import get_patient
from ledger.services.reports import FiledTable
from ledger.services.verify import verify
from ledger.settings import Settings, get_settings
from ledger.simulation import (
    SimulationResult,
    database_is_empty,
    days_to_simulate,
    default_through,
    report_lines,
    simulate_seoul,
    summary,
)
from notifications.calendar import SendingCalendar

DEMO_KEYS = Path("var") / "demo-keys.env"
DEMO_ACCOUNTS = Path("var") / "demo-accounts.txt"


def calendar() -> SendingCalendar:
    return SendingCalendar.from_settings(get_settings())


def command_line() -> Context:
    """Whoever runs ``mileage`` on the server, as actions and the audit trail see them."""
    return system_context("command line", calendar(), client="command line")


@contextmanager
def database() -> Iterator[Engine]:
    """An engine on the configured database, closed when the command is done."""
    engine = make_engine(get_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@click.group()
def main() -> None:
    """건강관리 마일리지: the mileage and incentive ledger service."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="serve the API only (run `mileage worker`)")
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Bring the schema up to date, then serve the API and run the scheduler."""
    import uvicorn

    from api.app import create_app
    from api.logs import configure_logging

    configure_logging()
    load_rules()  # a malformed rule file stops the service here, naming file and field
    settings = get_settings()
    if settings.public_url is None:
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    with database() as engine:
        upgrade(engine)
    app = create_app(settings)
    app.state.safeguards.pseudonyms.key()  # read (or made) now: a bad key file stops it here
    scheduler = None if no_scheduler else _start_jobs(app.state.engine, settings)
    try:
        # Forwarded headers are judged by api.middleware against MILEAGE_TRUSTED_PROXIES;
        # uvicorn's own handling would believe any local caller's X-Forwarded-For.
        uvicorn.run(
            app, host=host, port=port, access_log=False, log_config=None, proxy_headers=False
        )
    finally:
        if scheduler is not None:
            scheduler[0].shutdown(wait=False)
            scheduler[1].release()


@main.command()
def worker() -> None:
    """Run the scheduler alone: texts, recalls, the nightly ledger check, settlement nudges."""
    import time

    from api.logs import configure_logging

    configure_logging()
    load_rules()
    settings = get_settings()
    with database() as engine:
        upgrade(engine)
        scheduler, lease = _start_jobs(engine, settings)
        click.echo("scheduler running; Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            scheduler.shutdown(wait=False)
            lease.release()


def _start_jobs(engine: Engine, settings: Settings) -> tuple[Any, Any]:
    from jobs.lease import Lease
    from jobs.scheduler import start_background
    from jobs.tasks import JobContext
    from notifications.twilio import channel_from_settings

    sessions = make_session_factory(engine)
    callback = None
    if settings.sms_transport == "twilio" and settings.public_url:
        callback = f"{settings.public_url.rstrip('/')}/v1/webhooks/twilio/status"
    context = JobContext(
        sessions, channel_from_settings(settings), settings, status_callback=callback
    )
    lease = Lease(engine, sessions)
    return start_background(context, lease), lease


@main.command()
@click.option("--patients", default=240, show_default=True, help="how many patients")
@click.option(
    "--scale",
    type=click.Choice(["district", "seoul"]),
    default="district",
    show_default=True,
    help="district: a year of 강동구; seoul: the programme's history since 2013, 15 districts",
)
@click.option(
    "--fraction",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="with --scale seoul: scale the clinics and patients down (e.g. 0.02)",
)
@click.option(
    "--keep-existing",
    is_flag=True,
    help="on a database that already has data, keep it and exit 0 instead of refusing",
)
@click.option(
    "--keys-file",
    type=click.Path(dir_okay=False),
    default=str(DEMO_KEYS),
    show_default=True,
    help="where the demo's API keys are written, as shell variables",
)
def demo(patients: int, scale: str, fraction: float, keep_existing: bool, keys_file: str) -> None:
    """Fill an empty database with a demo district (강동구): clinics, patients, a year.

    With --scale seoul: the whole programme simulated from 2013 to the end of last year
    (15 districts, ~250 clinics, ~50,000 patients, ~1.1 M visits), then its annual table.
    """
    if fraction != 1.0 and scale != "seoul":
        raise click.UsageError("--fraction goes with --scale seoul")
    with database() as engine:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with session_scope(sessions) as session:
            empty = database_is_empty(session)
        if not empty:
            message = (
                "the database already has data; the demo fills an empty one "
                f"(start over by removing {engine.url.database})"
            )
            if keep_existing:
                click.echo(f"{message}. Keeping it; the demo keys are in {keys_file}.")
                show_accounts(Path(keys_file).with_name(DEMO_ACCOUNTS.name))
                return
            raise click.ClickException(message)
        result: DemoResult | SimulationResult
        if scale == "seoul":
            through = default_through()
            with click.progressbar(
                length=days_to_simulate(through),
                label="Seoul since 2013",
                file=sys.stderr,
            ) as bar:
                result = simulate_seoul(
                    sessions, fraction=fraction, through=through, progress=bar.update
                )
            with session_scope(sessions) as session:
                lines = [summary(result), *report_lines(session, through)]
        else:
            with click.progressbar(length=DEMO_DAYS, label="demo year", file=sys.stderr) as bar:
                result = fill_demo(
                    sessions, calendar=calendar(), patients=patients, progress=bar.update
                )
            lines = [
                f"demo district 강동구 (11740): {result.clinics} clinics, "
                f"{result.patients} patients, {result.visits} visits, "
                f"{result.attendances} education attendances",
                f"texts: {result.texts_sent} sent over the year (reminders and recalls); "
                f"{result.reminders_queued} reminders queued for follow-ups ahead",
            ]
    path = Path(keys_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"CITY_KEY={result.keys['city']}\n"
        f"HEALTH_CENTER_KEY={result.keys['health_center']}\n"
        f"CLINIC_KEY={result.keys['clinic']}\n"
        f"CLINIC_ID={result.sample_clinic}\n"
        f"PATIENT_ID={result.sample_patient}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    for line in lines:
        click.echo(line)
    click.echo(
        f"API keys for the city, a health centre and a clinic are in {path} (shell variables)"
    )
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        ctx = system_context("mileage demo", calendar(), client="command line")
        people = demo_accounts(session, ctx, result.sample_clinic)
    show_accounts(write_accounts(path.with_name(DEMO_ACCOUNTS.name), people))


def write_accounts(path: Path, people: list[DemoAccount]) -> Path:
    """The demo's console accounts, readable by whoever ran the demo only."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    rows = [f"{p.role}\t{p.name}\t{p.login}\t{p.password}" for p in people]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def show_accounts(path: Path) -> None:
    """How to sign in to the console with the demo's accounts (kept in ``path``)."""
    if not path.exists():
        return
    click.echo("")
    click.echo("Console: open http://127.0.0.1:8000/ and sign in as one of these demo people:")
    for row in path.read_text(encoding="utf-8").splitlines():
        where, name, login, password = row.split("\t")
        click.echo(f"  login {login:<16} password {password:<18} {name} ({where})")
    click.echo(f"(kept in {path})")


@main.group()
def keys() -> None:
    """API keys: created here, shown once, stored as a hash."""


@keys.command("create")
@click.option("--role", type=click.Choice(["city", "health_center", "clinic"]), required=True)
@click.option("--district", help="the health centre's district code (role health_center)")
@click.option("--clinic", "clinic_id", help="the clinic's id (role clinic)")
@click.option("--label", help="who or what holds the key", default=None)
def keys_create(role: str, district: str | None, clinic_id: str | None, label: str | None) -> None:
    """Create a key; it is printed alone on the last line, and never shown again."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        try:
            issued = access.create_key(
                session,
                command_line(),
                role=role,
                label=label or f"{role} key (command line)",
                district=district,
                clinic_id=clinic_id,
            )
        except LedgerError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"created {role} key {issued.key.id}; keep it secret, it is shown only this once:")
    click.echo(issued.token)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, role, scope, label, and whether it is revoked."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        for key in list_keys(session):
            scope = key.district or ""
            if key.clinic_id:
                scope = f"{key.district} {key.clinic_id}"
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            click.echo(f"{key.id}\t{key.role}\t{scope}\t{key.label}\t{state}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        try:
            access.revoke_key(session, command_line(), get_key(session, key_id))
        except LedgerError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"revoked {key_id}")


@main.group()
def rules() -> None:
    """The programme's rule sets."""


@rules.command("check")
def rules_check() -> None:
    """Validate every rule set file and list which set governs each year."""
    book = load_rules()
    for (year, district), ruleset in sorted(
        book.sets.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        where = f"district {district}" if district else "city-wide"
        click.echo(
            f"{year} {where}: {ruleset.title} (patient cap {ruleset.patient.annual_cap:,} M)"
        )


def load_rules() -> RuleBook:
    try:
        return rule_book_for(get_settings().rules_dir)
    except RuleSetError as error:
        raise click.ClickException(str(error)) from error


@main.group()
def db() -> None:
    """The database's schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the pending migrations (``mileage serve`` does this itself at start)."""
    with database() as engine:
        upgrade(engine)
    click.echo("the database schema is up to date")


@main.group()
def ledger() -> None:
    """Ledger maintenance."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Recompute every balance, limit counter and read-model figure (the reports' and the
    settlements') from the entries and events, and every patient's next recall date from
    their visits and recalls; exit 1 on any mismatch, each named."""
    with database() as engine:
        writers = make_session_factory(engine)
        with read_scope(make_reader_factory(engine), writers) as session:
            mismatches = verify(session)
    for mismatch in mismatches:
        click.echo(f"MISMATCH {mismatch}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es): the ledger's kept totals are wrong")
        sys.exit(1)
    click.echo(
        "ledger verified: every balance, counter and report figure matches its entries,"
        " every next recall date its visits and recalls"
    )


@ledger.command("rebuild-read-models")
def ledger_rebuild_read_models() -> None:
    """Recount the reports' and settlements' figures from the entries, in one transaction."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        report_rows, settlement_rows = reports.rebuild_read_models(session, command_line())
    click.echo(
        f"read models rebuilt: {report_rows} report row(s), {settlement_rows} settlement row(s)"
    )


@main.group("reports")
def reports_group() -> None:
    """The city's annual table, filed."""


@reports_group.command("file-annual")
@click.argument("year", type=click.IntRange(2013, 2100))
def reports_file_annual(year: int) -> None:
    """File the annual table through YEAR (once YEAR has ended), kept as filed for good."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        try:
            table = reports.file_annual_table(session, command_line(), through=year)
        except LedgerError as error:
            raise click.ClickException(str(error)) from error
        lines = filed_lines(table)
    for line in lines:
        click.echo(line)


@reports_group.command("filed-annual")
@click.argument("year", type=click.IntRange(2013, 2100))
def reports_filed_annual(year: int) -> None:
    """The annual table through YEAR as filed, with the corrections booked since."""
    with database() as engine:
        writers = make_session_factory(engine)
        with read_scope(make_reader_factory(engine), writers) as session:
            try:
                table = reports.show_filed_annual_table(session, command_line(), through=year)
            except LedgerError as error:
                raise click.ClickException(str(error)) from error
    for line in filed_lines(table):
        click.echo(line)


def filed_lines(table: FiledTable) -> list[str]:
    """The filed table as text: each year's filed cumulative figures, then any correction."""
    out = [
        f"annual table through {table.through}, filed {table.filed_at:%Y-%m-%d %H:%M} "
        f"by {table.filed_by}"
    ]
    for line in table.lines:
        row = line.filed.row
        out.append(
            f"{line.filed.year}: {line.filed.districts} districts, "
            f"{row.clinics_chronic + row.clinics_ophthalmology} clinics, "
            f"{row.cumulative.registered:,} registered, {row.cumulative.accrued:,} M accrued, "
            f"{row.cumulative.used:,} M used"
        )
        changed = {k: v for k, v in line.corrections.items() if v}
        if changed:
            out.append(
                "  corrections since filed: "
                + ", ".join(f"{name} {value:+,}" for name, value in changed.items())
            )
    return out


@main.group()
def patients() -> None:
    """Patients' personal data."""


@patients.command("erase")
@click.argument("patient_id")
@click.option("--reason", required=True, help="why (kept; not the patient's name or phone)")
def patients_erase(patient_id: str, reason: str) -> None:
    """Erase a patient's name, birth date and phone everywhere (PIPA), keeping the ledger.

    The patient leaves the programme first (withdrawn; the balance goes as the rules say),
    their texts are cancelled; the same person registering again earns no enrolment award.
    """
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        try:
            done = erasure.erase_patient(
                session, command_line(), get_patient(session, patient_id), reason=reason
            )
        except LedgerError as error:
            raise click.ClickException(str(error)) from error
    click.echo(
        f"erased patient {patient_id} ({done.erasure.id}): {done.patient.status} since "
        f"{done.patient.left_on}; {done.answers_scrubbed} stored answer(s) scrubbed, "
        f"{done.texts_blanked} text(s) blanked"
    )


main.add_command(import_group)
main.add_command(staff_group)
main.add_command(backup_command)
main.add_command(restore_command)


if __name__ == "__main__":
    main()
