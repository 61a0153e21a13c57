"""The city's reports: per district (and per clinic), for a year and cumulative.

``accrued`` is what patients were awarded (enrolment, visits, education, disease control,
and balances migrated from the previous system); ``used`` what they spent; clinics' earnings
are reported apart as ``clinic_earned``. A reversed transaction and its reversal both drop
out, so a reversal nets out what it reverses. ``usage_rate`` is used / accrued, rounded to 4
places, 0 when nothing accrued. Counts of visits and attendances include those that earned
nothing. Mileage is attributed to the district the patient enrolled in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, aliased

from ledger.models import (
    Account,
    Attendance,
    Clinic,
    District,
    EducationSession,
    Entry,
    Patient,
    Transaction,
    Visit,
)
from ledger.vocabulary import TransactionKind

__all__ = ["Figures", "Row", "annual_report", "clinic_report", "district_report", "usage_rate"]

AWARD_KINDS = (
    TransactionKind.ENROLMENT,
    TransactionKind.VISIT,
    TransactionKind.EDUCATION,
    TransactionKind.MIGRATION,
)


@dataclass
class Figures:
    registered: int = 0
    visits: int = 0
    education: int = 0
    accrued: int = 0
    used: int = 0
    clinic_earned: int = 0

    @property
    def usage_rate(self) -> Decimal:
        return usage_rate(self.used, self.accrued)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Row:
    key: str
    name: str
    clinics_chronic: int = 0
    clinics_ophthalmology: int = 0
    year: Figures = field(default_factory=Figures)
    cumulative: Figures = field(default_factory=Figures)


def usage_rate(used: int, accrued: int) -> Decimal:
    if accrued == 0:
        return Decimal("0")
    return (Decimal(used) / Decimal(accrued)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def _bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _split(date_column: Any, start: dt.date, value: Any = 1) -> tuple[Any, Any]:
    """(this year's sum, the cumulative sum) of ``value`` over rows up to the year's end."""
    return (
        func.coalesce(func.sum(case((date_column >= start, value), else_=0)), 0),
        func.coalesce(func.sum(value), 0),
    )


def _counts(
    session: Session, year: int, key: Any, *, district: str | None
) -> dict[str, dict[str, tuple[int, int]]]:
    """Registrations, visits and attendances per ``key`` (district or clinic)."""
    start, end = _bounds(year)
    out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    by = {
        "district": (Patient.district, Clinic.district, EducationSession.district),
        "clinic": (Patient.clinic_id, Visit.clinic_id, Patient.clinic_id),
    }[key]
    queries = {
        "registered": select(by[0], *_split(Patient.enrolled_on, start))
        .where(Patient.enrolled_on <= end)
        .group_by(by[0]),
        "visits": select(by[1], *_split(Visit.visited_on, start))
        .join(Clinic, Clinic.id == Visit.clinic_id)
        .where(Visit.visited_on <= end)
        .group_by(by[1]),
        "education": select(by[2], *_split(EducationSession.held_on, start))
        .select_from(Attendance)
        .join(EducationSession, EducationSession.id == Attendance.session_id)
        .join(Patient, Patient.id == Attendance.patient_id)
        .where(EducationSession.held_on <= end)
        .group_by(by[2]),
    }
    for name, query in queries.items():
        if district is not None:
            query = (
                query.where(Patient.district == district)
                if name != "visits"
                else query.where(Clinic.district == district)
            )
        for owner, this_year, total in session.execute(query):
            out[owner][name] = (int(this_year), int(total))
    return out


def _mileage(
    session: Session,
    year: int,
    *,
    account_type: str,
    kinds: tuple[str, ...],
    sign: int,
    group: Any,
) -> dict[Any, tuple[int, int]]:
    """Mileage moved on accounts of one type, per ``group``, with reversals netted out.

    Both a reversed transaction and its reversal are left out; what is left is what stands.
    ``sign`` -1 counts credits (awards), +1 debits (spending).
    """
    start, end = _bounds(year)
    reversal = aliased(Transaction)
    query = (
        select(group, *_split(Transaction.effective_date, start, sign * Entry.amount))
        .join(Transaction, Transaction.id == Entry.transaction_id)
        .join(Account, Account.id == Entry.account_id)
        .where(
            Account.type == account_type,
            Transaction.kind.in_(kinds),
            Transaction.effective_date <= end,
            Transaction.reverses_id.is_(None),
            ~exists().where(reversal.reverses_id == Transaction.id),
        )
        .group_by(group)
    )
    return {key: (int(y), int(t)) for key, y, t in session.execute(query) if key is not None}


def _participating(clinic: Clinic, start: dt.date, end: dt.date) -> bool:
    until = clinic.participating_until
    return clinic.participating_since <= end and (until is None or until >= start)


def district_report(session: Session, year: int, *, district: str | None = None) -> list[Row]:
    """A row per participating district (or just ``district``), sorted by code."""
    start, end = _bounds(year)
    query = select(District).order_by(District.code)
    if district is not None:
        query = query.where(District.code == district)
    rows = {
        d.code: Row(d.code, d.name)
        for d in session.execute(query).scalars()
        if d.participating or d.code == district
    }
    for clinic in session.execute(select(Clinic)).scalars():
        row = rows.get(clinic.district)
        if row is not None and _participating(clinic, start, end):
            if clinic.kind == "chronic":
                row.clinics_chronic += 1
            else:
                row.clinics_ophthalmology += 1
    _fill(rows, _counts(session, year, "district", district=district))
    _fill_mileage(rows, session, year, by_clinic=False)
    return list(rows.values())


def clinic_report(session: Session, year: int, *, district: str) -> list[Row]:
    """A row per clinic of the district that participated in the year."""
    start, end = _bounds(year)
    clinics = session.execute(
        select(Clinic).where(Clinic.district == district).order_by(Clinic.name, Clinic.id)
    ).scalars()
    rows = {c.id: Row(c.id, c.name) for c in clinics if _participating(c, start, end)}
    for row in rows.values():
        row.clinics_chronic = 0
    _fill(rows, _counts(session, year, "clinic", district=district))
    _fill_mileage(rows, session, year, by_clinic=True)
    return list(rows.values())


def _fill(rows: dict[str, Row], counts: dict[str, dict[str, tuple[int, int]]]) -> None:
    for key, by_name in counts.items():
        row = rows.get(key)
        if row is None:
            continue
        for name, (this_year, total) in by_name.items():
            setattr(row.year, name, this_year)
            setattr(row.cumulative, name, total)


# (report field, account type, transaction kinds, sign): per district, patients' mileage;
# per clinic, what the clinic earned and what patients spent there.
DISTRICT_MEASURES = (
    ("accrued", "patient", AWARD_KINDS, -1),
    ("used", "patient", ("redemption",), 1),
    ("clinic_earned", "clinic_earned", AWARD_KINDS, -1),
)
CLINIC_MEASURES = (
    ("used", "clinic_reimbursable", ("redemption",), -1),
    ("clinic_earned", "clinic_earned", AWARD_KINDS, -1),
)


def _fill_mileage(rows: dict[str, Row], session: Session, year: int, *, by_clinic: bool) -> None:
    owner: dict[Any, str] = {}
    if by_clinic:
        for clinic in session.execute(select(Clinic).where(Clinic.id.in_(rows.keys()))).scalars():
            owner[clinic.earned_account_id] = owner[clinic.reimbursable_account_id] = clinic.id
    group = Entry.account_id if by_clinic else Account.district
    for name, account_type, kinds, sign in CLINIC_MEASURES if by_clinic else DISTRICT_MEASURES:
        found = _mileage(
            session, year, account_type=account_type, kinds=kinds, sign=sign, group=group
        )
        for key, (this_year, total) in found.items():
            row = rows.get(owner.get(key, "") if by_clinic else key)
            if row is not None:
                setattr(row.year, name, this_year)
                setattr(row.cumulative, name, total)


def total_row(rows: list[Row], *, key: str = "total", name: str = "합계") -> Row:
    total = Row(key, name)
    for row in rows:
        total.clinics_chronic += row.clinics_chronic
        total.clinics_ophthalmology += row.clinics_ophthalmology
        total.year.add(row.year)
        total.cumulative.add(row.cumulative)
    return total


def annual_report(session: Session, *, through: int) -> list[tuple[int, int, Row]]:
    """The city's annual table: each year's districts, clinics and cumulative figures."""
    first = session.execute(select(func.min(Transaction.effective_date))).scalar()
    if first is None:
        return []
    table = []
    for year in range(first.year, through + 1):
        rows = district_report(session, year)
        active = [r for r in rows if r.clinics_chronic + r.clinics_ophthalmology]
        table.append((year, len(active), total_row(rows)))
    return table
