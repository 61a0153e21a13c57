"""A clinic's day at the desk: who registered there, whose visits and payments were dated
that day (read only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ledger.models import Patient, Redemption, Visit

__all__ = ["DayAtClinic", "DeskEntry", "day_at_clinic"]

LIMIT = 500  # entries of each kind; a clinic's busiest day is far below it


@dataclass(frozen=True)
class DeskEntry:
    """One thing done for a patient: the patient's id, their name when they are the clinic's
    own (another clinic's patient who spent here is not named), and a payment's amount."""

    patient_id: str
    name: str | None
    amount: int | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class DayAtClinic:
    registered: list[DeskEntry]
    visits: list[DeskEntry]
    payments: list[DeskEntry]


def _named(patient: Patient, clinic_id: str) -> str | None:
    return patient.name if patient.clinic_id == clinic_id else None


def _dated(
    session: Session,
    model: type[Visit] | type[Redemption],
    on: InstrumentedAttribute[dt.date],
    clinic_id: str,
    day: dt.date,
) -> list[Any]:
    """``model``'s rows at ``clinic_id`` dated ``day`` (by ``on``), with their patients."""
    return list(
        session.execute(
            select(model, Patient)
            .join(Patient, Patient.id == model.patient_id)
            .where(model.clinic_id == clinic_id, on == day)
            .order_by(model.recorded_at, model.id)
            .limit(LIMIT)
        )
    )


def day_at_clinic(session: Session, clinic_id: str, day: dt.date) -> DayAtClinic:
    """The patients registered at ``clinic_id`` on ``day``, and its visits and payments dated
    ``day``, each kind in the order it was recorded."""
    registered = session.scalars(
        select(Patient)
        .where(Patient.clinic_id == clinic_id, Patient.enrolled_on == day)
        .order_by(Patient.id)
        .limit(LIMIT)
    )
    visits = _dated(session, Visit, Visit.visited_on, clinic_id, day)
    payments = _dated(session, Redemption, Redemption.spent_on, clinic_id, day)
    return DayAtClinic(
        registered=[DeskEntry(p.id, p.name) for p in registered],
        visits=[DeskEntry(p.id, _named(p, clinic_id)) for _, p in visits],
        payments=[DeskEntry(p.id, _named(p, clinic_id), r.amount, r.purpose) for r, p in payments],
    )
