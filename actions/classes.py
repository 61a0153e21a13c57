"""A health centre's education classes in the console: its list of classes, a class's
attendees and the district's patients to tick, and the ticked ones recorded at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context
from actions.earning import record_attendance
from ledger.errors import LedgerError
from ledger.models import EducationSession, Patient
from ledger.services import registry, roster
from ledger.services.earning import Recorded
from ledger.vocabulary import Role

__all__ = ["ClassMark", "ClassView", "list_classes", "record_class", "show_class"]


def list_classes(
    session: Session, ctx: Context, district: str, *, before: str | None, limit: int
) -> list[EducationSession]:
    """The health centre's own classes, newest first."""
    policy.require_role(ctx.principal, Role.HEALTH_CENTER)
    return roster.district_classes(session, district=district, before=before, limit=limit)


@dataclass(frozen=True)
class ClassView:
    """A class as its health centre records it: who is recorded, and the patients found."""

    education: EducationSession
    attendees: list[roster.Attendee]
    found: list[Patient]
    more: bool


def show_class(
    session: Session,
    ctx: Context,
    education: EducationSession,
    *,
    text: str,
    after: str | None,
    limit: int,
) -> ClassView:
    """A class's attendees and the district's patients matching ``text`` (none for no
    text); audited, since both name patients."""
    policy.check_session(ctx.principal, education)
    found = (
        roster.search_patients(
            session, district=education.district, text=text, after=after, limit=limit + 1
        )
        if text.strip()
        else []
    )
    ctx.audit(session, "education.attendees", f"education-sessions/{education.id}")
    return ClassView(
        education, roster.attendees(session, education.id), found[:limit], len(found) > limit
    )


@dataclass(frozen=True)
class ClassMark:
    """What became of one ticked patient: recorded (with its awards), or refused and why."""

    patient_id: str
    recorded: Recorded | None = None
    refused: LedgerError | None = None


def record_class(
    session: Session, ctx: Context, education: EducationSession, patient_ids: list[str]
) -> list[ClassMark]:
    """Record the ticked patients' attendance, each in a savepoint of its own: one refused
    (already recorded, no longer in the programme, not of this district) leaves the others
    recorded."""
    policy.check_session(ctx.principal, education)
    marks = []
    for patient_id in dict.fromkeys(patient_ids):  # each once, in the order ticked
        try:
            with session.begin_nested():
                patient = registry.get_patient(session, patient_id)
                policy.check_attendance(ctx.principal, education, patient)
                recorded = record_attendance(session, ctx, education, patient)
        except LedgerError as refusal:
            marks.append(ClassMark(patient_id, refused=refusal))
            continue
        marks.append(ClassMark(patient_id, recorded=recorded))
    return marks
