"""Texts: a patient's list, a district's pause switch and no-send days, delivery reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions.context import Context
from ledger.models import DistrictMessaging, Message, NoSendDay, Patient
from notifications import figures, outbox, recalls, switches

__all__ = [
    "DistrictTexts",
    "add_no_send_day",
    "queue_recalls",
    "record_delivery_report",
    "remove_no_send_day",
    "set_messaging",
    "show_district_texts",
    "show_patient_messages",
]


@dataclass(frozen=True)
class DistrictTexts:
    """What a health centre sees of its district's texts: the pause switch, each day's texts
    by outcome, the numbers that failed (a page of them), and the no-send days ahead."""

    switch: DistrictMessaging
    days: list[figures.DayTexts]
    failed: list[figures.FailedNumber]
    more_failed: bool
    no_send_days: list[NoSendDay]


def show_patient_messages(
    session: Session, ctx: Context, patient: Patient, *, before: str | None, limit: int
) -> list[Message]:
    """The patient's reminders and recalls, newest first (audited: they are personal)."""
    rows = outbox.list_messages(session, patient.id, before=before, limit=limit)
    ctx.audit(session, "patient.messages", f"patients/{patient.id}/messages", patient_id=patient.id)
    return rows


def set_messaging(
    session: Session, ctx: Context, district: str, *, paused: bool, reason: str
) -> DistrictMessaging:
    """Pause or resume a district's texts; paused, they wait in the outbox, none is lost."""
    row = switches.set_paused(
        session, district, paused=paused, reason=reason, by=ctx.label, now=ctx.now
    )
    ctx.audit(session, "district.messaging", f"districts/{district}/messaging")
    return row


def add_no_send_day(
    session: Session, ctx: Context, district: str, day: dt.date, *, reason: str
) -> NoSendDay:
    """A day the district sends no texts (they go on the next sending day)."""
    row = switches.set_no_send_day(session, district, day, reason=reason)
    ctx.audit(session, "district.no_send_day", f"districts/{district}/no-send-days/{day}")
    return row


def remove_no_send_day(session: Session, ctx: Context, district: str, day: dt.date) -> None:
    """Send on that day again."""
    switches.remove_no_send_day(session, district, day)
    ctx.audit(session, "district.no_send_day.remove", f"districts/{district}/no-send-days/{day}")


def queue_recalls(
    session: Session,
    ctx: Context,
    *,
    day: dt.date,
    after: str | None = None,
    limit: int | None = None,
) -> recalls.RecallScan:
    """Queue every recall owed on ``day`` (the scheduler's morning run): one per patient and
    due date, so a second run queues nothing more.

    The scheduler queues a chunk at a time (the first ``limit`` patients owed a recall after
    ``after``, in id order), each chunk in a short transaction of its own; the run is audited
    with its last chunk.
    """
    scan = recalls.scan_recalls(
        session, today=day, now=ctx.now, calendar=ctx.calendar, after=after, limit=limit
    )
    if scan.last is None:
        ctx.audit(session, "recalls.queue", f"recalls/{day}")
    return scan


def record_delivery_report(
    session: Session,
    *,
    message_id: str | None,
    sid: str,
    status: str,
    error_code: int | None,
    now: dt.datetime,
) -> None:
    """The channel's delivery report for a text (Twilio's status callback, already verified)."""
    outbox.record_status(
        session, message_id=message_id, sid=sid, status=status, error_code=error_code, now=now
    )


def show_district_texts(
    session: Session,
    ctx: Context,
    district: str,
    *,
    start: dt.date,
    end: dt.date,
    failed_after: str | None = None,
    failed_limit: int = 50,
) -> DistrictTexts:
    """The district's texts from ``start`` to ``end`` and its numbers to correct (audited:
    the list names patients)."""
    failed = figures.failed_numbers(
        session, district=district, after=failed_after, limit=failed_limit + 1
    )
    ctx.audit(session, "district.texts", f"districts/{district}/texts")
    return DistrictTexts(
        switch=switches.messaging_state(session, district),
        days=figures.texts_by_day(session, district=district, start=start, end=end),
        failed=failed[:failed_limit],
        more_failed=len(failed) > failed_limit,
        no_send_days=switches.no_send_days(session, district, since=ctx.today),
    )
