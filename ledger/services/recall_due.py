"""Each patient's next recall date, kept on the patient row: ``patients.recall_due_on``.

The rules (the notifications layer sends the recalls; the dates are decided here, beside the
rows they are read from). A patient is owed a recall 3 days after a booked follow-up they
missed, or 35 days after their last visit (or enrolment) when nothing was booked; then at
most twice more, 14 days after the previous recall fell due and went out, whichever came
later. A patient with no visit for 365 days is lost to follow-up and no longer recalled.

``recall_due_on`` is the day the next recall falls due, worked out from the patient's
*standing*: their enrolment, their last visit and the follow-up booked at it, their recalls
since (not cancelled; how many, and the due date and queueing moment of the latest). It is
empty when no recall can fall due: three recalls sent, or lost to follow-up before the next
would fall due. Who may be recalled at all (consent given, still in the programme) is not
part of it: that is the predicate of the partial index ``ix_patients_recall_due``
(:data:`RECALLABLE`), so a patient who withdraws consent or leaves drops out of the index
with the row's own update, and comes back with it. The daily scan reads the range of that
index due in ``(today - 365 days, today]``.

It is kept in the same transaction as every write that changes the standing, by
:func:`refresh_recall_due`: a registration and a visit recorded (``ledger.services``), a
recall queued or revived, texts cancelled (``notifications.outbox``), and the recall scan's
own queueing (a chunk at a time). Moving home clinic, consent and leaving change none of it;
reversals keep the visit row. The bulk paths (the migration that added the column, the Seoul
simulation) fill it with :func:`fill_recall_due`; ``ledger verify`` recomputes it
(:func:`recall_due_mismatches`) and names every patient whose kept date differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from ledger.clock import SEOUL
from ledger.models import Message, Patient, Visit
from ledger.models.registry import RECALLABLE as RECALLABLE_SQL
from ledger.vocabulary import MessageKind, MessageStatus

__all__ = [
    "LOST_AFTER",
    "MAX_RECALLS",
    "MISSED_GRACE",
    "RECALL_INTERVAL",
    "UNBOOKED_GAP",
    "Standing",
    "StandingColumns",
    "due_between",
    "fill_recall_due",
    "kept_date",
    "next_due",
    "recall_due_mismatches",
    "refresh_recall_due",
    "standing_columns",
]

MISSED_GRACE = dt.timedelta(days=3)
UNBOOKED_GAP = dt.timedelta(days=35)
RECALL_INTERVAL = dt.timedelta(days=14)
MAX_RECALLS = 3
LOST_AFTER = dt.timedelta(days=365)

# Who may be sent a recall at all (consent given, still in the programme).
RECALLABLE = text(RECALLABLE_SQL)

# Patients worked out per statement when refreshing or filling in bulk.
BATCH = 2_000


class StandingColumns(NamedTuple):
    """A patient's standing as correlated look-ups on covering indexes
    (``ix_visits_patient_day``, ``ix_messages_patient``), for a query over ``patients``."""

    last: Any
    booked: Any
    base: Any
    recalls: Any
    latest_due: Any
    latest_queued: Any


def standing_columns() -> StandingColumns:
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
    return StandingColumns(last, booked, base, recalls, latest_due, latest_queued)


@dataclass(frozen=True)
class Standing:
    """What the rules read of one patient: the last visit and the follow-up booked at it,
    and the recalls since (how many, and the due date and queueing moment of the latest)."""

    last: dt.date | None
    booked: dt.date | None
    recalls: int
    latest_due: dt.date | None
    latest_queued: dt.datetime | None


def next_due(standing: Standing, enrolled_on: dt.date) -> dt.date | None:
    """The day the patient's next recall falls due, by the rules alone (consent, status and
    being lost aside); None once three have been sent since the last visit. Dates far
    outside the calendar raise ``OverflowError``."""
    if standing.recalls >= MAX_RECALLS:
        return None
    if standing.recalls and standing.latest_due is not None and standing.latest_queued is not None:
        # 14 days after the previous recall went out: a patient found overdue late (a new
        # district, a scheduler that was down) is not recalled again the next morning.
        queued_on = standing.latest_queued.astimezone(SEOUL).date()
        return max(standing.latest_due, queued_on) + RECALL_INTERVAL
    if standing.booked:
        return standing.booked + MISSED_GRACE
    return (standing.last or enrolled_on) + UNBOOKED_GAP


def kept_date(standing: Standing, *, enrolled_on: dt.date) -> dt.date | None:
    """What ``recall_due_on`` holds for a patient: the next recall's due date, or None when
    none can fall due (three sent, lost first, dates off the calendar)."""
    try:
        due = next_due(standing, enrolled_on)
    except OverflowError:  # a follow-up in 9999: it is never missed
        return None
    if due is None or due - (standing.last or enrolled_on) > LOST_AFTER:
        return None
    return due


def _standings_query(where: ColumnElement[bool] | None = None) -> Select[Any]:
    cols = standing_columns()
    query = select(
        Patient.id,
        Patient.recall_due_on,
        Patient.enrolled_on,
        cols.last,
        cols.booked,
        cols.recalls,
        cols.latest_due,
        cols.latest_queued,
    ).order_by(Patient.id)
    return query if where is None else query.where(where)


def _worked_out(rows: Iterable[Any]) -> Iterator[tuple[str, dt.date | None, dt.date | None]]:
    """(patient, kept date, the date the standing gives) for each row of the query."""
    for pid, kept, enrolled_on, *standing in rows:
        last, booked, recalls, latest_due, latest_queued = standing
        worked = kept_date(
            Standing(last, booked, int(recalls), latest_due, latest_queued),
            enrolled_on=enrolled_on,
        )
        yield pid, kept, worked


def _write(
    bind: Session | Connection, changes: list[tuple[str, dt.date | None, dt.date | None]]
) -> int:
    rows = [{"p_id": pid, "p_due": due} for pid, _, due in changes]
    if rows:
        table = cast(Table, Patient.__table__)
        bind.execute(
            update(table)
            .where(table.c.id == bindparam("p_id"))
            .values(recall_due_on=bindparam("p_due")),
            rows,
        )
    return len(rows)


def refresh_recall_due(session: Session, patient_ids: Iterable[str]) -> None:
    """Work out these patients' next recall dates again and keep the ones that changed, in
    the caller's transaction (after what changed their standing has been written)."""
    ids = sorted(set(patient_ids))
    session.flush()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = session.execute(_standings_query(Patient.id.in_(chunk)))
        _write(session, [c for c in _worked_out(rows) if c[1] != c[2]])
    if ids:
        # The ORM's copies of these rows do not know the new dates; nothing reads them there.
        for patient in session.identity_map.values():
            if isinstance(patient, Patient) and patient.id in ids:
                session.expire(patient, ["recall_due_on"])


def _mismatched(bind: Session | Connection) -> Iterator[tuple[str, dt.date | None, dt.date | None]]:
    after = ""
    while True:
        rows = list(bind.execute(_standings_query(Patient.id > after).limit(BATCH)))
        if not rows:
            return
        after = rows[-1][0]
        yield from (c for c in _worked_out(rows) if c[1] != c[2])


def recall_due_mismatches(
    session: Session,
) -> Iterator[tuple[str, dt.date | None, dt.date | None]]:
    """(patient, kept date, date the visits and recalls give) for every patient whose kept
    next recall date is wrong, in id order, a batch of patients per statement."""
    return _mismatched(session)


def fill_recall_due(bind: Session | Connection) -> int:
    """Work out every patient's next recall date and keep it (the bulk paths: a migration,
    the simulation, a bench's bulk load); how many rows changed."""
    changed = 0
    batch: list[tuple[str, dt.date | None, dt.date | None]] = []
    for change in _mismatched(bind):  # each page is read whole before it is written
        batch.append(change)
        if len(batch) == BATCH:
            changed += _write(bind, batch)
            batch = []
    return changed + _write(bind, batch)


def due_between(low: dt.date, high: dt.date) -> ColumnElement[bool]:
    """The patients who may be recalled and whose next recall falls due after ``low`` and by
    ``high``: a range of ``ix_patients_recall_due`` (its predicate repeated, so that both
    engines use the partial index)."""
    return and_(RECALLABLE, Patient.recall_due_on > low, Patient.recall_due_on <= high)
