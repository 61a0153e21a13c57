"""A believable demo district: 강동구's clinics, patients and a year of events up to today.

The year is played day by day, as if lived: each morning the recall scan runs and the day's
texts go out (through a silent console channel), then the day's registrations, visits with
their follow-ups, classes and attendances are recorded through the same actions as live
entry. So the demo's balances, caps, clinic earnings, texts (reminders sent the day before
a follow-up, recalls after a missed one) and audit trail are what the rules produce. Today
itself is recorded at the real time, and its texts are left to the running service.
Names are drawn from common Korean surnames and given-name syllables, phones from the 010
range; the draws are seeded, so two demos of the same day look alike.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from actions import access, earning, messaging, registry, staff
from actions.context import Context, system_context
from actions.patients import register_patient
from ledger.clock import SEOUL
from ledger.db import run_in_transaction, session_scope
from ledger.models import Message
from ledger.programme import Readings
from ledger.services import staff as accounts
from ledger.services.clinics import get_clinic, get_district
from ledger.services.registry import get_patient
from ledger.simulation.people import KOREAN_HOLIDAYS, korean_name
from ledger.vocabulary import ClinicKind, Condition, MessageKind, MessageStatus, Role
from notifications.calendar import SendingCalendar
from notifications.channels import ConsoleChannel
from notifications.outbox import dispatch, virtual_pacer

__all__ = ["DEMO_DAYS", "DemoAccount", "DemoResult", "demo_accounts", "fill_demo"]

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
DEMO_DAYS = 366  # a year up to and including today
SEND_RATE = 2.0  # texts a second, as one sender number


@dataclass
class DemoResult:
    clinics: int = 0
    patients: int = 0
    visits: int = 0
    attendances: int = 0
    texts_sent: int = 0
    reminders_queued: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    sample_patient: str = ""
    sample_clinic: str = ""


@dataclass(frozen=True)
class DemoAccount:
    """A demo person's console account: who they are and how to sign in."""

    role: str
    name: str
    login: str
    password: str


def demo_accounts(session: Session, ctx: Context, clinic_id: str) -> list[DemoAccount]:
    """A console account per role over the demo's data: the city, the clinic's district's
    health centre, and the clinic's lead (who manages its receptionists' accounts).

    Their random passwords are printed to whoever ran the demo and need no change at the
    first sign-in (unlike an account created for a real person, whose one-time password
    must be changed)."""
    clinic = get_clinic(session, clinic_id)
    district = clinic.district
    centre = f"{get_district(session, district).name} 보건소"
    people = (
        ("서울시", "demo-city", "김서울", Role.CITY, None, None),
        (centre, f"demo-hc-{district}", "박보건", Role.HEALTH_CENTER, district, None),
        (clinic.name, "demo-clinic", "이접수", Role.CLINIC, None, clinic_id),
    )
    made = []
    for where, login, name, role, in_district, at_clinic in people:
        issued = staff.create_account(
            session,
            ctx,
            login=login,
            name=name,
            role=role,
            district=in_district,
            clinic_id=at_clinic,
            clinic_lead=role == Role.CLINIC,
        )
        account = issued.account
        accounts.set_password(session, account, account.password_hash, must_change=False)
        made.append(DemoAccount(where, name, account.login, issued.password))
    return made


@dataclass
class Person:
    """One patient's year, drawn before it is played."""

    home: str
    enrolled: dt.date
    name: str
    birth_date: dt.date
    phone: str
    conditions: tuple[str, ...]
    sms_consent: bool
    visits: list[tuple[dt.date, Readings, dt.date]] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    patient_id: str = ""


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
    """Fill an empty database with a year of one district up to today, played day by day;
    returns counts and demo keys. ``progress`` is told of each day played."""
    today = system_context("mileage demo", calendar).today
    start = today - dt.timedelta(days=DEMO_DAYS - 1)
    rng = random.Random(seed)
    result = DemoResult()
    with session_scope(sessions) as session:
        chronic = _clinics_and_keys(session, _at(start, 8, calendar), start, result)
    classes = _classes(start, today)
    people = [_person(rng, n, chronic, start, today, classes) for n in range(patients)]
    attending: dict[int, list[Person]] = defaultdict(list)
    for person in people:
        for index in person.classes:
            attending[index].append(person)
    agenda = Agenda(people, classes, attending)
    channel = ConsoleChannel(out=io.StringIO())  # the year's texts leave silently
    for offset in range(DEMO_DAYS):
        day = start + dt.timedelta(days=offset)
        if day < today:
            _texts(sessions, channel, calendar, day)
        ctx = _at(day, 10, calendar) if day < today else system_context("mileage demo", calendar)
        run_in_transaction(sessions, _recorder(ctx, day, agenda, result))
        progress(1)
    result.texts_sent = len(channel.sent)
    with session_scope(sessions) as session:
        result.reminders_queued = session.execute(
            select(func.count()).where(
                Message.kind == MessageKind.REMINDER, Message.status == MessageStatus.QUEUED
            )
        ).scalar_one()
    result.sample_patient = next(p.patient_id for p in people if p.home == chronic[0])
    return result


def _at(day: dt.date, hour: int, calendar: SendingCalendar) -> Context:
    """The demo acting at ``hour`` o'clock on ``day``, in Seoul."""
    moment = dt.datetime.combine(day, dt.time(hour), SEOUL)
    return system_context("mileage demo", calendar, now=moment)


def _clinics_and_keys(
    session: Session, ctx: Context, start: dt.date, result: DemoResult
) -> list[str]:
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
    result.sample_clinic = chronic[0]
    for label, role, scope in (
        ("서울시 보건의료정책과 (demo)", Role.CITY, {}),
        ("강동구보건소 담당자 (demo)", Role.HEALTH_CENTER, {"district": DISTRICT}),
        (f"{CHRONIC[0]} 접수 (demo)", Role.CLINIC, {"clinic_id": chronic[0]}),
    ):
        issued = access.create_key(session, ctx, role=role, label=label, **scope)
        result.keys[role] = issued.token
    return chronic


def _classes(start: dt.date, today: dt.date) -> list[tuple[dt.date, Condition, str]]:
    """The health centre's classes: every 17 days, blood pressure and diabetes in turn."""
    held: list[tuple[dt.date, Condition, str]] = []
    day = start + dt.timedelta(days=20)
    while (day := clinic_day(day)) < today:
        condition = Condition.HYPERTENSION if len(held) % 2 == 0 else Condition.DIABETES
        title = "혈압 바로 알기" if condition == Condition.HYPERTENSION else "당뇨병 식사요법"
        held.append((day, condition, title))
        day += dt.timedelta(days=17)
    return held


def _person(
    rng: random.Random,
    n: int,
    chronic: list[str],
    start: dt.date,
    today: dt.date,
    classes: list[tuple[dt.date, Condition, str]],
) -> Person:
    home = chronic[0] if n % 4 == 0 else rng.choice(chronic)
    enrolled = clinic_day(start + dt.timedelta(days=rng.randrange(0, 300)))
    conditions = rng.choices(
        [("hypertension",), ("diabetes",), ("hypertension", "diabetes")], weights=(6, 2, 2)
    )[0]
    person = Person(
        home,
        enrolled,
        name=korean_name(rng),
        birth_date=dt.date(rng.randint(1940, 1975), rng.randint(1, 12), rng.randint(1, 28)),
        # 010-2000 to 010-5899: libphonenumber counts some higher blocks as unassigned
        phone=f"010-{rng.randint(2000, 5899)}-{rng.randint(0, 9999):04d}",
        conditions=conditions,
        sms_consent=rng.random() < 0.85,
    )
    # Each visit books the next in four to five weeks; an adherent patient comes as booked
    # (or a day or two late), the others miss it and come back weeks later, often recalled.
    adherence, controlled = rng.uniform(0.55, 0.95), rng.uniform(0.3, 0.8)
    day = enrolled
    while (day := clinic_day(day)) <= today:
        at_target = rng.random() < controlled
        readings = Readings(
            systolic=rng.randint(118, 138) if at_target else rng.randint(140, 165),
            diastolic=rng.randint(70, 88) if at_target else rng.randint(90, 102),
            hba1c=Decimal(f"{rng.uniform(5.8, 6.9) if at_target else rng.uniform(7.1, 9.0):.1f}")
            if "diabetes" in conditions
            else None,
        )
        following = day + dt.timedelta(days=28 + rng.randint(0, 7))
        person.visits.append((day, readings, following))
        late = rng.randint(0, 2) if rng.random() < adherence else rng.randint(5, 60)
        day = following + dt.timedelta(days=late)
    for index, (held_on, condition, _) in enumerate(classes):
        if held_on >= enrolled and condition in conditions and rng.random() < 0.12:
            person.classes.append(index)
    return person


def _texts(
    sessions: sessionmaker[Session],
    channel: ConsoleChannel,
    calendar: SendingCalendar,
    day: dt.date,
) -> None:
    """The morning's recall scan, then the texts due in the morning and in the evening."""
    scan = _at(day, 6, calendar)
    run_in_transaction(sessions, lambda s: messaging.queue_recalls(s, scan, day=day))
    for hour in (9, 18):
        moment = dt.datetime.combine(day, dt.time(hour), SEOUL)
        pacer = virtual_pacer(moment, SEND_RATE)
        dispatch(
            sessions,
            channel,
            now=moment,
            calendar=calendar,
            rate=SEND_RATE,
            seconds=3600,
            pacer=pacer,
        )


def _recorder(
    ctx: Context, day: dt.date, agenda: Agenda, result: DemoResult
) -> Callable[[Session], None]:
    return lambda session: _day(session, ctx, day, agenda, result)


@dataclass(frozen=True)
class Agenda:
    people: list[Person]
    classes: list[tuple[dt.date, Condition, str]]
    attending: dict[int, list[Person]]


def _day(session: Session, ctx: Context, day: dt.date, agenda: Agenda, result: DemoResult) -> None:
    """Everything recorded on ``day``: registrations, visits, the class and its attendance."""
    for person in agenda.people:
        if person.enrolled == day:
            registered = register_patient(
                session,
                ctx,
                clinic_id=person.home,
                name=person.name,
                birth_date=person.birth_date,
                phone=person.phone,
                conditions=person.conditions,
                sms_consent=person.sms_consent,
                enrolled_on=day,
            )
            person.patient_id = registered.patient.id
            result.patients += 1
        for visited_on, readings, following in person.visits:
            if visited_on == day:
                earning.record_visit(
                    session,
                    ctx,
                    get_patient(session, person.patient_id),
                    clinic_id=person.home,
                    visited_on=day,
                    readings=readings,
                    next_visit_on=following,
                )
                result.visits += 1
    for index, (held_on, condition, title) in enumerate(agenda.classes):
        if held_on != day:
            continue
        education = earning.create_education_session(
            session, ctx, district=DISTRICT, held_on=day, condition=condition, title=title
        )
        for person in agenda.attending[index]:
            patient = get_patient(session, person.patient_id)
            earning.record_attendance(session, ctx, education, patient)
            result.attendances += 1
