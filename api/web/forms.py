"""The console's form machinery: fields read through the API's own schemas with Korean
errors beside the field they concern, refusals in words, and the one-time form token that
makes a booking form safe to send twice.

A form that books (a registration, a visit, an attendance slip, a payment) carries a token
issued when the form is rendered: a random nonce and its MAC under the session's CSRF token,
bound to what the form does and to whom (``form_token``), so it is good in this session, for
this form, only. The token is the booking's idempotency key (``once``): it is claimed in the
request's own transaction in ``idempotent_requests`` under the signed-in account, and the
booking's outcome is stored on the claim, committed with the booking. A second submit of
the same token (a double press, a reload of the answer, the back button) books nothing and
is sent where the first was, to the patient's page showing the first booking's outcome; a
twin that arrives while the first still runs waits for it (``claims.claim(wait=True)``). A
refusal rolls the claim back with the booking, so the corrected form may be sent again with
the same token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from api.errors import CsrfRefused, RequestInFlight, redirect
from api.web.deps import Visitor
from api.web.formats import number
from ledger import errors as e
from ledger.services import idempotency as claims

__all__ = [
    "OUT_OF_DISTRICT",
    "Booking",
    "FormRefused",
    "booking",
    "field_errors",
    "form_token",
    "once",
    "outcome_of",
    "parse",
    "read_date",
    "refuse_again_with",
]

M = TypeVar("M", bound=BaseModel)
CHOICES = frozenset({"purpose", "session_id", "sms_consent", "conditions"})  # picked, not typed
TOKEN_FIELD = "form_token"
MAX_TOKEN = 100
OUTCOME = "application/json"


class FormRefused(e.InvalidInput):
    """Raised when a form's fields cannot be read; ``errors`` says why, field by field, in
    Korean."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("the form has fields to correct", field=next(iter(errors), None))
        self.errors = errors


# -- reading fields ------------------------------------------------------------------------

_DATE = re.compile(r"^\s*(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*[.일]?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def read_date(text: str) -> str:
    """A date as people type it at a desk (``2025-03-05``, ``2025. 3. 5.``, ``20250305``,
    ``2025년 3월 5일``) in the ISO spelling the schemas read; anything else as it came, for
    the schema to refuse in words."""
    found = _DATE.match(text) or _COMPACT.match(text)
    if found is None:
        return text
    year, month, day = (int(part) for part in found.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _said(error: Mapping[str, Any], dates: frozenset[str]) -> str:
    kind, context, field = error["type"], error.get("ctx") or {}, str(error["loc"][0])
    message = str(error.get("msg", ""))
    if "invisible" in message:
        return "보이지 않는 제어 문자가 들어 있습니다. 지우고 다시 적어 주세요."
    if kind in ("missing", "string_too_short"):
        return "목록에서 골라 주세요." if field in CHOICES else "꼭 적어 주세요."
    if kind == "too_short":
        return "하나 이상 골라 주세요."
    if field in dates:
        if "a date from" in message:
            return "날짜를 확인해 주세요. 있을 수 없는 날짜입니다."
        return "날짜를 2025-03-05처럼 적어 주세요."
    if kind == "string_too_long":
        return f"{context.get('max_length')}자까지 적을 수 있습니다."
    if kind in ("int_parsing", "int_from_float", "decimal_parsing", "finite_number"):
        return "숫자로 적어 주세요."
    if kind == "decimal_max_places":
        return "소수점 아래 한 자리까지 적어 주세요."
    bounds = {
        "greater_than_equal": ("ge", "{} 이상이어야 합니다."),
        "less_than_equal": ("le", "{} 이하여야 합니다."),
        "greater_than": ("gt", "{}보다 커야 합니다."),
    }
    if kind in bounds:
        key, words = bounds[kind]
        limit = context.get(key)
        return words.format(number(limit) if isinstance(limit, int) else limit)
    if kind in ("enum", "literal_error"):
        return "목록에서 골라 주세요."
    return "값을 확인해 주세요."


def parse(schema: type[M], fields: dict[str, Any], *, dates: frozenset[str] = frozenset()) -> M:
    """``fields`` read by the API's schema for the same action (its bounds, its refusal of
    hidden characters); empty fields are left out, dates read as typed at a desk. Refused
    with each field's error in Korean."""
    present = {
        name: read_date(value) if name in dates and isinstance(value, str) else value
        for name, value in fields.items()
        if value not in ("", None)
    }
    try:
        return schema.model_validate(present)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            errors.setdefault(str(item["loc"][0]), _said(item, dates))
        raise FormRefused(errors) from None


# -- refusals in words ---------------------------------------------------------------------

OUT_OF_DISTRICT = (
    "이 환자의 마일리지는 이 의원에서 쓸 수 없습니다. "
    "환자가 등록한 자치구의 참여 의원에서만 쓸 수 있습니다."
)
DATE = "@date"  # the form's own date field, named by the form
REFUSALS: list[tuple[type[e.LedgerError], str | None, str]] = [
    (
        e.BalanceBelowThreshold,
        "amount",
        "잔액이 {balance:,} M이라 아직 쓸 수 없습니다. "
        "마일리지는 잔액이 {threshold:,} M 이상일 때부터 쓸 수 있습니다.",
    ),
    (
        e.InsufficientBalance,
        "amount",
        "잔액({balance:,} M)보다 많이 쓸 수 없습니다. {balance:,} M 이하로 적어 주세요.",
    ),
    (
        e.PurposeNotAllowed,
        "purpose",
        "이 종류의 의원에서는 이 용도로 마일리지를 쓸 수 없습니다. "
        "만성질환 의원은 진료비·검사비·예방접종, 안과는 안과 검진에 씁니다.",
    ),
    (e.OutOfDistrict, None, OUT_OF_DISTRICT),
    (e.FutureDate, DATE, "오늘보다 뒤의 날짜는 기록할 수 없습니다."),
    (e.LateEntry, DATE, "기록할 수 있는 기간이 지난 날짜입니다."),
    (e.BeforeEnrolment, DATE, "환자가 등록한 날보다 앞선 날짜입니다."),
    (e.NotParticipating, None, "이 날짜에 이 의원은 건강관리 마일리지 사업에 참여하지 않았습니다."),
    (e.PatientNotActive, None, "사업을 떠난 환자여서 기록할 수 없습니다."),
    (e.AlreadyAttended, "session_id", "이 환자의 이 교육 참석은 이미 기록되었습니다."),
    (e.UnknownSession, "session_id", "고른 교육을 찾을 수 없습니다. 목록에서 다시 골라 주세요."),
    (e.DuplicatePatient, None, "이미 등록된 분입니다. 새로 등록하지 말고 환자 찾기로 찾아 주세요."),
    (e.InvalidPhone, "phone", "휴대전화 번호를 확인해 주세요 (예: 010-1234-5678)."),
    (
        e.UnknownPatient,
        None,
        "이름, 생년월일, 휴대전화 번호가 모두 맞는 환자를 찾지 못했습니다. "
        "적은 내용을 확인하거나 새로 등록해 주세요.",
    ),
    (e.RateLimited, None, "환자 찾기를 너무 자주 했습니다. {retry_after}초 뒤에 다시 해 주세요."),
]
# What the programme's own checks (``InvalidInput.field``) mean, said of each field.
FIELDS = {
    "name": "이름을 확인해 주세요. 글자만 적을 수 있습니다.",
    "birth_date": "생년월일을 확인해 주세요. 오늘보다 앞선 날짜여야 합니다.",
    "conditions": "질환을 하나 이상 골라 주세요.",
    "next_visit_on": "다음 진료일은 이번 진료일보다 뒤이고, 1년 안이어야 합니다.",
    "amount": "금액을 확인해 주세요.",
    "purpose": "용도를 목록에서 골라 주세요.",
    "clinic": "이 의원에서는 할 수 없는 일입니다.",
}
FORM = "form"  # an error that concerns the whole form, shown at its top
OTHERWISE = "입력한 값을 확인해 주세요."


def field_errors(error: e.LedgerError, *, date_field: str | None = None) -> dict[str, str]:
    """A refusal as the form shows it: {field: Korean words} (``form`` for the form itself)."""
    if isinstance(error, FormRefused):
        return error.errors
    for cls, field, words in REFUSALS:
        if isinstance(error, cls):
            where = date_field if field == DATE else field
            return {where or FORM: words.format(**vars(error))}
    field = getattr(error, "field", None)
    if isinstance(error, e.InvalidInput) and field in FIELDS:
        return {field: FIELDS[field]}
    return {FORM: OTHERWISE}


def refuse_again_with(request: Request, page: Callable[[Any, int], Response]) -> None:
    """Name the page a refusal of this form answers with: the form again, its fields as
    typed and each error beside its field (``api.web.errors`` calls it after the rollback,
    with the refusal: a ``LedgerError``, or an ``InvalidRequest`` the page itself raised
    while reading its form)."""
    request.state.form_again = page


# -- the one-time form token ---------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    """A booking form's token, checked: this session's, for this form and this record."""

    token: str
    purpose: str
    target: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.purpose}\n{self.target}".encode()).hexdigest()


def _mac(visitor: Visitor, purpose: str, target: str, nonce: str) -> str:
    signed = hmac.new(
        visitor.csrf_token.encode(), f"{purpose}\n{target}\n{nonce}".encode(), hashlib.sha256
    )
    return base64.urlsafe_b64encode(signed.digest()[:18]).decode()


def form_token(visitor: Visitor, purpose: str, target: str) -> str:
    """A new one-time token for a booking form (``purpose``) about ``target``."""
    nonce = secrets.token_urlsafe(15)
    return f"{nonce}.{_mac(visitor, purpose, target, nonce)}"


def booking(visitor: Visitor, form: dict[str, str], purpose: str, target: str) -> Booking:
    """The form's one-time token, checked (a missing or foreign one is refused as a form
    not sent from this session's page)."""
    token = form.get(TOKEN_FIELD, "")
    nonce, _, mac = token.partition(".")
    good = bool(nonce) and len(token) <= MAX_TOKEN and token.isascii()
    if not good or not hmac.compare_digest(mac, _mac(visitor, purpose, target, nonce)):
        raise CsrfRefused("the form's one-time token is missing or not this session's")
    return Booking(token, purpose, target)


def once(
    session: Session,
    visitor: Visitor,
    sent: Booking,
    then: Callable[[dict[str, Any]], str],
    book: Callable[[], dict[str, Any]],
) -> RedirectResponse:
    """Book once per token: the first submit books (``book`` returns its outcome) and is
    sent to ``then(outcome)``; a repeat books nothing and is sent where the first was."""
    account = visitor.account.id
    decision = claims.claim(session, account, sent.token, sent.fingerprint, wait=True)
    if decision.action == "replay":
        return redirect(json.loads(decision.body)["then"])
    if decision.action != "proceed":
        raise RequestInFlight("the first submit of this form is still being booked")
    outcome = book()
    outcome["then"] = f"{then(outcome)}?done={sent.token}"
    body = json.dumps(outcome).encode()
    claims.store(session, account, sent.token, 303, OUTCOME, body)
    return redirect(outcome["then"])


def outcome_of(session: Session, visitor: Visitor, token: str | None) -> dict[str, Any] | None:
    """The outcome this person's booking with ``token`` stored, if any."""
    if not token or len(token) > MAX_TOKEN:
        return None
    stored = claims.answer_of(session, visitor.account.id, token)
    return None if stored is None else dict(json.loads(stored))
