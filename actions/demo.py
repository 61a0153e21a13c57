"""A believable demo district: 강동구's clinics, patients and a year of events up to today.

Everything goes through the same actions as live entry (registration, visits with their
follow-up reminders, education, keys), so the demo's balances, caps, clinic earnings, texts
and audit trail are what the rules produce. Names are drawn
from common Korean surnames and given-name syllables, phones from the 010 range; the
sequence is seeded, so two demos of the same day look alike.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from actions import access, earning, registry
from actions.context import Context, system_context
from actions.patients import register_patient
from ledger.db import run_in_transaction, session_scope
from ledger.programme import Readings
from ledger.services.earning import get_session
from ledger.services.events import late_entry_window
from ledger.simulation.people import KOREAN_HOLIDAYS, korean_name
from ledger.vocabulary import ClinicKind, Condition, Role
from notifications.calendar import SendingCalendar
from notifications.recalls import prime_outbox

__all__ = ["DemoResult", "fill_demo"]

DISTRICT = "11740"  # 강동구, in the programme since 2013
CHRONIC = [
    "연세내과의원",
    "서울가정의학과의원",
    "강동365내과",
    "길동내과의원",
    "천호연합의원",
    "명일가정의원",
    "암사내과의원",
    "고덕튼튼의원",
]
EYE = ["밝은눈안과의원", "강동성모안과"]


@dataclass
class DemoResult:
    clinics: int = 0
    patients: int = 0
    visits: int = 0
    attendances: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    sample_patient: str = ""
    sample_clinic: str = ""
    reminders: int = 0
    recalls: int = 0


def clinic_day(day: dt.date) -> dt.date:
    """The first day on or after ``day`` that clinics open: not a Sunday or a holiday."""
    while day.weekday() == 6 or day in KOREAN_HOLIDAYS:
        day += dt.timedelta(days=1)
    return day


def fill_demo(
    sessions: sessionmaker[Session],
    *,
    calendar: SendingCalendar,
    patients: int = 240,
    seed: int = 2013,
    progress: Callable[[int], None] = lambda _n: None,
) -> DemoResult:
    """Fill an empty database with a year of one district up to today, then queue each
    patient's reminder of a follow-up still ahead and today's recalls; returns counts and
    demo keys."""
    ctx = system_context("mileage demo", calendar)
    today = ctx.today
    rng = random.Random(seed)
    result = DemoResult()
    start = today - dt.timedelta(days=365)
    with late_entry_window(400), session_scope(sessions) as session:
        clinics = [
            registry.register_clinic(
                session,
                ctx,
                name=name,
                kind=kind,
                district=DISTRICT,
                participating_since=start - dt.timedelta(days=730),
            )
            for names, kind in ((CHRONIC, ClinicKind.CHRONIC), (EYE, ClinicKind.OPHTHALMOLOGY))
            for name in names
        ]
        result.clinics = len(clinics)
        chronic = [c.id for c in clinics if c.kind == ClinicKind.CHRONIC]
        sessions_held = _education_sessions(session, ctx, start, today)
        result.sample_clinic = chronic[0]
        for label, role, scope in (
            ("서울시 보건의료정책과 (demo)", Role.CITY, {}),
            ("강동구보건소 담당자 (demo)", Role.HEALTH_CENTER, {"district": DISTRICT}),
            (f"{CHRONIC[0]} 접수 (demo)", Role.CLINIC, {"clinic_id": chronic[0]}),
        ):
            issued = access.create_key(session, ctx, role=role, label=label, **scope)
            result.keys[role] = issued.token
    for n in range(patients):
        home = chronic[0] if n % 4 == 0 else rng.choice(chronic)
        enrolled = clinic_day(start + dt.timedelta(days=rng.randrange(0, 300)))

        def one_patient(session: Session, home: str = home, enrolled: dt.date = enrolled) -> str:
            return _patient_year(session, ctx, rng, result, home, enrolled, sessions_held)

        with late_entry_window(400):
            patient_id = run_in_transaction(sessions, one_patient)
        if not result.sample_patient and home == chronic[0]:
            result.sample_patient = patient_id
        result.patients += 1
        progress(1)
    result.reminders, result.recalls = run_in_transaction(
        sessions,
        lambda s: prime_outbox(s, today=ctx.today, now=ctx.now, calendar=ctx.calendar),
    )
    return result


def _education_sessions(
    session: Session, ctx: Context, start: dt.date, today: dt.date
) -> list[tuple[str, dt.date, str]]:
    held: list[tuple[str, dt.date, str]] = []
    day = start + dt.timedelta(days=20)
    n = 0
    while (day := clinic_day(day)) < today:
        condition = Condition.HYPERTENSION if n % 2 == 0 else Condition.DIABETES
        title = "혈압 바로 알기" if condition == Condition.HYPERTENSION else "당뇨병 식사요법"
        education = earning.create_education_session(
            session, ctx, district=DISTRICT, held_on=day, condition=condition, title=title
        )
        held.append((education.id, day, condition))
        day += dt.timedelta(days=17)
        n += 1
    return held


def _patient_year(
    session: Session,
    ctx: Context,
    rng: random.Random,
    result: DemoResult,
    clinic_id: str,
    enrolled: dt.date,
    sessions_held: list[tuple[str, dt.date, str]],
) -> str:
    today = ctx.today
    conditions = rng.choices(
        [("hypertension",), ("diabetes",), ("hypertension", "diabetes")], weights=(6, 2, 2)
    )[0]
    name = korean_name(rng)
    registered = register_patient(
        session,
        ctx,
        clinic_id=clinic_id,
        name=name,
        birth_date=dt.date(rng.randint(1940, 1975), rng.randint(1, 12), rng.randint(1, 28)),
        # 010-2000 to 010-5899: libphonenumber counts some higher blocks as unassigned
        phone=f"010-{rng.randint(2000, 5899)}-{rng.randint(0, 9999):04d}",
        conditions=conditions,
        sms_consent=rng.random() < 0.85,
        enrolled_on=enrolled,
    )
    patient = registered.patient
    adherence = rng.uniform(0.55, 0.95)
    controlled = rng.uniform(0.3, 0.8)
    day = enrolled
    while (day := clinic_day(day)) <= today:
        if rng.random() < adherence:
            at_target = rng.random() < controlled
            readings = Readings(
                systolic=rng.randint(118, 138) if at_target else rng.randint(140, 165),
                diastolic=rng.randint(70, 88) if at_target else rng.randint(90, 102),
                hba1c=Decimal(
                    f"{rng.uniform(5.8, 6.9) if at_target else rng.uniform(7.1, 9.0):.1f}"
                )
                if "diabetes" in conditions
                else None,
            )
            following = day + dt.timedelta(days=28 + rng.randint(0, 7))
            earning.record_visit(
                session,
                ctx,
                patient,
                clinic_id=clinic_id,
                visited_on=day,
                readings=readings,
                next_visit_on=following,
            )
            result.visits += 1
        day += dt.timedelta(days=28 + rng.randint(0, 9))
    for session_id, held_on, condition in sessions_held:
        if held_on >= enrolled and condition in conditions and rng.random() < 0.12:
            earning.record_attendance(session, ctx, get_session(session, session_id), patient)
            result.attendances += 1
    return patient.id
