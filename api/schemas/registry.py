"""The registry's bodies: districts, clinics and patients."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import BirthDate, Body, Day, DistrictCode
from api.schemas.earning import Award
from ledger.vocabulary import ClinicKind, Condition


class District(BaseModel):
    code: str
    name: str
    participating: bool


class ClinicCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: ClinicKind
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


class PatientCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    birth_date: BirthDate
    phone: str = Field(min_length=1, max_length=40, examples=["010-1234-5678"])
    conditions: list[Condition] = Field(min_length=1, max_length=2)
    sms_consent: bool
    enrolled_on: Day | None = None


class PatientUpdate(Body):
    sms_consent: bool | None = None
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    conditions: list[Condition] | None = Field(default=None, min_length=1, max_length=2)
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="a misspelt name corrected"
    )
    birth_date: BirthDate | None = Field(default=None, description="a wrong birth date corrected")


class Patient(BaseModel):
    id: str
    clinic_id: str
    district: str
    name: str | None = Field(description="null once the patient's personal data is erased")
    birth_date: dt.date | None = Field(description="null once erased")
    phone: str | None = Field(description="E.164; null once erased")
    conditions: list[Condition]
    sms_consent: bool
    status: str
    enrolled_on: dt.date
    left_on: dt.date | None = None
    balance: int
    earned_this_year: int
    cap_remaining: int
    erased: bool = Field(
        default=False, description="the name, birth date and phone were erased (PIPA)"
    )


class PatientCreated(Patient):
    transaction_id: str
    awards: list[Award]


class PatientLookup(Body):
    name: str = Field(min_length=1, max_length=100)
    birth_date: BirthDate
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


class ErasureCreate(Body):
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="why (kept with the erasure record): not the patient's name, phone or "
        "birth date",
        examples=["본인 요청 (개인정보 삭제 요구)"],
    )


class Erasure(BaseModel):
    """A patient's erasure: who erased whom, when and why; the patient as left."""

    id: str
    patient_id: str
    erased_at: dt.datetime
    erased_by: str
    reason: str
    status: str = Field(description="the patient's status: they left the programme first")
    left_on: dt.date | None
    leaving_transaction_id: str | None = Field(
        description="what leaving booked (the balance, as the rules say), if anything"
    )
