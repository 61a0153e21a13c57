"""`mileage ledger verify` finds running totals that disagree with the entries."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.cli import main
from ledger.db import session_scope
from ledger.domain import Limit, Transfer
from ledger.services.booking import book
from tests.factories import make_award_accounts


def test_a_sound_ledger_verifies(command_line: CliRunner, sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        expense, patient = make_award_accounts(session)
        book(
            session,
            kind="award",
            effective_date=dt.date(2024, 1, 2),
            transfers=[Transfer(expense, patient, 700)],
        )
    result = command_line.invoke(main, ["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "ledger verified" in result.output


def test_a_corrupted_balance_and_counter_are_both_named(
    command_line: CliRunner, sessions: sessionmaker[Session], engine: Engine
) -> None:
    with session_scope(sessions) as session:
        expense, patient = make_award_accounts(session)
        book(
            session,
            kind="award",
            effective_date=dt.date(2024, 1, 2),
            transfers=[
                Transfer(expense, patient, 700, (Limit("2024/annual", "annual_cap", 35_000),))
            ],
        )
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE balances SET balance = balance - 1 WHERE account_id = :p"), {"p": patient}
        )
        conn.execute(
            text(
                "UPDATE limit_counters SET amount = 0 WHERE account_id = :p AND key = '2024/annual'"
            ),
            {"p": patient},
        )
    result = command_line.invoke(main, ["ledger", "verify"])
    assert result.exit_code == 1
    assert f"balance account {patient} shard 0: kept -701, entries give -700" in result.output
    assert (
        f"limit counter account {patient} key 2024/annual: kept 0 M in 1, entries give 700 M in 1"
        in result.output
    )
