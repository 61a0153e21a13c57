"""The scheduled jobs. Each opens its own transactions, calls one action (or the outbox's
worker, which owns its transactions), logs one event.

Jobs that run once a day (or a quarter) are idempotent per run date: the first process to
start a run date records it in ``job_runs``, and a second run of the same date does nothing.

No job holds SQLite's one write lock for long, so requests go on while it runs: the recall
scan writes a chunk of patients per transaction, and the jobs that only read (``verify``,
the settlement nudge) read on a reader session, which takes no write lock at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from actions import messaging
from actions.context import system_context
from ledger import clock
from ledger.db import make_reader_factory, read_scope, run_in_transaction
from ledger.services import retention, settlement, staff
from ledger.services.job_runs import claim_run, finish_run
from ledger.services.verify import verify
from ledger.settings import Settings
from notifications.calendar import SendingCalendar
from notifications.channels import Channel
from notifications.outbox import Dispatched, Pacer, dispatch, reconcile
from notifications.recalls import RecallScan

__all__ = [
    "JobContext",
    "dispatch_texts",
    "nudge_unsettled",
    "recall_overdue",
    "scrub_stored_answers",
    "verify_ledger",
]

log = logging.getLogger("jobs")

# Stored answers scrubbed per transaction: short ones, so requests never wait long for them.
SCRUB_BATCH = 500
# Recalls per transaction of the recall scan (the patients owed one, found by the scan's
# query in id order): each chunk holds SQLite's write lock for tens of milliseconds
# (docs/benchmarks.md, "the catch-up beside requests" and "the daily recall scan").
RECALL_CHUNK = 200


@dataclass
class JobContext:
    """What the jobs share: the database, the channel, the calendar and a clock."""

    sessions: sessionmaker[Session]
    channel: Channel
    settings: Settings
    now: Callable[[], dt.datetime] = clock.now
    pacer: Callable[[dt.datetime, float], Pacer] | None = None
    status_callback: str | None = None
    recall_chunk: int = RECALL_CHUNK
    calendar: SendingCalendar = field(init=False)
    readers: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = SendingCalendar.from_settings(self.settings)
        self.readers = make_reader_factory(self.sessions.kw["bind"])

    @property
    def rate(self) -> float:
        return self.settings.send_rate_per_second * self.settings.sender_count


def dispatch_texts(ctx: JobContext) -> Dispatched:
    """Every minute: settle texts left mid-send, then send what is due, at the channel's rate."""
    now = ctx.now()
    settled = reconcile(ctx.sessions, ctx.channel, now=now)
    done = dispatch(
        ctx.sessions,
        ctx.channel,
        now=now,
        calendar=ctx.calendar,
        rate=ctx.rate,
        pacer=ctx.pacer(now, ctx.rate) if ctx.pacer else None,
        status_callback=ctx.status_callback,
    )
    if done.outcomes or settled:
        log.info("jobs.texts.dispatched", extra={"count": dict(done.outcomes | settled)})
    return done


def recall_overdue(ctx: JobContext, run_date: dt.date | None = None) -> int | None:
    """Daily, early morning: queue the recalls overdue patients are owed."""
    now = ctx.now()
    run_date = run_date or now.astimezone(clock.SEOUL).date()
    if not claim_run(ctx.sessions, "recalls", run_date):
        return None
    scheduler = system_context("scheduler", ctx.calendar, now=now)
    queued, after = 0, None
    while True:  # a chunk of recalls per transaction, so that requests go on meanwhile

        def scan_chunk(session: Session, after: str | None = after) -> RecallScan:
            return messaging.queue_recalls(
                session, scheduler, day=run_date, after=after, limit=ctx.recall_chunk
            )

        scan = run_in_transaction(ctx.sessions, scan_chunk)
        queued += scan.queued
        if scan.last is None:
            break
        after = scan.last
    finish_run(ctx.sessions, "recalls", run_date, f"queued {queued}")
    log.info("jobs.recalls.scanned", extra={"count": queued, "job": str(run_date)})
    return queued


def verify_ledger(ctx: JobContext, run_date: dt.date | None = None) -> int | None:
    """Nightly: recompute every balance and counter from the entries (only reading)."""
    run_date = run_date or ctx.now().astimezone(clock.SEOUL).date()
    if not claim_run(ctx.sessions, "verify", run_date):
        return None
    with read_scope(ctx.readers, ctx.sessions) as session:
        mismatches = verify(session)
    finish_run(ctx.sessions, "verify", run_date, f"{len(mismatches)} mismatches")
    level = logging.ERROR if mismatches else logging.INFO
    log.log(level, "jobs.ledger.verified", extra={"count": len(mismatches)})
    return len(mismatches)


def nudge_unsettled(
    ctx: JobContext, run_date: dt.date | None = None
) -> dict[str, list[str]] | None:
    """Quarterly: list the districts with quarters still to settle."""
    run_date = run_date or ctx.now().astimezone(clock.SEOUL).date()
    if not claim_run(ctx.sessions, "settlement_nudge", run_date):
        return None
    with read_scope(ctx.readers, ctx.sessions) as session:
        found = settlement.unsettled_quarters(session, run_date)
    summary = "; ".join(f"{d}: {', '.join(ps)}" for d, ps in found.items()) or "none"
    finish_run(ctx.sessions, "settlement_nudge", run_date, summary)
    log.warning("jobs.settlement.unsettled", extra={"count": len(found), "job": summary})
    return found


def scrub_stored_answers(ctx: JobContext, run_date: dt.date | None = None) -> int | None:
    """Daily: the stored answers of idempotent requests older than the retention period
    (``MILEAGE_IDEMPOTENCY_RETENTION_DAYS``) lose their personal fields, and the console's
    expired sessions are deleted."""
    now = ctx.now()
    run_date = run_date or now.astimezone(clock.SEOUL).date()
    if not claim_run(ctx.sessions, "scrub_answers", run_date):
        return None
    before = now - dt.timedelta(days=ctx.settings.idempotency_retention_days)
    total = 0
    while True:
        done = run_in_transaction(
            ctx.sessions,
            lambda s: retention.scrub_expired(s, before=before, now=now, limit=SCRUB_BATCH),
        )
        total += done
        if done < SCRUB_BATCH:
            break
    ended = run_in_transaction(ctx.sessions, lambda s: staff.end_expired_sessions(s, now=now))
    finish_run(ctx.sessions, "scrub_answers", run_date, f"scrubbed {total}; {ended} sessions")
    log.info("jobs.answers.scrubbed", extra={"count": total, "job": str(run_date)})
    return total
