"""Clinics joining and leaving the programme."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from actions import policy
from actions.context import Context
from ledger.models import Clinic
from ledger.services import clinics

__all__ = ["clinic_leaves", "register_clinic"]


def register_clinic(
    session: Session,
    ctx: Context,
    *,
    name: str,
    kind: str,
    district: str,
    participating_since: dt.date | None = None,
) -> Clinic:
    """Register a participating clinic in ``district`` (from today unless said otherwise):
    the city anywhere, a health centre in its own district."""
    policy.check_register_clinic(ctx.principal, district)
    clinic = clinics.register_clinic(
        session,
        name=name,
        kind=kind,
        district=district,
        participating_since=participating_since or ctx.today,
    )
    ctx.audit(session, "clinic.create", f"clinics/{clinic.id}")
    return clinic


def clinic_leaves(session: Session, ctx: Context, clinic: Clinic, *, on: dt.date) -> Clinic:
    """End a clinic's participation after ``on``; its records and balances stay."""
    clinics.clinic_leaves(session, clinic_id=clinic.id, on=on)
    ctx.audit(session, "clinic.leave", f"clinics/{clinic.id}")
    return clinic
