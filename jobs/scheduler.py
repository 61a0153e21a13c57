"""APScheduler inside ``mileage serve`` (or alone, ``mileage worker``).

Every process schedules the same jobs in memory; before a job runs, the process asks the
lease, so one process runs them at a time. A restart loses nothing: texts wait in the outbox,
and a daily job that should have run earlier today runs at start-up (``catch_up``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.lease import Lease
from jobs.tasks import (
    JobContext,
    dispatch_texts,
    nudge_unsettled,
    recall_overdue,
    scrub_stored_answers,
    verify_ledger,
)
from ledger.clock import SEOUL

__all__ = ["catch_up", "register", "start_background"]

log = logging.getLogger("jobs.scheduler")

RECALL_AT = dt.time(6, 0)
VERIFY_AT = dt.time(3, 0)
SCRUB_AT = dt.time(4, 0)


def _led(lease: Lease, job: Callable[[JobContext], Any], ctx: JobContext) -> Callable[[], None]:
    def run() -> None:
        if not lease.held():
            return
        try:
            job(ctx)
        except Exception:
            log.exception("jobs.failed", extra={"job": job.__name__})

    run.__name__ = job.__name__
    return run


def register(scheduler: BaseScheduler, ctx: JobContext, lease: Lease) -> None:
    jobs: list[tuple[Callable[[JobContext], Any], Any]] = [
        (dispatch_texts, IntervalTrigger(minutes=1, timezone=SEOUL)),
        (recall_overdue, CronTrigger(hour=RECALL_AT.hour, minute=RECALL_AT.minute, timezone=SEOUL)),
        (verify_ledger, CronTrigger(hour=VERIFY_AT.hour, minute=VERIFY_AT.minute, timezone=SEOUL)),
        (
            scrub_stored_answers,
            CronTrigger(hour=SCRUB_AT.hour, minute=SCRUB_AT.minute, timezone=SEOUL),
        ),
        (nudge_unsettled, CronTrigger(month="1,4,7,10", day=2, hour=9, timezone=SEOUL)),
    ]
    for job, trigger in jobs:
        scheduler.add_job(
            _led(lease, job, ctx),
            trigger,
            id=job.__name__,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=300,
            replace_existing=True,
        )


def catch_up(ctx: JobContext, lease: Lease) -> None:
    """Run today's daily jobs now if their time has passed (a restart after 06:00)."""
    if not lease.held():
        return
    local = ctx.now().astimezone(SEOUL)
    if local.time() >= RECALL_AT:
        recall_overdue(ctx, local.date())
    if local.time() >= VERIFY_AT:
        verify_ledger(ctx, local.date())
    if local.time() >= SCRUB_AT:
        scrub_stored_answers(ctx, local.date())


def start_background(ctx: JobContext, lease: Lease) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=SEOUL)
    register(scheduler, ctx, lease)
    scheduler.add_job(lambda: catch_up(ctx, lease), id="catch_up", max_instances=1)
    scheduler.start()
    return scheduler
