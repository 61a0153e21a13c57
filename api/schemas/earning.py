"""What earns mileage: visits, education sessions and attendance, and the awards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from api.schemas.common import Body, Day, DayOrMoment
from ledger.vocabulary import Beneficiary, Condition


class Award(BaseModel):
    beneficiary: Beneficiary
    rule: str
    amount: int
    clipped: int
    reason: str | None = None


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
