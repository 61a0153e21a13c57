"""Spending mileage at a clinic, and a clinic voiding its own mistaken entry."""

from __future__ import annotations

from fastapi import APIRouter

from actions import spending
from api import present
from api.authorise import ClinicContext, OwnEntry, SpendingPatient
from api.deps import SessionDep
from api.schemas import Redemption, RedemptionCreate, Reversal, VoidCreate, problems

router = APIRouter(prefix="/v1", tags=["spending"])


@router.post(
    "/patients/{patient_id}/redemptions",
    status_code=201,
    response_model=Redemption,
    responses=problems(403, 404, 409),
)
def redeem(
    patient: SpendingPatient, body: RedemptionCreate, session: SessionDep, ctx: ClinicContext
) -> Redemption:
    """Spend mileage at the calling clinic: any participating clinic where the patient may."""
    spent = spending.redeem(session, ctx, patient, clinic_id=ctx.clinic_id, **body.model_dump())
    return present.redemption(spent)


@router.post(
    "/transactions/{transaction_id}/void",
    status_code=201,
    response_model=Reversal,
    responses=problems(403, 404, 409),
)
def void(original: OwnEntry, body: VoidCreate, session: SessionDep, ctx: ClinicContext) -> Reversal:
    """A clinic voids its own mistaken entry while its quarter is open (booked as a reversal)."""
    return present.reversal(spending.void_entry(session, ctx, original, reason=body.reason))
