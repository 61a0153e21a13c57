"""Spending mileage at a clinic, and a clinic voiding its own mistaken entry."""

from __future__ import annotations

from fastapi import APIRouter

from api import policy, present
from api.deps import AuditDep, PrincipalDep, SessionDep, TodayDep
from api.schemas import Redemption, RedemptionCreate, Reversal, VoidCreate, problems
from ledger.services import settlement, spending

router = APIRouter(prefix="/v1", tags=["spending"])


@router.post(
    "/patients/{patient_id}/redemptions",
    status_code=201,
    response_model=Redemption,
    responses=problems(403, 404),
)
def redeem(
    patient_id: str,
    body: RedemptionCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Redemption:
    """Spend mileage at the calling clinic: any participating clinic where the patient may."""
    policy.require_role(principal, "clinic")
    assert principal.clinic_id is not None
    spent = spending.redeem(
        session,
        patient_id=patient_id,
        clinic_id=principal.clinic_id,
        amount=body.amount,
        purpose=body.purpose,
        spent_on=body.spent_on,
        recorded_by=principal.label,
        today=today,
    )
    redemption = spent.redemption
    audit(
        "redemption.create",
        f"patients/{patient_id}/redemptions/{redemption.id}",
        patient_id=patient_id,
    )
    return Redemption(
        id=redemption.id,
        transaction_id=str(redemption.transaction_id),
        patient_id=patient_id,
        clinic_id=redemption.clinic_id,
        amount=redemption.amount,
        purpose=redemption.purpose,
        spent_on=redemption.spent_on,
        balance=spent.balance,
    )


@router.post(
    "/transactions/{transaction_id}/void",
    status_code=201,
    response_model=Reversal,
    responses=problems(403, 404, 409),
)
def void(
    transaction_id: str,
    body: VoidCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Reversal:
    """A clinic voids its own mistaken entry while its quarter is open (booked as a reversal)."""
    policy.require_role(principal, "clinic")
    assert principal.clinic_id is not None
    booked = settlement.void_entry(
        session,
        transaction_id=present.transaction_number(transaction_id),
        clinic_id=principal.clinic_id,
        reason=body.reason,
        today=today,
    )
    audit("transaction.void", f"transactions/{transaction_id}")
    return Reversal(
        transaction_id=str(booked.transaction_id),
        reverses=transaction_id,
        reason=body.reason,
        effective_date=today,
    )
