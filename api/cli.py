"""The ``mileage`` command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine

from api.cli_import import import_group
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.errors import LedgerError, RuleSetError
from ledger.migrate import upgrade
from ledger.rules import RuleBook, rule_book_for
from ledger.services import access
from ledger.services.verify import verify
from ledger.settings import get_settings


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
def serve(host: str, port: int) -> None:
    """Bring the schema up to date, then serve the API."""
    import uvicorn

    from api.app import create_app
    from api.logs import configure_logging

    configure_logging()
    load_rules()  # a malformed rule file stops the service here, naming file and field
    app = create_app(get_settings())
    with database() as engine:
        upgrade(engine)
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    with database() as engine:
        upgrade(engine)
        click.echo(f"schema is up to date on {engine.url.render_as_string(hide_password=True)}")


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
                role=role,
                label=label or f"{role} key (command line)",
                district=district,
                clinic_id=clinic_id,
                created_by="command line",
            )
        except LedgerError as error:
            raise click.ClickException(str(error)) from error
        key_id = issued.key.id
    click.echo(f"created {role} key {key_id}; keep it secret, it is shown only this once:")
    click.echo(issued.token)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, role, scope, label, and whether it is revoked."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        for key in access.list_keys(session):
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
            access.revoke_key(session, key_id)
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
def ledger() -> None:
    """Ledger maintenance."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Recompute every balance and limit counter from the entries; exit 1 on any mismatch."""
    with database() as engine, session_scope(make_session_factory(engine)) as session:
        mismatches = verify(session)
    for mismatch in mismatches:
        click.echo(f"MISMATCH {mismatch}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es): the ledger's kept totals are wrong")
        sys.exit(1)
    click.echo("ledger verified: every balance and counter matches its entries")


main.add_command(import_group)


if __name__ == "__main__":
    main()
