"""The read models' SQL: what a booking moves, the upserts that move it, and the recount.

A booking hands :func:`moves_of` its entries (with the accounts it locked), its header and
the events it counts; the result is applied with one multi-row upsert per table, rows in key
order (:func:`apply`), after every balance and counter lock the booking took, so two bookings
never wait on each other in a cycle. :func:`recounted` gives the same rows computed from the
entries and the registry in one ``GROUP BY`` each: the verifier compares them with what is
kept, :func:`rebuild` replaces what is kept with them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    delete,
    extract,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from ledger.domain import SHARDS, AccountType
from ledger.models import (
    Account,
    Attendance,
    Clinic,
    EducationSession,
    Entry,
    Patient,
    ReportFigure,
    SettlementFigure,
    Transaction,
    Visit,
)
from ledger.repository.reading import AccountInfo
from ledger.vocabulary import TransactionKind

__all__ = [
    "AWARD_KINDS",
    "FIGURE_SHARDS",
    "REPORT",
    "SETTLEMENT",
    "SETTLEMENT_KINDS",
    "Count",
    "Moves",
    "apply",
    "kept",
    "month_of",
    "move_patient",
    "moves_of",
    "owner_of",
    "rebuild",
    "recounted",
]

REPORT = cast(Table, ReportFigure.__table__)
SETTLEMENT = cast(Table, SettlementFigure.__table__)
REPORT_KEY = ("district", "clinic", "month", "figure", "shard")
SETTLEMENT_KEY = ("district", "period", "clinic", "figure")

# What patients are awarded (``accrued``) and clinics earn: the programme's awards and the
# balances migrated from the previous system.
AWARD_KINDS: tuple[str, ...] = (
    TransactionKind.ENROLMENT,
    TransactionKind.VISIT,
    TransactionKind.EDUCATION,
    TransactionKind.MIGRATION,
)
SPENDING_KINDS: tuple[str, ...] = (TransactionKind.REDEMPTION,)
# A settlement's own bookings are not part of what it settles.
SETTLEMENT_KINDS: tuple[str, ...] = (TransactionKind.SETTLEMENT, TransactionKind.PAYMENT)
# District-wide rows are sharded as the district expense account is.
FIGURE_SHARDS = SHARDS[AccountType.DISTRICT_EXPENSE]

# (figure, account type, kinds, sign of the raw entry, kept per clinic): the mileage figures.
# Clinic accounts and patients' accounts are credit-normal: an award is a negative entry.
MILEAGE = (
    ("accrued", AccountType.PATIENT, AWARD_KINDS, -1, False),
    ("used", AccountType.PATIENT, SPENDING_KINDS, 1, False),
    ("clinic_earned", AccountType.CLINIC_EARNED, AWARD_KINDS, -1, True),
    ("used", AccountType.CLINIC_REIMBURSABLE, SPENDING_KINDS, -1, True),
)
CLINIC_ACCOUNTS = {
    AccountType.CLINIC_EARNED: "earned",
    AccountType.CLINIC_REIMBURSABLE: "reimbursed",
}

ReportKey = tuple[str, str, int, str, int]
SettlementKey = tuple[str, str, str, str]


def month_of(day: dt.date) -> int:
    """``yyyymm``: the month a figure is kept under."""
    return day.year * 100 + day.month


def _quarter_index(day: dt.date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def _period_index(period: str) -> int:
    year, quarter = period.split("-Q")
    return int(year) * 4 + int(quarter) - 1


def owner_of(code: str) -> str:
    """The clinic a clinic account belongs to: its code is ``<type>:<clinic id>``."""
    return code.partition(":")[2]


@dataclass(frozen=True)
class Count:
    """One event a booking counts (a registration, a visit, an attendance), in its month."""

    district: str
    clinic: str
    figure: str


@dataclass
class Moves:
    """What one booking adds to the read models' rows."""

    report: dict[ReportKey, int] = field(default_factory=lambda: defaultdict(int))
    settlement: dict[SettlementKey, int] = field(default_factory=lambda: defaultdict(int))


def moves_of(
    *,
    transaction_id: int,
    entries: Iterable[tuple[int, int]],
    accounts: Mapping[int, AccountInfo],
    header: Mapping[str, Any],
    reported_as: tuple[str, dt.date] | None = None,
    counts: Iterable[Count] = (),
) -> Moves:
    """The rows a booking moves and by how much; reads nothing.

    ``reported_as`` is the kind and date a reversal counts under (those of what it reverses,
    so that both drop out of the reports); a booking counts under its own.
    """
    kind, day = reported_as or (header["kind"], header["effective_date"])
    month = month_of(day)
    moves = Moves()
    counted = month_of(header["effective_date"])
    for event in counts:
        moves.report[(event.district, event.clinic, counted, event.figure, 0)] += 1
    period: str | None = header.get("period")
    settled = period is not None and header["kind"] not in SETTLEMENT_KINDS
    correction = period is not None and (
        header.get("reverses_id") is not None
        or _quarter_index(header["effective_date"]) < _period_index(period)
    )
    for account_id, amount in entries:
        account = accounts[account_id]
        if account.district is None:
            continue
        for figure, type_, kinds, sign, per_clinic in MILEAGE:
            if account.type is type_ and kind in kinds:
                clinic, shard = (
                    (owner_of(account.code), 0)
                    if per_clinic
                    else ("", transaction_id % FIGURE_SHARDS)
                )
                moves.report[(account.district, clinic, month, figure, shard)] += sign * amount
        line = CLINIC_ACCOUNTS.get(account.type)
        if settled and line is not None:
            figure = f"corrections_{line}" if correction else line
            line_key = (account.district, cast(str, period), owner_of(account.code), figure)
            moves.settlement[line_key] -= amount
    return moves


def _upserts(table: Table, key: tuple[str, ...]) -> dict[str, Any]:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET value = value + excluded.value``."""
    out = {}
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert)):
        statement = dialect_insert(table)
        out[name] = statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in key],
            set_={"value": table.c.value + statement.excluded.value},
        )
    return out


UPSERT_REPORT = _upserts(REPORT, REPORT_KEY)
UPSERT_SETTLEMENT = _upserts(SETTLEMENT, SETTLEMENT_KEY)


def apply(session: Session, moves: Moves) -> None:
    """One upsert per row moved, in key order (the order every booking locks them in)."""
    dialect = session.get_bind().dialect.name
    for statement, key_names, moved in (
        (UPSERT_REPORT[dialect], REPORT_KEY, moves.report),
        (UPSERT_SETTLEMENT[dialect], SETTLEMENT_KEY, moves.settlement),
    ):
        rows = [
            {**dict(zip(key_names, key, strict=True)), "value": value}
            for key, value in sorted(moved.items())
            if value
        ]
        if rows:
            session.execute(statement, rows)


def move_patient(
    session: Session,
    *,
    patient_id: str,
    district: str,
    enrolled_on: dt.date,
    source: str,
    target: str,
) -> None:
    """Move what is counted at a patient's home clinic (their registration, their
    attendances) from ``source``'s rows to ``target``'s: the patient's new home clinic."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    attended = session.execute(
        select(EducationSession.district, EducationSession.held_on)
        .join(Attendance, Attendance.session_id == EducationSession.id)
        .where(Attendance.patient_id == patient_id)
    )
    for session_district, held_on in attended:
        counts[(session_district, month_of(held_on))] += 1
    moves = Moves()
    for clinic, sign in ((source, -1), (target, 1)):
        moves.report[(district, clinic, month_of(enrolled_on), "registered", 0)] += sign
        for (where, month), n in counts.items():
            if n:
                moves.report[(where, clinic, month, "education", 0)] += sign * n
    apply(session, moves)


# The recount ----------------------------------------------------------------------------


def _const(value: str | int) -> ColumnElement[Any]:
    """A constant written into the SQL (so that GROUP BY sees one expression, not a bound
    parameter per use)."""
    if isinstance(value, int):
        return literal_column(str(value), Integer)
    return literal_column(f"'{value}'", String)


def _month(day: Any) -> ColumnElement[int]:
    return _int(extract("year", day)) * _const(100) + _int(extract("month", day))


def _int(value: Any) -> ColumnElement[int]:
    return cast_(value, Integer)


def _owner(account: Any) -> ColumnElement[str]:
    return func.substr(account.code, func.length(account.type) + _const(2))


def _grouped(*columns: Any, value: ColumnElement[Any], keys: int) -> Select[Any]:
    return select(*columns, value).group_by(*(literal_column(str(i + 1)) for i in range(keys)))


def _count(figure: str, district: Any, clinic: Any, day: Any, source: Any) -> Select[Any]:
    """Events counted per district, clinic and month."""
    return _grouped(
        district, clinic, _month(day), _const(figure), _const(0), value=func.count(), keys=3
    ).select_from(source)


def _report_recount() -> list[Select[Any]]:
    zero = _const(0)
    queries = [
        _count("registered", Patient.district, Patient.clinic_id, Patient.enrolled_on, Patient),
        _count("visits", Clinic.district, Visit.clinic_id, Visit.visited_on, Visit).join(
            Clinic, Clinic.id == Visit.clinic_id
        ),
        _count(
            "education",
            EducationSession.district,
            Patient.clinic_id,
            EducationSession.held_on,
            Attendance,
        )
        .join(EducationSession, EducationSession.id == Attendance.session_id)
        .join(Patient, Patient.id == Attendance.patient_id),
    ]
    original = aliased(Transaction)
    kind = func.coalesce(original.kind, Transaction.kind)
    month = _month(func.coalesce(original.effective_date, Transaction.effective_date))
    for figure, type_, kinds, sign, per_clinic in MILEAGE:
        queries.append(
            _grouped(
                Account.district,
                _owner(Account) if per_clinic else _const(""),
                month,
                _const(figure),
                zero if per_clinic else Transaction.id % _const(FIGURE_SHARDS),
                value=func.sum(Entry.amount if sign > 0 else -Entry.amount),
                keys=5,
            )
            .select_from(Entry)
            .join(Transaction, Transaction.id == Entry.transaction_id)
            .join(Account, Account.id == Entry.account_id)
            .outerjoin(original, original.id == Transaction.reverses_id)
            .where(
                Account.type == type_.value,
                kind.in_(kinds),
                Account.district.is_not(None),
            )
        )
    return queries


def _settlement_recount() -> Select[Any]:
    day = Transaction.effective_date
    quarter = _int(extract("year", day)) * _const(4) + (
        _int(extract("month", day)) - _const(1)
    ) // _const(3)
    period = (
        _int(func.substr(Transaction.period, 1, 4)) * _const(4)
        + _int(func.substr(Transaction.period, 7, 1))
        - _const(1)
    )
    correction = or_(Transaction.reverses_id.is_not(None), quarter < period)
    earned = Account.type == AccountType.CLINIC_EARNED.value
    figure = case(
        (and_(correction, earned), _const("corrections_earned")),
        (correction, _const("corrections_reimbursed")),
        (earned, _const("earned")),
        else_=_const("reimbursed"),
    )
    return (
        _grouped(
            Account.district,
            Transaction.period,
            _owner(Account),
            figure,
            value=func.sum(-Entry.amount),
            keys=4,
        )
        .select_from(Entry)
        .join(Transaction, Transaction.id == Entry.transaction_id)
        .join(Account, Account.id == Entry.account_id)
        .where(
            Account.type.in_([t.value for t in CLINIC_ACCOUNTS]),
            Account.district.is_not(None),
            Transaction.period.is_not(None),
            Transaction.kind.not_in(SETTLEMENT_KINDS),
        )
    )


def recounted(session: Session) -> tuple[dict[ReportKey, int], dict[SettlementKey, int]]:
    """Every read-model row as the entries and the registry give it."""
    report: dict[ReportKey, int] = {}
    for query in _report_recount():
        for *key, value in session.execute(query):
            report[cast(ReportKey, tuple(key))] = int(value)
    settlement = {
        cast(SettlementKey, tuple(key)): int(value)
        for *key, value in session.execute(_settlement_recount())
    }
    return report, settlement


def kept(session: Session) -> tuple[dict[ReportKey, int], dict[SettlementKey, int]]:
    """Every read-model row as kept."""
    report = {
        cast(ReportKey, tuple(row[:-1])): int(row[-1])
        for row in session.execute(select(*(REPORT.c[k] for k in REPORT_KEY), REPORT.c.value))
    }
    settlement = {
        cast(SettlementKey, tuple(row[:-1])): int(row[-1])
        for row in session.execute(
            select(*(SETTLEMENT.c[k] for k in SETTLEMENT_KEY), SETTLEMENT.c.value)
        )
    }
    return report, settlement


def rebuild(session: Session) -> tuple[int, int]:
    """Replace every read-model row with its recount, set-based; the caller's transaction.
    Returns how many rows each table holds afterwards."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Bookings wait while the rows are recounted: one that commits its entries first is
        # in the recount, one that commits after moves the recounted rows.
        session.execute(text("LOCK TABLE report_figures, settlement_figures IN EXCLUSIVE MODE"))
    session.execute(delete(REPORT))
    session.execute(delete(SETTLEMENT))
    columns = [*REPORT_KEY, "value"]
    for query in _report_recount():
        session.execute(insert(REPORT).from_select(columns, query))
    session.execute(
        insert(SETTLEMENT).from_select([*SETTLEMENT_KEY, "value"], _settlement_recount())
    )
    counted = [
        session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (REPORT, SETTLEMENT)
    ]
    return counted[0], counted[1]
