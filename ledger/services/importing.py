"""History import: the previous system's clinics, patients, events and balances, from CSV.

Clinics, patients and events are replayed through the services that record live ones
(``register_clinic``, ``register_patient``, ``record_visit``, ``record_attendance``), so the
ledger holds what the rules award, with the late-entry window lifted: history is old by
nature. Balances at a cut-over date are booked as ``migration`` transactions that bring each
patient to the balance the old system told them (debit the district's expense account,
credit the patient); where the patient's events were replayed too, a recorded balance that
differs from the replayed one is reported.

Every row carries the old system's id (``legacy_id``). ``import_rows`` maps it to what it
became, with a hash of the row, so a file imported twice books nothing the second time and a
row whose legacy id was imported with different content is refused. Each row is its own
database transaction (:func:`import_file`), so a bad row is rejected with its reason and the
rest of the file goes on. Row functions take the session first and flush; never commit.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger import clock
from ledger.db import run_in_transaction
from ledger.domain import AccountType, Transfer
from ledger.errors import (
    BeforeEnrolment,
    FutureDate,
    ImportConflict,
    InvalidInput,
    LedgerError,
    NotFound,
    UnknownClinic,
    UnknownDistrict,
    UnknownPatient,
)
from ledger.models import (
    Attendance,
    District,
    EducationSession,
    ImportRow,
    Patient,
    Transaction,
    Visit,
)
from ledger.programme import Readings
from ledger.records import MigrationRecord, Tag, read_record
from ledger.services.booking import book
from ledger.services.earning import create_education_session, record_attendance, record_visit
from ledger.services.events import late_entry_window
from ledger.services.periods import period_for
from ledger.services.reading import balance
from ledger.services.registry import (
    clinic_leaves,
    district_account,
    get_clinic,
    get_patient,
    register_clinic,
    register_patient,
)
from ledger.vocabulary import Beneficiary, TransactionKind

__all__ = [
    "FILES",
    "RECORDED_BY",
    "CsvFile",
    "Difference",
    "FileKind",
    "FileSpec",
    "ImportReport",
    "Rejected",
    "RowImported",
    "check_columns",
    "detect_encoding",
    "fields",
    "import_balance",
    "import_clinic",
    "import_event",
    "import_file",
    "import_patient",
    "read_csv",
    "write_differences",
    "write_rejected",
]

log = logging.getLogger("ledger.importing")

FileKind = Literal["clinics", "patients", "events", "balances"]
Row = Mapping[str, str]

RECORDED_BY = "history import"
# History is replayed whatever its age: a window of a century covers the programme's.
HISTORY_WINDOW_DAYS = 36_600
LEGACY_ID_MAX = 64


@dataclass(frozen=True)
class FileSpec:
    """The columns of one kind of import file: those every file needs, and the others."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


FILES: Mapping[FileKind, FileSpec] = {
    "clinics": FileSpec(
        ("legacy_id", "name", "kind", "district", "participating_since"),
        ("participating_until",),
    ),
    "patients": FileSpec(
        (
            "legacy_id",
            "clinic_legacy_id",
            "name",
            "birth_date",
            "phone",
            "conditions",
            "sms_consent",
            "enrolled_on",
        ),
    ),
    "events": FileSpec(
        ("legacy_id", "type", "patient_legacy_id", "date"),
        (
            "clinic_legacy_id",
            "systolic",
            "diastolic",
            "hba1c",
            "fasting_glucose",
            "session_legacy_id",
            "condition",
            "title",
        ),
    ),
    "balances": FileSpec(("legacy_id", "patient_legacy_id", "as_of", "balance")),
}

# The spellings the old system and Korean spreadsheets use, mapped to ours.
CLINIC_KINDS = {
    "chronic": "chronic",
    "만성질환": "chronic",
    "ophthalmology": "ophthalmology",
    "안과": "ophthalmology",
}
CONDITIONS = {
    "hypertension": "hypertension",
    "고혈압": "hypertension",
    "diabetes": "diabetes",
    "당뇨": "diabetes",
    "당뇨병": "diabetes",
}
EVENT_TYPES = {"visit": "visit", "진료": "visit", "education": "education", "교육": "education"}
YES = frozenset({"y", "yes", "true", "1", "o", "예", "동의"})
NO = frozenset({"", "n", "no", "false", "0", "x", "아니오", "아니요", "미동의"})
DATE = re.compile(
    r"(?P<y>\d{4})\s*[-./]\s*(?P<m>\d{1,2})\s*[-./]\s*(?P<d>\d{1,2})\.?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?P<y8>\d{4})(?P<m8>\d{2})(?P<d8>\d{2})"
)


# Reading files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFile:
    """A CSV file as read: its header as written, its rows by that header, its encoding."""

    columns: list[str]
    rows: list[dict[str, str]]
    encoding: str


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without a BOM) when the bytes are UTF-8, else CP949 (Korean Excel)."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise InvalidInput(
        "the file is neither UTF-8 nor CP949; name its encoding with --encoding",
        field="encoding",
    )


def read_csv(path: Path, *, encoding: str | None = None) -> CsvFile:
    """Read a whole CSV file, detecting UTF-8 or CP949 unless ``encoding`` is given."""
    data = path.read_bytes()
    chosen = _codec(encoding) if encoding else detect_encoding(data)
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"{path.name} is not {encoding}: byte {error.start} cannot be read", field="encoding"
        ) from error
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    columns = list(reader.fieldnames or [])
    rows = [
        {key: value for key, value in row.items() if key is not None}
        for row in reader
        if any(isinstance(value, str) and value.strip() for value in row.values())
    ]
    return CsvFile(columns, rows, chosen)


def check_columns(kind: FileKind, columns: Sequence[str]) -> None:
    """Refuse a file that lacks a column its kind needs, before any row is imported."""
    present = {_column(name) for name in columns}
    missing = [name for name in FILES[kind].required if name not in present]
    if missing:
        raise InvalidInput(
            f"a {kind} file needs the column(s) {', '.join(missing)}; "
            f"this one has {', '.join(columns) or 'none'}",
            field="columns",
        )


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as error:
        raise InvalidInput(f"unknown encoding {encoding!r}", field="encoding") from error
    return "utf-8-sig" if name == "utf-8" else name  # a BOM is no part of the first column


def _column(name: str) -> str:
    return name.strip().lower()


def fields(row: Mapping[str, str]) -> dict[str, str]:
    """A row by column name (trimmed, lower case), values trimmed: what the importers read."""
    return {_column(key): (value or "").strip() for key, value in row.items()}


# Writing reports --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported, as read, and why."""

    row: dict[str, str]
    error: str


@dataclass(frozen=True)
class Difference:
    """A patient whose replayed balance at the cut-over is not the balance recorded then."""

    patient_legacy_id: str
    patient_id: str
    as_of: dt.date
    recorded: int
    replayed: int
    transaction_id: int | None

    @property
    def difference(self) -> int:
        """What the migration transaction credited the patient (negative: debited)."""
        return self.recorded - self.replayed


def write_rejected(path: Path, columns: Sequence[str], rejected: Sequence[Rejected]) -> None:
    """The rejected rows with their original columns plus ``error``, as UTF-8 with a BOM.

    The BOM makes Korean Excel open it as UTF-8; a corrected error file can be imported as
    it is (the ``error`` column is ignored and the rows imported before are skipped).
    """
    header = [*columns, *(["error"] if "error" not in columns else [])]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, restval="", extrasaction="ignore")
        writer.writeheader()
        for item in rejected:
            writer.writerow({**item.row, "error": item.error})


def write_differences(path: Path, differences: Sequence[Difference]) -> None:
    """The differences report as CSV: patient (legacy and our id), recorded, replayed."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "patient_legacy_id",
                "patient_id",
                "as_of",
                "recorded",
                "replayed",
                "difference",
                "transaction_id",
            ]
        )
        for d in differences:
            writer.writerow(
                [
                    d.patient_legacy_id,
                    d.patient_id,
                    d.as_of.isoformat(),
                    d.recorded,
                    d.replayed,
                    d.difference,
                    "" if d.transaction_id is None else d.transaction_id,
                ]
            )


# One row ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowImported:
    """What importing one row did: imported now, or found imported before (nothing booked)."""

    status: Literal["imported", "already_imported"]
    record_id: str | None = None
    difference: Difference | None = None


ALREADY = RowImported("already_imported")


class Importer(Protocol):
    def __call__(
        self, session: Session, row: Row, *, today: dt.date, recorded_by: str
    ) -> RowImported: ...


def import_clinic(
    session: Session, row: Row, *, today: dt.date, recorded_by: str = RECORDED_BY
) -> RowImported:
    """Register a clinic of the old system (and end its participation if it ended)."""
    legacy_id, digest = _identify("clinics", row)
    if _imported_before(session, "clinic", legacy_id, digest) is not None:
        return ALREADY
    name = _text(row, "name", max_length=200)
    kind = _choice(row, "kind", CLINIC_KINDS)
    district = _district(session, _required(row, "district"))
    since = _date(row, "participating_since")
    until = _optional_date(row, "participating_until")
    clinic = register_clinic(
        session, name=name, kind=kind, district=district, participating_since=since
    )
    if until is not None:
        clinic_leaves(session, clinic_id=clinic.id, on=until)
    _remember(session, "clinic", legacy_id, digest, record_id=clinic.id)
    return RowImported("imported", clinic.id)


def import_patient(
    session: Session, row: Row, *, today: dt.date, recorded_by: str = RECORDED_BY
) -> RowImported:
    """Register a patient of the old system at their clinic, booking the enrolment awards."""
    legacy_id, digest = _identify("patients", row)
    if _imported_before(session, "patient", legacy_id, digest) is not None:
        return ALREADY
    clinic_id = _legacy(session, "clinic", _required(row, "clinic_legacy_id"))
    with _replaying():
        registered = register_patient(
            session,
            clinic_id=clinic_id,
            name=_text(row, "name", max_length=100),
            birth_date=_date(row, "birth_date"),
            phone=_required(row, "phone"),
            conditions=_conditions(row, "conditions"),
            sms_consent=_flag(row, "sms_consent"),
            recorded_by=recorded_by,
            enrolled_on=_date(row, "enrolled_on"),
            today=today,
        )
    patient_id = registered.patient.id
    _remember(
        session,
        "patient",
        legacy_id,
        digest,
        record_id=patient_id,
        transaction_id=registered.transaction_id,
    )
    return RowImported("imported", patient_id)


def import_event(
    session: Session, row: Row, *, today: dt.date, recorded_by: str = RECORDED_BY
) -> RowImported:
    """Replay a visit or an education attendance of the old system through today's rules."""
    kind = _choice(row, "type", EVENT_TYPES)
    legacy_id, digest = _identify("events", row)
    if _imported_before(session, kind, legacy_id, digest) is not None:
        return ALREADY
    patient_id = _legacy(session, "patient", _required(row, "patient_legacy_id"))
    with _replaying():
        if kind == "visit":
            recorded = record_visit(
                session,
                patient_id=patient_id,
                clinic_id=_legacy(session, "clinic", _required(row, "clinic_legacy_id")),
                visited_on=_date(row, "date"),
                readings=_readings(row),
                recorded_by=recorded_by,
                today=today,
            )
        else:
            recorded = record_attendance(
                session,
                session_id=_education_session(session, row, patient_id),
                patient_id=patient_id,
                recorded_by=recorded_by,
                today=today,
            )
    _remember(
        session,
        kind,
        legacy_id,
        digest,
        record_id=recorded.id,
        transaction_id=recorded.transaction_id,
    )
    return RowImported("imported", recorded.id)


def import_balance(
    session: Session, row: Row, *, today: dt.date, recorded_by: str = RECORDED_BY
) -> RowImported:
    """Bring a patient to the balance the old system recorded at the cut-over date.

    What the ledger already holds for the patient at that date (the replayed enrolment and
    events) is subtracted, and the rest booked as one ``migration`` transaction dated the
    cut-over; a patient's balance is migrated once. Where events were replayed and the
    replay differs from the record, the row reports the difference (again when the row is
    imported again, from the migration transaction, so the report does not depend on the run).
    """
    legacy_id, digest = _identify("balances", row)
    patient_legacy_id = _required(row, "patient_legacy_id")
    earlier = _imported_before(session, "balance", legacy_id, digest)
    if earlier is not None:
        return RowImported(
            "already_imported", earlier.record_id, _reported(session, earlier, patient_legacy_id)
        )
    patient = get_patient(session, _legacy(session, "patient", patient_legacy_id), for_update=True)
    as_of = _date(row, "as_of")
    recorded = _amount(row, "balance")
    if as_of > today:
        raise FutureDate(f"{as_of} is after today ({today}, Asia/Seoul)", field="as_of")
    if as_of < patient.enrolled_on:
        raise BeforeEnrolment(
            f"{as_of} is before the patient's enrolment on {patient.enrolled_on}", field="as_of"
        )
    _ensure_not_migrated(session, patient)
    replayed = balance(session, patient.account_id, as_of=as_of)
    events = _has_replayed_events(session, patient.id, as_of)
    transaction_id = _book_migration(
        session,
        patient,
        as_of=as_of,
        amount=recorded - replayed,
        record=MigrationRecord(
            patient=patient.id,
            legacy_id=legacy_id,
            recorded=recorded,
            replayed=replayed,
            replayed_events=events,
        ),
    )
    _remember(
        session,
        "balance",
        legacy_id,
        digest,
        record_id=patient.id,
        transaction_id=transaction_id,
    )
    difference = None
    if events and transaction_id is not None:
        difference = Difference(
            patient_legacy_id, patient.id, as_of, recorded, replayed, transaction_id
        )
    return RowImported("imported", patient.id, difference)


# A file -----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What a file's import did, row by row, in counts; rejected rows with their reasons."""

    imported: int = 0
    already_imported: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


IMPORTERS: Mapping[FileKind, Importer] = {
    "clinics": import_clinic,
    "patients": import_patient,
    "events": import_event,
    "balances": import_balance,
}


def import_file(
    factory: sessionmaker[Session],
    kind: FileKind,
    rows: Sequence[dict[str, str]],
    *,
    today: dt.date | None = None,
    recorded_by: str = RECORDED_BY,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every row of a file, each in its own committed transaction.

    A row that fails is rejected with its reason and the import goes on; only a database
    that cannot be reached stops it (what was imported stays, and a new run resumes, since
    imported rows are skipped). Events are replayed in date order, as the rules count them.
    ``on_row`` is called after each row (a progress bar).
    """
    today = today or clock.today()
    importer = IMPORTERS[kind]
    report = ImportReport()
    rejected: list[tuple[int, Rejected]] = []
    for position, original in _in_order(kind, rows):
        outcome = _import_row(factory, importer, original, today=today, recorded_by=recorded_by)
        if isinstance(outcome, Rejected):
            rejected.append((position, outcome))
        else:
            if outcome.status == "imported":
                report.imported += 1
            else:
                report.already_imported += 1
            if outcome.difference is not None:
                report.differences.append(outcome.difference)
        if on_row is not None:
            on_row()
    report.rejected = [item for _, item in sorted(rejected, key=lambda pair: pair[0])]
    log.info(
        "ledger.import.done",
        extra={
            "kind": kind,
            "imported": report.imported,
            "already_imported": report.already_imported,
            "rejected": len(report.rejected),
        },
    )
    return report


def _import_row(
    factory: sessionmaker[Session],
    importer: Importer,
    original: dict[str, str],
    *,
    today: dt.date,
    recorded_by: str,
) -> RowImported | Rejected:
    """One row in its own transaction, or the reason it was rejected."""
    row = fields(original)

    def work(session: Session) -> RowImported:
        return importer(session, row, today=today, recorded_by=recorded_by)

    reason, cause = "", ""
    for attempt in (1, 2):
        try:
            return run_in_transaction(factory, work)
        except LedgerError as error:
            reason, cause = _reason(error), type(error).__name__
        except IntegrityError as error:
            # Most likely a twin import committed the same legacy id meanwhile: one more
            # attempt finds it and answers "already imported" (or the conflict).
            reason = f"the database refused the row: {_first_line(error.orig)}"
            cause = "IntegrityError"
            if attempt == 1:
                continue
        except DataError as error:
            reason = f"the database refused a value: {_first_line(error.orig)}"
            cause = "DataError"
        break
    # The reason stays out of the log: it may quote the row (a name, a phone number).
    log.info(
        "ledger.import.rejected",
        extra={"legacy_id": row.get("legacy_id", "")[:LEGACY_ID_MAX], "error": cause},
    )
    return Rejected(original, reason)


def _in_order(kind: FileKind, rows: Sequence[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    """Rows with their positions: events by date, as written within a day; others as written.

    A date that cannot be read sorts first; its row is rejected anyway.
    """
    numbered = list(enumerate(rows))
    if kind != "events":
        return numbered
    return sorted(
        numbered,
        key=lambda item: _parse_date(fields(item[1]).get("date", "")) or dt.date.min,
    )


def _reason(error: LedgerError) -> str:
    if isinstance(error, InvalidInput) and error.field and not str(error).startswith(error.field):
        return f"{error.field}: {error}"
    return str(error)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# Import rows: what each legacy id became ---------------------------------------------------


def _identify(kind: FileKind, row: Row) -> tuple[str, str]:
    """The row's legacy id and a hash of what it says (its kind's columns, trimmed)."""
    legacy_id = _required(row, "legacy_id")
    if len(legacy_id) > LEGACY_ID_MAX:
        raise InvalidInput(
            f"legacy_id is longer than {LEGACY_ID_MAX} characters", field="legacy_id"
        )
    content = {"file": kind, **{name: row.get(name, "") for name in FILES[kind].columns}}
    return legacy_id, _digest(content)


def _digest(content: Mapping[str, str]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _imported_before(session: Session, kind: str, legacy_id: str, digest: str) -> ImportRow | None:
    """This very row's earlier import, if any; a different row under its id is refused."""
    found = session.get(ImportRow, (kind, legacy_id))
    if found is None:
        return None
    if found.row_hash != digest:
        raise ImportConflict(
            f"{kind} legacy id {legacy_id!r} was imported on {found.imported_at:%Y-%m-%d} "
            f"(as {found.record_id}) from a row with different content; correct the record "
            "in the service, or give this row its own legacy id"
        )
    return found


def _remember(
    session: Session,
    kind: str,
    legacy_id: str,
    digest: str,
    *,
    record_id: str,
    transaction_id: int | None = None,
) -> None:
    session.add(
        ImportRow(
            kind=kind,
            legacy_id=legacy_id,
            record_id=record_id,
            transaction_id=transaction_id,
            row_hash=digest,
        )
    )
    session.flush()


_MISSING: Mapping[str, type[NotFound]] = {
    "clinic": UnknownClinic,
    "patient": UnknownPatient,
}


def _legacy(session: Session, kind: str, legacy_id: str) -> str:
    """Our id of the record the old system called ``legacy_id``; it must be imported first."""
    found = session.get(ImportRow, (kind, legacy_id))
    if found is None or found.record_id is None:
        raise _MISSING[kind](
            f"no {kind} was imported with legacy id {legacy_id!r}; import the {kind}s first"
        )
    return found.record_id


@contextmanager
def _replaying() -> Iterator[None]:
    """Events of any age are accepted: the late-entry window is for live entry."""
    with late_entry_window(HISTORY_WINDOW_DAYS):
        yield


# Events and balances ------------------------------------------------------------------------


def _readings(row: Row) -> Readings:
    return Readings(
        systolic=_optional_int(row, "systolic"),
        diastolic=_optional_int(row, "diastolic"),
        hba1c=_optional_decimal(row, "hba1c"),
        fasting_glucose=_optional_int(row, "fasting_glucose"),
    )


def _education_session(session: Session, row: Row, patient_id: str) -> str:
    """Our id of the row's education session, created when its first attendance comes in.

    The old system's session is one row of ``import_rows`` (kind ``session``); attendances
    that describe it differently (date, condition, title, clinic) are refused.
    """
    legacy_id = _required(row, "session_legacy_id")
    held_on = _date(row, "date")
    condition = _choice(row, "condition", CONDITIONS)
    title = (row.get("title", "") or f"session {legacy_id}")[:200]
    clinic_legacy_id = row.get("clinic_legacy_id", "")
    digest = _digest(
        {
            "date": held_on.isoformat(),
            "condition": condition,
            "title": title,
            "clinic_legacy_id": clinic_legacy_id,
        }
    )
    if _imported_before(session, "session", legacy_id, digest) is not None:
        return _legacy(session, "session", legacy_id)
    clinic_id = _legacy(session, "clinic", clinic_legacy_id) if clinic_legacy_id else None
    if clinic_id is not None:
        district = get_clinic(session, clinic_id).district
    else:
        district = get_patient(session, patient_id).district
    created = create_education_session(
        session,
        district=district,
        held_on=held_on,
        condition=condition,
        title=title,
        clinic_id=clinic_id,
    )
    _remember(session, "session", legacy_id, digest, record_id=created.id)
    return created.id


def _ensure_not_migrated(session: Session, patient: Patient) -> None:
    earlier = session.execute(
        select(ImportRow.legacy_id).where(
            ImportRow.kind == "balance", ImportRow.record_id == patient.id
        )
    ).scalar()
    if earlier is not None:
        raise ImportConflict(
            f"patient {patient.id} already has a balance imported (legacy id {earlier!r}); "
            "a patient's balance is migrated once"
        )


def _book_migration(
    session: Session, patient: Patient, *, as_of: dt.date, amount: int, record: MigrationRecord
) -> int | None:
    """Book ``amount`` to the patient from the district's expense (back to it if negative)."""
    if amount == 0:
        return None
    expense = district_account(session, patient.district, AccountType.DISTRICT_EXPENSE)
    debit, credit = (expense, patient.account_id) if amount > 0 else (patient.account_id, expense)
    booked = book(
        session,
        kind=TransactionKind.MIGRATION,
        effective_date=as_of,
        transfers=[
            Transfer(debit, credit, abs(amount), tag=str(Tag(Beneficiary.PATIENT, "migration")))
        ],
        district=patient.district,
        period=period_for(session, patient.district, as_of),
        record=record,
    )
    return booked.transaction_id


def _reported(session: Session, row: ImportRow, patient_legacy_id: str) -> Difference | None:
    """The difference a balance row reported when it was imported, read back from its booking."""
    if row.transaction_id is None or row.record_id is None:
        return None
    booked = session.get(Transaction, row.transaction_id)
    record = read_record((booked.details or {}).get("meta")) if booked is not None else None
    if booked is None or not isinstance(record, MigrationRecord) or not record.replayed_events:
        return None
    return Difference(
        patient_legacy_id,
        row.record_id,
        booked.effective_date,
        record.recorded,
        record.replayed,
        booked.id,
    )


def _has_replayed_events(session: Session, patient_id: str, as_of: dt.date) -> bool:
    """Whether the patient has a visit or an attendance on or before ``as_of``."""
    visit = session.execute(
        select(Visit.id).where(Visit.patient_id == patient_id, Visit.visited_on <= as_of).limit(1)
    ).scalar()
    if visit is not None:
        return True
    attendance = session.execute(
        select(Attendance.id)
        .join(EducationSession, EducationSession.id == Attendance.session_id)
        .where(Attendance.patient_id == patient_id, EducationSession.held_on <= as_of)
        .limit(1)
    ).scalar()
    return attendance is not None


# Values -------------------------------------------------------------------------------------


def _required(row: Row, column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise InvalidInput(f"{column} is empty", field=column)
    return value


def _text(row: Row, column: str, *, max_length: int) -> str:
    value = _required(row, column)
    if len(value) > max_length:
        raise InvalidInput(f"{column} is longer than {max_length} characters", field=column)
    return value


def _choice(row: Row, column: str, choices: Mapping[str, str]) -> str:
    value = _required(row, column)
    found = choices.get(value.lower())
    if found is None:
        raise InvalidInput(f"{column} {value!r} is not one of {', '.join(choices)}", field=column)
    return found


def _parse_date(value: str) -> dt.date | None:
    match = DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day = (
        (match["y"], match["m"], match["d"])
        if match["y"]
        else (match["y8"], match["m8"], match["d8"])
    )
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _date(row: Row, column: str) -> dt.date:
    value = _required(row, column)
    parsed = _parse_date(value)
    if parsed is None:
        raise InvalidInput(
            f"{column} {value!r} is not a date (2024-03-05, 2024.03.05 or 20240305)",
            field=column,
        )
    return parsed


def _optional_date(row: Row, column: str) -> dt.date | None:
    return _date(row, column) if row.get(column) else None


def _optional_int(row: Row, column: str) -> int | None:
    value = row.get(column, "").replace(",", "")
    if not value:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise InvalidInput(f"{column} {value!r} is not a whole number", field=column) from error


def _amount(row: Row, column: str) -> int:
    value = _optional_int(row, column)
    if value is None or value < 0:
        raise InvalidInput(f"{column} is a whole number of M, 0 or more", field=column)
    return value


def _optional_decimal(row: Row, column: str) -> Decimal | None:
    value = row.get(column, "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise InvalidInput(f"{column} {value!r} is not a number", field=column) from error
    if not number.is_finite():
        raise InvalidInput(f"{column} {value!r} is not a number", field=column)
    return number


def _flag(row: Row, column: str) -> bool:
    value = row.get(column, "").lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise InvalidInput(f"{column} {value!r} is not Y or N", field=column)


def _conditions(row: Row, column: str) -> list[str]:
    names = [name for name in re.split(r"[;,/|+\s]+", row.get(column, "").lower()) if name]
    unknown = [name for name in names if name not in CONDITIONS]
    if unknown or not names:
        raise InvalidInput(
            f"{column} lists hypertension and/or diabetes (고혈압, 당뇨), "
            f"separated by ';', not {row.get(column, '')!r}",
            field=column,
        )
    return sorted({CONDITIONS[name] for name in names})


def _district(session: Session, value: str) -> str:
    """A district's code, given its code (11740) or its name (강동구, 강동)."""
    if value.isdigit():
        return value
    code = session.execute(
        select(District.code).where(District.name.in_([value, f"{value}구"]))
    ).scalar()
    if code is None:
        raise UnknownDistrict(
            f"no district {value!r}; districts are 5-digit codes like 11740 or names like 강동구"
        )
    return code
