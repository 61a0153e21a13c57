"""Statements: a patient's year and a clinic's quarter, line by line from the ledger; and a
receipt, one entry of a patient's as their statement shows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.domain import AccountType, normal_sign
from ledger.models import Clinic, Patient, Transaction
from ledger.records import ReversalRecord, Tag, read_record
from ledger.repository import DatedEntry, entries_between, reversals_of
from ledger.services.clinics import get_clinic
from ledger.services.reading import balance, transaction
from ledger.services.registry import get_patient
from ledger.vocabulary import TransferGroup

__all__ = [
    "ClinicStatement",
    "EntryParties",
    "Line",
    "PatientStatement",
    "Receipt",
    "clinic_statement",
    "entry_parties",
    "patient_statement",
    "quarter_bounds",
    "receipt",
]


@dataclass(frozen=True)
class Line:
    """One line: what happened (a rule, a purpose, a reversal) and its signed amount."""

    date: dt.date
    transaction_id: int
    kind: str
    rule: str | None
    purpose: str | None
    amount: int
    balance: int | None = None
    account: str | None = None
    reverses: int | None = None
    reversed_by: int | None = None  # the reversal (a void) that undid this line's entry


@dataclass(frozen=True)
class PatientStatement:
    year: int
    opening_balance: int
    lines: list[Line]
    closing_balance: int


@dataclass(frozen=True)
class ClinicStatement:
    year: int
    quarter: int | None
    lines: list[Line]
    earned: int
    reimbursed: int


def quarter_bounds(year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
    if quarter is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def patient_statement(session: Session, patient: Patient, year: int) -> PatientStatement:
    """A patient's year: the opening balance, every award and spend with the running balance."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    opening = balance(session, patient.account_id, as_of=start - dt.timedelta(days=1))
    running = opening
    lines = []
    entries = entries_between(session, [patient.account_id], start, end)
    undone = reversals_of(session, {entry.transaction_id for entry in entries})
    for entry in entries:
        for line in _split(entry, AccountType.PATIENT):
            running += line.amount
            lines.append(
                Line(
                    line.date,
                    line.transaction_id,
                    line.kind,
                    line.rule,
                    line.purpose,
                    line.amount,
                    running,
                    reverses=line.reverses,
                    reversed_by=undone.get(line.transaction_id),
                )
            )
    return PatientStatement(year, opening, lines, running)


def clinic_statement(
    session: Session, clinic: Clinic, year: int, quarter: int | None
) -> ClinicStatement:
    """What a clinic earned and what patients spent there, dated in the period."""
    start, end = quarter_bounds(year, quarter)
    kinds = {
        clinic.earned_account_id: ("earned", AccountType.CLINIC_EARNED),
        clinic.reimbursable_account_id: ("reimbursable", AccountType.CLINIC_REIMBURSABLE),
    }
    lines = []
    totals = {"earned": 0, "reimbursable": 0}
    for entry in entries_between(session, kinds.keys(), start, end):
        account, type_ = kinds[entry.account_id]
        for line in _split(entry, type_):
            totals[account] += line.amount
            lines.append(
                Line(
                    line.date,
                    line.transaction_id,
                    line.kind,
                    line.rule,
                    line.purpose,
                    line.amount,
                    account=account,
                    reverses=line.reverses,
                )
            )
    return ClinicStatement(year, quarter, lines, totals["earned"], totals["reimbursable"])


def _split(entry: DatedEntry, type_: AccountType) -> list[Line]:
    """An entry as the lines of the transfers that made it, on the account's normal side."""
    amount = normal_sign(type_) * entry.amount
    if entry.reverses_id is None:
        lines = []
        for t in entry.details.get("transfers", []):
            if not t["amount"]:
                continue
            tag = Tag.parse(t["tag"])
            if t["credit"] == entry.account_id:
                lines.append(_line(entry, normal_sign(type_) * -t["amount"], tag))
            elif t["debit"] == entry.account_id:
                lines.append(_line(entry, normal_sign(type_) * t["amount"], tag))
        if sum(line.amount for line in lines) == amount and lines:
            return lines
    return [
        Line(
            entry.effective_date,
            entry.transaction_id,
            entry.kind,
            rule=entry.kind,
            purpose=None,
            amount=amount,
            reverses=entry.reverses_id,
        )
    ]


def _line(entry: DatedEntry, amount: int, tag: Tag) -> Line:
    spending = tag.group == TransferGroup.SPENDING
    return Line(
        entry.effective_date,
        entry.transaction_id,
        entry.kind,
        rule=None if spending else tag.name,
        purpose=tag.name if spending else None,
        amount=amount,
    )


@dataclass(frozen=True)
class EntryParties:
    """Whose entry a transaction is: the patient and the clinic of its event (a reversal's
    are those of the entry it undoes, ``entry``; a void's clinic is the one that voided)."""

    transaction: Transaction
    entry: Transaction
    patient: Patient | None
    clinic: Clinic | None


def entry_parties(session: Session, found: Transaction) -> EntryParties:
    """The patient and clinic a transaction concerns, read from its event's record."""
    entry = found if found.reverses_id is None else transaction(session, found.reverses_id)
    record = read_record((entry.details or {}).get("meta"))
    patient = None if record.patient is None else get_patient(session, record.patient)
    clinic_id = record.clinic
    voided = read_record((found.details or {}).get("meta"))
    if isinstance(voided, ReversalRecord) and voided.voided_by_clinic is not None:
        clinic_id = voided.voided_by_clinic
    clinic = None if clinic_id is None else get_clinic(session, clinic_id)
    return EntryParties(found, entry, patient, clinic)


@dataclass(frozen=True)
class Receipt:
    """One transaction as the patient's statement shows it: its lines, their sum, and the
    balance just after it; for a reversal, why; for an entry undone, by which reversal."""

    transaction: Transaction
    patient: Patient
    clinic: Clinic | None
    lines: list[Line]
    amount: int
    balance_after: int
    reason: str | None
    reversed_by: int | None


def receipt(session: Session, found: Transaction, patient: Patient) -> Receipt:
    """The receipt of ``found``, one of ``patient``'s entries, read from their statement of
    its year (so the two always agree)."""
    year = found.effective_date.year
    statement = patient_statement(session, patient, year)
    position = (found.effective_date, found.id)
    after = statement.opening_balance
    for line in statement.lines:
        if (line.date, line.transaction_id) <= position:
            after = line.balance if line.balance is not None else after
    own = [line for line in statement.lines if line.transaction_id == found.id]
    return Receipt(
        transaction=found,
        patient=patient,
        clinic=entry_parties(session, found).clinic,
        lines=own,
        amount=sum(line.amount for line in own),
        balance_after=after,
        reason=(found.details or {}).get("reason"),
        reversed_by=reversals_of(session, [found.id]).get(found.id),
    )
