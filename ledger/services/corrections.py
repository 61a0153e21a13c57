"""Corrections a clinic makes itself: voiding its own mistaken entry while its quarter is open.

Staff (a health centre, the city) correct anything else with a reversal (``booking.reverse``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ledger import clock
from ledger.errors import InvalidInput, NotCorrectable, QuarterClosed, UnknownTransaction
from ledger.models import Transaction
from ledger.records import ReversalRecord, read_record
from ledger.services import periods
from ledger.services.booking import Booked, reverse
from ledger.vocabulary import CORRECTABLE_KINDS

__all__ = ["is_own_entry", "void_entry"]


def is_own_entry(original: Transaction | None, clinic_id: str) -> bool:
    """Whether ``original`` is an entry the clinic recorded (its meta names the clinic)."""
    if original is None:
        return False
    return read_record((original.details or {}).get("meta")).clinic == clinic_id


def void_entry(
    session: Session,
    *,
    transaction_id: int,
    clinic_id: str,
    reason: str,
    today: dt.date | None = None,
) -> Booked:
    """A clinic voids its own mistaken entry while the entry's quarter is open."""
    today = today or clock.today()
    original = session.get(Transaction, transaction_id)
    if original is None or not is_own_entry(original, clinic_id):
        raise UnknownTransaction(f"no transaction {transaction_id} of this clinic")
    if original.kind not in CORRECTABLE_KINDS:
        # What a clinic may void of its own: the events it recorded, not a settlement's
        # payout or a payment, which nobody undoes with a void or a reversal.
        raise NotCorrectable(
            f"a {original.kind} entry cannot be voided; only {', '.join(CORRECTABLE_KINDS)} "
            "entries are"
        )
    if not reason.strip():
        raise InvalidInput("say why the entry is voided", field="reason")
    district = original.district or ""
    opened = periods.first_open(session, district)
    if original.period and opened and periods.parse(original.period) < opened:
        raise QuarterClosed(
            f"{original.period} is closed; ask the health centre to book a correction"
        )
    return reverse(
        session,
        transaction_id=transaction_id,
        reason=reason,
        effective_date=today,
        period=periods.period_for(session, district, today),
        record=ReversalRecord(voided_by_clinic=clinic_id),
    )
