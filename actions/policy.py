"""Who may do what: the one place that decides.

Roles: ``city`` sees everything; ``health_center`` its district; ``clinic`` itself and its
own patients. A role that may not do an action is refused (:class:`Forbidden`, 403); a
resource outside the caller's district or clinic is refused exactly as a missing one
(:class:`NotFound`, 404), so ids leak nothing. Each ``check_*`` returns nothing and raises;
the edges call them through dependencies that hand the route the authorised record.

The order is the rule: the role first (so a role that may not act gets 403 whether the
record exists or not), then the record's scope, and only then anything else about the
request, whose refusals may say more about the record. Spending (``check_spending``) is the
one place a record outside the caller's scope answers otherwise than a missing one, as the
contract says (422 ``out_of_district``, said without a word about the patient).
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
from ledger.models import (
    ApiKey,
    Clinic,
    EducationSession,
    Patient,
    Settlement,
    StaffAccount,
    Transaction,
)
from ledger.services.access import Principal
from ledger.services.corrections import is_own_entry
from ledger.services.spending import check_may_spend, may_spend_at
from ledger.services.statements import EntryParties
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
    "check_move_target",
    "check_own_entry",
    "check_patient",
    "check_patient_district_staff",
    "check_receipt",
    "check_register_clinic",
    "check_reversal",
    "check_session",
    "check_settlement",
    "check_spending",
    "check_staff_create",
    "check_staff_manage",
    "creates_role",
    "may_look_up",
    "may_manage_staff",
    "may_read_patient",
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


def may_read_patient(principal: Principal, patient: Patient) -> bool:
    """The patient's clinic, its district's health centre, or the city."""
    return sees_district(principal, patient.district) or (
        principal.role == Role.CLINIC and principal.clinic_id == patient.clinic_id
    )


def check_patient(principal: Principal, patient: Patient) -> None:
    """The patient's clinic, its district's health centre, or the city."""
    if not may_read_patient(principal, patient):
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


def check_move_target(principal: Principal, patient: Patient, clinic: Clinic) -> None:
    """A patient moves to a clinic of their own district only: any other clinic is refused
    exactly as one that does not exist (a move across districts is leaving, ``moved``)."""
    require_role(principal, Role.CLINIC, Role.HEALTH_CENTER)
    if clinic.district != patient.district:
        raise UnknownClinic(f"no clinic {clinic.id!r}")


def check_spending(principal: Principal, patient: Patient, clinic: Clinic, day: dt.date) -> None:
    """A clinic where the rules of ``day`` let the patient spend; any other clinic is told
    only that (422 ``out_of_district``, the contract's one narrowed answer), nothing about
    the patient, before anything else about the spend is checked."""
    require_role(principal, Role.CLINIC)
    check_may_spend(patient, clinic, day)


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


def check_session(principal: Principal, education: EducationSession) -> None:
    """A session the caller may record attendance at, before any patient is looked at: a
    health centre its own sessions; a clinic any (its own class, or the slip its patient
    brings from another)."""
    require_role(principal, Role.CLINIC, Role.HEALTH_CENTER)
    if principal.role == Role.HEALTH_CENTER and not check_education_owner(principal, education):
        raise UnknownSession(f"no education session {education.id!r}")


def check_attendance(principal: Principal, education: EducationSession, patient: Patient) -> None:
    """The session's health centre or clinic, for a patient of the session's district (whose
    budget pays the award); or the patient's home clinic (bringing a slip).

    Anyone else's patient is refused exactly as a missing patient, and a session the caller
    neither held nor brings its own patient to as a missing session.
    """
    check_session(principal, education)
    if principal.role == Role.CLINIC and principal.clinic_id == patient.clinic_id:
        return
    if not check_education_owner(principal, education):
        raise UnknownSession(f"no education session {education.id!r}")
    if patient.district != education.district:
        raise UnknownPatient(f"no patient {patient.id!r}")


def check_reversal(principal: Principal, transaction: Transaction) -> None:
    """The city, or the health centre of the transaction's district."""
    require_role(principal, *STAFF)
    if principal.role != Role.CITY and (
        transaction.district is None or not sees_district(principal, transaction.district)
    ):
        raise UnknownTransaction(f"no transaction {transaction.id}")


def check_own_entry(principal: Principal, transaction: Transaction) -> None:
    """A clinic voids only an entry it recorded; anything else is refused as missing."""
    require_role(principal, Role.CLINIC)
    if principal.clinic_id is None or not is_own_entry(transaction, principal.clinic_id):
        raise UnknownTransaction(f"no transaction {transaction.id}")


def check_receipt(principal: Principal, parties: EntryParties) -> None:
    """A receipt for a patient's entry: whoever may read the patient, or the clinic that
    recorded the entry; anything else (an entry of no patient's) is refused as missing."""
    entry, patient = parties.entry, parties.patient
    own = principal.role == Role.CLINIC and is_own_entry(entry, principal.clinic_id or "")
    if patient is None or not (own or may_read_patient(principal, patient)):
        raise UnknownTransaction(f"no transaction {entry.id}")


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


# Whose accounts each role manages in the console: the city its health centres', a health
# centre its clinics', a clinic's lead its receptionists'. The command line manages any.
_CREATES = {
    Role.CITY: Role.HEALTH_CENTER,
    Role.HEALTH_CENTER: Role.CLINIC,
    Role.CLINIC: Role.CLINIC,
}


def _require_account_manager(principal: Principal) -> None:
    if principal.account_id is None:
        raise Forbidden("staff accounts are managed in the console or with `mileage staff`")
    if principal.role == Role.CLINIC and not principal.clinic_lead:
        raise Forbidden("only a clinic's lead manages its receptionists' accounts")


def check_staff_create(
    principal: Principal,
    role: str,
    *,
    district: str | None,
    clinic_id: str | None,
    clinic_lead: bool,
    find_clinic: Callable[[str], Clinic],
) -> None:
    """The city creates health-centre accounts; a health centre, accounts at its district's
    clinics (a clinic's lead among them); a clinic's lead, its own receptionists'. A clinic
    outside the caller's scope is refused as a missing one."""
    if principal.is_system:
        return
    _require_account_manager(principal)
    if role != _CREATES[principal.role]:
        raise Forbidden(f"a {principal.role} account may not create a {role} account")
    if principal.role == Role.CITY:
        return
    if clinic_id is None:
        raise UnknownClinic("a clinic account needs a clinic")
    clinic = find_clinic(clinic_id)
    if principal.role == Role.HEALTH_CENTER and clinic.district != principal.district:
        raise UnknownClinic(f"no clinic {clinic_id!r}")
    if principal.role == Role.CLINIC:
        if clinic.id != principal.clinic_id:
            raise UnknownClinic(f"no clinic {clinic_id!r}")
        if clinic_lead:
            raise Forbidden("a clinic's lead is named by the health centre")


def creates_role(principal: Principal) -> Role:
    """The role of the accounts a person creates in the console (see ``check_staff_create``)."""
    _require_account_manager(principal)
    return _CREATES[principal.role]


def may_manage_staff(principal: Principal, account: StaffAccount) -> bool:
    """Whether ``principal`` (a manager, see ``check_staff_manage``) manages ``account``."""
    if principal.is_system:
        return True
    if account.id == principal.account_id:
        return False
    if principal.role == Role.CITY:
        return account.role != Role.CITY
    if principal.role == Role.HEALTH_CENTER:
        return account.role == Role.CLINIC and account.district == principal.district
    return account.clinic_id == principal.clinic_id and not account.clinic_lead


def check_staff_manage(principal: Principal, account: StaffAccount) -> None:
    """Who may disable an account or reset its password: whoever may create it (and the
    city any health-centre or clinic account); an account outside that scope, or the
    caller's own, is refused as a missing one."""
    if principal.is_system:
        return
    _require_account_manager(principal)
    if not may_manage_staff(principal, account):
        raise NotFound(f"no staff account {account.id!r}")
