"""Who may do what: the one place that decides.

Roles: ``city`` sees everything; ``health_center`` its district; ``clinic`` itself and its
own patients. A role that may not do an action is refused (403); a resource outside the
caller's district or clinic answers exactly as a missing one (404), so ids leak nothing.
"""

from __future__ import annotations

from api.errors import Forbidden
from ledger.errors import UnknownClinic, UnknownPatient, UnknownSession, UnknownTransaction
from ledger.models import Clinic, EducationSession, Patient, Transaction
from ledger.services.access import Principal


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"a {principal.role} key may not do this; it needs: {', '.join(roles)}")


def sees_district(principal: Principal, district: str) -> bool:
    return principal.role == "city" or (
        principal.role == "health_center" and principal.district == district
    )


def check_patient(principal: Principal, patient: Patient) -> None:
    """The patient's clinic, its district's health centre, or the city."""
    if sees_district(principal, patient.district) or (
        principal.role == "clinic" and principal.clinic_id == patient.clinic_id
    ):
        return
    raise UnknownPatient(f"no patient {patient.id!r}")


def check_home_clinic(principal: Principal, patient: Patient) -> None:
    """Only the patient's own clinic records their visits."""
    require_role(principal, "clinic")
    if principal.clinic_id != patient.clinic_id:
        raise UnknownPatient(f"no patient {patient.id!r}")


def check_patient_district_staff(principal: Principal, patient: Patient) -> None:
    """The patient's clinic or its district's health centre (not the city) changes a patient."""
    require_role(principal, "clinic", "health_center")
    if principal.role == "clinic" and principal.clinic_id != patient.clinic_id:
        raise UnknownPatient(f"no patient {patient.id!r}")
    if principal.role == "health_center" and principal.district != patient.district:
        raise UnknownPatient(f"no patient {patient.id!r}")


def check_clinic(principal: Principal, clinic: Clinic) -> None:
    """The clinic itself, its district, the city."""
    if sees_district(principal, clinic.district) or principal.clinic_id == clinic.id:
        return
    raise UnknownClinic(f"no clinic {clinic.id!r}")


def check_register_clinic(principal: Principal, district: str) -> None:
    require_role(principal, "city", "health_center")
    if not sees_district(principal, district):
        raise Forbidden("a health centre registers clinics in its own district only")


def check_education_owner(principal: Principal, education: EducationSession) -> bool:
    """Whether the caller held the session (its health centre or its clinic)."""
    if education.clinic_id is not None:
        return principal.role == "clinic" and principal.clinic_id == education.clinic_id
    return principal.role == "health_center" and principal.district == education.district


def check_attendance(principal: Principal, education: EducationSession, patient: Patient) -> None:
    """The session's health centre or clinic, or the patient's home clinic (bringing a slip)."""
    require_role(principal, "clinic", "health_center")
    if check_education_owner(principal, education):
        return
    if principal.role == "clinic" and principal.clinic_id == patient.clinic_id:
        return
    raise UnknownSession(f"no education session {education.id!r}")


def check_reversal(principal: Principal, transaction: Transaction) -> None:
    require_role(principal, "city", "health_center")
    if principal.role != "city" and (
        transaction.district is None or not sees_district(principal, transaction.district)
    ):
        raise UnknownTransaction(f"no transaction {transaction.id}")
