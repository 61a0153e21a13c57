"""Patients: registration, reading, look-up, changes, moves, leaving and erasure."""

from __future__ import annotations

from fastapi import APIRouter

from actions import erasure, patients
from api import present
from api.authorise import ClinicContext, ErasablePatient, ManagedPatient, VisiblePatient
from api.deps import ContextDep, RecordingSessionDep, SessionDep
from api.schemas import (
    Erasure,
    ErasureCreate,
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

router = APIRouter(prefix="/v1", tags=["registry"])


@router.post(
    "/patients", status_code=201, response_model=PatientCreated, responses=problems(403, 404, 409)
)
def register_patient(
    body: PatientCreate, session: SessionDep, ctx: ClinicContext
) -> PatientCreated:
    """Register a patient at the calling clinic and book the enrolment awards."""
    registered = patients.register_patient(
        session, ctx, clinic_id=ctx.clinic_id, **body.model_dump()
    )
    return present.registered(registered)


@router.get("/patients/{patient_id}", response_model=Patient, responses=problems(404))
def read_patient(patient: VisiblePatient, session: SessionDep, ctx: ContextDep) -> Patient:
    """A patient, with their balance, this year's earnings and what the cap leaves."""
    return present.patient(patients.show_patient(session, ctx, patient))


@router.patch("/patients/{patient_id}", response_model=Patient, responses=problems(403, 404, 409))
def update_patient(
    patient: ManagedPatient, body: PatientUpdate, session: SessionDep, ctx: ContextDep
) -> Patient:
    """Change consent, phone or conditions, or correct a misspelt name or birth date (the
    patient's clinic or health centre); registration's identity rules apply again (409
    `duplicate_patient` when the patient would become another registered person)."""
    view = patients.update_patient(session, ctx, patient, **body.model_dump())
    return present.patient(view)


@router.post("/patient-lookups", response_model=PatientFound, responses=problems(403, 404, 429))
def look_up_patient(
    body: PatientLookup, session: RecordingSessionDep, ctx: ContextDep
) -> PatientFound:
    """Find a patient by name, birth date and phone (POST keeps them out of URLs and logs);
    limited per caller (429 with Retry-After) and audited, found or not."""
    found = patients.look_up_patient(session, ctx, **body.model_dump())
    return PatientFound(id=found.patient.id, balance=found.balance)


@router.post(
    "/patients/{patient_id}/moves", response_model=Patient, responses=problems(403, 404, 409)
)
def move_patient(
    patient: ManagedPatient, body: PatientMove, session: SessionDep, ctx: ContextDep
) -> Patient:
    """Move a patient to another home clinic; the balance moves with them."""
    view = patients.move_patient(session, ctx, patient, clinic_id=body.clinic_id, on=body.on)
    return present.patient(view)


@router.post(
    "/patients/{patient_id}/leaving", response_model=Patient, responses=problems(403, 404, 409)
)
def patient_leaves(
    patient: ManagedPatient, body: PatientLeave, session: SessionDep, ctx: ContextDep
) -> Patient:
    """A patient leaves the programme (moved, withdrawn, deceased); the balance is forfeited."""
    view = patients.leave_programme(session, ctx, patient, status=body.status, on=body.on)
    return present.patient(view)


@router.post(
    "/patients/{patient_id}/erasure",
    status_code=201,
    response_model=Erasure,
    responses=problems(403, 404, 409),
)
def erase_patient(
    patient: ErasablePatient, body: ErasureCreate, session: SessionDep, ctx: ContextDep
) -> Erasure:
    """Erase a patient's name, birth date and phone everywhere (PIPA; the city only).

    The patient leaves the programme first (as `withdrawn`; the balance goes as the rules say
    for leaving), their texts are cancelled and lose their words, stored answers lose the
    personal fields; the ledger, statements and reports do not change. The erasure is
    recorded with who, when and why (`reason`, which must not name the patient), and a keyed
    hash of the identity: the same person registering again earns no second enrolment award
    (`once_only`). Erasing again is 409 `patient_erased`.
    """
    return present.erasure(erasure.erase_patient(session, ctx, patient, reason=body.reason))
