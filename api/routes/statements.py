"""Statements and reversals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from actions import spending, statements
from api import present
from api.authorise import ReversibleTransaction, VisibleClinic, VisiblePatient
from api.deps import ContextDep, SessionDep
from api.schemas import ClinicStatement, PatientStatement, Reversal, ReversalCreate, problems

router = APIRouter(prefix="/v1", tags=["ledger"])

Year = Annotated[int, Query(ge=2013, le=2100, description="programme year")]


@router.get(
    "/patients/{patient_id}/statement", response_model=PatientStatement, responses=problems(404)
)
def patient_statement(
    patient: VisiblePatient, year: Year, session: SessionDep, ctx: ContextDep
) -> PatientStatement:
    """A patient's year: opening balance, every award and spend with the running balance."""
    found = statements.show_patient_statement(session, ctx, patient, year=year)
    return present.patient_statement(patient.id, year, found)


@router.get(
    "/clinics/{clinic_id}/statement", response_model=ClinicStatement, responses=problems(404)
)
def clinic_statement(
    clinic: VisibleClinic,
    year: Year,
    session: SessionDep,
    ctx: ContextDep,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> ClinicStatement:
    """What a clinic earned and what patients spent there in a year or a quarter."""
    found = statements.show_clinic_statement(session, ctx, clinic, year=year, quarter=quarter)
    return present.clinic_statement(clinic.id, found)


@router.post(
    "/transactions/{transaction_id}/reversal",
    status_code=201,
    response_model=Reversal,
    responses=problems(403, 404, 409),
)
def reverse_transaction(
    original: ReversibleTransaction, body: ReversalCreate, session: SessionDep, ctx: ContextDep
) -> Reversal:
    """Undo a transaction with its mirror image (the district's health centre, or the city)."""
    undone = spending.reverse_transaction(session, ctx, original, reason=body.reason)
    return present.reversal(undone)
