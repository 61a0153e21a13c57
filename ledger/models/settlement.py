"""Spending and settlement: mileage spent at clinics, and the quarters that pay clinics."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import now
from ledger.models.base import Base, Id, TZDateTime
from ledger.vocabulary import Purpose, SettlementStatus, values

PURPOSES = values(Purpose)


class Redemption(Base):
    """Mileage a patient spent at a clinic, which the programme then owes the clinic."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive"),
        CheckConstraint(f"purpose IN {PURPOSES!r}", name="purpose"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))
    spent_on: Mapped[dt.date] = mapped_column(Date)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    recorded_by: Mapped[str] = mapped_column(String(120))


class Settlement(Base):
    """A district's quarter: a draft while open, then closed for good with its payouts."""

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("district", "year", "quarter", name="uq_settlements_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
        CheckConstraint(f"status IN {values(SettlementStatus)!r}", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(120))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))


class SettlementLine(Base):
    """One clinic's payout in a settlement, and its payment once recorded."""

    __tablename__ = "settlement_lines"
    __table_args__ = (UniqueConstraint("settlement_id", "clinic_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("settlements.id"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"))
    earned: Mapped[int] = mapped_column(BigInteger)
    reimbursed: Mapped[int] = mapped_column(BigInteger)
    corrections: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    payment_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
