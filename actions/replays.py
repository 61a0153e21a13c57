"""What the repeat of an idempotent request is shown: the first answer, as its caller may
read it now (a patient in it may have moved away from the caller, or been erased)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions import policy
from ledger import clock
from ledger.errors import NotFound
from ledger.services.access import Principal
from ledger.services.clinics import get_clinic
from ledger.services.registry import get_patient
from ledger.services.retention import narrowed

__all__ = ["LOOK_UP_PATH", "as_readable_now"]

LOOK_UP_PATH = "/v1/patient-lookups"


def as_readable_now(
    session: Session, principal: Principal, status: int, body: bytes, *, path: str
) -> bytes:
    """The stored answer with each patient the caller may no longer read cut to their ids;
    for a look-up (``path``), a patient the caller may no longer find."""
    clinic = None if principal.clinic_id is None else get_clinic(session, principal.clinic_id)

    def readable(patient_id: str) -> bool:
        try:
            patient = get_patient(session, patient_id)
            if path == LOOK_UP_PATH:
                return policy.may_look_up(principal, patient, clinic, clock.today())
            policy.check_patient(principal, patient)
        except NotFound:
            return False
        return True

    text = body.decode("utf-8", "replace")
    shown = narrowed(text, status, readable)
    return body if shown is text else shown.encode()
