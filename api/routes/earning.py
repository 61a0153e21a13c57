"""Earning: treatment visits, education sessions and attendance."""

from __future__ import annotations

from fastapi import APIRouter

from actions import earning
from api import present
from api.authorise import AttendanceParties, EducatorContext, HomePatient
from api.deps import ContextDep, SessionDep
from api.schemas import (
    AttendanceCreate,
    AttendanceRecorded,
    EducationSession,
    EducationSessionCreate,
    VisitCreate,
    VisitRecorded,
    problems,
)
from ledger.programme import Readings

router = APIRouter(prefix="/v1", tags=["earning"])


@router.post(
    "/patients/{patient_id}/visits",
    status_code=201,
    response_model=VisitRecorded,
    responses=problems(403, 404, 409),
)
def record_visit(
    patient: HomePatient, body: VisitCreate, session: SessionDep, ctx: ContextDep
) -> VisitRecorded:
    """Record a treatment visit (the patient's clinic) and book its awards."""
    recorded = earning.record_visit(
        session,
        ctx,
        patient,
        clinic_id=ctx.clinic_id,
        visited_on=body.visited_on,
        readings=Readings(body.systolic, body.diastolic, body.hba1c, body.fasting_glucose),
        next_visit_on=body.next_visit_on,
    )
    return present.recorded(recorded)


@router.post(
    "/education-sessions",
    status_code=201,
    response_model=EducationSession,
    responses=problems(403, 404),
)
def create_education_session(
    body: EducationSessionCreate, session: SessionDep, ctx: EducatorContext
) -> EducationSession:
    """An education class: a health centre's at its centre, or a clinic's own."""
    education = earning.create_education_session(session, ctx, **body.model_dump())
    return present.education_session(education)


@router.post(
    "/education-sessions/{session_id}/attendance",
    status_code=201,
    response_model=AttendanceRecorded,
    responses=problems(403, 404, 409),
)
def record_attendance(
    body: AttendanceCreate, parties: AttendanceParties, session: SessionDep, ctx: ContextDep
) -> AttendanceRecorded:
    """Record that a patient attended; the session's holder or the patient's home clinic."""
    recorded = earning.record_attendance(session, ctx, *parties)
    return AttendanceRecorded(**present.recorded(recorded).model_dump())
