"""Spending mileage at a clinic, and undoing an entry: a clinic's void, a reversal by staff."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.errors import InvalidInput
from ledger.models import Patient, Transaction
from ledger.records import ReversalRecord, read_record
from ledger.services import corrections, spending
from ledger.services.booking import reverse
from ledger.services.periods import period_for
from ledger.services.spending import Spent

__all__ = ["Undone", "redeem", "reverse_transaction", "void_entry"]


@dataclass(frozen=True)
class Undone:
    """A reversal booked: its transaction, what it undid, why and when."""

    transaction_id: int
    reverses: int
    reason: str
    effective_date: dt.date


def redeem(
    session: Session,
    ctx: Context,
    patient: Patient,
    *,
    clinic_id: str,
    amount: int,
    purpose: str,
    spent_on: dt.date,
) -> Spent:
    """Spend ``amount`` M of the patient's balance at ``clinic_id`` for ``purpose``."""
    patient_id = patient.id
    spent = spending.redeem(
        session,
        patient_id=patient_id,
        clinic_id=clinic_id,
        amount=amount,
        purpose=purpose,
        spent_on=spent_on,
        recorded_by=ctx.label,
        today=ctx.today,
    )
    resource = f"patients/{patient_id}/redemptions/{spent.redemption.id}"
    ctx.audit(session, "redemption.create", resource, patient_id=patient_id)
    return spent


def void_entry(session: Session, ctx: Context, original: Transaction, *, reason: str) -> Undone:
    """The calling clinic voids its own mistaken entry while its quarter is open."""
    booked = corrections.void_entry(
        session,
        transaction_id=original.id,
        clinic_id=ctx.clinic_id,
        reason=reason,
        today=ctx.today,
    )
    ctx.audit(session, "transaction.void", f"transactions/{original.id}")
    return Undone(booked.transaction_id, original.id, reason, ctx.today)


def reverse_transaction(
    session: Session, ctx: Context, original: Transaction, *, reason: str
) -> Undone:
    """Undo ``original`` with its mirror image, booked today into the open quarter."""
    if not reason.strip():
        raise InvalidInput("say why the transaction is reversed", field="reason")
    booked = reverse(
        session,
        transaction_id=original.id,
        reason=reason,
        effective_date=ctx.today,
        period=None
        if original.district is None
        else period_for(session, original.district, ctx.today),
        record=ReversalRecord(by=ctx.principal.key_id),
    )
    patient_id = read_record((original.details or {}).get("meta")).patient
    ctx.audit(session, "transaction.reverse", f"transactions/{original.id}", patient_id=patient_id)
    return Undone(booked.transaction_id, original.id, reason, ctx.today)
