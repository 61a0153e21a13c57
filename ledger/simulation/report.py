"""What a run reports: its counts (:class:`SimulationResult`), a one-line summary, and the
city's annual table read back from the district report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ledger.services.reports import district_report, total_row
from ledger.simulation.model import FIRST_YEAR

__all__ = ["REPORTED_FROM", "SimulationResult", "report_lines", "summary"]

# The demo prints the annual table from the programme doc's first reported year.
REPORTED_FROM = 2021


@dataclass
class SimulationResult:
    districts: int = 0
    clinics_chronic: int = 0
    clinics_ophthalmology: int = 0
    patients: int = 0
    visits: int = 0
    attendances: int = 0
    redemptions: int = 0
    transactions: int = 0
    through: dt.date = dt.date(FIRST_YEAR, 12, 31)
    seconds: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)
    sample_patient: str = ""
    sample_clinic: str = ""


def summary(result: SimulationResult) -> str:
    return (
        f"Seoul {FIRST_YEAR} to {result.through}: {result.districts} districts, "
        f"{result.clinics_chronic} chronic and {result.clinics_ophthalmology} ophthalmology "
        f"clinics, {result.patients:,} patients, {result.visits:,} visits, "
        f"{result.attendances:,} education attendances, {result.redemptions:,} spends; "
        f"{result.transactions:,} transactions in {result.seconds:.0f} s"
    )


def report_lines(session: Session, through: dt.date, *, first: int = REPORTED_FROM) -> list[str]:
    """The city's annual table from ``first`` to ``through`` (cumulative since 2013, as the
    programme doc reports it), from the district report, with each year's own usage rate."""
    lines = [
        "year  districts  clinics (chronic/eye)  registered     visits  education"
        "        accrued M           used M  usage  year's usage"
    ]
    for year in range(max(first, FIRST_YEAR), through.year + 1):
        rows = district_report(session, year)
        districts = sum(1 for r in rows if r.clinics_chronic + r.clinics_ophthalmology)
        row = total_row(rows)
        c = row.cumulative
        clinics = f"{row.clinics_chronic + row.clinics_ophthalmology} "
        clinics += f"({row.clinics_chronic}/{row.clinics_ophthalmology})"
        lines.append(
            f"{year}  {districts:>9}  {clinics:>21}  {c.registered:>10,}  {c.visits:>9,}"
            f"  {c.education:>9,}  {c.accrued:>15,}  {c.used:>15,}  {c.usage_rate:>5.1%}"
            f"  {row.year.usage_rate:>12.1%}"
        )
    return lines
