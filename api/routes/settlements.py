"""Quarterly settlements: drafts, closing, payments, and the files officers submit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from actions import settlement
from api import present
from api.authorise import HealthCentreContext, VisibleSettlement
from api.deps import ContextDep, SessionDep
from api.exports import FILES, download
from api.schemas import PaymentCreate, Settlement, SettlementCreate, problems
from ledger.services import clinics
from ledger.services.report_files import settlement_sheet

router = APIRouter(prefix="/v1", tags=["settlement"])


@router.post(
    "/settlements", status_code=201, response_model=Settlement, responses=problems(403, 404)
)
def open_settlement(
    body: SettlementCreate, session: SessionDep, ctx: HealthCentreContext
) -> Settlement:
    """The district's settlement of a quarter: a draft, recomputed while it is one."""
    return present.settlement(settlement.open_settlement(session, ctx, **body.model_dump()))


@router.get(
    "/settlements/{settlement_id}",
    response_model=Settlement,
    responses={**problems(403, 404), **FILES},
)
def read_settlement(
    row: VisibleSettlement,
    session: SessionDep,
    ctx: ContextDep,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Settlement | Response:
    """A settlement; `?format=csv` or `?format=xlsx` for the file the officer submits."""
    view = settlement.show_settlement(session, ctx, row)
    if format == "json":
        return present.settlement(view)
    district = clinics.get_district(session, row.district)
    return download(settlement_sheet(view, district.name), format)


@router.post(
    "/settlements/{settlement_id}/close",
    response_model=Settlement,
    responses=problems(403, 404, 409),
)
def close_settlement(
    ctx: HealthCentreContext, row: VisibleSettlement, session: SessionDep
) -> Settlement:
    """Close the quarter for good and book the payouts; closing again changes nothing."""
    return present.settlement(settlement.close_settlement(session, ctx, row))


@router.post(
    "/settlements/{settlement_id}/payments",
    response_model=Settlement,
    responses=problems(403, 404, 409),
)
def record_payment(
    ctx: HealthCentreContext, row: VisibleSettlement, body: PaymentCreate, session: SessionDep
) -> Settlement:
    """Record a clinic's payout as paid (date, bank reference): payable becomes paid."""
    view = settlement.record_payment(session, ctx, row, **body.model_dump())
    return present.settlement(view)
