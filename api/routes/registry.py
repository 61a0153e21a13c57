"""Districts and clinics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import policy, present
from api.deps import AuditDep, PageDep, PrincipalDep, SessionDep, TodayDep
from api.pagination import decode, next_cursor
from api.schemas import Clinic, ClinicCreate, ClinicLeave, District, Page, problems
from ledger.services import registry

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/districts", response_model=Page[District], responses=problems())
def list_districts(session: SessionDep, _: PrincipalDep, page: PageDep) -> Page[District]:
    """Seoul's 25 districts, with whether each takes part in the programme."""
    rows = registry.list_districts(session, after=decode(page.cursor), limit=page.limit + 1)
    return Page(
        items=[
            District(code=r.code, name=r.name, participating=r.participating)
            for r in rows[: page.limit]
        ],
        next_cursor=next_cursor(rows, page.limit, lambda r: r.code),
    )


@router.post("/clinics", status_code=201, response_model=Clinic, responses=problems(403, 404, 409))
def create_clinic(
    body: ClinicCreate,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    today: TodayDep,
) -> Clinic:
    """Register a participating clinic (the city, or the district's health centre)."""
    policy.check_register_clinic(principal, body.district)
    clinic = registry.register_clinic(
        session,
        name=body.name,
        kind=body.kind,
        district=body.district,
        participating_since=body.participating_since or today,
    )
    audit("clinic.create", f"clinics/{clinic.id}")
    return present.clinic(clinic)


@router.get("/clinics", response_model=Page[Clinic], responses=problems())
def list_clinics(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    district: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> Page[Clinic]:
    """Participating clinics, optionally of one district (a clinic's key sees itself only)."""
    rows = registry.list_clinics(
        session,
        district=district,
        clinic_id=principal.clinic_id if principal.role == "clinic" else None,
        after=decode(page.cursor),
        limit=page.limit + 1,
    )
    return Page(
        items=[present.clinic(r) for r in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda r: r.id),
    )


@router.post("/clinics/{clinic_id}/leaving", response_model=Clinic, responses=problems(403, 404))
def clinic_leaves(
    clinic_id: str,
    body: ClinicLeave,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> Clinic:
    """End a clinic's participation after a date (its health centre, or the city)."""
    policy.require_role(principal, "city", "health_center")
    clinic = registry.get_clinic(session, clinic_id)
    policy.check_clinic(principal, clinic)
    registry.clinic_leaves(session, clinic_id=clinic_id, on=body.on)
    audit("clinic.leave", f"clinics/{clinic_id}")
    return present.clinic(clinic)
