"""Recalls for patients overdue for follow-up, and the messaging reports.

A patient is overdue 3 days after a booked follow-up they missed, or 35 days after their
last visit (or enrolment) when nothing was booked. They are recalled then, and at most twice
more, 14 days apart; then not again until they next visit. A patient with no visit for 365
days is lost to follow-up: counted in reports, no longer recalled.

One bad row does not stop the city: a patient whose dates cannot be worked with (a follow-up
stored far outside the calendar before the API bounded dates) is logged by id and skipped, in
the recall scan, the message report and the outbox's priming alike, and the others are served.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.clock import SEOUL
from ledger.models import District, Message, Patient, Visit
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.outbox import queue_recall

__all__ = [
    "Overdue",
    "RecallScan",
    "active_patients",
    "district_message_report",
    "overdue_patients",
    "scan_recalls",
]

log = logging.getLogger("notifications.recalls")

# What a row with impossible dates raises while its dates are worked out, before anything of
# it is written (so nothing needs taking back); any other error stops the run as before.
BAD_ROW = (ArithmeticError, ValueError)

MISSED_GRACE = dt.timedelta(days=3)
UNBOOKED_GAP = dt.timedelta(days=35)
RECALL_INTERVAL = dt.timedelta(days=14)
MAX_RECALLS = 3
LOST_AFTER = dt.timedelta(days=365)
CAME_BACK_WITHIN = dt.timedelta(days=15)


@dataclass(frozen=True)
class Overdue:
    patient: Patient
    last_visit: dt.date | None
    due: dt.date | None  # the next recall's due date; None when no more are owed
    sequence: int
    lost: bool


def _last_visits(
    session: Session, district: str | None, patient_ids: list[str] | None = None
) -> dict[str, tuple[dt.date, dt.date | None]]:
    """Each patient's latest visit date and the follow-up booked at it (of ``patient_ids``
    only, when given)."""
    latest = select(Visit.patient_id, func.max(Visit.visited_on).label("day"))
    if patient_ids is not None:
        latest = latest.where(Visit.patient_id.in_(patient_ids))
    latest_days = latest.group_by(Visit.patient_id).subquery()
    query = select(Visit.patient_id, Visit.visited_on, func.max(Visit.next_visit_on)).join(
        latest_days,
        (latest_days.c.patient_id == Visit.patient_id) & (latest_days.c.day == Visit.visited_on),
    )
    if district is not None:
        query = query.join(Patient, Patient.id == Visit.patient_id).where(
            Patient.district == district
        )
    query = query.group_by(Visit.patient_id, Visit.visited_on)
    return {pid: (day, booked) for pid, day, booked in session.execute(query)}


def _recalls_since(
    session: Session, district: str | None, patient_ids: list[str] | None = None
) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Each patient's recalls: (the day it fell due, the day it was queued)."""
    query = select(Message.patient_id, Message.due_date, Message.created_at).where(
        Message.kind == MessageKind.RECALL, Message.status != MessageStatus.CANCELLED
    )
    if district is not None:
        query = query.where(Message.district == district)
    if patient_ids is not None:
        query = query.where(Message.patient_id.in_(patient_ids))
    found: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for pid, due, created in session.execute(query.order_by(Message.due_date)):
        found.setdefault(pid, []).append((due, created.astimezone(SEOUL).date()))
    return found


def active_patients(
    session: Session,
    *,
    district: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[Patient]:
    """Active patients in id order: all, or a chunk (``limit`` of them after ``after``)."""
    query = select(Patient).where(Patient.status == PatientStatus.ACTIVE).order_by(Patient.id)
    if district is not None:
        query = query.where(Patient.district == district)
    if after is not None:
        query = query.where(Patient.id > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def overdue_patients(
    session: Session,
    *,
    today: dt.date,
    district: str | None = None,
    patients: list[Patient] | None = None,
) -> Iterator[Overdue]:
    """Every active patient who is overdue today, with the recall they are owed, if any; of
    ``patients`` only (a chunk, see :func:`active_patients`) when given."""
    chunk = None if patients is None else [p.id for p in patients]
    if patients is None:
        patients = active_patients(session, district=district)
    visits = _last_visits(session, district, chunk)
    recalls = _recalls_since(session, district, chunk)
    participating = set(
        session.execute(select(District.code).where(District.participating.is_(True))).scalars()
    )
    for patient in patients:
        if patient.district not in participating:
            continue
        last, booked = visits.get(patient.id, (None, None))
        try:
            found = _overdue(patient, last, booked, recalls.get(patient.id, []), today)
        except BAD_ROW as error:
            _skipped(patient, error)
            continue
        if found is not None:
            yield found


def _overdue(
    patient: Patient,
    last: dt.date | None,
    booked: dt.date | None,
    recalls: list[tuple[dt.date, dt.date]],
    today: dt.date,
) -> Overdue | None:
    """The patient's standing today, if they are overdue or lost."""
    base = last or patient.enrolled_on
    if today - base > LOST_AFTER:
        return Overdue(patient, last, None, 0, lost=True)
    first_due = booked + MISSED_GRACE if booked else base + UNBOOKED_GAP
    if first_due > today:
        return None
    sent = [r for r in recalls if r[0] > base]
    if len(sent) >= MAX_RECALLS:
        return Overdue(patient, last, None, len(sent), lost=False)
    # 14 days after the previous recall went out: a patient found overdue late (a new
    # district, a scheduler that was down) is not recalled again the next morning.
    due = max(sent[-1]) + RECALL_INTERVAL if sent else first_due
    return Overdue(patient, last, due if due <= today else None, len(sent) + 1, lost=False)


def _skipped(patient: Patient, error: BaseException) -> None:
    """Log a patient left out because of their row: the id and the error's type, no text."""
    log.error(
        "notifications.recalls.row_skipped",
        extra={"error": f"{type(error).__name__} patient={patient.id}"},
    )


@dataclass(frozen=True)
class RecallScan:
    """What a scan queued, and the patient the next chunk starts after."""

    queued: int
    last: str | None  # None when no patient is left to scan


def scan_recalls(
    session: Session,
    *,
    today: dt.date,
    now: dt.datetime,
    calendar: SendingCalendar,
    after: str | None = None,
    limit: int | None = None,
) -> RecallScan:
    """Queue every recall owed today (idempotent: one per patient and due date), to every
    active patient, or to a chunk of them: ``limit`` patients after ``after``, in id order.

    A scan in chunks, each in a short transaction of its own, lets other writers in between
    (SQLite has one writer at a time).
    """
    chunk = None
    if after is not None or limit is not None:
        chunk = active_patients(session, after=after, limit=limit)
    queued = 0
    for overdue in overdue_patients(session, today=today, patients=chunk):
        if overdue.due is None or overdue.lost:
            continue
        message = queue_recall(
            session,
            patient=overdue.patient,
            clinic_id=overdue.patient.clinic_id,
            due=overdue.due,
            sequence=overdue.sequence,
            now=now,
            calendar=calendar,
        )
        queued += message is not None
    more = chunk is not None and len(chunk) == limit
    return RecallScan(queued, chunk[-1].id if chunk and more else None)


@dataclass(frozen=True)
class MessageReport:
    district: str
    sent: int
    delivered: int
    failed: int
    suppressed: int
    cancelled: int
    queued: int
    overdue: int
    lost_to_follow_up: int
    recalled: int
    came_back: int


def district_message_report(
    session: Session, *, district: str, start: dt.date, end: dt.date, today: dt.date
) -> MessageReport:
    """Texts by outcome in a period, patients overdue today, and who came back after a recall.

    ``came_back`` counts recalled patients (a recall sent in the period) with a visit within
    15 days after it.
    """
    counts = dict(
        session.execute(
            select(Message.status, func.count())
            .where(
                Message.district == district,
                Message.not_before >= dt.datetime.combine(start, dt.time(), tzinfo=SEOUL),
                Message.not_before
                < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=SEOUL),
            )
            .group_by(Message.status)
        ).all()
    )
    overdue = list(overdue_patients(session, today=today, district=district))
    recalls = session.execute(
        select(Message.patient_id, Message.sent_at).where(
            Message.district == district,
            Message.kind == MessageKind.RECALL,
            Message.sent_at.is_not(None),
        )
    ).all()
    recalled: set[str] = set()
    came_back: set[str] = set()
    for patient_id, sent_at in recalls:
        if sent_at is None or not start <= sent_at.date() <= end:
            continue
        recalled.add(patient_id)
        returned = session.execute(
            select(func.count()).where(
                Visit.patient_id == patient_id,
                Visit.visited_on >= sent_at.date(),
                Visit.visited_on <= sent_at.date() + CAME_BACK_WITHIN,
            )
        ).scalar_one()
        if returned:
            came_back.add(patient_id)
    return MessageReport(
        district=district,
        sent=counts.get(MessageStatus.SENT, 0)
        + counts.get(MessageStatus.DELIVERED, 0)
        + counts.get(MessageStatus.FAILED, 0),
        delivered=counts.get(MessageStatus.DELIVERED, 0),
        failed=counts.get(MessageStatus.FAILED, 0),
        suppressed=counts.get(MessageStatus.SUPPRESSED, 0),
        cancelled=counts.get(MessageStatus.CANCELLED, 0),
        queued=counts.get(MessageStatus.QUEUED, 0) + counts.get(MessageStatus.SENDING, 0),
        overdue=sum(1 for o in overdue if not o.lost),
        lost_to_follow_up=sum(1 for o in overdue if o.lost),
        recalled=len(recalled),
        came_back=len(came_back),
    )
