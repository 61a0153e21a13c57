"""Reports: per district, per clinic, and the city's annual table; also as CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from actions import reports as filing
from api import present
from api.authorise import CityContext, StaffContext, district_in_scope
from api.deps import SessionDep
from api.exports import FILES, download
from api.schemas import AnnualReport, ClinicReport, DistrictReport, FiledAnnualReport, problems
from ledger.services import reports
from ledger.services.report_files import annual_sheet, district_sheet

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Year = Annotated[int, Query(ge=2013, le=2100, description="programme year")]
FiledYear = Annotated[int, Path(ge=2013, le=2100, description="the table's last year")]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]


@router.get("/districts", response_model=DistrictReport, responses={**problems(403), **FILES})
def district_report(
    year: Year, session: SessionDep, ctx: StaffContext, format: Format = "json"
) -> DistrictReport | Response:
    """A row per district for the year and cumulative (a health centre: its own row)."""
    rows = reports.district_report(session, year, district=ctx.principal.district)
    total = reports.total_row(rows)
    if format != "json":
        return download(district_sheet(year, rows, total), format)
    items = [present.district_row(r) for r in rows]
    return DistrictReport(year=year, items=items, total=present.district_row(total))


@router.get("/clinics", response_model=ClinicReport, responses=problems(403, 404))
def clinic_report(
    year: Year,
    session: SessionDep,
    ctx: StaffContext,
    district: Annotated[str, Query(pattern=r"^[0-9]{5}$")],
) -> ClinicReport:
    """A row per clinic of a district (the district's health centre, or the city)."""
    district = district_in_scope(session, ctx, district)
    rows = reports.clinic_report(session, year, district=district)
    items = [present.clinic_report_row(r) for r in rows]
    return ClinicReport(year=year, district=district, items=items)


@router.get("/annual", response_model=AnnualReport, responses={**problems(403), **FILES})
def annual_report(
    through: Year, session: SessionDep, ctx: CityContext, format: Format = "json"
) -> AnnualReport | Response:
    """The city's January table: every year of data, cumulative since the first (the city)."""
    table = reports.annual_report(session, through=through)
    if format != "json":
        return download(annual_sheet(through, table), format)
    return AnnualReport(items=[present.annual_row(*entry) for entry in table])


@router.post(
    "/annual/{year}/file",
    status_code=201,
    response_model=FiledAnnualReport,
    responses=problems(403, 409, 422),
)
def file_annual_report(year: FiledYear, session: SessionDep, ctx: CityContext) -> FiledAnnualReport:
    """File the annual table through the year, once it has ended, for good (the city)."""
    return present.filed_annual(filing.file_annual_table(session, ctx, through=year))


@router.get("/annual/{year}/filed", response_model=FiledAnnualReport, responses=problems(403, 404))
def filed_annual_report(
    year: FiledYear, session: SessionDep, ctx: CityContext
) -> FiledAnnualReport:
    """The annual table as filed, each year with the corrections booked since (the city)."""
    return present.filed_annual(filing.show_filed_annual_table(session, ctx, through=year))
