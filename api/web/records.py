"""The clinic's records in the console: a patient's statement (거래 내역), a receipt for any
entry (영수증, A4 or an 80 mm receipt printer), voiding the clinic's own entry while its
quarter is open, correcting a misspelt name, birth date or phone, and the clinic's quarter.

Each page parses, authorises through the API's dependencies (``api.authorise``), calls one
audited action and presents; forms carry the session's CSRF token and answer with a redirect
(post-redirect-get). A refused form is shown again through ``forms.refuse_again_with`` (see
``api.web.errors``): the correction form with its typed values and each reason beside its
field, a refused void with its reason and the way back to the receipt.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from actions import patients, spending, statements
from api.authorise import ClinicContext, ManagedPatient, OwnEntry, VisibleEntry, VisiblePatient
from api.errors import FormInvalid, redirect
from api.schemas import VoidCreate
from api.schemas.common import BirthDate, Body
from api.web.deps import CheckedFormDep, MemberDep, PageSessionDep, Visitor
from api.web.errors import korean
from api.web.forms import refuse_again_with
from api.web.pages import page
from api.web.words import entry_words, undone_words
from ledger.errors import InvalidInput
from ledger.services import clinics, registry
from ledger.services.corrections import is_own_entry
from ledger.services.statements import Line, Receipt
from ledger.vocabulary import CORRECTABLE_KINDS

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

FIRST_YEAR = 2013  # the programme's first year: no statement or quarter before it
RECEIPT_WIDTHS = ("a4", "80mm")
QUARTER = re.compile(r"([0-9]{4})-?Q([1-4])")
FIELD_MESSAGES = {
    "name": "이름을 100자 이내로, 보이지 않는 문자 없이 입력해 주세요.",
    "birth_date": "생년월일을 1900-01-01부터 오늘까지의 날짜로, 2024-03-05처럼 입력해 주세요.",
    "phone": "휴대전화 번호(010-1234-5678)를 입력해 주세요. 일반 전화는 문자를 받을 수 없습니다.",
    "reason": "취소하는 이유를 500자 이내로 적어 주세요.",
}

Form = TypeVar("Form", bound=BaseModel)


class Correction(Body):
    """The correction form: the patient's name, birth date and phone as they should be,
    each checked as registration checks it, so that every wrong field is named at once."""

    name: str = Field(min_length=1, max_length=100)
    birth_date: BirthDate
    phone: str = Field(min_length=1, max_length=40)

    @field_validator("birth_date")
    @classmethod
    def _not_after_today(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        today = (info.context or {}).get("today")
        if today is not None and value > today:
            raise ValueError("a birth date cannot be in the future")
        return value

    @field_validator("phone")
    @classmethod
    def _a_mobile(cls, value: str) -> str:
        try:
            registry.normalise_phone(value)
        except InvalidInput as error:
            raise ValueError(str(error)) from None
        return value


def read_form(model: type[Form], form: dict[str, str], today: dt.date | None = None) -> Form:
    """A form's fields as ``model`` takes them; every field it cannot read is named."""
    sent = {k: form[k] for k in model.model_fields if k in form}
    try:
        return model.model_validate(sent, context={"today": today})
    except ValidationError as error:
        wrong = [str(found["loc"][0]) for found in error.errors() if found["loc"]]
        raise FormInvalid(list(dict.fromkeys(wrong)) or ["form"]) from None


def field_errors(error: BaseException) -> dict[str, str]:
    """What the form shows beside each field a refusal concerns (or above it, as ``form``)."""
    if isinstance(error, FormInvalid):
        return {f: FIELD_MESSAGES.get(f, korean(error)) for f in error.fields}
    field = getattr(error, "field", None)
    if isinstance(error, InvalidInput) and field in FIELD_MESSAGES:
        return {field: FIELD_MESSAGES[field]}
    return {"form": korean(error)}


def year_asked(text: str | None, today: dt.date) -> int:
    """A statement's year from the query: this year unless another programme year is named."""
    if text is None or text == "":
        return today.year
    if not (text.isascii() and text.isdigit() and FIRST_YEAR <= int(text) <= today.year):
        raise InvalidInput(f"a year from {FIRST_YEAR} to {today.year}", field="year")
    return int(text)


def quarter_asked(text: str | None, today: dt.date) -> tuple[int, int]:
    """``2025Q1`` (or ``2025-Q1``) from the query; this quarter unless one is named."""
    if text is None or text == "":
        return today.year, (today.month - 1) // 3 + 1
    found = QUARTER.fullmatch(text)
    if found is None or not FIRST_YEAR <= int(found.group(1)) <= today.year:
        raise InvalidInput("a quarter such as 2025Q1", field="quarter")
    return int(found.group(1)), int(found.group(2))


def quarter_label(year: int, number: int) -> str:
    return f"{year}Q{number}"


def neighbours(year: int, number: int, today: dt.date) -> tuple[str | None, str | None]:
    """The quarters before and after one, as far as the programme and today go."""
    before = (year, number - 1) if number > 1 else (year - 1, 4)
    after = (year, number + 1) if number < 4 else (year + 1, 1)
    now = (today.year, (today.month - 1) // 3 + 1)
    return (
        quarter_label(*before) if before[0] >= FIRST_YEAR else None,
        quarter_label(*after) if after <= now else None,
    )


def receipt_width(text: str | None) -> str:
    """The receipt's layout: A4 unless the 80 mm receipt printer's is asked for."""
    return text if text in RECEIPT_WIDTHS else "a4"


@dataclass(frozen=True)
class Total:
    """A quarter's lines of one kind: what they were, how many, their sum."""

    account: str
    words: str
    count: int
    amount: int


def totals(lines: list[Line]) -> list[Total]:
    """The quarter's lines summed by account (earned, reimbursable) and what they were."""
    found: dict[tuple[str, str], list[int]] = {}
    for line in lines:
        key = (line.account or "", entry_words(line))
        found.setdefault(key, []).append(line.amount)
    return [Total(a, w, len(amounts), sum(amounts)) for (a, w), amounts in sorted(found.items())]


def may_void(visitor: Visitor, receipt: Receipt) -> bool:
    """Whether the page offers the void: the clinic's own programme event, not yet undone."""
    done = receipt.transaction
    clinic_id = visitor.ctx.principal.clinic_id
    return (
        clinic_id is not None
        and is_own_entry(done, clinic_id)
        and done.kind in CORRECTABLE_KINDS
        and receipt.reversed_by is None
    )


def void_reason(request: Request, entry: OwnEntry, visitor: MemberDep, form: CheckedFormDep) -> str:
    """The void form's reason; a refusal shows why, with the way back to the receipt."""
    back = f"/console/receipts/{entry.id}"

    def again(error: BaseException, status: int) -> HTMLResponse:
        message = " ".join(field_errors(error).values())
        title = "취소하지 못했습니다"
        return page(visitor, "error.html", status, title=title, message=message, back=back)

    refuse_again_with(request, again)
    return read_form(VoidCreate, form).reason


def correction(
    request: Request, patient: ManagedPatient, visitor: MemberDep, form: CheckedFormDep
) -> Correction:
    """The correction form; a refusal shows it again with the typed values kept."""
    patient_id = patient.id
    typed = {name: form.get(name, "") for name in Correction.model_fields}

    def again(error: BaseException, status: int) -> HTMLResponse:
        errors = field_errors(error)
        return page(
            visitor, "records/edit.html", status, patient_id=patient_id, values=typed, errors=errors
        )

    refuse_again_with(request, again)
    return read_form(Correction, form, visitor.ctx.today)


VoidReason = Annotated[str, Depends(void_reason)]
CorrectionDep = Annotated[Correction, Depends(correction)]


@router.get("/patients/{patient_id}/statement")
def statement(
    patient: VisiblePatient, session: PageSessionDep, visitor: MemberDep, year: str | None = None
) -> HTMLResponse:
    """A patient's statement for a year: every entry with the running balance (printable)."""
    today = visitor.ctx.today
    chosen = year_asked(year, today)
    found = statements.show_patient_statement(session, visitor.ctx, patient, year=chosen)
    years = range(today.year, max(FIRST_YEAR, patient.enrolled_on.year) - 1, -1)
    undone = undone_words(found.lines)
    shown = {"patient": patient, "statement": found, "years": years, "undone": undone}
    return page(visitor, "records/statement.html", 200, **shown)


@router.get("/receipts/{transaction_id}")
def receipt(
    parties: VisibleEntry, session: PageSessionDep, visitor: MemberDep, width: str | None = None
) -> HTMLResponse:
    """A receipt for one entry (a payment in mileage, an award, a void), A4 or 80 mm wide."""
    assert parties.patient is not None  # VisibleEntry admits a patient's entries only
    found = statements.show_receipt(session, visitor.ctx, parties.transaction, parties.patient)
    voidable = may_void(visitor, found)
    chosen = receipt_width(width)
    return page(visitor, "records/receipt.html", receipt=found, width=chosen, voidable=voidable)


@router.get("/receipts/{transaction_id}/void")
def void_form(
    entry: OwnEntry, parties: VisibleEntry, session: PageSessionDep, visitor: MemberDep
) -> HTMLResponse:
    """The void's confirmation: what is undone, and the reason to give."""
    assert parties.patient is not None
    found = statements.show_receipt(session, visitor.ctx, entry, parties.patient)
    return page(visitor, "records/void.html", receipt=found)


@router.post("/receipts/{transaction_id}/void")
def void(
    entry: OwnEntry,
    parties: VisibleEntry,
    reason: VoidReason,
    session: PageSessionDep,
    visitor: MemberDep,
) -> RedirectResponse:
    """Void the clinic's own entry (its quarter open); then the patient's statement."""
    assert parties.patient is not None
    patient_id = parties.patient.id
    undone = spending.void_entry(session, visitor.ctx, entry, reason=reason)
    year = undone.effective_date.year
    return redirect(f"/console/patients/{patient_id}/statement?year={year}")


@router.get("/patients/{patient_id}/edit")
def edit_form(
    patient: ManagedPatient, session: PageSessionDep, visitor: MemberDep, saved: str | None = None
) -> HTMLResponse:
    """The correction form: the name, birth date and phone as registered."""
    view = patients.show_patient(session, visitor.ctx, patient)
    values = {"name": patient.name, "birth_date": patient.birth_date, "phone": patient.phone}
    shown: dict[str, object] = {"patient_id": patient.id, "values": values, "errors": {}}
    return page(visitor, "records/edit.html", 200, view=view, saved=saved == "1", **shown)


@router.post("/patients/{patient_id}/edit")
def correct(
    patient: ManagedPatient, fields: CorrectionDep, session: PageSessionDep, visitor: MemberDep
) -> RedirectResponse:
    """Correct the name, birth date or phone: audited, registration's identity rules again."""
    patients.update_patient(session, visitor.ctx, patient, **fields.model_dump())
    return redirect(f"/console/patients/{patient.id}/edit?saved=1")


@router.get("/clinic/quarter")
def clinic_quarter(
    ctx: ClinicContext, session: PageSessionDep, visitor: MemberDep, quarter: str | None = None
) -> HTMLResponse:
    """The clinic's own quarter: what it earned, and what patients spent there."""
    year, number = quarter_asked(quarter, ctx.today)
    clinic = clinics.get_clinic(session, ctx.clinic_id)
    found = statements.show_clinic_statement(session, ctx, clinic, year=year, quarter=number)
    summary = totals(found.lines)
    around = neighbours(year, number, ctx.today)
    return page(
        visitor,
        "records/quarter.html",
        clinic=clinic,
        statement=found,
        totals=summary,
        around=around,
    )
