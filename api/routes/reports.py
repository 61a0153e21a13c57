"""Reports: per district, per clinic, and the city's annual table; also as CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import policy
from api.deps import PrincipalDep, SessionDep
from api.errors import Forbidden
from api.exports import csv_response, xlsx_response
from api.schemas import (
    AnnualReport,
    AnnualReportRow,
    ClinicReport,
    ClinicReportRow,
    DistrictReport,
    DistrictReportRow,
    problems,
)
from ledger.services import registry, reports
from ledger.services.reports import Row

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Year = Annotated[int, Query(ge=2013, le=2100, description="programme year")]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
        "description": "the report; as CSV or XLSX with ?format=",
    }
}
DISTRICT_HEADERS = [
    "자치구 코드",
    "자치구",
    "만성질환 의원",
    "안과 의원",
    "등록",
    "진료",
    "교육",
    "적립",
    "사용",
    "사용율",
    "기관 적립",
    "누적 등록",
    "누적 진료",
    "누적 교육",
    "누적 적립",
    "누적 사용",
    "누적 사용율",
    "누적 기관 적립",
]


def district_row(row: Row) -> DistrictReportRow:
    y, c = row.year, row.cumulative
    return DistrictReportRow(
        district=row.key,
        name=row.name,
        clinics_chronic=row.clinics_chronic,
        clinics_ophthalmology=row.clinics_ophthalmology,
        registered=y.registered,
        visits=y.visits,
        education=y.education,
        accrued=y.accrued,
        used=y.used,
        usage_rate=float(y.usage_rate),
        clinic_earned=y.clinic_earned,
        cumulative_registered=c.registered,
        cumulative_visits=c.visits,
        cumulative_education=c.education,
        cumulative_accrued=c.accrued,
        cumulative_used=c.used,
        cumulative_usage_rate=float(c.usage_rate),
        cumulative_clinic_earned=c.clinic_earned,
    )


@router.get("/districts", response_model=DistrictReport, responses={**problems(403), **FILES})
def district_report(
    year: Year, session: SessionDep, principal: PrincipalDep, format: Format = "json"
) -> DistrictReport | Response:
    """A row per district for the year and cumulative (a health centre: its own row)."""
    policy.require_role(principal, "city", "health_center")
    rows = reports.district_report(session, year, district=principal.district)
    body = DistrictReport(
        year=year,
        items=[district_row(r) for r in rows],
        total=district_row(reports.total_row(rows)),
    )
    if format == "json":
        return body
    table = [list(r.model_dump().values()) for r in [*body.items, body.total]]
    filename = f"report-districts-{year}"
    if format == "csv":
        return csv_response(filename, DISTRICT_HEADERS, table)
    return xlsx_response(
        filename,
        f"{year}년 건강관리 마일리지 자치구별 현황",
        DISTRICT_HEADERS,
        table[:-1],
        totals=table[-1],
        rate_columns=(9, 16),
    )


@router.get("/clinics", response_model=ClinicReport, responses=problems(403, 404))
def clinic_report(
    year: Year,
    session: SessionDep,
    principal: PrincipalDep,
    district: Annotated[str, Query(pattern=r"^\d{5}$")],
) -> ClinicReport:
    """A row per clinic of a district (the district's health centre, or the city)."""
    policy.require_role(principal, "city", "health_center")
    if not policy.sees_district(principal, district):
        raise Forbidden("a health centre reads its own district's clinics")
    registry.get_district(session, district)
    rows = reports.clinic_report(session, year, district=district)
    return ClinicReport(
        year=year,
        district=district,
        items=[
            ClinicReportRow(
                clinic_id=r.key,
                name=r.name,
                registered=r.year.registered,
                visits=r.year.visits,
                education=r.year.education,
                used=r.year.used,
                clinic_earned=r.year.clinic_earned,
                cumulative_registered=r.cumulative.registered,
                cumulative_visits=r.cumulative.visits,
                cumulative_education=r.cumulative.education,
                cumulative_used=r.cumulative.used,
                cumulative_clinic_earned=r.cumulative.clinic_earned,
            )
            for r in rows
        ],
    )


@router.get("/annual", response_model=AnnualReport, responses={**problems(403), **FILES})
def annual_report(
    through: Year, session: SessionDep, principal: PrincipalDep, format: Format = "json"
) -> AnnualReport | Response:
    """The city's January table: every year of data, cumulative since the first (the city)."""
    policy.require_role(principal, "city")
    body = AnnualReport(
        items=[
            AnnualReportRow(
                year=year,
                districts=districts,
                clinics=row.clinics_chronic + row.clinics_ophthalmology,
                clinics_chronic=row.clinics_chronic,
                clinics_ophthalmology=row.clinics_ophthalmology,
                registered=row.cumulative.registered,
                visits=row.cumulative.visits,
                education=row.cumulative.education,
                accrued=row.cumulative.accrued,
                used=row.cumulative.used,
                usage_rate=float(row.cumulative.usage_rate),
                year_usage_rate=float(row.year.usage_rate),
            )
            for year, districts, row in reports.annual_report(session, through=through)
        ]
    )
    if format == "json":
        return body
    headers = [
        "연도",
        "자치구",
        "의료기관",
        "만성질환",
        "안과",
        "누적 등록",
        "누적 진료",
        "누적 교육",
        "누적 적립",
        "누적 사용",
        "누적 사용율",
        "연간 사용율",
    ]
    table = [
        [
            r.year,
            r.districts,
            r.clinics,
            r.clinics_chronic,
            r.clinics_ophthalmology,
            r.registered,
            r.visits,
            r.education,
            r.accrued,
            r.used,
            float(r.usage_rate),
            float(r.year_usage_rate),
        ]
        for r in body.items
    ]
    filename = f"report-annual-{through}"
    if format == "csv":
        return csv_response(filename, headers, table)
    return xlsx_response(
        filename,
        f"건강관리 마일리지 연도별 현황 ({through}년까지, 누적)",
        headers,
        table,
        rate_columns=(10, 11),
    )
