"""The health centre's education classes (건강 교육): its classes, a new one, and a class's
attendance recorded by ticking patients found in the district (a class of 30 in a minute:
search by a part of the name, a phone's last four digits or the birth date, tick, record).

Recording answers with post-redirect-get; a reload records nothing twice (an attendance is
recorded once per patient and class), and each refused patient is named with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from actions import classes, earning, policy
from actions.context import Context
from api.deps import ContextDep, SessionDep
from api.errors import redirect
from api.web.deps import CheckedFormDep, MemberDep, PageSessionDep, Visitor
from api.web.pages import page
from ledger import errors as e
from ledger.services import earning as classes_kept
from ledger.services import registry
from ledger.text import unsafe_character
from ledger.vocabulary import Condition, Role

if TYPE_CHECKING:
    from ledger.models import EducationSession

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 30  # classes, and patients found, per page
TITLE_LIMIT = 200
CONDITIONS = {Condition.HYPERTENSION: "고혈압", Condition.DIABETES: "당뇨병"}
# Why a ticked patient was not recorded: a short word for the redirect, and its sentence.
REFUSALS: list[tuple[str, type[e.LedgerError], str]] = [
    ("already", e.AlreadyAttended, "이미 이 교육에 출석이 기록되어 있습니다."),
    ("inactive", e.PatientNotActive, "프로그램을 떠난 환자입니다."),
    ("before", e.BeforeEnrolment, "교육 날에는 아직 등록 전이었습니다."),
    ("late", e.LateEntry, "기록할 수 있는 기간이 지난 교육입니다."),
    ("future", e.FutureDate, "아직 열리지 않은 교육입니다. 교육 날 이후에 기록해 주세요."),
    ("missing", e.NotFound, "이 보건소에서 기록할 수 없는 환자입니다."),
]
OTHER = ("other", "기록하지 못했습니다.")


def refusal_word(error: e.LedgerError) -> str:
    return next((word for word, cls, _ in REFUSALS if isinstance(error, cls)), OTHER[0])


SENTENCES = {word: sentence for word, _, sentence in REFUSALS} | {OTHER[0]: OTHER[1]}


def _own_class(session_id: str, session: SessionDep, ctx: ContextDep) -> EducationSession:
    """A class of the person's health centre; anyone else's answers as a missing one."""
    policy.require_role(ctx.principal, Role.HEALTH_CENTER)
    education = classes_kept.get_session(session, session_id)
    if not policy.check_education_owner(ctx.principal, education):
        raise e.UnknownSession(f"no education session {session_id!r}")
    return education


OwnClass = Annotated["EducationSession", Depends(_own_class)]
Cursor = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_]{1,32}$")]


def _health_centre(ctx: ContextDep) -> Context:
    policy.require_role(ctx.principal, Role.HEALTH_CENTER)
    return ctx


CentreContext = Annotated[Context, Depends(_health_centre)]


def classes_page(
    session: Session,
    visitor: Visitor,
    before: str | None,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    district = visitor.ctx.principal.district
    assert district is not None, "a health centre's account has its district"
    found = classes.list_classes(session, visitor.ctx, district, before=before, limit=PAGE + 1)
    return page(
        visitor,
        "centre/classes.html",
        status,
        found=found[:PAGE],
        more=len(found) > PAGE,
        conditions=CONDITIONS,
        errors=errors or {},
        typed=typed or {},
    )


@router.get("/education")
def list_classes(
    session: PageSessionDep, visitor: MemberDep, ctx: CentreContext, before: Cursor = None
) -> HTMLResponse:
    """The health centre's classes, newest first, and the form for a new one."""
    return classes_page(session, visitor, before)


def class_fields(form: dict[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """A new class's fields from its form, and an error beside each field that is wrong."""
    errors: dict[str, str] = {}
    try:
        held_on: dt.date | None = dt.date.fromisoformat(form.get("held_on", "").strip())
    except ValueError:
        held_on, errors["held_on"] = None, "교육 날짜를 달력에서 골라 주세요."
    condition = form.get("condition", "")
    if condition not in CONDITIONS:
        errors["condition"] = "고혈압 또는 당뇨병 교육인지 골라 주세요."
    title = " ".join(form.get("title", "").split())
    if not title or len(title) > TITLE_LIMIT or unsafe_character(title):
        errors["title"] = f"교육 이름을 {TITLE_LIMIT}자 안에서 글자로 적어 주세요."
    return {"held_on": held_on, "condition": condition, "title": title}, errors


@router.post("/education", response_model=None)
def create_class(
    session: PageSessionDep, visitor: MemberDep, ctx: CentreContext, form: CheckedFormDep
) -> HTMLResponse | RedirectResponse:
    """A new class of the health centre; then its page, to record who came."""
    fields, errors = class_fields(form)
    if errors:
        return classes_page(session, visitor, None, errors=errors, typed=form, status=422)
    education = earning.create_education_session(session, ctx, **fields)  # type: ignore[arg-type]
    return redirect(f"/console/education/{education.id}")


@router.get("/education/{session_id}")
def show_class(
    request: Request,
    session: PageSessionDep,
    visitor: MemberDep,
    education: OwnClass,
    q: Annotated[str, Query(max_length=100)] = "",
    after: Cursor = None,
) -> HTMLResponse:
    """A class: who is recorded, the patients found, and the result of the last recording."""
    view = classes.show_class(session, visitor.ctx, education, text=q, after=after, limit=PAGE)
    recorded = request.query_params.get("recorded", "")
    refused = [r.split(".", 1) for r in request.query_params.getlist("refused") if "." in r]
    names = {p: _name_in(session, p, education.district) for p, _ in refused}
    return page(
        visitor,
        "centre/class.html",
        view=view,
        q=q,
        conditions=CONDITIONS,
        recorded=int(recorded) if recorded.isdigit() else None,
        refused=[(names.get(p), SENTENCES.get(word, OTHER[1])) for p, word in refused],
        attended={a.patient_id for a in view.attendees},
    )


def _name_in(session: Session, patient_id: str, district: str) -> str | None:
    """A refused patient's name, for one of the class's district only (the id comes back
    in the address, which anyone may edit)."""
    try:
        patient = registry.get_patient(session, patient_id)
    except e.NotFound:
        return None
    return patient.name if patient.district == district else None


@router.post("/education/{session_id}/attendance")
def record_class(
    session: PageSessionDep, visitor: MemberDep, education: OwnClass, form: CheckedFormDep
) -> RedirectResponse:
    """Record every ticked patient (``tick`` fields); back to the class with the outcome."""
    ticked = [name[5:] for name, value in form.items() if name.startswith("tick_") and value]
    marks = classes.record_class(session, visitor.ctx, education, ticked)
    query = [("recorded", str(sum(1 for m in marks if m.recorded)))] + [
        ("refused", f"{m.patient_id}.{refusal_word(m.refused)}") for m in marks if m.refused
    ]
    if form.get("q"):
        query.append(("q", form["q"]))
    return redirect(f"/console/education/{education.id}?{urlencode(query)}")
