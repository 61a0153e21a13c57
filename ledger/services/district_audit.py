"""A district's audit trail, as its health centre reads it: who read or changed what.

The trail has no district column; an event belongs to a district when it concerns one of the
district's patients, when it was done by one of the district's people (its health centre's or
its clinics' staff accounts and API keys), or when it names the district itself
(``districts/<code>/...``). Newest first; pages go back in time by id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ledger.models import ApiKey, AuditEvent, Clinic, Patient, StaffAccount
from ledger.services import access

__all__ = ["district_audit", "district_people", "patient_names"]


def _clinics_of(district: str) -> Select[str]:
    return select(Clinic.id).where(Clinic.district == district)


def district_people(session: Session, district: str) -> list[StaffAccount]:
    """The district's staff accounts (its health centre's and its clinics'), by name."""
    return list(
        session.execute(
            select(StaffAccount)
            .where(
                or_(
                    StaffAccount.district == district,
                    StaffAccount.clinic_id.in_(_clinics_of(district)),
                )
            )
            .order_by(StaffAccount.name, StaffAccount.id)
        ).scalars()
    )


def district_audit(
    session: Session,
    *,
    district: str,
    account_id: str | None,
    patient_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEvent]:
    """The district's audit events, newest first, filtered by person, patient and time."""
    clinics = _clinics_of(district)
    ours = or_(
        AuditEvent.patient_id.in_(select(Patient.id).where(Patient.district == district)),
        AuditEvent.account_id.in_(
            select(StaffAccount.id).where(
                or_(StaffAccount.district == district, StaffAccount.clinic_id.in_(clinics))
            )
        ),
        AuditEvent.key_id.in_(
            select(ApiKey.id).where(or_(ApiKey.district == district, ApiKey.clinic_id.in_(clinics)))
        ),
        AuditEvent.resource.like(f"districts/{district}/%"),
    )
    return access.list_audit(
        session,
        patient_id=patient_id,
        since=since,
        until=until,
        before=before,
        limit=limit,
        account_id=account_id,
        scope=ours,
    )


def patient_names(session: Session, district: str, ids: set[str]) -> dict[str, str | None]:
    """The names of those of ``ids`` who are the district's patients (None once erased)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Patient.id, Patient.name).where(Patient.id.in_(ids), Patient.district == district)
    )
    return {patient_id: name for patient_id, name in rows}
