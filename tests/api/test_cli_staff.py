"""``mileage staff create|disable|reset-password``: the same actions as the console, on both
engines; the one-time password is printed alone on the last line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.context import Safeguards
from api.cli import main
from ledger.db import session_scope
from ledger.models import AuditEvent
from ledger.services.staff import find_account
from ledger.settings import get_settings
from tests.factories import make_clinic


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["staff", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_create_disable_and_reset_from_the_command_line(
    configured: None, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        clinic_id = make_clinic(session).id
    login = f"Lead{uuid.uuid4().hex[:6]}"
    output = run(
        "create",
        "--login",
        login,
        "--name",
        "한원장",
        "--role",
        "clinic",
        "--clinic",
        clinic_id,
        "--lead",
    )
    password = output.strip().splitlines()[-1]
    passwords = Safeguards.from_settings(get_settings()).passwords
    with session_scope(sessions) as session:
        account = find_account(session, login)
        assert account is not None and account.clinic_lead and account.must_change_password
        assert passwords.verify(account.password_hash, password)
    new = run("reset-password", login.upper()).strip().splitlines()[-1]
    assert new != password
    run("disable", login)
    with session_scope(sessions) as session:
        account = find_account(session, login)
        assert account is not None and account.disabled_at is not None
        assert passwords.verify(account.password_hash, new)
        actions = session.execute(
            select(AuditEvent.action, AuditEvent.label).where(
                AuditEvent.resource == f"staff/{account.id}"
            )
        ).all()
    assert [tuple(a) for a in actions] == [
        ("staff.create", "command line"),
        ("staff.reset_password", "command line"),
        ("staff.disable", "command line"),
    ]


def test_an_unknown_login_or_clinic_is_a_clean_error(configured: None) -> None:
    unknown = CliRunner().invoke(main, ["staff", "disable", "nobody-at-all"])
    assert unknown.exit_code == 1 and "no staff account" in unknown.output
    refused = CliRunner().invoke(
        main,
        [
            "staff",
            "create",
            "--login",
            "x-y-z",
            "--name",
            "x",
            "--role",
            "clinic",
            "--clinic",
            "cln_missing",
        ],
    )
    assert refused.exit_code == 1 and "Error" in refused.output
