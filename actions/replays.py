"""What the repeat of an idempotent request is shown: the first answer, as its caller may
read it now (a patient in it may have moved away from the caller, or been erased)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions import policy
from ledger.errors import NotFound
from ledger.services.access import Principal
from ledger.services.registry import get_patient
from ledger.services.retention import narrowed

__all__ = ["as_readable_now"]


def as_readable_now(session: Session, principal: Principal, status: int, body: bytes) -> bytes:
    """The stored answer with each patient the caller may no longer read cut to their ids."""

    def readable(patient_id: str) -> bool:
        try:
            policy.check_patient(principal, get_patient(session, patient_id))
        except NotFound:
            return False
        return True

    text = body.decode("utf-8", "replace")
    shown = narrowed(text, status, readable)
    return body if shown is text else shown.encode()
