"""Plain factory functions for tests."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ledger.domain import AccountType
from ledger.services.booking import open_account


def make_account(
    session: Session, type: AccountType = AccountType.PATIENT, district: str | None = "11740"
) -> int:
    return open_account(session, code=f"{type.value}:{uuid.uuid4()}", type=type, district=district)


def make_award_accounts(session: Session) -> tuple[int, int]:
    """A district expense account and a patient account: (expense, patient)."""
    return make_account(session, AccountType.DISTRICT_EXPENSE), make_account(session)
