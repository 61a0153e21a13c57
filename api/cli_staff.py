"""``mileage staff``: the console's staff accounts from the command line.

The same actions as the console; the command line acts as the service itself, so it may
create any account (the city's first one among them). A new or reset password is printed
once, alone on the last line, and must be changed at the first sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from actions import staff
from actions.context import Context, system_context
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.errors import LedgerError
from ledger.services.staff import find_account
from ledger.settings import get_settings
from notifications.calendar import SendingCalendar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledger.models import StaffAccount

__all__ = ["staff_group"]

T = TypeVar("T")


def _command_line() -> Context:
    calendar = SendingCalendar.from_settings(get_settings())
    return system_context("command line", calendar, client="command line")


def _run(work: Callable[[Session, Context], T]) -> T:
    """``work`` in one transaction on the configured database; a refusal is a clean error."""
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return work(session, _command_line())
    except LedgerError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()


def _account(session: Session, login: str) -> StaffAccount:
    account = find_account(session, login)
    if account is None:
        raise click.ClickException(f"no staff account with the login {login!r}")
    return account


@click.group("staff")
def staff_group() -> None:
    """Staff accounts of the console: one person each, never shared."""


@staff_group.command("create")
@click.option("--login", required=True, help="what the person signs in with (any case)")
@click.option("--name", required=True, help="the person's name, shown in the audit trail")
@click.option("--role", type=click.Choice(["city", "health_center", "clinic"]), required=True)
@click.option("--district", help="the health centre's district code (role health_center)")
@click.option("--clinic", "clinic_id", help="the clinic's id (role clinic)")
@click.option("--lead", is_flag=True, help="a clinic's lead, who manages its receptionists")
def staff_create(
    login: str, name: str, role: str, district: str | None, clinic_id: str | None, lead: bool
) -> None:
    """Create an account; its one-time password is printed alone on the last line."""
    issued = _run(
        lambda session, ctx: staff.create_account(
            session,
            ctx,
            login=login,
            name=name,
            role=role,
            district=district,
            clinic_id=clinic_id,
            clinic_lead=lead,
        )
    )
    click.echo(f"created {role} account {issued.account.login} ({issued.account.id}).")
    click.echo("One-time password (shown once; it must be changed at the first sign-in):")
    click.echo(issued.password)


@staff_group.command("disable")
@click.argument("login")
def staff_disable(login: str) -> None:
    """Disable an account at once: it is signed out at its next request."""
    _run(lambda session, ctx: staff.disable_account(session, ctx, _account(session, login)))
    click.echo(f"disabled {login}")


@staff_group.command("reset-password")
@click.argument("login")
def staff_reset_password(login: str) -> None:
    """A new one-time password, printed alone on the last line; the account's sessions end."""
    issued = _run(lambda session, ctx: staff.reset_password(session, ctx, _account(session, login)))
    click.echo(f"reset the password of {issued.account.login}; it must be changed at sign-in:")
    click.echo(issued.password)
