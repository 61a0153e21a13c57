"""Earning: a treatment visit (with its follow-up reminder), an education class, attendance."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.errors import InvalidInput
from ledger.models import EducationSession, Patient
from ledger.programme import Readings
from ledger.services import clinics, earning
from ledger.services.earning import Recorded
from ledger.vocabulary import Role
from notifications import outbox

__all__ = ["create_education_session", "record_attendance", "record_visit"]


def record_visit(
    session: Session,
    ctx: Context,
    patient: Patient,
    *,
    clinic_id: str,
    visited_on: dt.date | dt.datetime,
    readings: Readings,
    next_visit_on: dt.date | None = None,
) -> Recorded:
    """Record a visit at ``clinic_id`` and book its awards; the visit cancels the patient's
    queued texts and, with a follow-up booked, queues its reminder."""
    recorded = earning.record_visit(
        session,
        patient_id=patient.id,
        clinic_id=clinic_id,
        visited_on=visited_on,
        readings=readings,
        next_visit_on=next_visit_on,
        recorded_by=ctx.label,
        today=ctx.today,
    )
    outbox.on_visit(
        session,
        patient=patient,
        clinic_id=clinic_id,
        next_visit_on=next_visit_on,
        now=ctx.now,
        calendar=ctx.calendar,
    )
    resource = f"patients/{patient.id}/visits/{recorded.id}"
    ctx.audit(session, "visit.create", resource, patient_id=patient.id)
    return recorded


def create_education_session(
    session: Session,
    ctx: Context,
    *,
    held_on: dt.date,
    condition: str,
    title: str,
    district: str | None = None,
    clinic_id: str | None = None,
) -> EducationSession:
    """An education class: the calling health centre's, or the calling clinic's own.

    ``district`` and ``clinic_id`` default to the caller's; the importer names them.
    """
    if ctx.principal.role == Role.CLINIC:
        clinic_id = ctx.clinic_id
    if district is None:
        district = (
            clinics.get_clinic(session, clinic_id).district
            if clinic_id is not None
            else ctx.principal.district
        )
    if district is None:
        raise InvalidInput("an education session needs a district", field="district")
    education = earning.create_education_session(
        session,
        district=district,
        clinic_id=clinic_id,
        held_on=held_on,
        condition=condition,
        title=title,
    )
    ctx.audit(session, "education.create", f"education-sessions/{education.id}")
    return education


def record_attendance(
    session: Session, ctx: Context, education: EducationSession, patient: Patient
) -> Recorded:
    """Record that ``patient`` attended ``education`` and book its awards."""
    recorded = earning.record_attendance(
        session,
        session_id=education.id,
        patient_id=patient.id,
        recorded_by=ctx.label,
        today=ctx.today,
    )
    resource = f"education-sessions/{education.id}/attendance/{recorded.id}"
    ctx.audit(session, "attendance.create", resource, patient_id=patient.id)
    return recorded
