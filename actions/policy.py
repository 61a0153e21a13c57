"""Who may do what: the one place that decides.

Roles: ``city`` sees everything; ``health_center`` its district; ``clinic`` itself and its
own patients. A role that may not do an action is refused (:class:`Forbidden`, 403); a
resource outside the caller's district or clinic is refused exactly as a missing one
(:class:`NotFound`, 404), so ids leak nothing. Each ``check_*`` returns nothing and raises;
the edges call them through dependencies that hand the route the authorised record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ledger.errors import (
    Forbidden,
    NotFound,
    UnknownClinic,
    UnknownPatient,
    UnknownSession,
    UnknownTransaction,
)
from ledger.models import ApiKey, Clinic, EducationSession, Patient, Settlement, Transaction
from ledger.services.access import Principal
from ledger.services.spending import may_spend_at
from ledger.vocabulary import Role

__all__ = [
    "STAFF",
    "check_attendance",
    "check_clinic",
    "check_district",
    "check_education_owner",
    "check_home_clinic",
    "check_key",
    "check_key_issue",
    "check_patient",
    "check_patient_district_staff",
    "check_register_clinic",
    "check_reversal",
    "check_settlement",
    "may_look_up",
    "require_role",
    "sees_district",
]

STAFF = (Role.CITY, Role.HEALTH_CENTER)


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden(f"a {principal.role} key may not do this; it needs: {', '.join(roles)}")


def sees_district(principal: Principal, district: str) -> bool:
    return principal.role == Role.CITY or (
        principal.role == Role.HEALTH_CENTER and principal.district == district
    )


def check_district(principal: Principal, district: str) -> None:
    """A district's own health centre, or the city (its texts, its clinics' report)."""
    require_role(principal, *STAFF)
    if not sees_district(principal, district):
        raise Forbidden("a health centre manages its own district only")


def check_patient(principal: Principal, patient: Patient) -> None:
    """The patient's clinic, its district's health centre, or the city."""
    if sees_district(principal, patient.district) or (
        principal.role == Role.CLINIC and principal.clinic_id == patient.clinic_id
    ):
        return
    raise UnknownPatient(f"no patient {patient.id!r}")


def check_home_clinic(principal: Principal, patient: Patient) -> None:
    """Only the patient's own clinic records their visits."""
    require_role(principal, Role.CLINIC)
    if principal.clinic_id != patient.clinic_id:
        raise UnknownPatient(f"no patient {patient.id!r}")


def check_patient_district_staff(principal: Principal, patient: Patient) -> None:
    """The patient's clinic or its district's health centre (not the city) changes a patient."""
    require_role(principal, Role.CLINIC, Role.HEALTH_CENTER)
    if principal.role == Role.CLINIC and principal.clinic_id != patient.clinic_id:
        raise UnknownPatient(f"no patient {patient.id!r}")
    if principal.role == Role.HEALTH_CENTER and principal.district != patient.district:
        raise UnknownPatient(f"no patient {patient.id!r}")


def may_look_up(
    principal: Principal, patient: Patient, clinic: Clinic | None, day: dt.date
) -> bool:
    """Whether a look-up by name, birth date and phone may find ``patient``: a clinic finds
    its own patients and those who may spend there; staff, their district's."""
    if principal.role == Role.CLINIC:
        return clinic is not None and (
            clinic.id == patient.clinic_id or may_spend_at(patient, clinic, day)
        )
    return sees_district(principal, patient.district)


def check_clinic(principal: Principal, clinic: Clinic) -> None:
    """The clinic itself, its district, the city."""
    if sees_district(principal, clinic.district) or principal.clinic_id == clinic.id:
        return
    raise UnknownClinic(f"no clinic {clinic.id!r}")


def check_register_clinic(principal: Principal, district: str) -> None:
    require_role(principal, *STAFF)
    if not sees_district(principal, district):
        raise Forbidden("a health centre registers clinics in its own district only")


def check_education_owner(principal: Principal, education: EducationSession) -> bool:
    """Whether the caller held the session (its health centre or its clinic)."""
    if education.clinic_id is not None:
        return principal.role == Role.CLINIC and principal.clinic_id == education.clinic_id
    return principal.role == Role.HEALTH_CENTER and principal.district == education.district


def check_attendance(principal: Principal, education: EducationSession, patient: Patient) -> None:
    """The session's health centre or clinic, or the patient's home clinic (bringing a slip)."""
    require_role(principal, Role.CLINIC, Role.HEALTH_CENTER)
    if check_education_owner(principal, education):
        return
    if principal.role == Role.CLINIC and principal.clinic_id == patient.clinic_id:
        return
    raise UnknownSession(f"no education session {education.id!r}")


def check_reversal(principal: Principal, transaction: Transaction) -> None:
    require_role(principal, *STAFF)
    if principal.role != Role.CITY and (
        transaction.district is None or not sees_district(principal, transaction.district)
    ):
        raise UnknownTransaction(f"no transaction {transaction.id}")


def check_settlement(principal: Principal, settlement: Settlement) -> None:
    """A settlement its district's health centre or the city may read."""
    require_role(principal, *STAFF)
    if not sees_district(principal, settlement.district):
        raise NotFound(f"no settlement {settlement.id!r}")


def check_key(principal: Principal, key: ApiKey) -> None:
    """The city manages every key; a health centre the keys of its own clinics."""
    require_role(principal, *STAFF)
    if principal.role == Role.HEALTH_CENTER and (
        key.role != Role.CLINIC or key.district != principal.district
    ):
        raise NotFound(f"no key {key.id!r}")


def check_key_issue(
    principal: Principal, role: str, clinic_id: str | None, find_clinic: Callable[[str], Clinic]
) -> None:
    """The city issues any key; a health centre, keys for its own clinics only."""
    require_role(principal, *STAFF)
    if principal.role == Role.HEALTH_CENTER:
        if role != Role.CLINIC or clinic_id is None:
            raise Forbidden("a health centre issues clinic keys only")
        check_clinic(principal, find_clinic(clinic_id))
