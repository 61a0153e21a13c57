"""The clinic's desk (접수): find a patient, register one, and on the patient's page record a
visit, an attendance slip or a payment in mileage.

Each page parses, authorises through the API's own dependencies (``api.authorise``: the
page's session and the signed-in person's context stand in for the API's), calls one
action and presents. A form that books carries a one-time token and answers with a redirect
to the patient's page showing what it booked (``api.web.forms.once``); a refused form comes
back with the values as typed and the reason beside the field it concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from actions import desk, earning, patients, policy, spending
from api.authorise import ClinicContext, HomePatient, VisiblePatient
from api.deps import SessionDep
from api.schemas import PatientCreate, PatientLookup, RedemptionCreate, VisitCreate
from api.web import forms, outcomes
from api.web.deps import CheckedFormDep, MemberDep, PageSessionDep, RecordingPageSessionDep, Visitor
from api.web.forms import Booking, FormRefused, field_errors, form_token
from api.web.pages import page
from ledger import errors as e
from ledger.db import run_in_transaction
from ledger.programme import Readings
from ledger.services import clinics, registry
from ledger.services import earning as classes
from ledger.services.registry import CONSENT_TEXT, CONSENT_WORDING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledger.models import EducationSession, Patient
    from ledger.services.earning import Recorded

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

BOOKINGS = ("visit", "attendance", "payment")
CONSENT_CHANGED = "동의 문구가 바뀌었습니다. 새 문구를 읽어 드린 뒤 다시 골라 주세요."
NO_CONSENT_CHOICE = "문자 수신에 동의하는지 골라 주세요."
NO_CLASS = "참석한 교육을 골라 주세요."


# -- authorising a payment (the API's SpendingPatient reads a JSON body; a form has none) --


def _paying_patient(patient_id: str, session: SessionDep, ctx: ClinicContext) -> Patient:
    """A patient who may spend at the calling clinic today (the role first, then where)."""
    patient = registry.get_patient(session, patient_id)
    policy.check_spending(
        ctx.principal, patient, clinics.get_clinic(session, ctx.clinic_id), ctx.today
    )
    return patient


PayingPatient = Annotated["Patient", Depends(_paying_patient)]


# -- reading the forms ---------------------------------------------------------------------


def _lookup(form: dict[str, str]) -> dict[str, Any]:
    fields = {k: form.get(k, "") for k in ("name", "birth_date", "phone")}
    return forms.parse(PatientLookup, fields, dates=frozenset({"birth_date"})).model_dump()


def _registration(form: dict[str, str]) -> dict[str, Any]:
    consent = {"yes": True, "no": False}.get(form.get("sms_consent", ""))
    fields: dict[str, Any] = {k: form.get(k, "") for k in ("name", "birth_date", "phone")}
    fields["conditions"] = [c for c in ("hypertension", "diabetes") if form.get(c) == "on"]
    fields["sms_consent"] = consent
    errors: dict[str, str] = {}
    try:
        parsed = forms.parse(PatientCreate, fields, dates=frozenset({"birth_date"})).model_dump()
    except FormRefused as refused:
        errors = refused.errors
    if consent is None:
        errors["sms_consent"] = NO_CONSENT_CHOICE
    elif consent and form.get("consent_wording") != CONSENT_WORDING:
        errors["sms_consent"] = CONSENT_CHANGED
    if errors:
        raise FormRefused(errors)
    return parsed


def _visit(form: dict[str, str]) -> dict[str, Any]:
    names = ("visited_on", "systolic", "diastolic", "hba1c", "fasting_glucose", "next_visit_on")
    dates = frozenset({"visited_on", "next_visit_on"})
    body = forms.parse(VisitCreate, {k: form.get(k, "") for k in names}, dates=dates)
    readings = Readings(body.systolic, body.diastolic, body.hba1c, body.fasting_glucose)
    return {
        "visited_on": body.visited_on,
        "readings": readings,
        "next_visit_on": body.next_visit_on,
    }


def _payment(form: dict[str, str], visitor: Visitor) -> dict[str, Any]:
    amount = form.get("amount", "").replace(",", "").replace("M", "").strip()
    fields = {"amount": amount, "purpose": form.get("purpose", "")}
    body = forms.parse(RedemptionCreate, {**fields, "spent_on": visitor.ctx.today.isoformat()})
    return body.model_dump()


def _class(
    session: Session, visitor: Visitor, patient: Patient, form: dict[str, str]
) -> EducationSession:
    """The class whose slip is recorded: one the clinic may record for this patient."""
    if not form.get("session_id"):
        raise FormRefused({"session_id": NO_CLASS})
    education = classes.get_session(session, form["session_id"])
    policy.check_attendance(visitor.ctx.principal, education, patient)
    return education


# -- pages ---------------------------------------------------------------------------------


def _tokens(visitor: Visitor, patient_id: str, kept: Booking | None = None) -> dict[str, str]:
    tokens = {kind: form_token(visitor, kind, patient_id) for kind in BOOKINGS}
    if kept is not None:
        tokens[kept.purpose] = kept.token
    return tokens


Refused = tuple[Booking, dict[str, str], dict[str, str]]  # the form, its errors, its values


def _booking_page(
    session: Session,
    visitor: Visitor,
    patient: Patient,
    template: str,
    done: str | None,
    refused: Refused | None,
    status: int,
    **shown: object,
) -> HTMLResponse:
    """A page with booking forms: what the booking ``done`` did (this person's, for this
    patient), each form's one-time token, a refused form with its values and errors."""
    outcome = forms.outcome_of(session, visitor, done)
    if outcome is not None and outcome.get("patient") != patient.id:
        outcome = None
    kept, errors, values = refused or (None, {}, {})
    return page(
        visitor,
        template,
        status,
        patient=patient,
        outcome=None if outcome is None else outcomes.described(outcome),
        tokens=_tokens(visitor, patient.id, kept),
        refused=None if kept is None else kept.purpose,
        errors=errors,
        values=values,
        purposes=outcomes.PURPOSES,
        **shown,
    )


def _desk_page(
    session: Session,
    visitor: Visitor,
    patient: Patient,
    *,
    done: str | None = None,
    refused: Refused | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A patient's page: the summary, what a booking just did, the latest entries and the
    forms. For another clinic's patient who may spend here, the payment page: the balance
    and the payment form only."""
    if visitor.person.role == "clinic" and patient.clinic_id != visitor.ctx.clinic_id:
        view = patients.show_patient(session, visitor.ctx, patient)
        shown: dict[str, object] = {"summary": view.summary}
        return _booking_page(
            session, visitor, patient, "desk/payment.html", done, refused, status, **shown
        )
    found = desk.show_desk(session, visitor.ctx, patient)
    return _booking_page(
        session,
        visitor,
        patient,
        "desk/patient.html",
        done,
        refused,
        status,
        desk=found,
        summary=found.view.summary,
        books=visitor.person.role == "clinic",
        today=visitor.ctx.today,
        entry=outcomes.entry_text,
    )


def _again(
    request: Request,
    visitor: Visitor,
    patient_id: str,
    sent: Booking,
    form: dict[str, str],
    *,
    date_field: str | None = None,
) -> None:
    """A refusal of this booking form answers with the page it is on, the form as typed."""

    def answer(error: e.LedgerError, status: int) -> Response:
        refused: Refused = (sent, field_errors(error, date_field=date_field), form)

        def again(session: Session) -> HTMLResponse:
            patient = registry.get_patient(session, patient_id)
            return _desk_page(session, visitor, patient, refused=refused, status=status)

        return run_in_transaction(request.app.state.sessions, again)

    forms.refuse_again_with(request, answer)


def _find_page(
    session: Session,
    visitor: Visitor,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    """The desk: the look-up form (as typed, after a refusal) and today at the clinic."""
    today = desk.show_today(session, visitor.ctx)
    return page(
        visitor,
        "desk/find.html",
        status,
        values=form,
        errors=errors,
        today=today,
        day=visitor.ctx.today,
        purposes=outcomes.PURPOSES,
    )


def _find_again(
    request: Request, visitor: Visitor, form: dict[str, str]
) -> Callable[[e.LedgerError, int], HTMLResponse]:
    """A look-up that found nobody (or was refused): the desk again, the form as typed."""

    def answer(error: e.LedgerError, status: int) -> HTMLResponse:
        errors = field_errors(error)
        return run_in_transaction(
            request.app.state.sessions,
            lambda session: _find_page(session, visitor, form, errors, status),
        )

    return answer


def _registration_page(
    visitor: Visitor,
    form: dict[str, str],
    errors: dict[str, str],
    token: str,
    status: int = 200,
    existing: str | None = None,
) -> HTMLResponse:
    return page(
        visitor,
        "desk/register.html",
        status,
        values=form,
        errors=errors,
        token=token,
        existing=existing,
        consent_text=CONSENT_TEXT,
        consent_wording=CONSENT_WORDING,
    )


def _registration_again(
    visitor: Visitor, form: dict[str, str], sent: Booking
) -> Callable[[e.LedgerError, int], HTMLResponse]:
    """A refused registration: the form as typed, the reason beside its field (and, for a
    person already registered whom the clinic may read, a link to them)."""

    def answer(error: e.LedgerError, status: int) -> HTMLResponse:
        existing = getattr(error, "existing_id", None)
        errors = field_errors(error)
        return _registration_page(visitor, form, errors, sent.token, status, existing)

    return answer


def _home(outcome: dict[str, Any]) -> str:
    return f"/console/patients/{outcome['patient']}"


def _once_recorded(
    session: Session, visitor: Visitor, sent: Booking, record: Callable[[], Recorded]
) -> RedirectResponse:
    """A visit or an attendance, booked once per form token; on to the patient's page."""

    def booked() -> dict[str, Any]:
        return outcomes.of_recorded(sent.purpose, sent.target, record())

    return forms.once(session, visitor, sent, _home, booked)


def _payment_home(outcome: dict[str, Any]) -> str:
    return f"/console/patients/{outcome['patient']}/payment"


@router.get("/desk")
def desk_page(session: PageSessionDep, visitor: MemberDep, ctx: ClinicContext) -> HTMLResponse:
    """The clinic's desk: find a patient by name, birth date and phone, or register one."""
    return _find_page(session, visitor, {}, {})


@router.post("/desk/find")
def find_patient(
    request: Request,
    session: RecordingPageSessionDep,
    form: CheckedFormDep,
    ctx: ClinicContext,
    visitor: MemberDep,
) -> HTMLResponse:
    """Look a patient up (counted and audited, found or not); a clinic finds its own patients
    and those who may spend there."""
    forms.refuse_again_with(request, _find_again(request, visitor, form))
    found = patients.look_up_patient(session, ctx, **_lookup(form))
    home = found.patient.clinic_id == ctx.clinic_id
    return page(visitor, "desk/found.html", found=found, home=home)


@router.get("/patients/new")
def registration_form(
    session: PageSessionDep, visitor: MemberDep, ctx: ClinicContext
) -> HTMLResponse:
    """The registration form, with the SMS consent wording and its version."""
    return _registration_page(visitor, {}, {}, form_token(visitor, "register", ctx.clinic_id))


@router.post("/patients")
def register_patient(
    request: Request,
    session: PageSessionDep,
    form: CheckedFormDep,
    ctx: ClinicContext,
    visitor: MemberDep,
) -> RedirectResponse:
    """Register a patient at this clinic (once per form token); on to their page."""
    sent = forms.booking(visitor, form, "register", ctx.clinic_id)
    forms.refuse_again_with(request, _registration_again(visitor, form, sent))
    fields = _registration(form)
    return forms.once(
        session,
        visitor,
        sent,
        _home,
        lambda: outcomes.of_registration(
            patients.register_patient(session, ctx, clinic_id=ctx.clinic_id, **fields)
        ),
    )


@router.get("/patients/{patient_id}")
def patient_page(
    session: PageSessionDep, visitor: MemberDep, patient: VisiblePatient, done: str | None = None
) -> HTMLResponse:
    """A patient's page: balance, this year's earnings, what the cap leaves, the latest
    entries, and (for their clinic) the visit, attendance and payment forms."""
    return _desk_page(session, visitor, patient, done=done)


@router.post("/patients/{patient_id}/visits")
def record_visit(
    request: Request,
    session: PageSessionDep,
    form: CheckedFormDep,
    patient: HomePatient,
    visitor: MemberDep,
) -> RedirectResponse:
    """Record a visit with its readings and next visit date (once per form token)."""
    sent = forms.booking(visitor, form, "visit", patient.id)
    _again(request, visitor, patient.id, sent, form, date_field="visited_on")
    fields, ctx = _visit(form), visitor.ctx
    return _once_recorded(
        session,
        visitor,
        sent,
        lambda: earning.record_visit(session, ctx, patient, clinic_id=ctx.clinic_id, **fields),
    )


@router.post("/patients/{patient_id}/attendance")
def record_attendance(
    request: Request,
    session: PageSessionDep,
    form: CheckedFormDep,
    patient: HomePatient,
    visitor: MemberDep,
) -> RedirectResponse:
    """Record the attendance slip the patient brings from an education class."""
    sent = forms.booking(visitor, form, "attendance", patient.id)
    _again(request, visitor, patient.id, sent, form, date_field="session_id")
    education = _class(session, visitor, patient, form)
    return _once_recorded(
        session,
        visitor,
        sent,
        lambda: earning.record_attendance(session, visitor.ctx, education, patient),
    )


@router.get("/patients/{patient_id}/payment")
def payment_page(
    session: PageSessionDep, visitor: MemberDep, patient: PayingPatient, done: str | None = None
) -> HTMLResponse:
    """Take a payment in mileage from a patient who may spend here (another clinic's too)."""
    return _desk_page(session, visitor, patient, done=done)


@router.post("/patients/{patient_id}/payments")
def take_payment(
    request: Request,
    session: PageSessionDep,
    form: CheckedFormDep,
    patient: PayingPatient,
    visitor: MemberDep,
) -> RedirectResponse:
    """Take a payment in mileage with its purpose (once per form token)."""
    sent = forms.booking(visitor, form, "payment", patient.id)
    _again(request, visitor, patient.id, sent, form)
    fields, ctx = _payment(form, visitor), visitor.ctx
    return forms.once(
        session,
        visitor,
        sent,
        _home if patient.clinic_id == ctx.clinic_id else _payment_home,
        lambda: outcomes.of_payment(
            spending.redeem(session, ctx, patient, clinic_id=ctx.clinic_id, **fields)
        ),
    )
