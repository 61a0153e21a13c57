"""Erasing a patient's personal data (PIPA), keeping everything else.

``erase_personal_data`` clears the patient's name, birth date and phone, scrubs them from
the stored answers of idempotent requests (``ledger.services.retention``), and records the
erasure (``erasures``: who, when, why) with a keyed hash of who the patient was
(``ledger.services.identity``), so the same person registering again is recognised.

Nothing else holds a patient's personal data: the ledger's rows name accounts by opaque id,
events name the patient by id, the audit trail records ids. So balances, statements and
reports are untouched. Two neighbours do hold it and are seen to by the caller
(``actions.erasure``): the patient leaves the programme first (the database refuses an
erased patient who is active), and their texts (which greet them by name) are the outbox's.

Free text typed about a patient is not personal data the service can find: the erasure's own
reason is refused when it names the patient; a reversal's reason lives in the append-only
ledger and cannot be erased, so it must never name anyone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.errors import Conflict, InvalidInput, PatientErased
from ledger.ids import new_id
from ledger.models import Erasure
from ledger.services import identity, retention
from ledger.services.registry import get_patient
from ledger.vocabulary import PatientStatus

__all__ = ["PersonalDataErased", "erase_personal_data", "personal_forms"]

MAX_REASON = 500


@dataclass(frozen=True)
class PersonalDataErased:
    """The erasure's record, and how many stored answers lost the patient's fields."""

    erasure: Erasure
    answers_scrubbed: int


def personal_forms(name: str, birth_date: dt.date, phone: str) -> tuple[str, ...]:
    """The spellings in which a patient's personal data is stored or shown: the name, the
    phone as E.164 and as written in Korea (with and without dashes), the birth date."""
    number = phonenumbers.parse(phone, "KR")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return (name, phone, national, national.replace("-", ""), birth_date.isoformat())


def erase_personal_data(
    session: Session,
    *,
    patient_id: str,
    reason: str,
    erased_by: str,
    key_id: str | None,
    now: dt.datetime,
) -> PersonalDataErased:
    """Clear a patient's name, birth date and phone everywhere; the patient must have left."""
    patient = get_patient(session, patient_id, for_update=True)
    name, birth_date, phone = patient.name, patient.birth_date, patient.phone
    if name is None or birth_date is None or phone is None:
        raise PatientErased(f"patient {patient.id}'s personal data was erased already")
    if patient.status == PatientStatus.ACTIVE:
        raise Conflict(f"patient {patient.id} is still in the programme; they leave first")
    forms = personal_forms(name, birth_date, phone)
    reason = _reason(reason, forms)
    _overwrite_what_is_freed(session)
    scrubbed = retention.scrub_patient(session, patient.id, forms=forms, now=now)
    erasure = Erasure(
        id=new_id("era"),
        patient_id=patient.id,
        identity_hash=identity.identity_hash(
            identity.signing_key(session), name=name, birth_date=birth_date, phone=phone
        ),
        reason=reason,
        erased_by=erased_by,
        key_id=key_id,
        erased_at=now,
    )
    patient.name = patient.birth_date = patient.phone = None
    session.add(erasure)
    session.flush()
    return PersonalDataErased(erasure, scrubbed)


def _reason(reason: str, forms: tuple[str, ...]) -> str:
    """The reason, kept for good: refused empty, too long, or naming the patient."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why the patient's data is erased", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is at most {MAX_REASON} characters", field="reason")
    name, _, _, local, born = forms
    # Numbers as people write them: 010-2024-0321, +82 10 2024 0321, 1957.3.21 aside.
    numbers = re.sub(r"[\s\-.()+/]", "", reason)
    if (
        identity.normalise_name(name) in identity.normalise_name(reason)
        or local[1:] in numbers
        or born.replace("-", "") in numbers
    ):
        raise InvalidInput(
            "the reason is kept after the erasure: leave the patient's name, phone and "
            "birth date out of it (their id is recorded with it)",
            field="reason",
        )
    return reason


def _overwrite_what_is_freed(session: Session) -> None:
    """On SQLite, have the cleared values overwritten in the file, not left in free space.
    (PostgreSQL leaves the old row versions until VACUUM reclaims them.)"""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))
