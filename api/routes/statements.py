"""Statements and reversals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import policy, present
from api.deps import AuditDep, PrincipalDep, SessionDep, TodayDep
from api.errors import InvalidRequest
from api.schemas import (
    ClinicStatement,
    PatientStatement,
    Reversal,
    ReversalCreate,
    problems,
)
from ledger.services import registry, statements
from ledger.services.booking import reverse
from ledger.services.periods import period_for
from ledger.services.reading import transaction

router = APIRouter(prefix="/v1", tags=["ledger"])

Year = Annotated[int, Query(ge=2013, le=2100, description="programme year")]


@router.get(
    "/patients/{patient_id}/statement", response_model=PatientStatement, responses=problems(404)
)
def patient_statement(
    patient_id: str, year: Year, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> PatientStatement:
    """A patient's year: opening balance, every award and spend with the running balance."""
    patient = registry.get_patient(session, patient_id)
    policy.check_patient(principal, patient)
    found = statements.patient_statement(session, patient, year)
    audit(
        "patient.statement", f"patients/{patient_id}/statement?year={year}", patient_id=patient_id
    )
    return PatientStatement(
        patient_id=patient_id,
        year=year,
        opening_balance=found.opening_balance,
        entries=present.lines(found.lines),
        closing_balance=found.closing_balance,
    )


@router.get(
    "/clinics/{clinic_id}/statement", response_model=ClinicStatement, responses=problems(404)
)
def clinic_statement(
    clinic_id: str,
    year: Year,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> ClinicStatement:
    """What a clinic earned and what patients spent there in a year or a quarter."""
    clinic = registry.get_clinic(session, clinic_id)
    policy.check_clinic(principal, clinic)
    audit("clinic.statement", f"clinics/{clinic_id}/statement?year={year}&quarter={quarter}")
    found = statements.clinic_statement(session, clinic, year, quarter)
    return ClinicStatement(
        clinic_id=clinic_id,
        year=year,
        quarter=quarter,
        entries=present.lines(found.lines),
        earned=found.earned,
        reimbursed=found.reimbursed,
        total=found.earned + found.reimbursed,
    )


@router.post(
    "/transactions/{transaction_id}/reversal",
    status_code=201,
    response_model=Reversal,
    responses=problems(403, 404, 409),
)
def reverse_transaction(
    transaction_id: str,
    body: ReversalCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Reversal:
    """Undo a transaction with its mirror image (the district's health centre, or the city)."""
    original = transaction(session, present.transaction_number(transaction_id))
    policy.check_reversal(principal, original)
    if not body.reason.strip():
        raise InvalidRequest("say why the transaction is reversed", field="reason")
    booked = reverse(
        session,
        transaction_id=original.id,
        reason=body.reason,
        effective_date=today,
        period=None if original.district is None else period_for(session, original.district, today),
        meta={"by": principal.key_id},
    )
    patient_id = (original.details or {}).get("meta", {}).get("patient")
    audit("transaction.reverse", f"transactions/{transaction_id}", patient_id=patient_id)
    return Reversal(
        transaction_id=str(booked.transaction_id),
        reverses=transaction_id,
        reason=body.reason,
        effective_date=today,
    )
