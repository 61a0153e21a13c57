"""Statements as a person reads them: a patient's year, a clinic's year or quarter, a receipt
for one entry (audited)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.models import Clinic, Patient, Transaction
from ledger.services import statements
from ledger.services.statements import ClinicStatement, PatientStatement, Receipt

__all__ = ["show_clinic_statement", "show_patient_statement", "show_receipt"]


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


def show_receipt(session: Session, ctx: Context, entry: Transaction, patient: Patient) -> Receipt:
    """A receipt for one of a patient's entries (a payment in mileage, an award, a void):
    what it was, its amount and the balance after it, as the patient's statement shows."""
    found = statements.receipt(session, entry, patient)
    ctx.audit(session, "transaction.receipt", f"transactions/{entry.id}", patient_id=patient.id)
    return found
