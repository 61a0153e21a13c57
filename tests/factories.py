"""Plain factory functions for tests."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from sqlalchemy.orm import Session

from ledger.domain import AccountType
from ledger.models import Clinic
from ledger.services.booking import open_account
from ledger.services.clinics import register_clinic
from ledger.services.registry import Registered, register_patient


def make_account(
    session: Session, type: AccountType = AccountType.PATIENT, district: str | None = "11740"
) -> int:
    return open_account(session, code=f"{type.value}:{uuid.uuid4()}", type=type, district=district)


def make_award_accounts(session: Session) -> tuple[int, int]:
    """A district expense account and a patient account: (expense, patient)."""
    return make_account(session, AccountType.DISTRICT_EXPENSE), make_account(session)


def make_clinic(
    session: Session,
    *,
    district: str = "11740",
    kind: str = "chronic",
    since: dt.date = dt.date(2013, 1, 1),
) -> Clinic:
    return register_clinic(
        session,
        name=f"{kind} 의원 {uuid.uuid4().hex[:6]}",
        kind=kind,
        district=district,
        participating_since=since,
    )


def random_mobile() -> str:
    return f"010-{random.randint(2000, 5899)}-{random.randint(0, 9999):04d}"


def make_patient(
    session: Session,
    clinic: Clinic,
    *,
    conditions: tuple[str, ...] = ("hypertension", "diabetes"),
    enrolled_on: dt.date = dt.date(2024, 1, 2),
    today: dt.date | None = None,
    **overrides: Any,
) -> Registered:
    fields: dict[str, Any] = {
        "name": f"환자{uuid.uuid4().hex[:8]}",
        "birth_date": dt.date(1958, 4, 12),
        "phone": random_mobile(),
        "sms_consent": True,
        "recorded_by": "test",
    }
    fields.update(overrides)
    return register_patient(
        session,
        clinic_id=clinic.id,
        conditions=conditions,
        enrolled_on=enrolled_on,
        today=today or enrolled_on,
        **fields,
    )
