"""Statements as a person reads them: a patient's year, a clinic's year or quarter (audited)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.models import Clinic, Patient
from ledger.services import statements
from ledger.services.statements import ClinicStatement, PatientStatement

__all__ = ["show_clinic_statement", "show_patient_statement"]


def show_patient_statement(
    session: Session, ctx: Context, patient: Patient, *, year: int
) -> PatientStatement:
    """A patient's year: opening balance, every award and spend with the running balance."""
    found = statements.patient_statement(session, patient, year)
    resource = f"patients/{patient.id}/statement?year={year}"
    ctx.audit(session, "patient.statement", resource, patient_id=patient.id)
    return found


def show_clinic_statement(
    session: Session, ctx: Context, clinic: Clinic, *, year: int, quarter: int | None
) -> ClinicStatement:
    """What a clinic earned and what patients spent there in a year or a quarter."""
    ctx.audit(
        session, "clinic.statement", f"clinics/{clinic.id}/statement?year={year}&quarter={quarter}"
    )
    return statements.clinic_statement(session, clinic, year, quarter)
