"""The database itself refuses what the engine would never do, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import session_scope
from ledger.domain import Transfer
from ledger.migrate import heads
from ledger.models import AuditEvent
from ledger.services.access import record_audit
from ledger.services.booking import book
from ledger.vocabulary import CORRECTABLE_KINDS, TransactionKind
from tests.factories import make_award_accounts


@pytest.fixture
def booked(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """(transaction id, expense account, patient account) of one committed award."""
    with session_scope(sessions) as session:
        expense, patient = make_award_accounts(session)
        tx = book(
            session,
            kind="award",
            effective_date=dt.date(2024, 5, 1),
            transfers=[Transfer(expense, patient, 1_000)],
        ).transaction_id
    return tx, expense, patient


def refused(engine: Engine, *statements: str, **params: object) -> None:
    with pytest.raises(DBAPIError), engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def test_updating_an_entry_is_refused(engine: Engine, booked: tuple[int, int, int]) -> None:
    refused(engine, "UPDATE entries SET amount = amount * 2 WHERE transaction_id = :t", t=booked[0])


def test_deleting_an_entry_is_refused(engine: Engine, booked: tuple[int, int, int]) -> None:
    refused(engine, "DELETE FROM entries WHERE transaction_id = :t", t=booked[0])


def test_deleting_or_editing_a_transaction_is_refused(
    engine: Engine, booked: tuple[int, int, int]
) -> None:
    refused(
        engine, "UPDATE transactions SET effective_date = '2020-01-01' WHERE id = :t", t=booked[0]
    )
    refused(engine, "DELETE FROM transactions WHERE id = :t", t=booked[0])


def test_legs_that_do_not_sum_to_zero_are_refused(
    engine: Engine, booked: tuple[int, int, int]
) -> None:
    _, expense, patient = booked
    refused(
        engine,
        "INSERT INTO entries (transaction_id, account_id, amount) VALUES (999001, :e, 500)",
        "INSERT INTO entries (transaction_id, account_id, amount) VALUES (999001, :p, -400)",
        "INSERT INTO transactions (id, kind, effective_date, booked_at, details) "
        "VALUES (999001, 'forged', '2024-05-01', '2024-05-01T00:00:00+09:00', '{}')",
        e=expense,
        p=patient,
    )


def test_legs_without_a_header_are_refused_at_commit(
    engine: Engine, booked: tuple[int, int, int]
) -> None:
    _, expense, patient = booked
    refused(
        engine,
        "INSERT INTO entries (transaction_id, account_id, amount) VALUES (999002, :e, 500)",
        "INSERT INTO entries (transaction_id, account_id, amount) VALUES (999002, :p, -500)",
        e=expense,
        p=patient,
    )


def test_adding_a_leg_to_a_balanced_transaction_is_refused(
    engine: Engine, booked: tuple[int, int, int]
) -> None:
    tx, expense, _ = booked
    refused(
        engine,
        "INSERT INTO entries (transaction_id, account_id, amount) VALUES (:t, :e, 0 + 1)",
        t=tx,
        e=expense,
    )


def test_truncating_the_ledger_is_refused_on_postgresql(
    engine: Engine, booked: tuple[int, int, int]
) -> None:
    if engine.dialect.name != "postgresql":
        assert engine.dialect.name == "sqlite"  # SQLite has no TRUNCATE; DELETE is refused
        refused(engine, "DELETE FROM entries")
        return
    for table in ("entries", "transactions", "limit_postings"):
        refused(engine, f"TRUNCATE {table} CASCADE")


def _reversal_statements(engine: Engine, original: int, reversal: int) -> list[str]:
    """A hand-written reversal of ``original``: its legs negated, then its header."""
    with engine.connect() as conn:
        legs = conn.execute(
            text("SELECT account_id, amount FROM entries WHERE transaction_id = :t"),
            {"t": original},
        ).all()
    return [
        *(
            "INSERT INTO entries (transaction_id, account_id, amount) "
            f"VALUES ({reversal}, {account}, {-amount})"
            for account, amount in legs
        ),
        "INSERT INTO transactions (id, kind, effective_date, booked_at, details, reverses_id) "
        f"VALUES ({reversal}, 'reversal', '2024-05-02', '2024-05-02T00:00:00+09:00', '{{}}', "
        f"{original})",
    ]


@pytest.mark.parametrize("kind", list(TransactionKind))
def test_the_database_reverses_only_what_the_vocabulary_calls_correctable(
    engine: Engine, sessions: sessionmaker[Session], kind: TransactionKind
) -> None:
    """A hand-written reversal gets past the database only for an enrolment, a visit, an
    education attendance or a redemption (``CORRECTABLE_KINDS``), whatever the code does."""
    with session_scope(sessions) as session:
        expense, patient = make_award_accounts(session)
        tx = book(
            session,
            kind=kind,
            effective_date=dt.date(2024, 5, 1),
            transfers=[Transfer(expense, patient, 1_000)],
        ).transaction_id
    statements = _reversal_statements(engine, tx, 999_100 + list(TransactionKind).index(kind))
    if kind not in CORRECTABLE_KINDS:
        refused(engine, *statements)
        return
    with engine.connect() as conn:
        attempt = conn.begin()
        for statement in statements:
            conn.execute(text(statement))
        attempt.rollback()  # accepted; the hand-written rows are not kept


@pytest.fixture
def audited(sessions: sessionmaker[Session]) -> int:
    """The id of one committed audit row."""
    with session_scope(sessions) as session:
        record_audit(session, principal=None, action="patient.lookup", resource="patient-lookups")
        session.flush()
        return session.execute(select(func.max(AuditEvent.id))).scalar_one()


def refused_as_append_only(engine: Engine, statement: str, **params: object) -> None:
    with pytest.raises(DBAPIError, match="the audit trail is append-only"), engine.begin() as c:
        c.execute(text(statement), params)


def test_changing_the_audit_trail_is_refused(engine: Engine, audited: int) -> None:
    refused_as_append_only(
        engine, "UPDATE audit_events SET label = 'someone else' WHERE id = :i", i=audited
    )
    refused_as_append_only(engine, "UPDATE audit_events SET outcome = 'found'")


def test_deleting_from_the_audit_trail_is_refused(engine: Engine, audited: int) -> None:
    refused_as_append_only(engine, "DELETE FROM audit_events WHERE id = :i", i=audited)
    refused_as_append_only(engine, "DELETE FROM audit_events")


def test_truncating_the_audit_trail_is_refused_on_postgresql(engine: Engine, audited: int) -> None:
    if engine.dialect.name != "postgresql":
        assert engine.dialect.name == "sqlite"  # SQLite has no TRUNCATE; DELETE is refused
        refused_as_append_only(engine, "DELETE FROM audit_events")
        return
    refused_as_append_only(engine, "TRUNCATE audit_events")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() >= 1


def test_the_migrations_have_one_head() -> None:
    assert len(heads()) == 1


def test_the_tables_match_the_migrations(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ledger.models import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
