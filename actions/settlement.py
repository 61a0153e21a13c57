"""A district's quarterly settlement: drafting it, closing it, recording payments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.errors import Forbidden
from ledger.models import Settlement
from ledger.services import settlement
from ledger.services.settlement import SettlementView, view_settlement

__all__ = ["close_settlement", "open_settlement", "record_payment", "show_settlement"]


def open_settlement(
    session: Session, ctx: Context, *, district: str, year: int, quarter: int
) -> SettlementView:
    """The calling health centre's draft of a quarter, recomputed while it is a draft."""
    if ctx.principal.district != district:
        raise Forbidden("a health centre settles its own district")
    row = settlement.open_settlement(session, district=district, year=year, quarter=quarter)
    ctx.audit(session, "settlement.open", f"settlements/{row.id}")
    return view_settlement(session, row)


def show_settlement(session: Session, ctx: Context, row: Settlement) -> SettlementView:
    """A settlement as it stands (a draft is computed afresh, and nothing is written)."""
    return view_settlement(session, row)


def close_settlement(session: Session, ctx: Context, row: Settlement) -> SettlementView:
    """Close the quarter for good and book the payouts; closing again changes nothing."""
    settlement.close_settlement(session, row.id, closed_by=ctx.label, today=ctx.today)
    ctx.audit(session, "settlement.close", f"settlements/{row.id}")
    return view_settlement(session, row)


def record_payment(
    session: Session,
    ctx: Context,
    row: Settlement,
    *,
    clinic_id: str,
    paid_on: dt.date,
    reference: str,
) -> SettlementView:
    """Record a clinic's payout as paid (date, bank reference): payable becomes paid."""
    settlement.record_payment(
        session, row.id, clinic_id=clinic_id, paid_on=paid_on, reference=reference
    )
    ctx.audit(session, "settlement.payment", f"settlements/{row.id}/payments/{clinic_id}")
    return view_settlement(session, row)
