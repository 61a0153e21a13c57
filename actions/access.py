"""API keys and the audit trail: issuing and revoking keys, reading who did what."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context
from ledger.models import ApiKey, AuditEvent
from ledger.services import access, clinics, district_audit
from ledger.services.access import IssuedKey

__all__ = ["create_key", "read_audit", "read_district_audit", "revoke_key"]


def create_key(
    session: Session,
    ctx: Context,
    *,
    role: str,
    label: str,
    district: str | None = None,
    clinic_id: str | None = None,
) -> IssuedKey:
    """Issue a key (shown once): the city any, a health centre its own clinics' keys."""
    policy.check_key_issue(
        ctx.principal, role, clinic_id, lambda found: clinics.get_clinic(session, found)
    )
    issued = access.create_key(
        session,
        role=role,
        label=label,
        district=district,
        clinic_id=clinic_id,
        created_by=ctx.label,
    )
    ctx.audit(session, "key.create", f"keys/{issued.key.id}")
    return issued


def revoke_key(session: Session, ctx: Context, key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice changes nothing."""
    access.revoke_key(session, key.id)
    ctx.audit(session, "key.revoke", f"keys/{key.id}")
    return key


def read_audit(
    session: Session,
    ctx: Context,
    *,
    patient_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Who read or changed what, newest first; the reading itself is audited after the page
    is taken, so it is not in it."""
    rows = access.list_audit(
        session, patient_id=patient_id, since=since, until=until, before=before, limit=limit
    )
    ctx.audit(session, "audit.read", "audit", patient_id=patient_id)
    return rows


def read_district_audit(
    session: Session,
    ctx: Context,
    district: str,
    *,
    account_id: str | None,
    patient_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Who read or changed what in ``district``, newest first (the district's health centre
    or the city); the reading itself is audited after the page is taken."""
    rows = district_audit.district_audit(
        session,
        district=district,
        account_id=account_id,
        patient_id=patient_id,
        since=since,
        until=until,
        before=before,
        limit=limit,
    )
    ctx.audit(session, "audit.read", f"districts/{district}/audit", patient_id=patient_id)
    return rows
