"""Earning: treatment visits, education sessions and attendance."""

from __future__ import annotations

from fastapi import APIRouter

from api import policy, present
from api.deps import AuditDep, CalendarDep, NowDep, PrincipalDep, SessionDep, TodayDep
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
from ledger.services import earning, registry
from notifications import outbox

router = APIRouter(prefix="/v1", tags=["earning"])


@router.post(
    "/patients/{patient_id}/visits",
    status_code=201,
    response_model=VisitRecorded,
    responses=problems(403, 404, 409),
)
def record_visit(
    patient_id: str,
    body: VisitCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
    now: NowDep,
    calendar: CalendarDep,
) -> VisitRecorded:
    """Record a treatment visit (the patient's clinic) and book its awards."""
    patient = registry.get_patient(session, patient_id)
    policy.check_home_clinic(principal, patient)
    assert principal.clinic_id is not None
    recorded = earning.record_visit(
        session,
        patient_id=patient_id,
        clinic_id=principal.clinic_id,
        visited_on=body.visited_on,
        readings=Readings(body.systolic, body.diastolic, body.hba1c, body.fasting_glucose),
        next_visit_on=body.next_visit_on,
        recorded_by=principal.label,
        today=today,
    )
    outbox.on_visit(
        session,
        patient=patient,
        clinic_id=principal.clinic_id,
        next_visit_on=body.next_visit_on,
        now=now,
        calendar=calendar,
    )
    audit("visit.create", f"patients/{patient_id}/visits/{recorded.id}", patient_id=patient_id)
    return VisitRecorded(
        id=recorded.id,
        transaction_id=str(recorded.transaction_id),
        awards=present.awards(recorded.awards),
        balance=recorded.balance,
    )


@router.post(
    "/education-sessions",
    status_code=201,
    response_model=EducationSession,
    responses=problems(403, 404),
)
def create_education_session(
    body: EducationSessionCreate, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> EducationSession:
    """An education class: a health centre's at its centre, or a clinic's own."""
    policy.require_role(principal, "health_center", "clinic")
    if principal.role == "clinic":
        assert principal.clinic_id is not None
        district = registry.get_clinic(session, principal.clinic_id).district
    else:
        assert principal.district is not None
        district = principal.district
    education = earning.create_education_session(
        session,
        district=district,
        clinic_id=principal.clinic_id,
        held_on=body.held_on,
        condition=body.condition,
        title=body.title,
    )
    audit("education.create", f"education-sessions/{education.id}")
    return EducationSession(
        id=education.id,
        district=education.district,
        clinic_id=education.clinic_id,
        held_on=education.held_on,
        condition=education.condition,
        title=education.title,
    )


@router.post(
    "/education-sessions/{session_id}/attendance",
    status_code=201,
    response_model=AttendanceRecorded,
    responses=problems(403, 404, 409),
)
def record_attendance(
    session_id: str,
    body: AttendanceCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> AttendanceRecorded:
    """Record that a patient attended; the session's holder or the patient's home clinic."""
    education = earning.get_session(session, session_id)
    patient = registry.get_patient(session, body.patient_id)
    policy.check_attendance(principal, education, patient)
    recorded = earning.record_attendance(
        session,
        session_id=session_id,
        patient_id=patient.id,
        recorded_by=principal.label,
        today=today,
    )
    audit(
        "attendance.create",
        f"education-sessions/{session_id}/attendance/{recorded.id}",
        patient_id=patient.id,
    )
    return AttendanceRecorded(
        id=recorded.id,
        transaction_id=str(recorded.transaction_id),
        awards=present.awards(recorded.awards),
        balance=recorded.balance,
    )
