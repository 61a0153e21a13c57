"""Erasing a patient's personal data at their request (PIPA): one action for every edge
(``mileage patients erase`` and ``POST /v1/patients/{id}/erasure``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions.context import Context
from actions.patients import leave_programme
from ledger.errors import PatientErased
from ledger.models import Erasure, Patient
from ledger.services import erasure
from ledger.vocabulary import PatientStatus
from notifications import outbox

__all__ = ["Erased", "erase_patient"]


@dataclass(frozen=True)
class Erased:
    """What an erasure did: its record, the patient as left, what it scrubbed."""

    erasure: Erasure
    patient: Patient
    answers_scrubbed: int
    texts_blanked: int


def erase_patient(session: Session, ctx: Context, patient: Patient, *, reason: str) -> Erased:
    """Erase a patient's name, birth date and phone from every table, keeping the ledger.

    An active patient leaves the programme first, as ``withdrawn`` (their balance goes as
    the rules say for leaving, their queued texts are cancelled); then no text of theirs goes
    out or keeps its words, and the erasure is recorded (who, whom, why) and audited.
    """
    if patient.erased:
        raise PatientErased(f"patient {patient.id}'s personal data was erased already")
    if patient.status == PatientStatus.ACTIVE:
        leave_programme(session, ctx, patient, status=PatientStatus.WITHDRAWN, on=None)
    erased = erasure.erase_personal_data(
        session,
        patient_id=patient.id,
        reason=reason,
        erased_by=ctx.label,
        key_id=ctx.principal.key_id,
        now=ctx.now,
    )
    blanked = outbox.forget_texts(session, patient.id, now=ctx.now)
    ctx.audit(session, "patient.erase", f"patients/{patient.id}", patient_id=patient.id)
    return Erased(erased.erasure, patient, erased.answers_scrubbed, blanked)
