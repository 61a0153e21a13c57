"""The scheduled jobs: once per run date, what the nudge lists, catch-up, the schedule."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.scheduler import catch_up, register
from jobs.tasks import (
    JobContext,
    dispatch_texts,
    nudge_unsettled,
    recall_overdue,
    scrub_stored_answers,
    verify_ledger,
)
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import JobRun, Message, WebSession
from ledger.services.settlement import close_settlement, open_settlement
from ledger.services.staff import authenticate_session, create_account, open_session
from ledger.settings import Settings
from notifications.channels import ConsoleChannel
from notifications.outbox import virtual_pacer
from tests.factories import make_clinic, make_patient


class Clock:
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


class StubLease:
    """A lease that says what it is told to."""

    def __init__(self, held: bool) -> None:
        self.is_held, self.asked = held, 0

    def held(self, now: dt.datetime | None = None) -> bool:
        self.asked += 1
        return self.is_held


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SEOUL)


@pytest.fixture
def context(database_url: str, sessions: sessionmaker[Session]) -> Callable[..., JobContext]:
    def make(moment: dt.datetime) -> JobContext:
        return JobContext(
            sessions,
            ConsoleChannel(out=io.StringIO()),
            Settings(database_url=database_url),
            now=Clock(moment),
            pacer=virtual_pacer,
        )

    return make


def overdue_patient(
    sessions: sessionmaker[Session], *, enrolled_on: dt.date, district: str = "11740"
) -> str:
    """A consenting patient with no visit since enrolling (overdue 35 days after)."""
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district=district)
        return make_patient(session, clinic, enrolled_on=enrolled_on).patient.id


def recalls_of(sessions: sessionmaker[Session], patient_id: str) -> list[tuple[dt.date, str]]:
    with session_scope(sessions) as session:
        return [
            (due, status)
            for due, status in session.execute(
                select(Message.due_date, Message.status)
                .where(Message.patient_id == patient_id, Message.kind == "recall")
                .order_by(Message.due_date)
            )
        ]


def message_count(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return int(session.execute(select(func.count()).select_from(Message)).scalar_one())


def job_run(sessions: sessionmaker[Session], job: str, day: dt.date) -> JobRun | None:
    with session_scope(sessions) as session:
        return session.get(JobRun, (job, day))


# -- once per run date --------------------------------------------------------------------


def test_recall_overdue_runs_once_per_run_date(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 10, 12)  # a Monday
    first_patient = overdue_patient(sessions, enrolled_on=dt.date(2026, 8, 24))  # due 28 Sep
    ctx = context(at(day, 6))

    queued = recall_overdue(ctx, day)

    assert queued is not None and queued >= 1
    assert recalls_of(sessions, first_patient) == [(dt.date(2026, 9, 28), "queued")]
    run = job_run(sessions, "recalls", day)
    assert run is not None and run.finished_at is not None
    assert run.outcome == f"queued {queued}"

    # a second run of the same date does nothing, not even for a patient overdue since
    later_patient = overdue_patient(sessions, enrolled_on=dt.date(2026, 8, 24))
    before = message_count(sessions)
    assert recall_overdue(ctx, day) is None
    assert recall_overdue(context(at(day, 7)), None) is None  # today's date, from the clock
    assert message_count(sessions) == before
    assert recalls_of(sessions, later_patient) == []
    assert recalls_of(sessions, first_patient) == [(dt.date(2026, 9, 28), "queued")]

    # the next run date is a run of its own
    assert (recall_overdue(context(at(day + dt.timedelta(days=1), 6)), None) or 0) >= 1
    assert recalls_of(sessions, later_patient) == [(dt.date(2026, 9, 28), "queued")]


def test_a_patient_recalled_late_is_not_recalled_again_the_next_morning(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    """Recalls go 14 days apart. A patient whose first recall fell due weeks before the
    first scan that found them (a district starting, the scheduler down for a while) is
    recalled that morning; the next morning's scan must not text them again."""
    monday = dt.date(2026, 11, 16)
    patient = overdue_patient(sessions, enrolled_on=dt.date(2026, 9, 21))  # due 26 Oct
    assert (recall_overdue(context(at(monday, 6)), monday) or 0) >= 1
    dispatch_texts(context(at(monday, 9)))
    assert recalls_of(sessions, patient) == [(dt.date(2026, 10, 26), "sent")]

    tuesday = monday + dt.timedelta(days=1)
    recall_overdue(context(at(tuesday, 6)), tuesday)
    dispatch_texts(context(at(tuesday, 9)))

    assert recalls_of(sessions, patient) == [(dt.date(2026, 10, 26), "sent")], (
        f"texted on {monday} and again on {tuesday}"
    )


def test_verify_ledger_runs_once_per_run_date(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 10, 20)
    ctx = context(at(day, 3))
    assert verify_ledger(ctx, day) == 0
    assert verify_ledger(ctx, day) is None
    assert verify_ledger(context(at(day, 23)), None) is None
    run = job_run(sessions, "verify", day)
    assert run is not None and run.outcome == "0 mismatches"
    assert verify_ledger(context(at(day + dt.timedelta(days=1), 3)), None) == 0


def test_nudge_unsettled_lists_ended_open_quarters_once_per_run_date(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    may, july = dt.date(2024, 5, 10), dt.date(2024, 7, 1)
    with session_scope(sessions) as session:
        # 중구: a Q2 enrolment booked, Q2 still open
        open_clinic = make_clinic(session, district="11140", since=dt.date(2020, 1, 1))
        make_patient(session, open_clinic, enrolled_on=may)
        # 용산구: a Q2 enrolment booked, Q2 closed on 1 July
        closed_clinic = make_clinic(session, district="11170")
        make_patient(session, closed_clinic, enrolled_on=may)
        # 광진구: bookings in the quarter under way only
        current_clinic = make_clinic(session, district="11215")
        make_patient(session, current_clinic, enrolled_on=july)
    with session_scope(sessions) as session:
        q2 = open_settlement(session, district="11170", year=2024, quarter=2)
        close_settlement(session, q2.id, closed_by="test", today=july)

    run_date = dt.date(2024, 7, 2)
    ctx = context(at(run_date, 9))
    found = nudge_unsettled(ctx, run_date)

    assert found is not None
    assert found.get("11140") == ["2024-Q2"]
    assert "11170" not in found
    assert "11215" not in found
    run = job_run(sessions, "settlement_nudge", run_date)
    assert run is not None and run.outcome is not None and "11140: 2024-Q2" in run.outcome
    assert "11170" not in run.outcome

    assert nudge_unsettled(ctx, run_date) is None
    assert nudge_unsettled(context(at(run_date, 10)), None) is None


# -- catch-up at start-up -----------------------------------------------------------------


def test_catch_up_runs_todays_recall_scan_after_six_only(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 11, 2)

    catch_up(context(at(day, 2, 59)), StubLease(True))  # type: ignore[arg-type]
    assert job_run(sessions, "recalls", day) is None
    assert job_run(sessions, "verify", day) is None

    catch_up(context(at(day, 5, 59)), StubLease(True))  # type: ignore[arg-type]
    assert job_run(sessions, "recalls", day) is None
    assert job_run(sessions, "verify", day) is not None  # 03:00 has passed

    catch_up(context(at(day, 6, 0)), StubLease(True))  # type: ignore[arg-type]
    recalls = job_run(sessions, "recalls", day)
    assert recalls is not None and recalls.finished_at is not None

    # and a restart later the same day runs nothing twice
    catch_up(context(at(day, 14)), StubLease(True))  # type: ignore[arg-type]
    again = job_run(sessions, "recalls", day)
    assert again is not None and again.started_at == recalls.started_at


def test_catch_up_scrubs_stored_answers_after_four(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 11, 4)
    catch_up(context(at(day, 3, 59)), StubLease(True))  # type: ignore[arg-type]
    assert job_run(sessions, "scrub_answers", day) is None
    catch_up(context(at(day, 4, 0)), StubLease(True))  # type: ignore[arg-type]
    scrubbed = job_run(sessions, "scrub_answers", day)
    assert scrubbed is not None and scrubbed.finished_at is not None


def test_the_daily_scrub_ends_expired_console_sessions_only(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 11, 5)
    moment = at(day, 4)
    idle = dt.timedelta(minutes=30)
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        account = create_account(
            session,
            login=f"s{clinic.id[-8:].lower()}",
            name="윤세션",
            role="clinic",
            clinic_id=clinic.id,
            password_hash="x",
            created_by="test",
        )
        stale = open_session(session, account, now=moment - dt.timedelta(hours=2), idle=idle)
        live = open_session(session, account, now=moment - dt.timedelta(minutes=5), idle=idle)
    scrub_stored_answers(context(moment), day)
    with session_scope(sessions) as session:
        assert authenticate_session(session, live.token, now=moment, idle=idle) is not None
        assert session.get(WebSession, stale.row.token_hash) is None


def test_catch_up_without_the_lease_runs_nothing(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 11, 3)
    lease = StubLease(False)
    catch_up(context(at(day, 12)), lease)  # type: ignore[arg-type]
    assert lease.asked == 1
    assert job_run(sessions, "recalls", day) is None
    assert job_run(sessions, "verify", day) is None
    assert job_run(sessions, "scrub_answers", day) is None


# -- the schedule -------------------------------------------------------------------------


def fields(trigger: CronTrigger) -> dict[str, str]:
    return {f.name: str(f) for f in trigger.fields if not f.is_default}


def test_register_adds_the_five_jobs_with_their_triggers(
    context: Callable[..., JobContext],
) -> None:
    scheduler = BackgroundScheduler(timezone=SEOUL)
    register(scheduler, context(at(dt.date(2026, 10, 12), 12)), StubLease(True))  # type: ignore[arg-type]

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "dispatch_texts",
        "recall_overdue",
        "verify_ledger",
        "scrub_stored_answers",
        "nudge_unsettled",
    }
    assert not scheduler.running

    texts = jobs["dispatch_texts"].trigger
    assert isinstance(texts, IntervalTrigger)
    assert texts.interval == dt.timedelta(minutes=1)

    expected = {
        "recall_overdue": {"hour": "6", "minute": "0"},
        "verify_ledger": {"hour": "3", "minute": "0"},
        "scrub_stored_answers": {"hour": "4", "minute": "0"},
        "nudge_unsettled": {"month": "1,4,7,10", "day": "2", "hour": "9"},
    }
    for name, cron in expected.items():
        trigger = jobs[name].trigger
        assert isinstance(trigger, CronTrigger), name
        assert fields(trigger) == cron, name
        assert str(trigger.timezone) == "Asia/Seoul", name

    # when they next fire, seen from Friday 14 June 2024 at noon in Seoul
    noon = at(dt.date(2024, 6, 14), 12)
    next_fire = {name: jobs[name].trigger.get_next_fire_time(None, noon) for name in expected}
    assert next_fire == {
        "recall_overdue": at(dt.date(2024, 6, 15), 6),
        "verify_ledger": at(dt.date(2024, 6, 15), 3),
        "scrub_stored_answers": at(dt.date(2024, 6, 15), 4),
        "nudge_unsettled": at(dt.date(2024, 7, 2), 9),
    }
    assert jobs["nudge_unsettled"].trigger.get_next_fire_time(
        None, at(dt.date(2024, 7, 2), 9, 1)
    ) == at(dt.date(2024, 10, 2), 9)

    for job in jobs.values():
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 300)
        assert job.func.__name__ == job.id


def test_registered_jobs_run_only_while_the_lease_is_held(
    sessions: sessionmaker[Session], context: Callable[..., JobContext]
) -> None:
    day = dt.date(2026, 11, 10)
    ctx = context(at(day, 3))
    lease = StubLease(False)
    scheduler = BackgroundScheduler(timezone=SEOUL)
    register(scheduler, ctx, lease)  # type: ignore[arg-type]
    verify_job = scheduler.get_job("verify_ledger")
    assert verify_job is not None

    verify_job.func()
    assert lease.asked == 1 and job_run(sessions, "verify", day) is None

    lease.is_held = True
    verify_job.func()
    assert job_run(sessions, "verify", day) is not None
