"""The clinic's desk (접수): a patient's page as the receptionist reads it, audited as a read
of the patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions.context import Context
from actions.patients import PatientView, show_patient
from ledger.errors import NoRuleSet
from ledger.models import EducationSession, Patient
from ledger.services import desk, earning, statements
from ledger.services.desk import DayAtClinic
from ledger.services.events import late_entry_days, rules_for
from ledger.services.statements import Line

__all__ = ["LATEST", "DeskView", "show_desk", "show_today"]

LATEST = 8  # entries shown on the patient's page; the statement has them all
FALLBACK_WINDOW = 30  # days back for class slips when no rule set covers today


@dataclass(frozen=True)
class DeskView:
    """A patient with their balance, this year's earnings and what the cap leaves; their
    latest entries (newest first, with the balance after each); and the district's recent
    education classes whose attendance slips the clinic may record."""

    view: PatientView
    latest: list[Line]
    classes: list[EducationSession]


def show_desk(session: Session, ctx: Context, patient: Patient) -> DeskView:
    """A patient's page at the desk, as read by the caller (audited as a read of the patient)."""
    view = show_patient(session, ctx, patient)
    year = statements.patient_statement(session, patient, ctx.today.year)
    latest = list(reversed(year.lines[-LATEST:]))
    try:
        window = late_entry_days(rules_for(None, ctx.today, patient.district))
    except NoRuleSet:
        window = FALLBACK_WINDOW
    classes = earning.recent_sessions(
        session,
        district=patient.district,
        since=ctx.today - dt.timedelta(days=window),
        until=ctx.today,
    )
    return DeskView(view, latest, classes)


def show_today(session: Session, ctx: Context) -> DayAtClinic:
    """Today at the caller's clinic: who registered, whose visits and payments are dated
    today (audited: it names the clinic's patients)."""
    ctx.audit(session, "clinic.today", f"clinics/{ctx.clinic_id}/today?day={ctx.today}")
    return desk.day_at_clinic(session, ctx.clinic_id, ctx.today)
