"""A district's clinics in the console (관내 의원): each with its participation dates, its
patients and staff accounts; a new clinic; a clinic's participation ended on a date, after a
confirmation that says what that means. The district's health centre, or the city.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from actions import registry
from api.authorise import ManagedClinic
from api.errors import redirect
from api.web.centre import OwnDistrict
from api.web.deps import CheckedFormDep, MemberDep, PageSessionDep, Visitor
from api.web.pages import page
from ledger.errors import InvalidInput
from ledger.services import clinics
from ledger.text import unsafe_character
from ledger.vocabulary import ClinicKind

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 50
NAME_LIMIT = 200
KINDS = {ClinicKind.CHRONIC: "만성질환 의원", ClinicKind.OPHTHALMOLOGY: "안과"}
Cursor = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_]{1,32}$")]


def clinics_page(
    session: Session,
    visitor: Visitor,
    district: str,
    after: str | None,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = clinics.list_clinics(
        session, district=district, clinic_id=None, after=after, limit=PAGE + 1
    )
    shown = found[:PAGE]
    return page(
        visitor,
        "centre/clinics.html",
        status,
        district=clinics.get_district(session, district),
        found=shown,
        figures=clinics.clinic_figures(session, [c.id for c in shown]),
        more=len(found) > PAGE,
        kinds=KINDS,
        today=visitor.ctx.today,
        errors=errors or {},
        typed=typed or {},
    )


@router.get("/districts/{code}/clinics")
def district_clinics(
    session: PageSessionDep, visitor: MemberDep, district: OwnDistrict, after: Cursor = None
) -> HTMLResponse:
    """The district's clinics, and the form that adds one."""
    return clinics_page(session, visitor, district, after)


def _date(form: dict[str, str], field: str, errors: dict[str, str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(form.get(field, "").strip())
    except ValueError:
        errors[field] = "날짜를 달력에서 골라 주세요."
        return None


def clinic_fields(form: dict[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """A new clinic's fields from its form, and an error beside each field that is wrong."""
    errors: dict[str, str] = {}
    name = " ".join(form.get("name", "").split())
    if not name or len(name) > NAME_LIMIT or unsafe_character(name):
        errors["name"] = f"의원 이름을 {NAME_LIMIT}자 안에서 글자로 적어 주세요."
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors["kind"] = "만성질환 의원인지 안과인지 골라 주세요."
    since = _date(form, "since", errors)
    return {"name": name, "kind": kind, "participating_since": since}, errors


@router.post("/districts/{code}/clinics", response_model=None)
def add_clinic(
    session: PageSessionDep, visitor: MemberDep, district: OwnDistrict, form: CheckedFormDep
) -> HTMLResponse | RedirectResponse:
    """A new participating clinic of the district."""
    fields, errors = clinic_fields(form)
    if errors:
        return clinics_page(session, visitor, district, None, errors=errors, typed=form, status=422)
    registry.register_clinic(session, visitor.ctx, district=district, **fields)  # type: ignore[arg-type]
    return redirect(f"/console/districts/{district}/clinics")


@router.get("/clinics/{clinic_id}/leaving")
def confirm_leaving(
    session: PageSessionDep,
    visitor: MemberDep,
    clinic: ManagedClinic,
    on: Annotated[dt.date | None, Query()] = None,
) -> HTMLResponse:
    """What ending the clinic's participation means, before it is done."""
    return page(visitor, "centre/leaving.html", clinic=clinic, on=on, errors={})


@router.post("/clinics/{clinic_id}/leaving", response_model=None)
def clinic_leaves(
    session: PageSessionDep, visitor: MemberDep, clinic: ManagedClinic, form: CheckedFormDep
) -> HTMLResponse | RedirectResponse:
    """End the clinic's participation after the date confirmed."""
    errors: dict[str, str] = {}
    on = _date(form, "on", errors)
    if on is not None and on < clinic.participating_since:
        errors["on"] = "참여를 시작한 날보다 앞설 수 없습니다."
    if on is None or errors:
        return page(visitor, "centre/leaving.html", 422, clinic=clinic, on=None, errors=errors)
    try:
        registry.clinic_leaves(session, visitor.ctx, clinic, on=on)
    except InvalidInput:
        errors["on"] = "이 날짜로는 참여를 끝낼 수 없습니다."
        return page(visitor, "centre/leaving.html", 422, clinic=clinic, on=None, errors=errors)
    return redirect(f"/console/districts/{clinic.district}/clinics")
