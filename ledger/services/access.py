"""API keys and the audit trail.

A key belongs to one principal: the city, one district's health centre, or one clinic. It is
shown once, as ``<key id>.<secret>``, and only the SHA-256 of the secret is stored: the secret
is 256 random bits, so a fast hash is enough and a stolen table reveals no key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.errors import InvalidInput, NotFound
from ledger.ids import is_well_formed, new_id
from ledger.models import ApiKey, AuditEvent
from ledger.services.clinics import get_clinic, get_district
from ledger.vocabulary import Role, values

__all__ = [
    "IssuedKey",
    "Principal",
    "authenticate",
    "create_key",
    "get_key",
    "list_audit",
    "list_keys",
    "record_audit",
    "revoke_key",
]


@dataclass(frozen=True)
class Principal:
    """Who acts: one notion of the caller for every edge.

    ``key_id`` is an API key's id; a person signed in to the console has ``account_id``
    (their staff account) instead and ``label`` is their name. ``label`` names the person or
    system in the audit trail, ``role`` and ``district``/``clinic_id`` its scope;
    ``clinic_lead`` marks a clinic's lead, who manages its receptionists' accounts. The
    importer, the demo and the scheduler act as a city-wide ``system`` principal with no
    credential.
    """

    key_id: str | None
    label: str
    role: Role
    district: str | None = None
    clinic_id: str | None = None
    account_id: str | None = None
    clinic_lead: bool = False

    @property
    def is_system(self) -> bool:
        """The service itself (the command line, a job): no key and no account."""
        return self.key_id is None and self.account_id is None

    @classmethod
    def system(cls, label: str) -> Principal:
        """The service itself (a command or a job), acting city-wide under ``label``."""
        return cls(None, label, Role.CITY)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def role_scope(
    session: Session, role: str, district: str | None, clinic_id: str | None, *, holder: str
) -> tuple[str | None, str | None]:
    """The (district, clinic) a credential of ``role`` is scoped to: a health centre's
    district, a clinic's district and clinic, nothing for the city. ``holder`` names the
    credential in the refusals (a key, an account)."""
    if role == Role.HEALTH_CENTER:
        if district is None:
            raise InvalidInput(f"a health-centre {holder} needs a district", field="district")
        get_district(session, district)
        return district, None
    if role == Role.CLINIC:
        if clinic_id is None:
            raise InvalidInput(f"a clinic {holder} needs a clinic", field="clinic_id")
        return get_clinic(session, clinic_id).district, clinic_id
    return None, None


def create_key(
    session: Session,
    *,
    role: str,
    label: str,
    created_by: str,
    district: str | None = None,
    clinic_id: str | None = None,
) -> IssuedKey:
    """A new key for the city, a health centre (``district``) or a clinic (``clinic_id``)."""
    if role not in values(Role):
        raise InvalidInput(f"role is one of {', '.join(Role)}", field="role")
    if not label.strip():
        raise InvalidInput("a key needs a label naming who holds it", field="label")
    district, clinic_id = role_scope(session, role, district, clinic_id, holder="key")
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("key"),
        secret_hash=_digest(secret),
        role=role,
        district=district,
        clinic_id=clinic_id,
        label=label.strip(),
        created_by=created_by,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key, f"{key.id}.{secret}")


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a live key, or None for a malformed, unknown or revoked one."""
    key_id, _, secret = token.partition(".")
    if not key_id or not secret:
        return None
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _digest(secret)):
        return None
    return Principal(key.id, key.label, Role(key.role), key.district, key.clinic_id)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    if not is_well_formed(key_id):
        raise NotFound("no key with that id")
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no key {key_id!r}")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        session.flush()
    return key


def list_keys(
    session: Session, *, district: str | None = None, clinic_id: str | None = None
) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if district is not None:
        query = query.where(ApiKey.district == district)
    if clinic_id is not None:
        query = query.where(ApiKey.clinic_id == clinic_id)
    return list(session.execute(query).scalars())


def record_audit(
    session: Session,
    *,
    principal: Principal | None,
    action: str,
    resource: str,
    patient_id: str | None = None,
    client: str | None = None,
    request_id: str | None = None,
    at: dt.datetime | None = None,
    outcome: str | None = None,
    subject_hash: str | None = None,
) -> None:
    """Record who read or changed what, when and from where (never personal data: a search
    records its outcome and a keyed hash of whom it searched for)."""
    session.add(
        AuditEvent(
            at=at or clock.now(),
            key_id=principal.key_id if principal else None,
            account_id=principal.account_id if principal else None,
            label=principal.label if principal else None,
            role=principal.role if principal else None,
            action=action,
            resource=resource,
            patient_id=patient_id,
            client=client,
            request_id=request_id,
            outcome=outcome,
            subject_hash=subject_hash,
        )
    )


def list_audit(
    session: Session,
    *,
    patient_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: int | None,
    limit: int,
    account_id: str | None = None,
    scope: ColumnElement[bool] | None = None,
) -> list[AuditEvent]:
    """Audit events, newest first, filtered by patient, person and time, within ``scope``
    (a condition on the events, e.g. a district's); pages go back in time."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if scope is not None:
        query = query.where(scope)
    if account_id is not None:
        query = query.where(AuditEvent.account_id == account_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list(session.execute(query).scalars())


def get_key(session: Session, key_id: str) -> ApiKey:
    if not is_well_formed(key_id):
        raise NotFound("no key with that id")
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no key {key_id!r}")
    return key
