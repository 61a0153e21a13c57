"""Request and response bodies of the HTTP contract (``shared/docs/api.md``)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

T = TypeVar("T")

Condition = Literal["hypertension", "diabetes"]
Role = Literal["city", "health_center", "clinic"]
DistrictCode = Annotated[str, Field(pattern=r"^\d{5}$", examples=["11740"])]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _text_only(value: Any) -> Any:
    """Dates and moments are written as text; a number is not read as Unix time."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+\s*", value)):
        raise ValueError("write a date as YYYY-MM-DD (a moment as RFC 3339 with its offset)")
    return value


def _day_or_moment(value: Any) -> Any:
    """A plain date, or a timestamp with an offset (counted on its Seoul date)."""
    value = _text_only(value)
    if isinstance(value, str) and "T" in value:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a timestamp needs its offset, e.g. 2024-06-12T10:00:00+09:00")
        return moment
    return value


# Every date in a body or query: YYYY-MM-DD text only.
Day = Annotated[dt.date, BeforeValidator(_text_only)]
Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]
DayOrMoment = Annotated[
    dt.date | dt.datetime,
    BeforeValidator(_day_or_moment),
    WithJsonSchema(
        {
            "type": "string",
            "description": "YYYY-MM-DD, or RFC 3339 with offset",
            "anyOf": [{"format": "date"}, {"format": "date-time"}],
        }
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class District(BaseModel):
    code: str
    name: str
    participating: bool


class ClinicCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["chronic", "ophthalmology"]
    district: DistrictCode
    participating_since: Day | None = None


class Clinic(BaseModel):
    id: str
    name: str
    kind: str
    district: str
    participating_since: dt.date
    participating_until: dt.date | None


class ClinicLeave(Body):
    on: Day


class Award(BaseModel):
    beneficiary: Literal["patient", "clinic"]
    rule: str
    amount: int
    clipped: int
    reason: str | None = None


class PatientCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    birth_date: Day
    phone: str = Field(min_length=1, max_length=40, examples=["010-1234-5678"])
    conditions: list[Condition] = Field(min_length=1, max_length=2)
    sms_consent: bool
    enrolled_on: Day | None = None


class PatientUpdate(Body):
    sms_consent: bool | None = None
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    conditions: list[Condition] | None = Field(default=None, min_length=1, max_length=2)


class Patient(BaseModel):
    id: str
    clinic_id: str
    district: str
    name: str
    birth_date: dt.date
    phone: str
    conditions: list[Condition]
    sms_consent: bool
    status: str
    enrolled_on: dt.date
    left_on: dt.date | None = None
    balance: int
    earned_this_year: int
    cap_remaining: int


class PatientCreated(Patient):
    transaction_id: str
    awards: list[Award]


class PatientLookup(Body):
    name: str = Field(min_length=1, max_length=100)
    birth_date: Day
    phone: str = Field(min_length=1, max_length=40)


class PatientFound(BaseModel):
    id: str
    balance: int


class PatientMove(Body):
    clinic_id: str
    on: Day | None = None


class PatientLeave(Body):
    status: Literal["moved", "withdrawn", "deceased"]
    on: Day | None = None


class VisitCreate(Body):
    visited_on: DayOrMoment
    systolic: int | None = Field(default=None, ge=40, le=300)
    diastolic: int | None = Field(default=None, ge=20, le=200)
    hba1c: Annotated[
        Decimal | None,
        Field(ge=Decimal("3.0"), le=Decimal("20.0"), decimal_places=1),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": 3, "maximum": 20, "multipleOf": 0.1},
                    {"type": "null"},
                ]
            }
        ),
    ] = None
    fasting_glucose: int | None = Field(default=None, ge=20, le=1000)
    next_visit_on: Day | None = None


class VisitRecorded(BaseModel):
    id: str
    transaction_id: str
    awards: list[Award]
    balance: int


class EducationSessionCreate(Body):
    held_on: Day
    condition: Condition
    title: str = Field(min_length=1, max_length=200)


class EducationSession(BaseModel):
    id: str
    district: str
    clinic_id: str | None
    held_on: dt.date
    condition: str
    title: str


class AttendanceCreate(Body):
    patient_id: str


class AttendanceRecorded(BaseModel):
    id: str
    transaction_id: str
    awards: list[Award]
    balance: int


class StatementLine(BaseModel):
    date: dt.date
    transaction_id: str
    kind: str
    rule: str | None
    purpose: str | None
    amount: int
    balance: int | None = None
    account: Literal["earned", "reimbursable"] | None = None
    reverses: str | None = None


class PatientStatement(BaseModel):
    patient_id: str
    year: int
    opening_balance: int
    entries: list[StatementLine]
    closing_balance: int


class ClinicStatement(BaseModel):
    clinic_id: str
    year: int
    quarter: int | None
    entries: list[StatementLine]
    earned: int
    reimbursed: int
    total: int


class ReversalCreate(Body):
    reason: str = Field(min_length=1, max_length=500)


class Reversal(BaseModel):
    transaction_id: str
    reverses: str
    reason: str
    effective_date: dt.date


class KeyCreate(Body):
    role: Role
    label: str = Field(min_length=1, max_length=120)
    district: DistrictCode | None = None
    clinic_id: str | None = None


class Key(BaseModel):
    id: str
    role: str
    district: str | None
    clinic_id: str | None
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class KeyIssued(Key):
    key: str = Field(description="the API key itself: shown once, never stored")


class AuditEntry(BaseModel):
    at: dt.datetime
    key_id: str | None
    label: str | None
    role: str | None
    action: str
    resource: str
    patient_id: str | None
    client: str | None
    request_id: str | None


class ProblemField(BaseModel):
    field: str | None
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details with a stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    fields: list[ProblemField] | None = None


_MEANING = {
    400: "Bad request",
    401: "No valid API key",
    403: "The key's role may not do this",
    404: "Not found, or outside the caller's district or clinic",
    405: "Method not allowed",
    409: "Conflicts with what is recorded, or the same request is still in flight",
    422: "Invalid request (code `invalid`, with `fields`) or refused by the rules",
    503: "The database is busy or down; send the same request again",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer (401 and 422 always)."""
    return {
        status: {
            "model": Problem,
            "description": _MEANING[status],
            "content": {"application/problem+json": {}},
        }
        for status in sorted({401, 422, 503, *statuses})
    }


class RedemptionCreate(Body):
    amount: int = Field(gt=0, le=10_000_000)
    purpose: Literal["treatment", "test", "vaccination", "eye_exam"]
    spent_on: Day


class Redemption(BaseModel):
    id: str
    transaction_id: str
    patient_id: str
    clinic_id: str
    amount: int
    purpose: str
    spent_on: dt.date
    balance: int


class SettlementCreate(Body):
    district: DistrictCode
    year: int = Field(ge=2013, le=2100)
    quarter: int = Field(ge=1, le=4)


class SettlementLine(BaseModel):
    clinic_id: str
    clinic_name: str
    earned: int
    reimbursed: int
    corrections: int
    payout: int
    status: Literal["draft", "payable", "paid"]
    paid_on: dt.date | None = None
    payment_reference: str | None = None


class Settlement(BaseModel):
    id: str
    district: str
    year: int
    quarter: int
    status: Literal["draft", "closed"]
    lines: list[SettlementLine]
    total: int
    computed_at: dt.datetime
    closed_at: dt.datetime | None = None
    transaction_id: str | None = None


class PaymentCreate(Body):
    clinic_id: str
    paid_on: Day
    reference: str = Field(min_length=1, max_length=100)


class VoidCreate(Body):
    reason: str = Field(min_length=1, max_length=500)


class ReportFigures(BaseModel):
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    usage_rate: float
    clinic_earned: int


class DistrictReportRow(BaseModel):
    district: str
    name: str
    clinics_chronic: int
    clinics_ophthalmology: int
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    usage_rate: float
    clinic_earned: int
    cumulative_registered: int
    cumulative_visits: int
    cumulative_education: int
    cumulative_accrued: int
    cumulative_used: int
    cumulative_usage_rate: float
    cumulative_clinic_earned: int


class DistrictReport(BaseModel):
    year: int
    items: list[DistrictReportRow]
    next_cursor: str | None = None
    total: DistrictReportRow


class ClinicReportRow(BaseModel):
    clinic_id: str
    name: str
    registered: int
    visits: int
    education: int
    used: int
    clinic_earned: int
    cumulative_registered: int
    cumulative_visits: int
    cumulative_education: int
    cumulative_used: int
    cumulative_clinic_earned: int


class ClinicReport(BaseModel):
    year: int
    district: str
    items: list[ClinicReportRow]
    next_cursor: str | None = None


class AnnualReportRow(BaseModel):
    year: int
    districts: int
    clinics: int
    clinics_chronic: int
    clinics_ophthalmology: int
    registered: int
    visits: int
    education: int
    accrued: int
    used: int
    usage_rate: float
    year_usage_rate: float


class AnnualReport(BaseModel):
    items: list[AnnualReportRow]
    next_cursor: str | None = None


class MessageOut(BaseModel):
    id: str
    kind: Literal["reminder", "recall"]
    scheduled_for: dt.datetime
    status: Literal["queued", "sent", "delivered", "failed", "cancelled", "suppressed"]
    body: str | None
    due_date: dt.date
    sent_at: dt.datetime | None = None
    reason: str | None = None


class MessagingSwitch(Body):
    paused: bool
    reason: str = Field(default="", max_length=200)


class MessagingState(BaseModel):
    district: str
    paused: bool
    reason: str
    changed_at: dt.datetime
    changed_by: str


class NoSendDayIn(Body):
    reason: str = Field(default="", max_length=200)


class NoSendDayOut(BaseModel):
    district: str
    day: dt.date
    reason: str


class MessageReport(BaseModel):
    district: str
    start: dt.date
    end: dt.date
    sent: int
    delivered: int
    failed: int
    suppressed: int
    cancelled: int
    queued: int
    overdue: int
    lost_to_follow_up: int
    recalled: int
    came_back: int
