"""API keys over HTTP (so no officer needs a shell) and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from actions import access
from api import present
from api.authorise import CityContext, ManagedKey, StaffContext
from api.deps import ContextDep, PageDep, SessionDep
from api.pagination import KEYS, decode, decode_number, next_cursor
from api.schemas import AuditEntry, Key, KeyCreate, KeyIssued, Moment, Page, problems
from ledger.services.access import list_keys as keys_in
from ledger.vocabulary import Role

router = APIRouter(prefix="/v1", tags=["access"])


@router.post("/keys", status_code=201, response_model=KeyIssued, responses=problems(403, 404))
def create_key(body: KeyCreate, session: SessionDep, ctx: StaffContext) -> KeyIssued:
    """Issue a key; shown once. A health centre issues keys for its own clinics."""
    issued = access.create_key(session, ctx, **body.model_dump())
    return KeyIssued(**present.key(issued.key).model_dump(), key=issued.token)


@router.get("/keys", response_model=Page[Key], responses=problems(403))
def list_keys(session: SessionDep, ctx: StaffContext, page: PageDep) -> Page[Key]:
    """Keys, without their secrets: all for the city, its clinics' for a health centre."""
    principal, after = ctx.principal, decode(page.cursor, KEYS)
    rows = [
        k
        for k in keys_in(session, district=principal.district)
        if (principal.role == Role.CITY or k.role == Role.CLINIC)
        and (after is None or k.id > after)
    ][: page.limit + 1]
    return Page(
        items=[present.key(k) for k in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda k: k.id),
    )


@router.post("/keys/{key_id}/revocation", response_model=Key, responses=problems(403, 404))
def revoke_key(key: ManagedKey, session: SessionDep, ctx: ContextDep) -> Key:
    """Revoke a key at once; revoking twice changes nothing."""
    return present.key(access.revoke_key(session, ctx, key))


@router.get("/audit", response_model=Page[AuditEntry], responses=problems(403))
def list_audit(
    session: SessionDep,
    ctx: CityContext,
    page: PageDep,
    patient_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = None,
    since: Annotated[Moment | None, Query(description="RFC 3339 with offset, inclusive")] = None,
    until: Annotated[Moment | None, Query(description="RFC 3339 with offset, exclusive")] = None,
) -> Page[AuditEntry]:
    """Who read or changed what, when, from where; newest first (the city)."""
    rows = access.read_audit(
        session,
        ctx,
        patient_id=patient_id,
        since=since,
        until=until,
        before=decode_number(page.cursor),
        limit=page.limit + 1,
    )
    return Page(
        items=[present.audit_entry(r) for r in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda r: str(r.id)),
    )
