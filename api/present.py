"""Turning domain records into response bodies."""

from __future__ import annotations

from collections.abc import Iterable

from api import schemas
from ledger import models
from ledger.errors import UnknownTransaction
from ledger.programme import Award
from ledger.services.registry import PatientSummary
from ledger.services.statements import Line


def clinic(row: models.Clinic) -> schemas.Clinic:
    return schemas.Clinic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        district=row.district,
        participating_since=row.participating_since,
        participating_until=row.participating_until,
    )


def patient(row: models.Patient, summary: PatientSummary) -> schemas.Patient:
    return schemas.Patient(
        id=row.id,
        clinic_id=row.clinic_id,
        district=row.district,
        name=row.name,
        birth_date=row.birth_date,
        phone=row.phone,
        conditions=row.conditions,  # type: ignore[arg-type]
        sms_consent=row.sms_consent,
        status=row.status,
        enrolled_on=row.enrolled_on,
        left_on=row.left_on,
        balance=summary.balance,
        earned_this_year=summary.earned_this_year,
        cap_remaining=summary.cap_remaining,
    )


def awards(items: Iterable[Award]) -> list[schemas.Award]:
    return [
        schemas.Award(
            beneficiary=a.beneficiary,  # type: ignore[arg-type]
            rule=a.rule,
            amount=a.amount,
            clipped=a.clipped,
            reason=a.reason,
        )
        for a in items
    ]


def lines(items: Iterable[Line]) -> list[schemas.StatementLine]:
    return [
        schemas.StatementLine(
            date=line.date,
            transaction_id=str(line.transaction_id),
            kind=line.kind,
            rule=line.rule,
            purpose=line.purpose,
            amount=line.amount,
            balance=line.balance,
            account=line.account,  # type: ignore[arg-type]
            reverses=None if line.reverses is None else str(line.reverses),
        )
        for line in items
    ]


def key(row: models.ApiKey) -> schemas.Key:
    return schemas.Key(
        id=row.id,
        role=row.role,
        district=row.district,
        clinic_id=row.clinic_id,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def transaction_number(transaction_id: str) -> int:
    """The ledger's number behind a transaction id as the API shows it (its decimal text)."""
    if not transaction_id.isdigit() or len(transaction_id) > 18:
        raise UnknownTransaction(f"no transaction {transaction_id!r}")
    return int(transaction_id)
