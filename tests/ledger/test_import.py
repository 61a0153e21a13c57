"""History import: the previous system's CSV files, replayed or migrated, once per row."""

from __future__ import annotations

import csv
import datetime as dt
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from actions.importing import (
    FileKind,
    ImportReport,
    check_columns,
    detect_encoding,
    import_file,
    read_csv,
    write_rejected,
)
from actions.importing.bookkeeping import identify
from api.cli import main
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.errors import InvalidInput, LateEntry
from ledger.models import (
    Account,
    AuditEvent,
    Entry,
    ImportRow,
    Message,
    Patient,
    Transaction,
    Visit,
)
from ledger.programme import Readings
from ledger.services.earning import record_visit
from ledger.services.reading import balance
from notifications.calendar import SendingCalendar
from tests.api.conftest import TODAY, KeyMaker
from tests.api.helpers import new_clinic, new_patient
from tests.factories import random_mobile

CLINICS = ["legacy_id", "name", "kind", "district", "participating_since"]
PATIENTS = [
    "legacy_id",
    "clinic_legacy_id",
    "name",
    "birth_date",
    "phone",
    "conditions",
    "sms_consent",
    "enrolled_on",
]
EVENTS = [
    "legacy_id",
    "type",
    "patient_legacy_id",
    "date",
    "clinic_legacy_id",
    "systolic",
    "diastolic",
    "hba1c",
    "session_legacy_id",
    "condition",
    "title",
]
EVENTS_WITH_FOLLOW_UPS = [*EVENTS, "next_visit_on"]
BALANCES = ["legacy_id", "patient_legacy_id", "as_of", "balance"]


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CALENDAR = SendingCalendar()


def load(sessions: sessionmaker[Session], kind: FileKind, path: Path) -> ImportReport:
    return import_file(sessions, kind, read_csv(path).rows, calendar=CALENDAR)


class History:
    """One test's legacy ids (unique in the module's shared database) and its files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tag = uuid.uuid4().hex[:8]

    def id(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def clinics(self, *names: str, encoding: str = "utf-8") -> Path:
        rows = [
            [self.id(n), f"강동 내과 {self.id(n)}", "만성질환", "강동구", "2013-05-01"]
            for n in names
        ]
        return write_csv(self.directory / "clinics.csv", CLINICS, rows, encoding)

    def patient(
        self,
        name: str,
        clinic: str = "C1",
        *,
        korean: str = "김민수",
        conditions: str = "고혈압;당뇨",
    ) -> list[str]:
        return [
            self.id(name),
            self.id(clinic),
            f"{korean}{self.id(name)}",
            "1958-04-12",
            random_mobile(),
            conditions,
            "Y",
            "2024-01-05",
        ]

    def patients(self, rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> Path:
        return write_csv(self.directory / "patients.csv", PATIENTS, rows, encoding)

    def visit(self, name: str, patient: str, day: str, *readings: str) -> list[str]:
        systolic, diastolic, hba1c = (*readings, "", "", "")[:3]
        row = [self.id(name), "visit", self.id(patient), day, self.id("C1"), systolic, diastolic]
        return [*row, hba1c, "", "", ""]

    def attendance(self, name: str, patient: str, day: str, session: str = "S1") -> list[str]:
        row = [self.id(name), "education", self.id(patient), day, "", "", "", ""]
        return [*row, self.id(session), "당뇨", "당뇨 교실"]

    def events(self, rows: Sequence[Sequence[str]], header: Sequence[str] = EVENTS) -> Path:
        return write_csv(self.directory / "events.csv", header, rows)

    def balances(self, rows: Sequence[Sequence[str]]) -> Path:
        return write_csv(self.directory / "balances.csv", BALANCES, rows)


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path)


def our_id(sessions: sessionmaker[Session], kind: str, legacy_id: str) -> str:
    with session_scope(sessions) as session:
        row = session.get(ImportRow, (kind, legacy_id))
        assert row is not None and row.record_id is not None
        return row.record_id


def patient_of(sessions: sessionmaker[Session], history: History, name: str) -> Patient:
    with session_scope(sessions) as session:
        patient = session.get(Patient, our_id(sessions, "patient", history.id(name)))
        assert patient is not None
        return patient


def balance_of(sessions: sessionmaker[Session], history: History, name: str) -> int:
    patient = patient_of(sessions, history, name)
    with session_scope(sessions) as session:
        return balance(session, patient.account_id)


def transactions(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return session.execute(select(func.count()).select_from(Transaction)).scalar_one()


def test_importing_the_same_files_twice_books_nothing_the_second_time(
    sessions: sessionmaker[Session], history: History
) -> None:
    clinics = history.clinics("C1")
    patients = history.patients([history.patient("P1"), history.patient("P2")])
    events = history.events(
        [
            history.visit("V1", "P1", "2024-02-05"),
            history.attendance("E1", "P1", "2024-04-01"),
            history.attendance("E2", "P2", "2024-04-01"),
        ]
    )
    first = [load(sessions, kind, path) for kind, path in _files(clinics, patients, events)]
    assert [(r.imported, r.already_imported, r.rejected) for r in first] == [
        (1, 0, []),
        (2, 0, []),
        (3, 0, []),
    ]
    booked = transactions(sessions)
    balances = [balance_of(sessions, history, p) for p in ("P1", "P2")]

    second = [load(sessions, kind, path) for kind, path in _files(clinics, patients, events)]

    assert [(r.imported, r.already_imported, r.rejected) for r in second] == [
        (0, 1, []),
        (0, 2, []),
        (0, 3, []),
    ]
    assert transactions(sessions) == booked
    assert [balance_of(sessions, history, p) for p in ("P1", "P2")] == balances
    # the two attendances share one education session of the old system
    with session_scope(sessions) as session:
        sessions_made = session.execute(
            select(func.count())
            .select_from(ImportRow)
            .where(ImportRow.kind == "session", ImportRow.legacy_id == history.id("S1"))
        ).scalar_one()
    assert sessions_made == 1


def _files(clinics: Path, patients: Path, events: Path) -> list[tuple[FileKind, Path]]:
    return [("clinics", clinics), ("patients", patients), ("events", events)]


def test_a_legacy_id_imported_again_with_different_content_is_rejected(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    load(sessions, "events", history.events([history.visit("V1", "P1", "2024-02-05")]))

    report = load(sessions, "events", history.events([history.visit("V1", "P1", "2024-02-06")]))

    assert report.imported == 0
    assert [r.row["legacy_id"] for r in report.rejected] == [history.id("V1")]
    assert "imported" in report.rejected[0].error
    assert "different content" in report.rejected[0].error


def test_a_file_with_bad_rows_books_the_good_ones_and_lists_the_bad_with_reasons(
    sessions: sessionmaker[Session], history: History, tmp_path: Path
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    good = history.patient("P1")
    landline = [*history.patient("P2")[:4], "02-123-4567", *history.patient("P2")[5:]]
    unknown_clinic = history.patient("P3", clinic="C9")
    bad_date = [*history.patient("P4")[:3], "1958-13-40", *history.patient("P4")[4:]]
    no_id = ["", *history.patient("P5")[1:]]
    path = history.patients([landline, good, unknown_clinic, bad_date, no_id])
    csv_file = read_csv(path)

    report = import_file(sessions, "patients", csv_file.rows, calendar=CALENDAR)
    errors = tmp_path / "patients.errors.csv"
    write_rejected(errors, csv_file.columns, report.rejected)

    assert report.imported == 1
    assert balance_of(sessions, history, "P1") == 3_000
    written = read_csv(errors)
    assert written.encoding == "utf-8-sig"
    assert written.columns == [*PATIENTS, "error"]
    reasons = {row["legacy_id"]: row["error"] for row in written.rows}
    assert list(reasons) == [history.id("P2"), history.id("P3"), history.id("P4"), ""]
    assert "mobile" in reasons[history.id("P2")]
    assert (
        f"no clinic was imported with legacy id '{history.id('C9')}'" in reasons[history.id("P3")]
    )
    assert reasons[history.id("P4")].startswith("birth_date")
    assert reasons[""] == "legacy_id is empty"
    # the rest of each row is kept as it was read, to be corrected and imported again
    assert written.rows[0] == {
        **dict(zip(PATIENTS, landline, strict=True)),
        "error": reasons[landline[0]],
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_utf8_and_cp949_files_are_both_read(
    sessions: sessionmaker[Session], history: History, encoding: str
) -> None:
    load(sessions, "clinics", history.clinics("C1", encoding=encoding))
    path = history.patients([history.patient("P1", korean="홍길동")], encoding=encoding)

    csv_file = read_csv(path)
    report = import_file(sessions, "patients", csv_file.rows, calendar=CALENDAR)

    assert csv_file.encoding == ("cp949" if encoding == "cp949" else "utf-8-sig")
    assert csv_file.columns == PATIENTS  # no BOM left on the first column
    assert report.imported == 1, report.rejected
    assert patient_of(sessions, history, "P1").name == f"홍길동{history.id('P1')}"


def test_an_encoding_named_by_the_caller_is_used(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["legacy_id", "name"], [["1", "김민수"]], "cp949")
    assert read_csv(path, encoding="cp949").rows == [{"legacy_id": "1", "name": "김민수"}]
    with pytest.raises(InvalidInput, match="is not utf-8"):
        read_csv(path, encoding="utf-8")
    assert detect_encoding("김민수".encode("cp949")) == "cp949"
    assert detect_encoding("\ufeff김민수".encode()) == "utf-8-sig"


def test_a_file_without_a_needed_column_is_refused_before_any_row() -> None:
    with pytest.raises(InvalidInput, match="needs the column"):
        check_columns("balances", ["legacy_id", "patient_legacy_id", "balance"])


def test_events_of_any_age_are_replayed_and_the_window_stays_for_live_entry(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    report = load(sessions, "events", history.events([history.visit("V1", "P1", "2024-02-05")]))
    assert report.imported == 1, report.rejected

    patient = patient_of(sessions, history, "P1")
    with session_scope(sessions) as session, pytest.raises(LateEntry):
        record_visit(
            session,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            visited_on=dt.date(2024, 3, 5),
            readings=Readings(),
            recorded_by="t",
        )


def test_events_are_replayed_in_date_order_whatever_the_files_order(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    # two visits in one month: the earlier one earns, whichever line comes first
    report = load(
        sessions,
        "events",
        history.events(
            [history.visit("V2", "P1", "2024-03-20"), history.visit("V1", "P1", "2024-03-05")]
        ),
    )
    assert report.imported == 2
    with session_scope(sessions) as session:
        earning = {
            row.legacy_id: session.get(Transaction, row.transaction_id).details["transfers"][0]
            for row in session.execute(
                select(ImportRow).where(
                    ImportRow.legacy_id.in_([history.id("V1"), history.id("V2")])
                )
            ).scalars()
        }
    assert earning[history.id("V1")]["amount"] == 1_000
    assert earning[history.id("V2")]["reason"] == "monthly_limit"


def test_balances_at_a_cut_over_become_migration_transactions(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1"), history.patient("P2")]))
    recorded = {"P1": 12_000, "P2": 3_000}
    path = history.balances(
        [
            [history.id("B1"), history.id("P1"), "2024-06-30", "12,000"],
            [history.id("B2"), history.id("P2"), "2024-06-30", "3000"],
        ]
    )

    report = load(sessions, "balances", path)

    assert (report.imported, report.rejected) == (2, [])
    for name, amount in recorded.items():
        assert balance_of(sessions, history, name) == amount
    # patients whose events were not replayed are not differences: only the enrolment was
    assert report.differences == []
    patient = patient_of(sessions, history, "P1")
    with session_scope(sessions) as session:
        row = session.get(ImportRow, ("balance", history.id("B1")))
        assert row is not None and row.transaction_id is not None
        migration = session.get(Transaction, row.transaction_id)
        assert migration is not None
        assert (migration.kind, migration.effective_date) == ("migration", dt.date(2024, 6, 30))
        legs = {
            account.type: amount
            for account, amount in session.execute(
                select(Account, Entry.amount)
                .join(Entry, Entry.account_id == Account.id)
                .where(Entry.transaction_id == migration.id)
            )
        }
        assert legs == {"district_expense": 9_000, "patient": -9_000}
        assert balance(session, patient.account_id, as_of=dt.date(2024, 6, 30)) == 12_000
        # P2's recorded balance is what the enrolment gave: nothing to book
        unchanged = session.get(ImportRow, ("balance", history.id("B2")))
        assert unchanged is not None and unchanged.transaction_id is None

    again = load(sessions, "balances", path)
    assert (again.imported, again.already_imported) == (0, 2)
    assert balance_of(sessions, history, "P1") == 12_000


def test_the_differences_report_lists_a_patient_whose_replay_differs(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1"), history.patient("P2")]))
    load(
        sessions,
        "events",
        history.events(
            [
                # P1: enrolment 3,000 + visit 1,000 + control 2,000 (at target) = 6,000
                history.visit("V1", "P1", "2024-03-05", "130", "85", "6.5"),
                # P2: enrolment 3,000 + visit 1,000 = 4,000, as the old system says
                history.visit("V2", "P2", "2024-03-05"),
            ]
        ),
    )
    path = history.balances(
        [
            [history.id("B1"), history.id("P1"), "2024-06-30", "4000"],
            [history.id("B2"), history.id("P2"), "2024-06-30", "4000"],
        ]
    )

    report = load(sessions, "balances", path)

    assert report.rejected == []
    assert [
        (d.patient_legacy_id, d.recorded, d.replayed, d.difference) for d in report.differences
    ] == [(history.id("P1"), 4_000, 6_000, -2_000)]
    assert report.differences[0].patient_id == patient_of(sessions, history, "P1").id
    # patients keep the balance they were told
    assert balance_of(sessions, history, "P1") == 4_000
    assert balance_of(sessions, history, "P2") == 4_000
    # a second run books nothing and reports the same difference
    again = load(sessions, "balances", path)
    assert again.already_imported == 2
    assert again.differences == report.differences


def test_a_patients_balance_is_migrated_once(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    path = history.balances(
        [
            [history.id("B1"), history.id("P1"), "2024-06-30", "5000"],
            [history.id("B2"), history.id("P1"), "2024-07-31", "6000"],
        ]
    )
    report = load(sessions, "balances", path)
    assert report.imported == 1
    assert [r.row["legacy_id"] for r in report.rejected] == [history.id("B2")]
    assert "migrated once" in report.rejected[0].error
    assert balance_of(sessions, history, "P1") == 5_000


def reminders(
    sessions: sessionmaker[Session], patient_id: str
) -> list[tuple[str, dt.date, dt.datetime, str]]:
    with session_scope(sessions) as session:
        return [
            (m.kind, m.due_date, m.not_before, m.status)
            for m in session.execute(
                select(Message).where(Message.patient_id == patient_id).order_by(Message.due_date)
            ).scalars()
        ]


def test_an_imported_visit_queues_its_follow_up_reminder_as_one_recorded_over_http(
    sessions: sessionmaker[Session],
    history: History,
    client: TestClient,
    city: dict[str, str],
    key_for: KeyMaker,
) -> None:
    # At noon on 14 June 2024 (the API tests' today), a visit on the 10th that booked the
    # next for Wednesday 10 July: its reminder waits for the window to open on Tuesday 9 July.
    noon = dt.datetime.combine(TODAY, dt.time(12), SEOUL)
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    events = history.events(
        [[*history.visit("V1", "P1", "2024-06-10"), "2024.7.10"]], header=EVENTS_WITH_FOLLOW_UPS
    )

    report = import_file(
        sessions, "events", read_csv(events).rows, calendar=CALENDAR, now=lambda: noon
    )

    assert (report.imported, report.rejected) == (1, [])
    opening = dt.datetime(2024, 7, 9, 9, tzinfo=SEOUL)
    assert opening == CALENDAR.opens(CALENDAR.last_sending_day_before(dt.date(2024, 7, 10)))
    imported = reminders(sessions, patient_of(sessions, history, "P1").id)
    assert imported == [("reminder", dt.date(2024, 7, 10), opening, "queued")]
    # the same visit recorded over HTTP at the same moment queues the same reminder
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    response = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-10", "next_visit_on": "2024-07-10"},
    )
    assert response.status_code == 201, response.text
    assert reminders(sessions, patient["id"]) == imported


def test_an_imported_visit_whose_follow_up_is_not_after_it_is_rejected(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    path = history.events(
        [
            [*history.visit("V1", "P1", "2024-03-05"), "20240301"],
            [*history.visit("V2", "P1", "2024-04-05"), ""],
        ],
        header=EVENTS_WITH_FOLLOW_UPS,
    )

    report = load(sessions, "events", path)

    assert report.imported == 1
    assert [r.row["legacy_id"] for r in report.rejected] == [history.id("V1")]
    assert report.rejected[0].error == "next_visit_on: the next visit comes after this one"
    assert reminders(sessions, patient_of(sessions, history, "P1").id) == []


def test_an_events_row_without_a_follow_up_is_the_row_imported_before_the_column_existed(
    sessions: sessionmaker[Session], history: History
) -> None:
    # the hash the importer stored for this row before events had a next_visit_on column
    row = dict(zip(EVENTS, ["V1", "visit", "P1", "2024-02-05", "C1", "130", "85"], strict=False))
    before = "e1134c5a276352f34cbce4128e18ab9c55ff34859294c89ea254b788344e78bc"
    assert identify("events", {name: row.get(name, "") for name in EVENTS}) == ("V1", before)
    assert identify("events", {**row, "next_visit_on": ""}) == ("V1", before)

    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    load(sessions, "events", history.events([history.visit("V1", "P1", "2024-02-05")]))
    again = history.events(
        [[*history.visit("V1", "P1", "2024-02-05"), ""]], header=EVENTS_WITH_FOLLOW_UPS
    )
    report = load(sessions, "events", again)
    assert (report.imported, report.already_imported, report.rejected) == (0, 1, [])


def test_imported_rows_are_recorded_and_audited_as_the_mileage_import(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    load(sessions, "patients", history.patients([history.patient("P1")]))
    load(
        sessions,
        "events",
        history.events(
            [history.visit("V1", "P1", "2024-02-05"), history.attendance("E1", "P1", "2024-04-01")]
        ),
    )
    load(
        sessions,
        "balances",
        history.balances([[history.id("B1"), history.id("P1"), "2024-06-30", "9000"]]),
    )
    patient = patient_of(sessions, history, "P1")
    clinic_id = our_id(sessions, "clinic", history.id("C1"))

    with session_scope(sessions) as session:
        audited = session.execute(
            select(AuditEvent.action, AuditEvent.label, AuditEvent.role)
            .where(
                (AuditEvent.patient_id == patient.id)
                | (AuditEvent.resource == f"clinics/{clinic_id}")
            )
            .order_by(AuditEvent.id)
        ).all()
        visit = session.execute(select(Visit).where(Visit.patient_id == patient.id)).scalar_one()

    assert [tuple(row) for row in audited] == [
        (action, "mileage import", "city")
        for action in (
            "clinic.create",
            "patient.create",
            "visit.create",
            "attendance.create",
            "balance.migrate",
        )
    ]
    assert visit.recorded_by == "mileage import"


def test_the_import_command_reports_counts_and_writes_the_error_file(
    command_line: CliRunner, sessions: sessionmaker[Session], history: History, tmp_path: Path
) -> None:
    clinics = history.clinics("C1", encoding="cp949")
    result = command_line.invoke(main, ["import", "clinics", str(clinics)])
    assert result.exit_code == 0, result.output
    assert "read as cp949" in result.output
    assert "imported 1, already imported 0, rejected 0" in result.output

    patients = history.patients([history.patient("P1"), history.patient("P2", clinic="C9")])
    errors = tmp_path / "rejected.csv"
    result = command_line.invoke(
        main, ["import", "patients", str(patients), "--errors", str(errors)]
    )
    assert result.exit_code == 1, result.output
    assert "imported 1, already imported 0, rejected 1" in result.output
    assert f"rejected rows and their reasons: {errors}" in result.output
    assert [row["legacy_id"] for row in read_csv(errors).rows] == [history.id("P2")]

    again = command_line.invoke(
        main, ["import", "patients", str(patients), "--errors", str(errors)]
    )
    assert "imported 0, already imported 1, rejected 1" in again.output

    balances = history.balances([[history.id("B1"), history.id("P1"), "2024-06-30", "7000"]])
    result = command_line.invoke(main, ["import", "balances", str(balances)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "balances.errors.csv").exists()
    assert (tmp_path / "balances.differences.csv").exists()
    assert balance_of(sessions, history, "P1") == 7_000


def test_the_import_command_refuses_a_file_without_its_columns(
    command_line: CliRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "clinics.csv", ["id", "name"], [["1", "의원"]])
    result = command_line.invoke(main, ["import", "clinics", str(path)])
    assert result.exit_code == 1
    assert "needs the column(s) legacy_id, kind, district, participating_since" in result.output


def test_one_file_imported_twice_at_once_imports_each_row_once(
    sessions: sessionmaker[Session], history: History
) -> None:
    load(sessions, "clinics", history.clinics("C1"))
    names = [f"P{i}" for i in range(6)]
    path = history.patients([history.patient(n) for n in names])
    barrier = threading.Barrier(2)
    reports: list[ImportReport] = []

    def run() -> None:
        barrier.wait(30)
        reports.append(load(sessions, "patients", path))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert len(reports) == 2
    assert [r.rejected for r in reports] == [[], []]
    assert sum(r.imported for r in reports) == len(names)
    assert sum(r.already_imported for r in reports) == len(names)
    with session_scope(sessions) as session:
        legacy = [history.id(n) for n in names]
        rows = session.execute(
            select(ImportRow.record_id).where(
                ImportRow.kind == "patient", ImportRow.legacy_id.in_(legacy)
            )
        ).all()
        assert len(rows) == len(names) and all(r.record_id for r in rows)
        patients = session.execute(
            select(func.count()).where(Patient.id.in_([r.record_id for r in rows]))
        ).scalar_one()
        assert patients == len(names)
