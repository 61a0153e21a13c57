"""The erasure migration on a database that already holds patients: on SQLite it rebuilds the
patients table, which other tables refer to, and must keep every row and every key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from ledger.migrate import downgrade, upgrade
from tests.conftest import ENGINES
from tests.ledger.conftest import database_at

BEFORE = "0008_audit"  # the revision before erasure: patients' personal data NOT NULL

ROWS = [
    "INSERT INTO accounts (id, code, type, normal_side, district, shards, created_at) VALUES"
    " (1, 'clinic_earned:c', 'clinic_earned', 'credit', '11740', 1, '2024-01-02T09:00:00+09:00'),"
    " (2, 'clinic_reimbursable:c', 'clinic_reimbursable', 'credit', '11740', 1,"
    " '2024-01-02T09:00:00+09:00'),"
    " (3, 'patient:p', 'patient', 'credit', '11740', 1, '2024-01-02T09:00:00+09:00')",
    "INSERT INTO clinics (id, name, kind, district, participating_since, earned_account_id,"
    " reimbursable_account_id, created_at) VALUES ('cln_1', '하늘 의원', 'chronic', '11740',"
    " '2013-01-01', 1, 2, '2024-01-02T09:00:00+09:00')",
    "INSERT INTO patients (id, name, birth_date, phone, has_hypertension, has_diabetes,"
    " sms_consent, consent_changed_at, consent_wording, consent_recorded_by, clinic_id, district,"
    " enrolled_on, status, account_id, created_at) VALUES ('pat_1', '김하늘', '1957-03-21',"
    " '+821020240321', TRUE, FALSE, TRUE, '2024-01-02T09:00:00+09:00', '2024-v1', 'test',"
    " 'cln_1', '11740', '2024-01-02', 'active', 3, '2024-01-02T09:00:00+09:00')",
    "INSERT INTO home_clinics (patient_id, clinic_id, from_date) VALUES"
    " ('pat_1', 'cln_1', '2024-01-02')",
]


@pytest.fixture(params=ENGINES)
def populated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to the revision before erasure, holding a clinic and a patient."""
    engine = database_at(request, tmp_path, BEFORE, ROWS)
    yield engine
    engine.dispose()


def test_the_erasure_migration_keeps_every_patient_and_every_key(populated: Engine) -> None:
    upgrade(populated)

    with populated.connect() as connection:
        kept = connection.execute(
            text(
                "SELECT p.name, h.clinic_id FROM patients p"
                " JOIN home_clinics h ON h.patient_id = p.id"
            )
        ).all()
        assert [tuple(row) for row in kept] == [("김하늘", "cln_1")]
        if populated.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_database_refuses_to_erase_an_active_patient_or_half_a_person(
    populated: Engine,
) -> None:
    upgrade(populated)
    for change in (
        "UPDATE patients SET name = NULL, birth_date = NULL, phone = NULL",  # still active
        "UPDATE patients SET status = 'withdrawn', name = NULL",  # phone and birth date left
    ):
        with pytest.raises(IntegrityError, match=r"(?i)check"), populated.begin() as connection:
            connection.execute(text(change))


def test_going_back_before_erasure_is_refused_once_someone_was_erased(
    populated: Engine,
) -> None:
    upgrade(populated)
    downgrade(populated, BEFORE)  # nobody erased yet: the columns are NOT NULL again
    upgrade(populated)
    with populated.begin() as connection:
        connection.execute(
            text(
                "UPDATE patients SET status = 'withdrawn', name = NULL, birth_date = NULL,"
                " phone = NULL"
            )
        )

    with pytest.raises(RuntimeError, match="1 patient\\(s\\) were erased"):
        downgrade(populated, BEFORE)
