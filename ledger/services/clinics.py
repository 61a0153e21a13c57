"""The programme's districts and clinics: looking them up, a clinic joining and leaving.

A clinic takes part from ``participating_since`` through ``participating_until``, and
``ensure_participating`` refuses an event at it outside that period. A district's system
accounts open on first use. Functions take the session first and flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain import AccountType
from ledger.errors import InvalidInput, NotParticipating, UnknownClinic, UnknownDistrict
from ledger.ids import is_well_formed, new_id
from ledger.models import Clinic, District, Patient, StaffAccount
from ledger.services.booking import open_account
from ledger.vocabulary import ClinicKind, PatientStatus, values

__all__ = [
    "clinic_figures",
    "clinic_leaves",
    "district_account",
    "ensure_participating",
    "get_clinic",
    "get_district",
    "list_clinics",
    "list_districts",
    "register_clinic",
]


def get_district(session: Session, code: str) -> District:
    district = session.get(District, code)
    if district is None:
        raise UnknownDistrict(f"no district {code!r}; districts are 5-digit codes like 11740")
    return district


def get_clinic(session: Session, clinic_id: str) -> Clinic:
    if not is_well_formed(clinic_id):
        raise UnknownClinic("no clinic with that id")
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise UnknownClinic(f"no clinic {clinic_id!r}")
    return clinic


def district_account(session: Session, district: str, type: AccountType) -> int:
    """The id of a district's system account of ``type``, opened on first use."""
    return open_account(session, code=f"{type.value}:{district}", type=type, district=district)


def register_clinic(
    session: Session,
    *,
    name: str,
    kind: str,
    district: str,
    participating_since: dt.date | None = None,
) -> Clinic:
    if kind not in values(ClinicKind):
        raise InvalidInput("kind is chronic or ophthalmology", field="kind")
    if not name.strip():
        raise InvalidInput("a clinic needs a name", field="name")
    found = get_district(session, district)
    if not found.participating:
        raise NotParticipating(
            f"{found.name} ({district}) does not take part in the programme", field="district"
        )
    clinic_id = new_id("cln")
    clinic = Clinic(
        id=clinic_id,
        name=name.strip(),
        kind=kind,
        district=district,
        participating_since=participating_since or clock.today(),
        earned_account_id=open_account(
            session,
            code=f"clinic_earned:{clinic_id}",
            type=AccountType.CLINIC_EARNED,
            district=district,
        ),
        reimbursable_account_id=open_account(
            session,
            code=f"clinic_reimbursable:{clinic_id}",
            type=AccountType.CLINIC_REIMBURSABLE,
            district=district,
        ),
    )
    session.add(clinic)
    session.flush()
    return clinic


def clinic_leaves(session: Session, *, clinic_id: str, on: dt.date) -> Clinic:
    """End a clinic's participation after day ``on``; its records and balances stay."""
    clinic = get_clinic(session, clinic_id)
    if on < clinic.participating_since:
        raise InvalidInput("a clinic cannot leave before it joined", field="on")
    clinic.participating_until = on
    session.flush()
    return clinic


def ensure_participating(clinic: Clinic, day: dt.date) -> None:
    until = clinic.participating_until
    if day < clinic.participating_since or (until is not None and day > until):
        raise NotParticipating(
            f"clinic {clinic.id} does not take part in the programme on {day}", field="clinic"
        )


def list_districts(session: Session, *, after: str | None, limit: int) -> list[District]:
    query = select(District).order_by(District.code).limit(limit)
    if after is not None:
        query = query.where(District.code > after)
    return list(session.execute(query).scalars())


def list_clinics(
    session: Session,
    *,
    district: str | None,
    clinic_id: str | None,
    after: str | None,
    limit: int,
) -> list[Clinic]:
    """Clinics in id order, optionally of one district or just one clinic."""
    query = select(Clinic).order_by(Clinic.id).limit(limit)
    if district is not None:
        query = query.where(Clinic.district == district)
    if clinic_id is not None:
        query = query.where(Clinic.id == clinic_id)
    if after is not None:
        query = query.where(Clinic.id > after)
    return list(session.execute(query).scalars())


def clinic_figures(session: Session, clinic_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Each clinic's active patients and live staff accounts: ``{id: (patients, staff)}``."""
    if not clinic_ids:
        return {}
    patients = dict(
        session.execute(
            select(Patient.clinic_id, func.count())
            .where(Patient.clinic_id.in_(clinic_ids), Patient.status == PatientStatus.ACTIVE)
            .group_by(Patient.clinic_id)
        ).all()
    )
    staff = dict(
        session.execute(
            select(StaffAccount.clinic_id, func.count())
            .where(StaffAccount.clinic_id.in_(clinic_ids), StaffAccount.disabled_at.is_(None))
            .group_by(StaffAccount.clinic_id)
        ).all()
    )
    return {c: (patients.get(c, 0), staff.get(c, 0)) for c in clinic_ids}
