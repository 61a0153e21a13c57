"""The ledger as the contract shows it: statements, and reversals that undo a mistake."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Body


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
