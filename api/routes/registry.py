"""Districts and clinics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from actions import registry
from api import present
from api.authorise import ManagedClinic, StaffContext
from api.deps import ContextDep, PageDep, PrincipalDep, SessionDep
from api.pagination import CLINICS, DISTRICTS, decode, next_cursor
from api.schemas import Clinic, ClinicCreate, ClinicLeave, District, Page, problems
from ledger.services import clinics
from ledger.vocabulary import Role

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/districts", response_model=Page[District], responses=problems())
def list_districts(session: SessionDep, _: PrincipalDep, page: PageDep) -> Page[District]:
    """Seoul's 25 districts, with whether each takes part in the programme."""
    rows = clinics.list_districts(
        session, after=decode(page.cursor, DISTRICTS), limit=page.limit + 1
    )
    return Page(
        items=[
            District(code=r.code, name=r.name, participating=r.participating)
            for r in rows[: page.limit]
        ],
        next_cursor=next_cursor(rows, page.limit, lambda r: r.code),
    )


@router.post("/clinics", status_code=201, response_model=Clinic, responses=problems(403, 404, 409))
def create_clinic(body: ClinicCreate, session: SessionDep, ctx: StaffContext) -> Clinic:
    """Register a participating clinic (the city, or the district's health centre)."""
    return present.clinic(registry.register_clinic(session, ctx, **body.model_dump()))


@router.get("/clinics", response_model=Page[Clinic], responses=problems())
def list_clinics(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    district: Annotated[str | None, Query(pattern=r"^[0-9]{5}$")] = None,
) -> Page[Clinic]:
    """Participating clinics, optionally of one district (a clinic's key sees itself only)."""
    rows = clinics.list_clinics(
        session,
        district=district,
        clinic_id=principal.clinic_id if principal.role == Role.CLINIC else None,
        after=decode(page.cursor, CLINICS),
        limit=page.limit + 1,
    )
    return Page(
        items=[present.clinic(r) for r in rows[: page.limit]],
        next_cursor=next_cursor(rows, page.limit, lambda r: r.id),
    )


@router.post("/clinics/{clinic_id}/leaving", response_model=Clinic, responses=problems(403, 404))
def clinic_leaves(
    clinic: ManagedClinic, body: ClinicLeave, session: SessionDep, ctx: ContextDep
) -> Clinic:
    """End a clinic's participation after a date (its health centre, or the city)."""
    return present.clinic(registry.clinic_leaves(session, ctx, clinic, on=body.on))
