"""Read models: the figures the reports and settlement lines are made of, kept as they move.

``report_figures`` holds, per district, clinic and month (``yyyymm``), what the district,
clinic and annual reports show: ``registered``, ``visits``, ``education`` (counts, per
clinic) and mileage: ``clinic_earned`` and ``used`` at a clinic (its accounts), ``accrued``
and ``used`` of the district's patients (``clinic`` is ``''``; these rows are sharded by
transaction id as the district expense account is, so a district's awards never queue on
one row). A reversal is counted in the month and kind of what it reverses, so both drop out.

``settlement_figures`` holds, per clinic and settlement quarter (``2024-Q2``), ``earned``,
``reimbursed`` and their ``corrections_*``: what a settlement line is made of.

Both are moved by the booking itself, in the same database transaction, with one upsert per
row it touches (``ledger.repository.figures``); ``mileage ledger verify`` recomputes them from
the entries and the registry, ``mileage ledger rebuild-read-models`` rebuilds them.

``filed_annual_tables`` and ``filed_annual_rows`` keep the city's annual table as it was
filed (who, when, every row's figures), so later late entries show as corrections beside it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, TZDateTime


# A clinic account's code is ``<type>:<owner>`` (``ledger.services.clinics``); the owner, a
# clinic's id, is what the rows are kept under, as long as an account code may be.
class ReportFigure(Base):
    __tablename__ = "report_figures"
    __table_args__ = (Index("ix_report_figures_clinic_month", "clinic", "month"),)

    district: Mapped[str] = mapped_column(String(5), primary_key=True)
    clinic: Mapped[str] = mapped_column(String(120), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    figure: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SettlementFigure(Base):
    __tablename__ = "settlement_figures"

    district: Mapped[str] = mapped_column(String(5), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    clinic: Mapped[str] = mapped_column(String(120), primary_key=True)
    figure: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class FiledAnnualTable(Base):
    """The city's annual table through ``through``, as filed."""

    __tablename__ = "filed_annual_tables"

    through: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    filed_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
    filed_by: Mapped[str] = mapped_column(String(120))


class FiledAnnualRow(Base):
    """One year's row of a filed annual table: the year's and the cumulative figures."""

    __tablename__ = "filed_annual_rows"

    through: Mapped[int] = mapped_column(
        ForeignKey("filed_annual_tables.through"), primary_key=True, autoincrement=False
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    districts: Mapped[int] = mapped_column(Integer)
    clinics_chronic: Mapped[int] = mapped_column(Integer)
    clinics_ophthalmology: Mapped[int] = mapped_column(Integer)
    registered: Mapped[int] = mapped_column(BigInteger)
    visits: Mapped[int] = mapped_column(BigInteger)
    education: Mapped[int] = mapped_column(BigInteger)
    accrued: Mapped[int] = mapped_column(BigInteger)
    used: Mapped[int] = mapped_column(BigInteger)
    clinic_earned: Mapped[int] = mapped_column(BigInteger)
    year_registered: Mapped[int] = mapped_column(BigInteger)
    year_visits: Mapped[int] = mapped_column(BigInteger)
    year_education: Mapped[int] = mapped_column(BigInteger)
    year_accrued: Mapped[int] = mapped_column(BigInteger)
    year_used: Mapped[int] = mapped_column(BigInteger)
    year_clinic_earned: Mapped[int] = mapped_column(BigInteger)
