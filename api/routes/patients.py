"""Patients: registration, reading, look-up, changes, moves and leaving."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from api import policy, present
from api.deps import AuditDep, NowDep, PrincipalDep, SessionDep, TodayDep
from api.schemas import (
    Patient,
    PatientCreate,
    PatientCreated,
    PatientFound,
    PatientLeave,
    PatientLookup,
    PatientMove,
    PatientUpdate,
    problems,
)
from ledger.errors import UnknownPatient
from ledger.models import Patient as PatientRow
from ledger.services import registry
from ledger.services.access import Principal
from ledger.services.reading import balance
from ledger.services.spending import may_spend_at
from notifications import outbox

router = APIRouter(prefix="/v1", tags=["registry"])


def visible_patient(session: SessionDep, principal: Principal, patient_id: str) -> PatientRow:
    patient = registry.get_patient(session, patient_id)
    policy.check_patient(principal, patient)
    return patient


@router.post(
    "/patients", status_code=201, response_model=PatientCreated, responses=problems(403, 404, 409)
)
def register_patient(
    body: PatientCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> PatientCreated:
    """Register a patient at the calling clinic and book the enrolment awards."""
    policy.require_role(principal, "clinic")
    assert principal.clinic_id is not None
    registered = registry.register_patient(
        session,
        clinic_id=principal.clinic_id,
        name=body.name,
        birth_date=body.birth_date,
        phone=body.phone,
        conditions=body.conditions,
        sms_consent=body.sms_consent,
        enrolled_on=body.enrolled_on,
        recorded_by=principal.label,
        today=today,
    )
    patient = registered.patient
    audit("patient.create", f"patients/{patient.id}", patient_id=patient.id)
    shown = present.patient(patient, registry.summarise(session, patient, today=today))
    return PatientCreated(
        **shown.model_dump(),
        transaction_id=str(registered.transaction_id),
        awards=present.awards(registered.awards),
    )


@router.get("/patients/{patient_id}", response_model=Patient, responses=problems(404))
def read_patient(
    patient_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Patient:
    """A patient, with their balance, this year's earnings and what the cap leaves."""
    patient = visible_patient(session, principal, patient_id)
    audit("patient.read", f"patients/{patient.id}", patient_id=patient.id)
    return present.patient(patient, registry.summarise(session, patient, today=today))


@router.patch("/patients/{patient_id}", response_model=Patient, responses=problems(403, 404, 409))
def update_patient(
    patient_id: str,
    body: PatientUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
    now: NowDep,
) -> Patient:
    """Change consent, phone or conditions (the patient's clinic or health centre)."""
    patient = registry.get_patient(session, patient_id)
    policy.check_patient_district_staff(principal, patient)
    registry.update_patient(
        session,
        patient_id=patient_id,
        recorded_by=principal.label,
        sms_consent=body.sms_consent,
        phone=body.phone,
        conditions=body.conditions,
    )
    if body.sms_consent is False:
        outbox.cancel_for_patient(session, patient_id, reason="consent withdrawn", now=now)
    audit("patient.update", f"patients/{patient.id}", patient_id=patient.id)
    return present.patient(patient, registry.summarise(session, patient, today=today))


@router.post("/patient-lookups", response_model=PatientFound, responses=problems(403, 404))
def look_up_patient(
    body: PatientLookup,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> PatientFound:
    """Find a patient by name, birth date and phone (POST keeps them out of URLs and logs)."""
    patient = registry.find_patient(
        session, name=body.name, birth_date=body.birth_date, phone=body.phone
    )
    if patient is None or not _may_look_up(session, principal, patient, today):
        raise UnknownPatient("no patient with that name, birth date and phone")
    audit("patient.lookup", f"patients/{patient.id}", patient_id=patient.id)
    return PatientFound(id=patient.id, balance=balance(session, patient.account_id))


def _may_look_up(
    session: SessionDep, principal: Principal, patient: PatientRow, today: dt.date
) -> bool:
    if principal.role == "clinic":
        assert principal.clinic_id is not None
        clinic = registry.get_clinic(session, principal.clinic_id)
        return clinic.id == patient.clinic_id or may_spend_at(patient, clinic, today)
    return policy.sees_district(principal, patient.district)


@router.post(
    "/patients/{patient_id}/moves", response_model=Patient, responses=problems(403, 404, 409)
)
def move_patient(
    patient_id: str,
    body: PatientMove,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Patient:
    """Move a patient to another home clinic; the balance moves with them."""
    patient = registry.get_patient(session, patient_id)
    policy.check_patient_district_staff(principal, patient)
    registry.change_home_clinic(
        session, patient_id=patient_id, clinic_id=body.clinic_id, on=body.on or today
    )
    audit("patient.move", f"patients/{patient.id}", patient_id=patient.id)
    return present.patient(patient, registry.summarise(session, patient, today=today))


@router.post(
    "/patients/{patient_id}/leaving", response_model=Patient, responses=problems(403, 404, 409)
)
def patient_leaves(
    patient_id: str,
    body: PatientLeave,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
    now: NowDep,
) -> Patient:
    """A patient leaves the programme (moved, withdrawn, deceased); the balance is forfeited."""
    patient = registry.get_patient(session, patient_id)
    policy.check_patient_district_staff(principal, patient)
    registry.leave_programme(
        session, patient_id=patient_id, status=body.status, on=body.on or today
    )
    outbox.cancel_for_patient(session, patient_id, reason=f"left ({body.status})", now=now)
    audit("patient.leave", f"patients/{patient.id}", patient_id=patient.id)
    return present.patient(patient, registry.summarise(session, patient, today=today))
