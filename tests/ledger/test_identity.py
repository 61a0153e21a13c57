"""One person, one patient, at every edge: the importer, and the names stored before.

The registry normalises a name for identity wherever it enters (``ledger.text``); the
importer refuses a row holding a control or formatting character, naming the column; and
revision ``0007_identity`` brings the names stored before into the one form.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, make_session_factory, session_scope
from ledger.migrate import downgrade, upgrade
from ledger.models import AuditEvent, Patient, Transaction
from ledger.vocabulary import TransactionKind
from tests.factories import make_clinic, make_patient, random_mobile
from tests.ledger.test_import import History, load

__all__ = ["history"]


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path)


def enrolments(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Transaction)
                .where(Transaction.kind == TransactionKind.ENROLMENT)
            ).scalar_one()
        )


def test_the_importer_registers_a_person_written_twice_once(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    first = history.patient("P1", korean="김민수")
    again = [history.id("P2"), *first[1:]]
    again[2] = unicodedata.normalize("NFD", first[2]).replace("민", "\u200b민")
    report = load(sessions, "patients", history.patients([first]))
    assert report.imported == 1
    before = enrolments(sessions)

    report = load(sessions, "patients", history.patients([again]))

    assert report.imported == 0
    assert "already registered" in report.rejected[0].error
    assert enrolments(sessions) == before
    with session_scope(sessions) as session:
        existing = session.execute(select(Patient.id).where(Patient.name == first[2])).scalar_one()
        probes = session.execute(
            select(AuditEvent.action, AuditEvent.label).where(AuditEvent.patient_id == existing)
        ).all()
    assert ("patient.create.duplicate", "mileage import") in probes


@pytest.mark.parametrize("column", ["name", "phone", "legacy_id", "conditions"])
@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\x07", "\x1b"])
def test_the_importer_refuses_a_row_with_a_hidden_character_naming_the_column(
    sessions: sessionmaker[Session], history: History, column: str, char: str
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    row = history.patient("P1")
    at = ["legacy_id", "clinic_legacy_id", "name", "birth_date", "phone", "conditions"].index(
        column
    )
    row[at] = row[at][:2] + char + row[at][2:]
    before = enrolments(sessions)

    report = load(sessions, "patients", history.patients([row]))

    assert report.imported == 0
    assert report.rejected[0].error.startswith(column), report.rejected[0].error
    assert f"U+{ord(char):04X}" in report.rejected[0].error
    assert enrolments(sessions) == before


# ---- the names stored before revision 0007_identity ---------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each engine, to be migrated step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.sqlite3'}"
        return
    server: str = request.getfixturevalue("pg_server")
    name = f"mileage_identity_{os.getpid()}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(server).set(database=name).render_as_string(False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_names_stored_before_are_brought_into_one_form(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)  # today's code registers the patients; then back to before the revision
    sessions = make_session_factory(engine)
    phone = random_mobile()
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        today = dt.date(2024, 1, 2)
        written = make_patient(session, clinic, name="저장 전", today=today).patient.id
        kept = make_patient(session, clinic, name="박지성", phone=phone, today=today).patient.id
        twin = make_patient(session, clinic, name="박지수", phone=phone, today=today).patient.id
    downgrade(engine, "0006")
    stored = {
        written: unicodedata.normalize("NFD", "\ufeff저장\u3000\u200b 전 "),
        # the same person as `kept`, registered twice before names were normalised
        twin: "박지\u200b성",
    }
    with session_scope(sessions) as session:
        for patient_id, name in stored.items():
            session.execute(update(Patient).where(Patient.id == patient_id).values(name=name))

    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        upgrade(engine)

    with session_scope(sessions) as session:
        names = {row.id: row.name for row in session.execute(select(Patient.id, Patient.name))}
    assert names[written] == "저장 전"
    assert names[kept] == "박지성"
    assert names[twin] == stored[twin]  # left for an officer, never merged or renamed
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert twin in warned and kept in warned
    assert "박" not in warned  # ids only, never a name
    engine.dispose()
