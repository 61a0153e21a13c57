"""Spending mileage at a clinic, and the quarterly settlement that pays clinics back."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Body, Day, DistrictCode
from ledger.vocabulary import Purpose, SettlementStatus


class RedemptionCreate(Body):
    amount: int = Field(gt=0, le=10_000_000)
    purpose: Purpose
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
    status: SettlementStatus
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
