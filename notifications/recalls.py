"""Recalls for patients overdue for follow-up, and the messaging reports.

A patient is overdue 3 days after a booked follow-up they missed, or 35 days after their
last visit (or enrolment) when nothing was booked. They are recalled then, and at most twice
more, 14 days apart; then not again until they next visit. A patient with no visit for 365
days is lost to follow-up: counted in reports, no longer recalled.

Who is owed a recall today is selected in one statement, set-based: each rule is a
comparison of a stored date with a bound one, and each patient's last visit and recalls are
read from an index (``ix_visits_patient_day``, ``ix_messages_patient``), so the scan reads
no patient's history into Python. Only the few found due are worked out here.

One bad row does not stop the city. A follow-up stored far outside the calendar (before the
API bounded dates) is only compared in SQL, never added to, so it is simply not missed yet;
should a row found due still hold dates that cannot be worked with, it is logged by id and
skipped, in the recall scan and the message report alike, and the others are served.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from ledger.clock import SEOUL
from ledger.models import District, Message, Patient, Visit
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.outbox import queue_recall

__all__ = [
    "Overdue",
    "RecallScan",
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
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Overdue:
    patient: Patient
    last_visit: dt.date | None
    due: dt.date | None  # the next recall's due date; None when no more are owed
    sequence: int
    lost: bool


@dataclass(frozen=True)
class _Standing:
    """What the scan reads of one patient: the last visit and the follow-up booked at it,
    and the recalls since (how many, and the due date and queueing moment of the latest)."""

    last: dt.date | None
    booked: dt.date | None
    recalls: int
    latest_due: dt.date | None
    latest_queued: dt.datetime | None


def _standing_query(
    *, today: dt.date, district: str | None = None, after: str | None = None, due_only: bool
) -> Select[Patient, Any, Any, Any, Any, Any]:
    """Active patients of participating districts who are lost or overdue today, in id
    order, with their standing: one statement over the patients in id order, each patient's
    figures correlated look-ups on covering indexes, so a chunk (``LIMIT``) stops early.

    With ``due_only``, only the consenting patients owed a recall today. Every rule is a
    comparison of a stored date with a bound one (no date arithmetic in SQL, the same on
    both engines), so the database does the selecting.
    """
    same_day = aliased(Visit, name="same_day")
    last = (
        select(func.max(Visit.visited_on))
        .where(Visit.patient_id == Patient.id)
        .correlate(Patient)
        .scalar_subquery()
    )
    booked = (
        select(func.max(same_day.next_visit_on))
        .where(same_day.patient_id == Patient.id, same_day.visited_on == last)
        .correlate(Patient)
        .scalar_subquery()
    )
    base = func.coalesce(last, Patient.enrolled_on)
    since = (
        Message.patient_id == Patient.id,
        Message.kind == MessageKind.RECALL,
        Message.status != MessageStatus.CANCELLED,
        Message.due_date > base,
    )
    recalls = select(func.count()).where(*since).correlate(Patient).scalar_subquery()
    latest = select(Message.due_date).where(*since).correlate(Patient)
    latest = latest.order_by(Message.due_date.desc()).limit(1)
    latest_due = latest.scalar_subquery()
    latest_queued = latest.with_only_columns(Message.created_at).scalar_subquery()
    lost = base < today - LOST_AFTER
    overdue = and_(
        base >= today - LOST_AFTER,
        or_(
            booked <= today - MISSED_GRACE,
            and_(booked.is_(None), base <= today - UNBOOKED_GAP),
        ),
    )
    # A correlated test, not an IN list: SQLite would read the district index for an IN list
    # and sort the whole remainder by id for each chunk, rather than walk the patients in id
    # order and stop once a chunk is full.
    participating = (
        select(District.code)
        .where(District.code == Patient.district, District.participating.is_(True))
        .correlate(Patient)
        .exists()
    )
    query = (
        select(Patient, last, booked, recalls, latest_due, latest_queued)
        .where(Patient.status == PatientStatus.ACTIVE, participating)
        .order_by(Patient.id)
    )
    if district is not None:
        query = query.where(Patient.district == district)
    if after is not None:
        query = query.where(Patient.id > after)
    if not due_only:
        return query.where(or_(lost, overdue))
    # 14 days after the previous recall fell due and went out, whichever came later.
    went_out_by = dt.datetime.combine(today - RECALL_INTERVAL + ONE_DAY, dt.time(), SEOUL)
    return query.where(
        Patient.sms_consent.is_(True),
        overdue,
        or_(
            recalls == 0,
            and_(
                recalls < MAX_RECALLS,
                latest_due <= today - RECALL_INTERVAL,
                latest_queued < went_out_by,
            ),
        ),
    )


def _standings(
    session: Session, query: Select[Patient, Any, Any, Any, Any, Any]
) -> Iterator[tuple[Patient, _Standing]]:
    for patient, last, booked, recalls, latest_due, latest_queued in session.execute(query):
        yield patient, _Standing(last, booked, int(recalls), latest_due, latest_queued)


def overdue_patients(
    session: Session, *, today: dt.date, district: str | None = None
) -> Iterator[Overdue]:
    """Every active patient of a participating district who is overdue or lost today, with
    the recall they are owed, if any."""
    query = _standing_query(today=today, district=district, due_only=False)
    for patient, standing in _standings(session, query):
        try:
            yield _overdue(patient, standing, today)
        except BAD_ROW as error:
            _skipped(patient, error)


def _overdue(patient: Patient, standing: _Standing, today: dt.date) -> Overdue:
    """The patient's standing today, once the query has found them overdue or lost."""
    last = standing.last
    base = last or patient.enrolled_on
    if today - base > LOST_AFTER:
        return Overdue(patient, last, None, 0, lost=True)
    sent = standing.recalls
    if sent >= MAX_RECALLS:
        return Overdue(patient, last, None, sent, lost=False)
    if sent and standing.latest_due is not None and standing.latest_queued is not None:
        # 14 days after the previous recall went out: a patient found overdue late (a new
        # district, a scheduler that was down) is not recalled again the next morning.
        queued_on = standing.latest_queued.astimezone(SEOUL).date()
        due = max(standing.latest_due, queued_on) + RECALL_INTERVAL
    elif standing.booked:
        due = standing.booked + MISSED_GRACE
    else:
        due = base + UNBOOKED_GAP
    return Overdue(patient, last, due if due <= today else None, sent + 1, lost=False)


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
    """Queue every recall owed today (idempotent: one per patient and due date): to every
    patient owed one, or to a chunk of them, the first ``limit`` after ``after`` in id order.

    The patients owed one are selected in SQL (:func:`_standing_query`): consenting, active
    patients of participating districts, overdue and not lost, with fewer than three recalls
    since their last visit and the latest 14 days past. A scan in chunks, each in a short
    transaction of its own, lets other writers in between (SQLite has one writer at a time).
    """
    query = _standing_query(today=today, after=after, due_only=True)
    if limit is not None:
        query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Priced as a pass over every patient, the statement is compiled by the JIT, which
        # takes longer (half a second) than a chunk's 200 patients do to find.
        session.execute(text("SET LOCAL jit = off"))
    queued = found = 0
    last: str | None = None
    for patient, standing in list(_standings(session, query)):
        found += 1
        last = patient.id
        try:
            overdue = _overdue(patient, standing, today)
        except BAD_ROW as error:
            _skipped(patient, error)
            continue
        if overdue.due is None or overdue.lost:
            continue
        message = queue_recall(
            session,
            patient=patient,
            clinic_id=patient.clinic_id,
            due=overdue.due,
            sequence=overdue.sequence,
            now=now,
            calendar=calendar,
        )
        queued += message is not None
    more = limit is not None and found == limit
    return RecallScan(queued, last if more else None)


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
