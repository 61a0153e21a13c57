"""API keys over HTTP (so no officer needs a shell) and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import policy, present
from api.deps import AuditDep, PageDep, PrincipalDep, SessionDep
from api.errors import Forbidden, InvalidRequest
from api.pagination import decode, next_cursor
from api.schemas import AuditEntry, Key, KeyCreate, KeyIssued, Moment, Page, problems
from ledger.errors import NotFound
from ledger.models import ApiKey
from ledger.services import access, registry
from ledger.services.access import Principal

router = APIRouter(prefix="/v1", tags=["access"])


def _check_key_scope(session: SessionDep, principal: Principal, key: ApiKey) -> None:
    """The city manages every key; a health centre the keys of its own clinics."""
    policy.require_role(principal, "city", "health_center")
    if principal.role == "health_center" and (
        key.role != "clinic" or key.district != principal.district
    ):
        raise NotFound(f"no key {key.id!r}")


@router.post("/keys", status_code=201, response_model=KeyIssued, responses=problems(403, 404))
def create_key(
    body: KeyCreate, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> KeyIssued:
    """Issue a key; shown once. A health centre issues keys for its own clinics."""
    policy.require_role(principal, "city", "health_center")
    if principal.role == "health_center":
        if body.role != "clinic" or body.clinic_id is None:
            raise Forbidden("a health centre issues clinic keys only")
        policy.check_clinic(principal, registry.get_clinic(session, body.clinic_id))
    issued = access.create_key(
        session,
        role=body.role,
        label=body.label,
        district=body.district,
        clinic_id=body.clinic_id,
        created_by=principal.label,
    )
    audit("key.create", f"keys/{issued.key.id}")
    return KeyIssued(**present.key(issued.key).model_dump(), key=issued.token)


@router.get("/keys", response_model=Page[Key], responses=problems(403))
def list_keys(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Page[Key]:
    """Keys, without their secrets: all for the city, its clinics' for a health centre."""
    policy.require_role(principal, "city", "health_center")
    rows = [
        k
        for k in access.list_keys(session, district=principal.district)
        if principal.role == "city" or k.role == "clinic"
    ]
    after = decode(page.cursor)
    rows = [k for k in rows if after is None or k.id > after][: page.limit + 1]
    return Page(
        items=[present.key(k) for k in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda k: k.id),
    )


@router.post("/keys/{key_id}/revocation", response_model=Key, responses=problems(403, 404))
def revoke_key(key_id: str, session: SessionDep, principal: PrincipalDep, audit: AuditDep) -> Key:
    """Revoke a key at once; revoking twice changes nothing."""
    key = access.get_key(session, key_id)
    _check_key_scope(session, principal, key)
    access.revoke_key(session, key_id)
    audit("key.revoke", f"keys/{key_id}")
    return present.key(key)


@router.get("/audit", response_model=Page[AuditEntry], responses=problems(403))
def list_audit(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    audit: AuditDep,
    patient_id: str | None = None,
    since: Annotated[Moment | None, Query(description="RFC 3339 with offset, inclusive")] = None,
    until: Annotated[Moment | None, Query(description="RFC 3339 with offset, exclusive")] = None,
) -> Page[AuditEntry]:
    """Who read or changed what, when, from where; newest first (the city)."""
    policy.require_role(principal, "city")
    before = decode(page.cursor)
    if before is not None and not before.isdigit():
        raise InvalidRequest("the cursor is not one this service gave out", field="cursor")
    rows = access.list_audit(
        session,
        patient_id=patient_id,
        since=since,
        until=until,
        before=int(before) if before else None,
        limit=page.limit + 1,
    )
    audit("audit.read", "audit", patient_id=patient_id)  # after the page: not in it
    return Page(
        items=[
            AuditEntry(
                at=r.at,
                key_id=r.key_id,
                label=r.label,
                role=r.role,
                action=r.action,
                resource=r.resource,
                patient_id=r.patient_id,
                client=r.client,
                request_id=r.request_id,
            )
            for r in rows[: page.limit]
        ],
        next_cursor=next_cursor(rows, page.limit, lambda r: str(r.id)),
    )
