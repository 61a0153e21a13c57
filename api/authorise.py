"""Authorisation as dependencies: each hands a route the record it may act on, or refuses.

A route declares what it acts on (``patient: HomePatient``) and receives the row, already
checked by :mod:`actions.policy`: a record outside the caller's scope is refused exactly as a
missing one (404), a role that may not act at all is refused with 403. The console's pages
use the same dependencies, so both edges authorise alike.

Each dependency takes the role-checked context it needs (``ClinicContext``, ...), so the
role is refused before any record is looked up, and FastAPI solves these dependencies
before it validates the route's body: whatever else is wrong with a request, an id outside
the caller's scope answers exactly as one that does not exist
(``tests/api/test_scope_oracles.py`` sends both to every route that takes an id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Path
from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context
from api.deps import ContextDep, SessionDep
from api.schemas import AttendanceCreate, RedemptionCreate
from ledger.services import access, clinics, earning, registry, settlement
from ledger.services.reading import transaction_by_number
from ledger.services.statements import EntryParties, entry_parties
from ledger.vocabulary import Role

if TYPE_CHECKING:
    from ledger.models import ApiKey, Clinic, EducationSession, Patient, Settlement, Transaction

__all__ = [
    "AttendanceParties",
    "CityContext",
    "ClinicContext",
    "DistrictCode",
    "EducatorContext",
    "ErasablePatient",
    "HealthCentreContext",
    "HomePatient",
    "ManagedClinic",
    "ManagedDistrict",
    "ManagedKey",
    "ManagedPatient",
    "OwnEntry",
    "ReversibleTransaction",
    "SpendingPatient",
    "StaffContext",
    "VisibleClinic",
    "VisibleEntry",
    "VisiblePatient",
    "VisibleSettlement",
    "district_in_scope",
]

DistrictCode = Annotated[str, Path(pattern=r"^[0-9]{5}$")]


def allow(*roles: Role) -> Callable[[Context], Context]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    def check(ctx: ContextDep) -> Context:
        policy.require_role(ctx.principal, *roles)
        return ctx

    return check


ClinicContext = Annotated[Context, Depends(allow(Role.CLINIC))]
HealthCentreContext = Annotated[Context, Depends(allow(Role.HEALTH_CENTER))]
CityContext = Annotated[Context, Depends(allow(Role.CITY))]
StaffContext = Annotated[Context, Depends(allow(*policy.STAFF))]
EducatorContext = Annotated[Context, Depends(allow(Role.HEALTH_CENTER, Role.CLINIC))]
# Who changes a patient: their clinic or its district's health centre (not the city).
DistrictStaffContext = Annotated[Context, Depends(allow(Role.CLINIC, Role.HEALTH_CENTER))]


def _visible_patient(patient_id: str, session: SessionDep, ctx: ContextDep) -> Patient:
    patient = registry.get_patient(session, patient_id)
    policy.check_patient(ctx.principal, patient)
    return patient


def _home_patient(patient_id: str, session: SessionDep, ctx: ClinicContext) -> Patient:
    patient = registry.get_patient(session, patient_id)
    policy.check_home_clinic(ctx.principal, patient)
    return patient


def _managed_patient(patient_id: str, session: SessionDep, ctx: DistrictStaffContext) -> Patient:
    patient = registry.get_patient(session, patient_id)
    policy.check_patient_district_staff(ctx.principal, patient)
    return patient


def _erasable_patient(patient_id: str, session: SessionDep, ctx: CityContext) -> Patient:
    """Any patient, for the city (the role is checked first: no id is looked up for others)."""
    return _visible_patient(patient_id, session, ctx)


def _spending_patient(
    patient_id: str, body: RedemptionCreate, session: SessionDep, ctx: ClinicContext
) -> Patient:
    patient = registry.get_patient(session, patient_id)
    clinic = clinics.get_clinic(session, ctx.clinic_id)
    policy.check_spending(ctx.principal, patient, clinic, body.spent_on)
    return patient


VisiblePatient = Annotated["Patient", Depends(_visible_patient)]
HomePatient = Annotated["Patient", Depends(_home_patient)]
ManagedPatient = Annotated["Patient", Depends(_managed_patient)]
ErasablePatient = Annotated["Patient", Depends(_erasable_patient)]
SpendingPatient = Annotated["Patient", Depends(_spending_patient)]


def _visible_clinic(clinic_id: str, session: SessionDep, ctx: ContextDep) -> Clinic:
    clinic = clinics.get_clinic(session, clinic_id)
    policy.check_clinic(ctx.principal, clinic)
    return clinic


def _managed_clinic(clinic_id: str, session: SessionDep, ctx: StaffContext) -> Clinic:
    return _visible_clinic(clinic_id, session, ctx)


VisibleClinic = Annotated["Clinic", Depends(_visible_clinic)]
ManagedClinic = Annotated["Clinic", Depends(_managed_clinic)]


def district_in_scope(session: Session, ctx: Context, code: str) -> str:
    """A district the caller manages (its health centre, or the city), by its code."""
    policy.check_district(ctx.principal, code)
    return clinics.get_district(session, code).code


def _managed_district(code: DistrictCode, session: SessionDep, ctx: ContextDep) -> str:
    return district_in_scope(session, ctx, code)


ManagedDistrict = Annotated[str, Depends(_managed_district)]


def _visible_settlement(settlement_id: str, session: SessionDep, ctx: StaffContext) -> Settlement:
    found = settlement.get_settlement(session, settlement_id)
    policy.check_settlement(ctx.principal, found)
    return found


VisibleSettlement = Annotated["Settlement", Depends(_visible_settlement)]


def _reversible(transaction_id: str, session: SessionDep, ctx: StaffContext) -> Transaction:
    original = transaction_by_number(session, transaction_id)
    policy.check_reversal(ctx.principal, original)
    return original


ReversibleTransaction = Annotated["Transaction", Depends(_reversible)]


def _own_entry(transaction_id: str, session: SessionDep, ctx: ClinicContext) -> Transaction:
    original = transaction_by_number(session, transaction_id)
    policy.check_own_entry(ctx.principal, original)
    return original


OwnEntry = Annotated["Transaction", Depends(_own_entry)]


def _visible_entry(transaction_id: str, session: SessionDep, ctx: ContextDep) -> EntryParties:
    """A patient's entry (for its receipt), with whose it is."""
    parties = entry_parties(session, transaction_by_number(session, transaction_id))
    policy.check_receipt(ctx.principal, parties)
    return parties


VisibleEntry = Annotated[EntryParties, Depends(_visible_entry)]


def _managed_key(key_id: str, session: SessionDep, ctx: StaffContext) -> ApiKey:
    key = access.get_key(session, key_id)
    policy.check_key(ctx.principal, key)
    return key


ManagedKey = Annotated["ApiKey", Depends(_managed_key)]


def _attendance_parties(
    session_id: str, body: AttendanceCreate, session: SessionDep, ctx: EducatorContext
) -> tuple[EducationSession, Patient]:
    education = earning.get_session(session, session_id)
    policy.check_session(ctx.principal, education)
    patient = registry.get_patient(session, body.patient_id)
    policy.check_attendance(ctx.principal, education, patient)
    return education, patient


AttendanceParties = Annotated[tuple["EducationSession", "Patient"], Depends(_attendance_parties)]
