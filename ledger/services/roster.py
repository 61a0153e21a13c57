"""A district's patients as its health centre finds them in a list: by a part of the name,
the last four digits of the phone, or the birth date; and an education class's attendees.

A look-up (``registry.find_patient``) names one person exactly, for a clinic's desk; this is
a list for ticking, within one district only (the caller's scope is the action's to check).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ledger.models import Attendance, EducationSession, Entry, Patient
from ledger.text import normalise_name
from ledger.vocabulary import PatientStatus

__all__ = ["Attendee", "attendees", "district_classes", "search_patients"]

_DIGITS4 = re.compile(r"[0-9]{4}")


def _birth_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def search_patients(
    session: Session, *, district: str, text: str, after: str | None, limit: int
) -> list[Patient]:
    """The district's active patients matching ``text`` (a part of the name, a phone's last
    four digits, or a birth date as 1958-04-12), by name then id, after ``after`` (an id)."""
    text = normalise_name(text)
    query = select(Patient).where(
        Patient.district == district, Patient.status == PatientStatus.ACTIVE
    )
    born = _birth_date(text)
    if born is not None:
        query = query.where(Patient.birth_date == born)
    elif _DIGITS4.fullmatch(text):
        query = query.where(Patient.phone.like(f"%{text}"))
    elif text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Patient.name.like(f"%{escaped}%", escape="\\"))
    if after is not None:
        query = query.where(Patient.id > after)
    return list(session.execute(query.order_by(Patient.id).limit(limit)).scalars())


@dataclass(frozen=True)
class Attendee:
    """A patient recorded at a class: who, when, by whom, and what it credited them."""

    patient_id: str
    name: str | None
    recorded_at: dt.datetime
    recorded_by: str
    credited: int


def attendees(session: Session, session_id: str) -> list[Attendee]:
    """Everyone recorded at the class, in the order they were recorded."""
    credited = func.coalesce(-Entry.amount, 0)
    rows = session.execute(
        select(
            Attendance.patient_id,
            Patient.name,
            Attendance.recorded_at,
            Attendance.recorded_by,
            credited,
        )
        .join(Patient, Patient.id == Attendance.patient_id)
        .outerjoin(
            Entry,
            and_(
                Entry.transaction_id == Attendance.transaction_id,
                Entry.account_id == Patient.account_id,
            ),
        )
        .where(Attendance.session_id == session_id)
        .order_by(Attendance.recorded_at, Attendance.id)
    )
    return [Attendee(*row) for row in rows]


def district_classes(
    session: Session, *, district: str, before: str | None, limit: int
) -> list[EducationSession]:
    """The health centre's own classes (not its clinics'), newest first, before ``before``
    (an id, for the next page)."""
    query = select(EducationSession).where(
        EducationSession.district == district, EducationSession.clinic_id.is_(None)
    )
    if before is not None:
        query = query.where(EducationSession.id < before)
    return list(session.execute(query.order_by(EducationSession.id.desc()).limit(limit)).scalars())
