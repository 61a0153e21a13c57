"""The city's reports: per district (and per clinic), for a year and cumulative.

``accrued`` is what patients were awarded (enrolment, visits, education, disease control,
and balances migrated from the previous system); ``used`` what they spent; clinics' earnings
are reported apart as ``clinic_earned``. A reversed transaction and its reversal both drop
out, so a reversal nets out what it reverses. ``usage_rate`` is used / accrued, rounded to 4
places, 0 when nothing accrued. Counts of visits and attendances include those that earned
nothing. Mileage is attributed to the district the patient enrolled in.

Every figure is read from the read models kept with the bookings (``report_figures``, see
``ledger.models.figures``): a report sums months, never history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Integer, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.errors import AlreadyFiled, InvalidInput, NotFound
from ledger.models import Clinic, District, FiledAnnualRow, FiledAnnualTable, ReportFigure
from ledger.repository.figures import month_of
from ledger.repository.missing import insert_missing

__all__ = [
    "AnnualLine",
    "Figures",
    "FiledLine",
    "FiledTable",
    "Row",
    "annual_report",
    "clinic_report",
    "district_report",
    "file_annual_table",
    "filed_annual_table",
    "usage_rate",
]


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


def _sums(
    session: Session, year: int, owner: Any, *where: Any
) -> dict[tuple[Any, ...], tuple[int, int]]:
    """(this year's sum, the cumulative sum) of the kept figures, per ``owner`` and figure,
    over the months up to the year's end, each month counted once whatever its shards."""
    first, last = month_of(dt.date(year, 1, 1)), month_of(dt.date(year, 12, 31))
    value = ReportFigure.value
    query = (
        select(
            *owner,
            ReportFigure.figure,
            func.coalesce(func.sum(case((ReportFigure.month >= first, value), else_=0)), 0),
            func.coalesce(func.sum(value), 0),
        )
        .where(ReportFigure.month <= last, *where)
        .group_by(*owner, ReportFigure.figure)
    )
    return {tuple(key): (int(y), int(t)) for *key, y, t in session.execute(query)}


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
    # Patients' mileage from the district's own rows, the rest from its clinics' rows.
    clinics_of_district = select(Clinic.id).where(Clinic.district == district)
    where = (
        []
        if district is None
        else [
            ReportFigure.district == district,
            or_(ReportFigure.clinic == "", ReportFigure.clinic.in_(clinics_of_district)),
        ]
    )
    district_wide = ReportFigure.clinic == literal_column("''")
    for (key, own, name), figures in _sums(
        session, year, (ReportFigure.district, district_wide), *where
    ).items():
        if name in (DISTRICT_FIGURES if own else CLINIC_FIGURES) and key in rows:
            _put(rows[key], name, figures)
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
    for (key, name), figures in _sums(
        session, year, (ReportFigure.clinic,), ReportFigure.clinic.in_(rows.keys())
    ).items():
        if name in CLINIC_REPORT_FIGURES:
            _put(rows[key], name, figures)
    return list(rows.values())


# Which kept figures make a row: the district's patients' mileage from its district-wide rows,
# counts and clinics' earnings from its clinics' rows; a clinic's all from its own rows.
DISTRICT_FIGURES = ("accrued", "used")
CLINIC_FIGURES = ("registered", "visits", "education", "clinic_earned")
CLINIC_REPORT_FIGURES = ("registered", "visits", "education", "used", "clinic_earned")


def _put(row: Row, name: str, figures: tuple[int, int]) -> None:
    setattr(row.year, name, figures[0])
    setattr(row.cumulative, name, figures[1])


def total_row(rows: list[Row], *, key: str = "total", name: str = "합계") -> Row:
    total = Row(key, name)
    for row in rows:
        total.clinics_chronic += row.clinics_chronic
        total.clinics_ophthalmology += row.clinics_ophthalmology
        total.year.add(row.year)
        total.cumulative.add(row.cumulative)
    return total


def annual_report(session: Session, *, through: int) -> list[tuple[int, int, Row]]:
    """The city's annual table: each year's districts, clinics and cumulative figures.

    Each year's line is the total row of that year's district report (the participating
    districts), read in one grouped query over the kept figures for all the years at once.
    """
    first = session.execute(select(func.min(ReportFigure.month))).scalar()
    if first is None:
        return []
    districts = {d.code for d in session.execute(select(District)).scalars() if d.participating}
    clinics = [c for c in session.execute(select(Clinic)).scalars() if c.district in districts]
    year_of = ReportFigure.month // literal_column("100", Integer)
    district_wide = ReportFigure.clinic == literal_column("''")
    sums = session.execute(
        select(ReportFigure.district, district_wide, ReportFigure.figure, year_of)
        .add_columns(func.sum(ReportFigure.value))
        .where(ReportFigure.month <= month_of(dt.date(through, 12, 31)))
        .group_by(ReportFigure.district, district_wide, ReportFigure.figure, year_of)
    )
    by_year: dict[int, Figures] = {}
    for district, own, name, year, value in sums:
        if district in districts and name in (DISTRICT_FIGURES if own else CLINIC_FIGURES):
            figures = by_year.setdefault(int(year), Figures())
            setattr(figures, name, getattr(figures, name) + int(value))
    table = []
    cumulative = Figures()
    for year in range(first // 100, through + 1):
        start, end = _bounds(year)
        total = Row("total", "합계")
        active = set()
        for clinic in clinics:
            if _participating(clinic, start, end):
                active.add(clinic.district)
                if clinic.kind == "chronic":
                    total.clinics_chronic += 1
                else:
                    total.clinics_ophthalmology += 1
        total.year = by_year.get(year, Figures())
        cumulative.add(total.year)
        total.cumulative = Figures(**vars(cumulative))
        table.append((year, len(active), total))
    return table


# The annual table as filed ------------------------------------------------------------------

FIGURE_NAMES = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class AnnualLine:
    """One year of the annual table: the districts taking part and the city's total row."""

    year: int
    districts: int
    row: Row


@dataclass(frozen=True)
class FiledLine:
    """A year's line as filed, the same line as the ledger gives it now, and the difference:
    what late entries (and reversals) booked since the filing changed."""

    filed: AnnualLine
    current: AnnualLine

    @property
    def corrections(self) -> dict[str, int]:
        """Current minus filed, per figure (cumulative), and the districts and clinics."""
        now, then = self.current, self.filed
        out = {
            "districts": now.districts - then.districts,
            "clinics_chronic": now.row.clinics_chronic - then.row.clinics_chronic,
            "clinics_ophthalmology": (
                now.row.clinics_ophthalmology - then.row.clinics_ophthalmology
            ),
        }
        for name in FIGURE_NAMES:
            out[name] = getattr(now.row.cumulative, name) - getattr(then.row.cumulative, name)
            out[f"year_{name}"] = getattr(now.row.year, name) - getattr(then.row.year, name)
        return out


@dataclass(frozen=True)
class FiledTable:
    through: int
    filed_at: dt.datetime
    filed_by: str
    lines: list[FiledLine]


def annual_lines(session: Session, *, through: int) -> list[AnnualLine]:
    return [AnnualLine(*entry) for entry in annual_report(session, through=through)]


def file_annual_table(
    session: Session, *, through: int, filed_by: str, today: dt.date
) -> FiledTable:
    """Keep the annual table through ``through`` as it stands now, for good.

    A year's table is filed once the year has ended, and once: filing it again is refused
    (:class:`AlreadyFiled`); two filings at once file one table.
    """
    if through >= today.year:
        raise InvalidInput(
            f"the table through {through} is filed once {through} has ended", field="year"
        )
    lines = annual_lines(session, through=through)
    if not lines:
        raise InvalidInput("there is nothing to file: the ledger has no figures", field="year")
    if not insert_missing(
        session, FiledAnnualTable, through=through, filed_at=clock.now(), filed_by=filed_by
    ):
        raise AlreadyFiled(f"the annual table through {through} was filed already")
    for line in lines:
        session.add(
            FiledAnnualRow(
                through=through,
                year=line.year,
                districts=line.districts,
                clinics_chronic=line.row.clinics_chronic,
                clinics_ophthalmology=line.row.clinics_ophthalmology,
                **{name: getattr(line.row.cumulative, name) for name in FIGURE_NAMES},
                **{f"year_{name}": getattr(line.row.year, name) for name in FIGURE_NAMES},
            )
        )
    session.flush()
    return filed_annual_table(session, through=through)


def filed_annual_table(session: Session, *, through: int) -> FiledTable:
    """The table through ``through`` as filed, each line beside the ledger's figures now."""
    filed = session.get(FiledAnnualTable, through)
    if filed is None:
        raise NotFound(f"the annual table through {through} has not been filed")
    rows = session.execute(
        select(FiledAnnualRow)
        .where(FiledAnnualRow.through == through)
        .order_by(FiledAnnualRow.year)
    ).scalars()
    current = {line.year: line for line in annual_lines(session, through=through)}
    lines = []
    for stored in rows:
        row = Row("total", "합계", stored.clinics_chronic, stored.clinics_ophthalmology)
        for name in FIGURE_NAMES:
            setattr(row.cumulative, name, getattr(stored, name))
            setattr(row.year, name, getattr(stored, f"year_{name}"))
        was = AnnualLine(stored.year, stored.districts, row)
        now = current.get(stored.year, AnnualLine(stored.year, 0, Row("total", "합계")))
        lines.append(FiledLine(was, now))
    return FiledTable(filed.through, filed.filed_at, filed.filed_by, lines)
