"""Quarterly settlement: each district pays its clinics what they earned and what was spent.

A quarter's line for a clinic holds ``earned`` and ``reimbursed`` from the quarter's own
events, and ``corrections``: every reversal booked into the quarter and every late event
dated in an earlier, already closed quarter (see ``periods``); ``payout`` is their sum.
While a draft, a settlement is recomputed whenever it is asked for, from the figures kept
with the bookings (``settlement_figures``: a clinic's quarter, never its history). Closing
books each clinic's payout from its accounts to the district's payable account, stores the
lines for good and closes the quarter; recording a payment moves a line from payable to paid.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain import AccountType, Transfer
from ledger.errors import (
    AlreadyPaid,
    EarlierQuarterOpen,
    InvalidInput,
    NotFound,
    QuarterClosed,
    QuarterNotEnded,
)
from ledger.ids import is_well_formed, new_id
from ledger.models import Clinic, Settlement, SettlementFigure, SettlementLine, Transaction
from ledger.records import PaymentRecord, SettlementRecord, Tag
from ledger.repository.missing import insert_missing
from ledger.services import periods
from ledger.services.booking import book
from ledger.services.clinics import district_account, get_district
from ledger.services.statements import quarter_bounds
from ledger.vocabulary import SettlementStatus, TransactionKind, TransferGroup

__all__ = [
    "close_settlement",
    "get_settlement",
    "lines_of",
    "open_settlement",
    "record_payment",
    "unsettled_quarters",
    "view_settlement",
]


@dataclass
class Figures:
    """One clinic's movements in a quarter, by account and by kind (own or correction)."""

    earned: int = 0
    reimbursed: int = 0
    corrections_earned: int = 0
    corrections_reimbursed: int = 0

    @property
    def corrections(self) -> int:
        return self.corrections_earned + self.corrections_reimbursed

    @property
    def payout(self) -> int:
        return self.earned + self.reimbursed + self.corrections


def _check_quarter(year: int, quarter: int) -> None:
    if not 1 <= quarter <= 4:
        raise InvalidInput("quarter is 1, 2, 3 or 4", field="quarter")
    if not 2013 <= year <= 2100:
        raise InvalidInput("year is a programme year (2013 on)", field="year")


def compute(session: Session, district: str, year: int, quarter: int) -> dict[str, Figures]:
    """Every clinic's figures for the quarter, from the read model kept with the bookings
    (``settlement_figures``): a line per clinic that took part in the quarter or has figures
    in it."""
    clinics = {
        c.id: c
        for c in session.execute(select(Clinic).where(Clinic.district == district)).scalars()
    }
    start, end = quarter_bounds(year, quarter)
    figures: dict[str, Figures] = defaultdict(Figures)
    for clinic in clinics.values():
        until = clinic.participating_until
        if clinic.participating_since <= end and (until is None or until >= start):
            figures[clinic.id] = Figures()
    rows = session.execute(
        select(SettlementFigure.clinic, SettlementFigure.figure, SettlementFigure.value).where(
            SettlementFigure.district == district,
            SettlementFigure.period == periods.label(year, quarter),
        )
    )
    for clinic_id, figure, value in rows:
        if clinic_id in clinics:
            setattr(figures[clinic_id], figure, getattr(figures[clinic_id], figure) + value)
    return dict(sorted(figures.items()))


def get_settlement(session: Session, settlement_id: str) -> Settlement:
    if not is_well_formed(settlement_id):
        raise NotFound("no settlement with that id")
    found = session.get(Settlement, settlement_id)
    if found is None:
        raise NotFound(f"no settlement {settlement_id!r}")
    return found


def open_settlement(session: Session, *, district: str, year: int, quarter: int) -> Settlement:
    """The district's settlement of the quarter: created, or recomputed while a draft.

    Opened twice at once, it is one draft: the second insert finds the first's row, and the
    row lock makes the two recomputations (and a close) take turns.
    """
    _check_quarter(year, quarter)
    get_district(session, district)
    insert_missing(
        session,
        Settlement,
        id=new_id("stl"),
        district=district,
        year=year,
        quarter=quarter,
        status=SettlementStatus.DRAFT,
        total=0,
        computed_at=clock.now(),
    )
    settlement = session.execute(
        select(Settlement)
        .where(
            Settlement.district == district,
            Settlement.year == year,
            Settlement.quarter == quarter,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if settlement.status == SettlementStatus.DRAFT:
        _store_lines(session, settlement, compute(session, district, year, quarter))
    return settlement


@dataclass(frozen=True)
class LineView:
    """A clinic's line as shown: its figures and, once closed, whether it was paid."""

    clinic_id: str
    clinic_name: str
    earned: int
    reimbursed: int
    corrections: int
    payout: int
    paid_on: dt.date | None = None
    payment_reference: str | None = None


@dataclass(frozen=True)
class SettlementView:
    settlement: Settlement
    lines: list[LineView]
    total: int
    computed_at: dt.datetime


def view_settlement(session: Session, settlement: Settlement) -> SettlementView:
    """A settlement as it stands: a draft computed afresh from the ledger (and not stored:
    reading writes nothing), a closed one as it was frozen."""
    if settlement.status == SettlementStatus.CLOSED:
        lines = [
            LineView(
                line.clinic_id,
                name,
                line.earned,
                line.reimbursed,
                line.corrections,
                line.payout,
                line.paid_on,
                line.payment_reference,
            )
            for line, name in lines_of(session, settlement)
        ]
        return SettlementView(settlement, lines, settlement.total, settlement.computed_at)
    figures = compute(session, settlement.district, settlement.year, settlement.quarter)
    names = dict(
        session.execute(select(Clinic.id, Clinic.name).where(Clinic.id.in_(figures.keys()))).all()
    )
    lines = [
        LineView(clinic_id, names[clinic_id], f.earned, f.reimbursed, f.corrections, f.payout)
        for clinic_id, f in figures.items()
    ]
    return SettlementView(settlement, lines, sum(f.payout for f in figures.values()), clock.now())


def lines_of(session: Session, settlement: Settlement) -> list[tuple[SettlementLine, str]]:
    """The settlement's lines, each with its clinic's name, in clinic order."""
    rows = session.execute(
        select(SettlementLine, Clinic.name)
        .join(Clinic, Clinic.id == SettlementLine.clinic_id)
        .where(SettlementLine.settlement_id == settlement.id)
        .order_by(SettlementLine.clinic_id)
    ).all()
    return [(line, name) for line, name in rows]


def _store_lines(session: Session, settlement: Settlement, figures: dict[str, Figures]) -> None:
    session.execute(delete(SettlementLine).where(SettlementLine.settlement_id == settlement.id))
    for clinic_id, f in figures.items():
        session.add(
            SettlementLine(
                settlement_id=settlement.id,
                clinic_id=clinic_id,
                earned=f.earned,
                reimbursed=f.reimbursed,
                corrections=f.corrections,
                payout=f.payout,
            )
        )
    settlement.total = sum(f.payout for f in figures.values())
    settlement.computed_at = clock.now()
    session.flush()


def close_settlement(
    session: Session, settlement_id: str, *, closed_by: str, today: dt.date | None = None
) -> Settlement:
    """Close the quarter for good and book each clinic's payout to the payable account.

    Closing again changes nothing. A quarter closes only once it has ended, and only after
    the district's earlier quarters with bookings are closed.
    """
    today = today or clock.today()
    settlement = get_settlement(session, settlement_id)
    periods.lock_for_close(session, settlement.district)
    session.refresh(settlement, with_for_update=True)
    if settlement.status == SettlementStatus.CLOSED:
        return settlement
    year, quarter, district = settlement.year, settlement.quarter, settlement.district
    _, end = quarter_bounds(year, quarter)
    if today <= end:
        raise QuarterNotEnded(
            f"{year} Q{quarter} ends on {end}; it can be closed from the day after"
        )
    open_before = _open_quarters_before(session, district, periods.label(year, quarter))
    if open_before:
        raise EarlierQuarterOpen(f"close {', '.join(open_before)} first: quarters close in order")
    figures = compute(session, district, year, quarter)
    _store_lines(session, settlement, figures)
    payable = district_account(session, district, AccountType.DISTRICT_PAYABLE)
    clinics = {
        c.id: c
        for c in session.execute(select(Clinic).where(Clinic.id.in_(figures.keys()))).scalars()
    }
    transfers = []
    for clinic_id, f in figures.items():
        clinic = clinics[clinic_id]
        for account, moved in (
            (clinic.earned_account_id, f.earned + f.corrections_earned),
            (clinic.reimbursable_account_id, f.reimbursed + f.corrections_reimbursed),
        ):
            transfers += _move(
                account, payable, moved, tag=str(Tag(TransferGroup.SETTLEMENT, clinic_id))
            )
    booked = book(
        session,
        kind=TransactionKind.SETTLEMENT,
        effective_date=today,
        transfers=transfers,
        district=district,
        period=periods.label(year, quarter),
        record=SettlementRecord(settlement=settlement.id, total=settlement.total),
    )
    settlement.status = SettlementStatus.CLOSED
    settlement.closed_at = clock.now()
    settlement.closed_by = closed_by
    settlement.transaction_id = booked.transaction_id
    session.flush()
    return settlement


def _move(source: int, target: int, amount: int, *, tag: str) -> list[Transfer]:
    """A transfer of ``amount`` from source to target, turned round when it is negative."""
    if amount == 0:
        return []
    if amount > 0:
        return [Transfer(source, target, amount, allow_negative=True, tag=tag)]
    return [Transfer(target, source, -amount, allow_negative=True, tag=tag)]


def _open_quarters_before(session: Session, district: str, period: str) -> list[str]:
    booked = set(
        session.execute(
            select(Transaction.period)
            .where(
                Transaction.district == district,
                Transaction.period < period,
                Transaction.period.is_not(None),
            )
            .distinct()
        ).scalars()
    )
    closed = {
        periods.label(y, q)
        for y, q in session.execute(
            select(Settlement.year, Settlement.quarter).where(
                Settlement.district == district, Settlement.status == SettlementStatus.CLOSED
            )
        )
    }
    return sorted(p for p in booked - closed if p is not None)


def record_payment(
    session: Session,
    settlement_id: str,
    *,
    clinic_id: str,
    paid_on: dt.date,
    reference: str,
) -> SettlementLine:
    """Record that a clinic's payout was paid: it moves from payable to paid (cash)."""
    settlement = get_settlement(session, settlement_id)
    if settlement.status != SettlementStatus.CLOSED:
        raise QuarterClosed("a payment is recorded once the settlement is closed")
    line = session.execute(
        select(SettlementLine)
        .where(SettlementLine.settlement_id == settlement_id, SettlementLine.clinic_id == clinic_id)
        .with_for_update()
    ).scalar()
    if line is None:
        raise NotFound(f"clinic {clinic_id!r} has no line in settlement {settlement_id!r}")
    if line.paid_on is not None:
        raise AlreadyPaid(f"the payout was recorded as paid on {line.paid_on}")
    if not reference.strip():
        raise InvalidInput("give the bank transfer's reference", field="reference")
    district = settlement.district
    payable = district_account(session, district, AccountType.DISTRICT_PAYABLE)
    cash = district_account(session, district, AccountType.DISTRICT_CASH)
    booked = book(
        session,
        kind=TransactionKind.PAYMENT,
        effective_date=paid_on,
        transfers=_move(payable, cash, line.payout, tag=str(Tag(TransferGroup.PAYMENT, clinic_id))),
        district=district,
        period=periods.label(settlement.year, settlement.quarter),
        record=PaymentRecord(settlement=settlement_id, clinic=clinic_id, reference=reference),
    )
    line.paid_on = paid_on
    line.payment_reference = reference.strip()
    line.payment_transaction_id = booked.transaction_id
    session.flush()
    return line


def unsettled_quarters(session: Session, today: dt.date) -> dict[str, list[str]]:
    """Per district, the ended quarters with bookings that are not closed yet."""
    ended = periods.label(*periods.quarter_of(today))
    booked = session.execute(
        select(Transaction.district, Transaction.period)
        .where(Transaction.district.is_not(None), Transaction.period < ended)
        .distinct()
    ).all()
    closed = {
        (d, periods.label(y, q))
        for d, y, q in session.execute(
            select(Settlement.district, Settlement.year, Settlement.quarter).where(
                Settlement.status == SettlementStatus.CLOSED
            )
        )
    }
    out: dict[str, list[str]] = {}
    for district, period in sorted(booked, key=lambda r: (r[0] or "", r[1] or "")):
        if district and period and (district, period) not in closed:
            year, quarter = periods.parse(period)
            if quarter_bounds(year, quarter)[1] < today:
                out.setdefault(district, []).append(period)
    return out
