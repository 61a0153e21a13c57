"""Quarterly settlements: drafts, closing, payments, and the files officers submit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import policy
from api.deps import AuditDep, PrincipalDep, SessionDep, TodayDep
from api.errors import Forbidden
from api.exports import csv_response, xlsx_response
from api.schemas import PaymentCreate, Settlement, SettlementCreate, SettlementLine, problems
from ledger.errors import NotFound
from ledger.models import Settlement as SettlementRow
from ledger.services import registry, settlement
from ledger.services.access import Principal

router = APIRouter(prefix="/v1", tags=["settlement"])

HEADERS = [
    "의료기관 ID",
    "의료기관명",
    "적립(기관)",
    "사용(상환)",
    "정정",
    "지급액",
    "지급일",
    "이체 참조",
]
EXPORTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
        "description": "the settlement; as CSV or XLSX with ?format=",
    }
}


def _visible(session: SessionDep, principal: Principal, settlement_id: str) -> SettlementRow:
    """A settlement the caller's role may read (city, health centre) and that it can see."""
    policy.require_role(principal, "city", "health_center")
    found = settlement.get_settlement(session, settlement_id)
    if not policy.sees_district(principal, found.district):
        raise NotFound(f"no settlement {settlement_id!r}")
    return found


def _shown(session: SessionDep, row: SettlementRow) -> Settlement:
    if row.status == "draft":
        row = settlement.open_settlement(
            session, district=row.district, year=row.year, quarter=row.quarter
        )
    lines = settlement.lines_of(session, row)
    return Settlement(
        id=row.id,
        district=row.district,
        year=row.year,
        quarter=row.quarter,
        status=row.status,  # type: ignore[arg-type]
        lines=[
            SettlementLine(
                clinic_id=line.clinic_id,
                clinic_name=name,
                earned=line.earned,
                reimbursed=line.reimbursed,
                corrections=line.corrections,
                payout=line.payout,
                status="draft"
                if row.status == "draft"
                else ("paid" if line.paid_on else "payable"),
                paid_on=line.paid_on,
                payment_reference=line.payment_reference,
            )
            for line, name in lines
        ],
        total=row.total,
        computed_at=row.computed_at,
        closed_at=row.closed_at,
        transaction_id=None if row.transaction_id is None else str(row.transaction_id),
    )


@router.post(
    "/settlements", status_code=201, response_model=Settlement, responses=problems(403, 404)
)
def open_settlement(
    body: SettlementCreate, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> Settlement:
    """The district's settlement of a quarter: a draft, recomputed while it is one."""
    policy.require_role(principal, "health_center")
    if principal.district != body.district:
        raise Forbidden("a health centre settles its own district")
    row = settlement.open_settlement(
        session, district=body.district, year=body.year, quarter=body.quarter
    )
    audit("settlement.open", f"settlements/{row.id}")
    return _shown(session, row)


@router.get(
    "/settlements/{settlement_id}",
    response_model=Settlement,
    responses={**problems(403, 404), **EXPORTS},
)
def read_settlement(
    settlement_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Settlement | Response:
    """A settlement; `?format=csv` or `?format=xlsx` for the file the officer submits."""
    shown = _shown(session, _visible(session, principal, settlement_id))
    if format == "json":
        return shown
    district = registry.get_district(session, shown.district)
    name = f"{shown.year}년 {shown.quarter}분기 {district.name} 건강관리 마일리지 정산"
    rows: list[list[Any]] = [
        [
            line.clinic_id,
            line.clinic_name,
            line.earned,
            line.reimbursed,
            line.corrections,
            line.payout,
            line.paid_on.isoformat() if line.paid_on else "",
            line.payment_reference or "",
        ]
        for line in shown.lines
    ]
    totals = [
        "합계",
        "",
        sum(r[2] for r in rows),
        sum(r[3] for r in rows),
        sum(r[4] for r in rows),
        shown.total,
        "",
        "",
    ]
    filename = f"settlement-{shown.district}-{shown.year}Q{shown.quarter}"
    if format == "csv":
        return csv_response(filename, HEADERS, [*rows, totals])
    status = "마감" if shown.status == "closed" else "가집계(미마감)"
    grant: list[list[Any]] = [
        ["보조금 교부 신청", ""],
        ["자치구", f"{district.name} ({shown.district})"],
        ["기간", f"{shown.year}년 {shown.quarter}분기"],
        ["상태", status],
        ["신청 금액 (원)", shown.total],
        ["의료기관 수", len(rows)],
    ]
    return xlsx_response(
        filename,
        f"{name} ({status})",
        HEADERS,
        rows,
        totals=totals,
        extra_sheets=[("교부신청", grant)],
    )


@router.post(
    "/settlements/{settlement_id}/close",
    response_model=Settlement,
    responses=problems(403, 404, 409),
)
def close_settlement(
    settlement_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Settlement:
    """Close the quarter for good and book the payouts; closing again changes nothing."""
    policy.require_role(principal, "health_center")
    row = _visible(session, principal, settlement_id)
    settlement.close_settlement(session, row.id, closed_by=principal.label, today=today)
    audit("settlement.close", f"settlements/{row.id}")
    return _shown(session, row)


@router.post(
    "/settlements/{settlement_id}/payments",
    response_model=Settlement,
    responses=problems(403, 404, 409),
)
def record_payment(
    settlement_id: str,
    body: PaymentCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> Settlement:
    """Record a clinic's payout as paid (date, bank reference): payable becomes paid."""
    policy.require_role(principal, "health_center")
    row = _visible(session, principal, settlement_id)
    settlement.record_payment(
        session, row.id, clinic_id=body.clinic_id, paid_on=body.paid_on, reference=body.reference
    )
    audit("settlement.payment", f"settlements/{row.id}/payments/{body.clinic_id}")
    return _shown(session, row)
