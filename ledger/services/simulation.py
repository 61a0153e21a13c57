"""Seoul's programme since 2013, simulated in bulk: ``mileage demo --scale seoul``.

The model. Every figure the reports show comes out of it; none is typed in:

- Districts join in the years the programme doc gives (:data:`SEOUL_DISTRICTS`). Each brings
  about 14 chronic-disease clinics, recruited over its first two years, and from 2018 about 4
  ophthalmology clinics. Now and then a clinic leaves; a new one takes its place the next day
  and the leaver's patients move to another clinic of the district.
- A district enrols many patients in its first years (the backlog of patients its clinics
  already treat) and fewer later. Fewer come during the COVID-19 years.
- A patient visits their home clinic in a month with their own adherence, now and then twice
  (the second visit earns nothing), until they stop coming (a monthly chance of dropping
  out). Clinics enter blood pressure or HbA1c at some visits, at target as the patient's
  control allows.
- Health centres hold education classes (suspended in the COVID-19 years), which some
  patients attend now and then.
- Patients spend when their balance allows: part of a bill at a visit, a test, a flu shot in
  autumn, an eye examination at an ophthalmology clinic. Some never spend; some who stopped
  coming come back once in a while to spend what is left.

The bulk path. Booking ~1.5 M transactions one by one through the services (~4 ms each)
would take hours, so each event is *evaluated* here with the same pure code as live booking
(``ledger.programme``'s transfers under the year's rule set, then ``ledger.domain.plan``)
against balances and limit counters kept in memory (:class:`Books`), and the rows are
*written* in large chunks (:class:`TableInsert`: Core executemany of plain tuples, each
value bound by its column's SQLAlchemy type; on SQLite many rows a statement). Per chunk go
the legs (entries), the limit postings, then the headers, whose insert trigger still checks
that each transaction's legs sum to 0, then the registry rows that refer to them; a writer
thread inserts one chunk while the next is evaluated. Each programme year is one database
transaction, ending with the year's moves of the balance rows (a district's expense account
on shard ``transaction_id % 16``, as the services book it) and of the limit counters, so
every commit leaves a ledger that ``mileage ledger verify`` finds sound. Transaction ids come
as a contiguous block per chunk (PostgreSQL: the services' sequence; SQLite: the highest id
+ 1); each transaction's ``period`` is the quarter of its date (no quarter is closed).
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
import gc
import math
import os
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Executable,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ledger import clock
from ledger.db import session_scope
from ledger.domain import SHARDS, AccountType, Counter, Plan, Transfer, normal_sign, plan
from ledger.errors import InvalidInput
from ledger.models import (
    Account,
    Attendance,
    Balance,
    Clinic,
    EducationSession,
    Entry,
    HomeClinic,
    LimitCounter,
    LimitPostingRow,
    Patient,
    Redemption,
    Transaction,
    Visit,
)
from ledger.programme import (
    AwardAccounts,
    Readings,
    education_transfers,
    enrolment_transfers,
    visit_transfers,
)
from ledger.rules import RuleBook, RuleSet
from ledger.services.access import create_key
from ledger.services.demo import KOREAN_HOLIDAYS, SURNAMES, SYLLABLES, database_is_empty
from ledger.services.events import rule_book
from ledger.services.periods import label, quarter_of
from ledger.services.registry import CONSENT_WORDING, district_account
from ledger.services.reports import district_report, total_row

__all__ = [
    "SEOUL_DISTRICTS",
    "DistrictJoin",
    "Model",
    "SimulationResult",
    "bulk_id",
    "days_to_simulate",
    "default_through",
    "report_lines",
    "simulate_seoul",
    "summary",
]

RECORDED_BY = "mileage demo --scale seoul"
FIRST_YEAR = 2013
CHUNK = 5_000  # events evaluated and written per chunk
# Parameters in one SQLite statement: at most 32,766 since SQLite 3.32, 999 before.
SQLITE_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
# The demo prints the annual table from the programme doc's first reported year.
REPORTED_FROM = 2021
SQLITE_CACHE_KIB = -262_144  # a 256 MiB page cache while the simulation writes

ACCOUNTS = cast(Table, Account.__table__)
BALANCES = cast(Table, Balance.__table__)
COUNTERS = cast(Table, LimitCounter.__table__)
ENTRIES = cast(Table, Entry.__table__)
POSTINGS = cast(Table, LimitPostingRow.__table__)
HEADERS = cast(Table, Transaction.__table__)
CLINICS = cast(Table, Clinic.__table__)
PATIENTS = cast(Table, Patient.__table__)
HOMES = cast(Table, HomeClinic.__table__)
SESSIONS = cast(Table, EducationSession.__table__)
VISITS = cast(Table, Visit.__table__)
ATTENDANCES = cast(Table, Attendance.__table__)
REDEMPTIONS = cast(Table, Redemption.__table__)
LEDGER_TABLES = (ACCOUNTS, BALANCES, ENTRIES, POSTINGS, HEADERS, COUNTERS)
# Registry rows go in after the headers they refer to, patients before their events.
REGISTRY_ORDER = (PATIENTS, HOMES, VISITS, ATTENDANCES, REDEMPTIONS)


# Registry ids in the shape of ledger.ids.new_id (a ULID: 48 bits of milliseconds, then 80
# random bits, in Crockford's base 32), written ten bits (two characters) at a time. The
# random bits come from a generator seeded once from the system's: a system call per id
# costs more than the rest of the id.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = tuple(range(120, -1, -10))
_ID_BITS = random.Random(os.urandom(32))


def bulk_id(prefix: str) -> str:
    """An id like :func:`ledger.ids.new_id`'s (``vis_01JD8...``), at a fraction of its cost."""
    value = (time.time_ns() // 1_000_000) << 80 | _ID_BITS.getrandbits(80)
    return f"{prefix}_{''.join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])}"


# The programme's shape ---------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictJoin:
    """A district and the day its health centre started the programme."""

    code: str
    name: str
    since: dt.date


# The programme doc's list: 2013 용산, 성북, 강북, 구로, 관악, 서초, 강동; 2015 광진, 도봉;
# 2018 중구, 금천, 동작; 2020 동대문, 마포; 2023 중랑 (from October). The month of the other
# starts is not on record: March, the start of the programme's year of planning and grants.
SEOUL_DISTRICTS: tuple[DistrictJoin, ...] = tuple(
    DistrictJoin(code, name, since)
    for code, name, since in (
        ("11170", "용산구", dt.date(2013, 3, 1)),
        ("11290", "성북구", dt.date(2013, 3, 1)),
        ("11305", "강북구", dt.date(2013, 3, 1)),
        ("11530", "구로구", dt.date(2013, 3, 1)),
        ("11620", "관악구", dt.date(2013, 3, 1)),
        ("11650", "서초구", dt.date(2013, 3, 1)),
        ("11740", "강동구", dt.date(2013, 3, 1)),
        ("11215", "광진구", dt.date(2015, 3, 1)),
        ("11320", "도봉구", dt.date(2015, 3, 1)),
        ("11140", "중구", dt.date(2018, 3, 1)),
        ("11545", "금천구", dt.date(2018, 3, 1)),
        ("11590", "동작구", dt.date(2018, 3, 1)),
        ("11230", "동대문구", dt.date(2020, 3, 1)),
        ("11440", "마포구", dt.date(2020, 3, 1)),
        ("11260", "중랑구", dt.date(2023, 10, 1)),
    )
)


@dataclass(frozen=True)
class Model:
    """The simulation's behavioural parameters, at full scale (``fraction`` 1).

    Set by hand so that the simulated programme's cumulative rows for 2021 to 2023 come near
    the city's (programme doc, "Scale"); the rows themselves are whatever the events add up to.
    """

    chronic_clinics: float = 14.0  # per district
    eye_clinics: float = 3.9  # per district, from ``eye_clinics_from``
    eye_clinics_from: dt.date = dt.date(2018, 3, 1)
    clinic_leaves: float = 0.03  # a clinic's chance a year of leaving
    enrolments: float = 216.0  # per district-year, once the backlog is enrolled
    backlog: float = 4.6  # how many times that rate a new district enrols at first ...
    backlog_years: float = 1.5  # ... decaying over this many years
    dropout: float = 0.028  # a patient's chance a month of stopping for good
    adherence: tuple[float, float] = (0.4, 0.88)  # chance of a visit in a month
    second_visit: float = 0.2  # chance of a second visit in a month
    readings: float = 0.045  # chance the clinic enters BP/HbA1c at a visit
    control: tuple[float, float] = (0.25, 0.75)  # chance a reading is at target
    learners: float = 0.35  # share of patients who ever attend a class
    attendance: tuple[float, float] = (0.01, 0.115)  # a learner's chance per class
    spenders: float = 0.75  # share of patients who spend at all
    spending: tuple[float, float] = (0.1, 0.45)  # a spender's chance per visit
    eye_exams: float = 0.3  # a spender's chance a year of an eye exam (diabetes: double)
    comeback: float = 0.3  # a lapsed spender's chance a year of a trip to spend
    comeback_years: int = 5


# Activity in the COVID-19 years (March 2020 to 2021): fewer enrolments and visits; the
# health centres' group classes suspended, and held every other month afterwards.
PANDEMIC = (dt.date(2020, 3, 1), dt.date(2021, 12, 31))
PANDEMIC_ENROLMENT = 0.8
PANDEMIC_VISITS = 0.85


def classes_in_month(year: int, month: int) -> int:
    """How many education classes a health centre holds in a month."""
    if dt.date(year, month, 1) < PANDEMIC[0]:
        return 2
    if year <= PANDEMIC[1].year:
        return 0
    return month % 2


def _pandemic(day: dt.date, factor: float) -> float:
    return factor if PANDEMIC[0] <= day <= PANDEMIC[1] else 1.0


# Fees a patient pays part of with mileage: (lowest, highest) in M, in steps of 100.
FEES = {
    "treatment": (1_500, 6_000),
    "test": (5_000, 30_000),
    "vaccination": (10_000, 40_000),
    "eye_exam": (15_000, 30_000),
}

CHRONIC_NAMES = ("연세", "서울", "365", "튼튼", "하나", "우리", "새봄", "참", "열린", "중앙")
CHRONIC_KINDS = ("내과의원", "가정의학과의원", "의원", "내과")
EYE_NAMES = ("밝은눈", "맑은눈", "새빛", "서울", "연세")


# Calendar ------------------------------------------------------------------------------------


class Calendar:
    """Clinic days (not Sundays, not Korean public holidays), by month, computed once."""

    def __init__(self) -> None:
        self._months: dict[tuple[int, int], list[dt.date]] = {}

    def days(self, year: int, month: int) -> list[dt.date]:
        key = (year, month)
        if key not in self._months:
            last = cal.monthrange(year, month)[1]
            self._months[key] = [
                day
                for day in (dt.date(year, month, d) for d in range(1, last + 1))
                if day.weekday() != 6 and day not in KOREAN_HOLIDAYS
            ]
        return self._months[key]

    def pick(
        self, rng: random.Random, year: int, month: int, after: dt.date | None = None
    ) -> dt.date | None:
        """A random clinic day of the month, after ``after`` if given; None if there is none."""
        days = self.days(year, month)
        if after is not None:
            days = [d for d in days if d > after]
        return rng.choice(days) if days else None


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


# The world: districts, clinics, patients, classes -----------------------------------------


@dataclass(eq=False)
class SimClinic:
    id: str
    name: str
    kind: str
    district: str
    since: dt.date
    until: dt.date | None = None
    weight: float = 1.0
    earned: int = 0  # account ids, once opened
    reimbursable: int = 0

    def open_on(self, day: dt.date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


@dataclass(eq=False)
class SimPatient:
    id: str
    name: str
    birth_date: dt.date
    phone: str
    conditions: tuple[str, ...]
    sms_consent: bool
    district: str
    enrolled_on: dt.date
    last_month: int  # the last month (``month_index``) of regular visits
    adherence: float
    control: float
    attendance: float
    spending: float
    homes: list[tuple[dt.date, SimClinic]] = field(default_factory=list)
    account: int = 0

    def home_on(self, day: dt.date) -> SimClinic:
        found = self.homes[0][1]
        for since, clinic in self.homes:
            if since <= day:
                found = clinic
        return found


@dataclass(frozen=True)
class SimSession:
    id: str
    district: str
    held_on: dt.date
    condition: str
    title: str


@dataclass
class World:
    districts: tuple[DistrictJoin, ...]
    clinics: list[SimClinic]
    patients: list[SimPatient]
    sessions: list[SimSession]


def build_world(
    rng: random.Random, model: Model, *, fraction: float, through: dt.date, days: Calendar
) -> World:
    """Every clinic, patient and class of the simulated years, with their traits."""
    clinics: list[SimClinic] = []
    patients: list[SimPatient] = []
    sessions: list[SimSession] = []
    phones: set[str] = set()
    for district in SEOUL_DISTRICTS:
        if district.since > through:
            continue
        size = rng.uniform(0.75, 1.25)
        own = _district_clinics(rng, model, district, size * fraction, through)
        clinics += own
        sessions += _district_sessions(district, through, days)
        patients += _district_patients(
            rng, model, district, own, size * fraction, through, days, phones
        )
    return World(SEOUL_DISTRICTS, clinics, patients, sessions)


def _district_clinics(
    rng: random.Random, model: Model, district: DistrictJoin, scale: float, through: dt.date
) -> list[SimClinic]:
    chronic = max(1, round(model.chronic_clinics * scale))
    clinics = []
    for n in range(chronic):
        late = n >= max(1, round(chronic * 0.7))
        since = district.since + dt.timedelta(days=rng.randrange(0, 730) if late else 0)
        clinics.append(_new_clinic(rng, district, "chronic", since))
    eye_from = max(district.since, model.eye_clinics_from)
    if eye_from <= through:
        for _ in range(max(1, round(model.eye_clinics * scale))):
            since = eye_from + dt.timedelta(days=rng.randrange(0, 365))
            clinics.append(_new_clinic(rng, district, "ophthalmology", min(since, through)))
    return _with_turnover(rng, model, district, clinics, through)


def _new_clinic(rng: random.Random, district: DistrictJoin, kind: str, since: dt.date) -> SimClinic:
    place = district.name.removesuffix("구") if len(district.name) > 2 else district.name
    if kind == "chronic":
        name = f"{place}{rng.choice(CHRONIC_NAMES)}{rng.choice(CHRONIC_KINDS)}"
    else:
        name = f"{place}{rng.choice(EYE_NAMES)}안과의원"
    # Clinics differ in size: a few large practices take many of the district's patients.
    return SimClinic(bulk_id("cln"), name, kind, district.code, since, None, rng.paretovariate(2.5))


def _with_turnover(
    rng: random.Random,
    model: Model,
    district: DistrictJoin,
    clinics: list[SimClinic],
    through: dt.date,
) -> list[SimClinic]:
    """Chronic clinics leave now and then; a new one joins the next day in each one's place."""
    out = list(clinics)
    queue = [c for c in clinics if c.kind == "chronic"]
    while queue:
        clinic = queue.pop()
        for year in range(clinic.since.year + 1, through.year + 1):
            if rng.random() < model.clinic_leaves:
                leaves = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
                if leaves >= through:
                    break
                clinic.until = leaves
                successor = _new_clinic(rng, district, "chronic", leaves + dt.timedelta(days=1))
                out.append(successor)
                queue.append(successor)
                break
    return out


def _district_sessions(
    district: DistrictJoin, through: dt.date, days: Calendar
) -> list[SimSession]:
    sessions = []
    first, last = month_index(district.since), month_index(through)
    n = 0
    for index in range(first, last + 1):
        year, month = month_of(index)
        open_days = [d for d in days.days(year, month) if district.since <= d <= through]
        for k in range(classes_in_month(year, month)):
            if not open_days:
                break
            held_on = open_days[min(len(open_days) - 1, 8 + 10 * k)]
            condition = "hypertension" if n % 2 == 0 else "diabetes"
            title = "혈압 바로 알기" if condition == "hypertension" else "당뇨병 식사요법"
            sessions.append(SimSession(bulk_id("edu"), district.code, held_on, condition, title))
            n += 1
    return sessions


def _district_patients(
    rng: random.Random,
    model: Model,
    district: DistrictJoin,
    clinics: list[SimClinic],
    scale: float,
    through: dt.date,
    days: Calendar,
    phones: set[str],
) -> list[SimPatient]:
    chronic = [c for c in clinics if c.kind == "chronic"]
    patients = []
    carry = 0.0
    for index in range(month_index(district.since), month_index(through) + 1):
        year, month = month_of(index)
        age = (index - month_index(district.since)) / 12
        expected = (
            scale
            * model.enrolments
            / 12
            * (1 + model.backlog * math.exp(-age / model.backlog_years))
        )
        expected *= _pandemic(dt.date(year, month, 1), PANDEMIC_ENROLMENT)
        carry += expected
        count = int(carry)
        carry -= count
        open_days = [d for d in days.days(year, month) if district.since <= d <= through]
        for _ in range(count if open_days else 0):
            enrolled = rng.choice(open_days)
            open_clinics = [c for c in chronic if c.open_on(enrolled)]
            home = rng.choices(open_clinics, weights=[c.weight for c in open_clinics])[0]
            patient = _new_patient(rng, model, district.code, enrolled, phones)
            patient.homes = _homes(rng, home, chronic, enrolled)
            patients.append(patient)
    return patients


def _new_patient(
    rng: random.Random, model: Model, district: str, enrolled: dt.date, phones: set[str]
) -> SimPatient:
    conditions = rng.choices(
        [("hypertension",), ("diabetes",), ("hypertension", "diabetes")], weights=(6, 2, 2)
    )[0]
    phone = ""
    while not phone or phone in phones:
        # 010-2000 to 010-5899: libphonenumber counts some higher blocks as unassigned
        phone = f"+8210{rng.randint(2000, 5899)}{rng.randint(0, 9999):04d}"
    phones.add(phone)
    months = int(math.log(1 - rng.random()) / math.log(1 - model.dropout))
    return SimPatient(
        id=bulk_id("pat"),
        name=rng.choice(SURNAMES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES),
        birth_date=dt.date(rng.randint(1940, 1975), rng.randint(1, 12), rng.randint(1, 28)),
        phone=phone,
        conditions=conditions,
        sms_consent=rng.random() < 0.85,
        district=district,
        enrolled_on=enrolled,
        last_month=month_index(enrolled) + months,
        adherence=rng.uniform(*model.adherence),
        control=rng.uniform(*model.control),
        attendance=rng.uniform(*model.attendance) if rng.random() < model.learners else 0.0,
        spending=rng.uniform(*model.spending) if rng.random() < model.spenders else 0.0,
    )


def _homes(
    rng: random.Random, home: SimClinic, chronic: list[SimClinic], enrolled: dt.date
) -> list[tuple[dt.date, SimClinic]]:
    """The patient's home clinics from enrolment on: each time one leaves, another of the
    district that is open the next day."""
    homes = [(enrolled, home)]
    while home.until is not None:
        moved = home.until + dt.timedelta(days=1)
        open_clinics = [c for c in chronic if c.open_on(moved)]
        home = rng.choices(open_clinics, weights=[c.weight for c in open_clinics])[0]
        homes.append((moved, home))
    return homes


# Events ------------------------------------------------------------------------------------

# The order of a day's events: a patient moves before the day's visits; a clinic leaves
# after its last day's visits.
MOVE, ENROL, VISIT, CLASS, TRIP, EYE, LEAVE = range(7)


@dataclass(frozen=True, slots=True)
class Event:
    day: dt.date
    kind: int
    seq: int
    patient: SimPatient | None = None
    clinic: SimClinic | None = None
    readings: Readings | None = None
    session: SimSession | None = None


class EventMaker:
    """A year's events, in the order they happened."""

    def __init__(self, rng: random.Random, model: Model, days: Calendar, through: dt.date) -> None:
        self.rng, self.model, self.days, self.through = rng, model, days, through
        self.seq = 0

    def year(self, world: World, year: int) -> list[Event]:
        events: list[Event] = []
        by_district: dict[str, list[SimSession]] = defaultdict(list)
        for s in world.sessions:
            if s.held_on.year == year:
                by_district[s.district].append(s)
        eyes: dict[str, list[SimClinic]] = defaultdict(list)
        for clinic in world.clinics:
            if clinic.kind == "ophthalmology":
                eyes[clinic.district].append(clinic)
            if clinic.until is not None and clinic.until.year == year:
                events.append(self._event(clinic.until, LEAVE, clinic=clinic))
        for patient in world.patients:
            if patient.enrolled_on.year <= year:
                events += self._patient_year(patient, year, by_district[patient.district], eyes)
        events.sort(key=lambda e: (e.day, e.kind, e.seq))
        return events

    def _event(self, day: dt.date, kind: int, **fields: Any) -> Event:
        self.seq += 1
        return Event(day, kind, self.seq, **fields)

    def _patient_year(
        self,
        patient: SimPatient,
        year: int,
        classes: list[SimSession],
        eyes: dict[str, list[SimClinic]],
    ) -> list[Event]:
        events = []
        if patient.enrolled_on.year == year:
            events.append(self._event(patient.enrolled_on, ENROL, patient=patient))
        events += [
            self._event(since, MOVE, patient=patient, clinic=clinic)
            for since, clinic in patient.homes[1:]
            if since.year == year and since <= self.through
        ]
        events += self._visits(patient, year)
        events += self._classes(patient, classes)
        events += self._trips(patient, year, eyes[patient.district])
        return events

    def _visits(self, patient: SimPatient, year: int) -> list[Event]:
        events = []
        start = max(month_index(patient.enrolled_on), year * 12)
        end = min(patient.last_month, year * 12 + 11, month_index(self.through))
        for index in range(start, end + 1):
            y, m = month_of(index)
            if index == month_index(patient.enrolled_on):
                day: dt.date | None = patient.enrolled_on  # registered at a visit
            elif self.rng.random() < patient.adherence * _pandemic(
                dt.date(y, m, 1), PANDEMIC_VISITS
            ):
                day = self.days.pick(self.rng, y, m)
            else:
                continue
            while day is not None and day <= self.through:
                events.append(
                    self._event(day, VISIT, patient=patient, readings=self._readings(patient))
                )
                day = (
                    self.days.pick(self.rng, y, m, after=day)
                    if self.rng.random() < self.model.second_visit
                    else None
                )
        return events

    def _readings(self, patient: SimPatient) -> Readings:
        """What the clinic entered at a visit: mostly nothing, sometimes BP and HbA1c."""
        rng = self.rng
        if rng.random() >= self.model.readings:
            return Readings()
        systolic = diastolic = None
        hba1c = None
        if "hypertension" in patient.conditions:
            good = rng.random() < patient.control
            systolic = rng.randint(118, 138) if good else rng.randint(140, 165)
            diastolic = rng.randint(70, 88) if good else rng.randint(90, 102)
        if "diabetes" in patient.conditions:
            good = rng.random() < patient.control
            hba1c = Decimal(f"{rng.uniform(5.8, 6.9) if good else rng.uniform(7.1, 9.0):.1f}")
        return Readings(systolic=systolic, diastolic=diastolic, hba1c=hba1c)

    def _classes(self, patient: SimPatient, classes: list[SimSession]) -> list[Event]:
        if not patient.attendance:
            return []
        return [
            self._event(s.held_on, CLASS, patient=patient, session=s)
            for s in classes
            if s.condition in patient.conditions
            and patient.enrolled_on <= s.held_on <= self.through
            and month_index(s.held_on) <= patient.last_month
            and self.rng.random() < patient.attendance
        ]

    def _trips(self, patient: SimPatient, year: int, eyes: list[SimClinic]) -> list[Event]:
        """Trips only to spend: an eye examination; a lapsed patient's autumn visit."""
        lapsed = year - month_of(patient.last_month)[0]  # years since they stopped coming
        if not patient.spending or lapsed > self.model.comeback_years:
            return []
        events = []
        eye = self._eye_exam(patient, year, eyes, lapsed)
        if eye is not None:
            events.append(eye)
        if lapsed > 0 and self.rng.random() < self.model.comeback:
            day = self.days.pick(self.rng, year, self.rng.choice((10, 11)))
            if day is not None and day <= self.through:
                events.append(self._event(day, TRIP, patient=patient))
        return events

    def _eye_exam(
        self, patient: SimPatient, year: int, eyes: list[SimClinic], lapsed: int
    ) -> Event | None:
        """An eye examination this year, at an ophthalmology clinic of the district."""
        rng, model = self.rng, self.model
        chance = model.eye_exams * (2 if "diabetes" in patient.conditions else 1)
        if lapsed > 0:
            chance *= model.comeback
        if not any(c.since.year <= year for c in eyes) or rng.random() >= chance:
            return None
        first = max(patient.enrolled_on, dt.date(year, 1, 1))
        day = self.days.pick(rng, year, rng.randint(first.month, 12), after=first)
        if day is None or day > self.through:
            return None
        return self._event(day, EYE, patient=patient)


# The books: in-memory balances and limit counters, planned with the pure domain code --------


class Books:
    """The balances and limit counters a live booking would read under lock, kept in memory.

    Each event is planned by :func:`ledger.domain.plan`, exactly as a live booking, against
    just the accounts and counters it touches; what it books then moves them here.
    """

    def __init__(self) -> None:
        self.types: dict[int, AccountType] = {}
        self.sharded: dict[int, int] = {}  # account: shards, for sharded accounts
        self.signs: dict[int, int] = {}
        self.balances: dict[int, int] = {}  # on the normal side, unsharded accounts
        self.counters: dict[tuple[int, str], Counter] = {}

    def open(self, account: int, type_: AccountType) -> None:
        self.types[account] = type_
        self.signs[account] = normal_sign(type_)
        if type_ in SHARDS:
            self.sharded[account] = SHARDS[type_]

    def balance(self, account: int) -> int:
        return self.balances.get(account, 0)

    def plan(self, transfers: Sequence[Transfer]) -> Plan:
        """Plan one transaction as a live booking would, then move balances and counters."""
        own, sharded, kept = self.balances, self.sharded, self.counters
        balances: dict[int, int] = {}
        counters: dict[tuple[int, str], Counter] = {}
        for t in transfers:
            for account in (t.debit, t.credit):
                if account not in sharded:
                    balances[account] = own.get(account, 0)
            for limit in t.limits:
                key = (t.credit, limit.key)
                if key in kept:
                    counters[key] = kept[key]
        planned = plan(transfers, types=self.types, balances=balances, counters=counters)
        for account, amount in planned.entries.items():
            if account not in sharded:
                own[account] = own.get(account, 0) + self.signs[account] * amount
        for posting in planned.limit_postings:
            counter = kept.get((posting.account, posting.key))
            if counter is None:
                counter = kept[(posting.account, posting.key)] = Counter()
            counter.amount += posting.amount
            counter.count += posting.count
        return planned

    def forget_year(self, year: int) -> None:
        """Drop the counters of a finished year: no later event reads them."""
        prefix = f"{year}/"
        self.counters = {k: c for k, c in self.counters.items() if not k[1].startswith(prefix)}


@dataclass
class Booking:
    """One transaction to write, and the registry rows that refer to it.

    ``rows`` are (table, row, the row's column that takes the transaction id).
    """

    kind: str
    day: dt.date
    district: str
    planned: Plan
    meta: dict[str, Any]
    rows: list[tuple[Table, dict[str, Any], str]] = field(default_factory=list)


@dataclass
class SimulationResult:
    districts: int = 0
    clinics_chronic: int = 0
    clinics_ophthalmology: int = 0
    patients: int = 0
    visits: int = 0
    attendances: int = 0
    redemptions: int = 0
    transactions: int = 0
    through: dt.date = dt.date(FIRST_YEAR, 12, 31)
    seconds: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)
    sample_patient: str = ""
    sample_clinic: str = ""


class Evaluator:
    """Turns each event into the booking the services would make, with the same rules."""

    def __init__(
        self,
        rng: random.Random,
        books: Books,
        rules: RuleBook,
        expense: dict[str, int],
        now: dt.datetime,
        through: dt.date,
    ) -> None:
        self.rng, self.books, self.rules, self.expense, self.now = rng, books, rules, expense, now
        self.through = through
        self._rule_sets: dict[tuple[int, str], RuleSet] = {}
        self.eyes: dict[str, list[SimClinic]] = defaultdict(list)

    def rule_set(self, day: dt.date, district: str) -> RuleSet:
        key = (day.year, district)
        if key not in self._rule_sets:
            self._rule_sets[key] = self.rules.for_event(day.year, district)
        return self._rule_sets[key]

    def evaluate(self, event: Event, result: SimulationResult) -> list[Booking]:
        patient = event.patient
        if patient is None:
            return []
        if event.kind == ENROL:
            result.patients += 1
            return [self._enrolment(patient, event.day)]
        if event.kind == VISIT:
            result.visits += 1
            visit = self._visit(patient, event.day, event.readings or Readings())
            spend = self._spend_at_visit(patient, event.day)
            return [visit, *spend]
        if event.kind == CLASS and event.session is not None:
            result.attendances += 1
            return [self._attendance(patient, event.session)]
        if event.kind == TRIP:
            purpose = "vaccination" if event.day.month >= 10 else "test"
            return self._spend(patient, patient.home_on(event.day), event.day, purpose)
        if event.kind == EYE:
            open_eyes = [c for c in self.eyes[patient.district] if c.open_on(event.day)]
            if open_eyes:
                return self._spend(patient, self.rng.choice(open_eyes), event.day, "eye_exam")
        return []

    def _accounts(self, patient: SimPatient, clinic: SimClinic) -> AwardAccounts:
        return AwardAccounts(self.expense[patient.district], patient.account, clinic.earned)

    def _booking(
        self,
        kind: str,
        day: dt.date,
        district: str,
        transfers: Sequence[Transfer],
        meta: dict[str, Any],
    ) -> Booking:
        return Booking(kind, day, district, self.books.plan(transfers), meta)

    def _enrolment(self, patient: SimPatient, day: dt.date) -> Booking:
        clinic = patient.home_on(day)
        rules = self.rule_set(day, patient.district)
        booking = self._booking(
            "enrolment",
            day,
            patient.district,
            enrolment_transfers(rules, day=day, accounts=self._accounts(patient, clinic)),
            {
                "event": "enrolment",
                "patient": patient.id,
                "clinic": clinic.id,
                "rule_set": rules.label,
            },
        )
        booking.rows.append(
            (PATIENTS, self._patient_row(patient, clinic), "enrolment_transaction_id")
        )
        booking.rows.append(
            (HOMES, {"patient_id": patient.id, "clinic_id": clinic.id, "from_date": day}, "")
        )
        return booking

    def _patient_row(self, patient: SimPatient, clinic: SimClinic) -> dict[str, Any]:
        return {
            "id": patient.id,
            "name": patient.name,
            "birth_date": patient.birth_date,
            "phone": patient.phone,
            "has_hypertension": "hypertension" in patient.conditions,
            "has_diabetes": "diabetes" in patient.conditions,
            "sms_consent": patient.sms_consent,
            "consent_changed_at": self.now,
            "consent_wording": CONSENT_WORDING,
            "consent_recorded_by": RECORDED_BY,
            "clinic_id": clinic.id,
            "district": patient.district,
            "enrolled_on": patient.enrolled_on,
            "status": "active",
            "left_on": None,
            "account_id": patient.account,
            "leaving_transaction_id": None,
            "created_at": self.now,
        }

    def _visit(self, patient: SimPatient, day: dt.date, readings: Readings) -> Booking:
        clinic = patient.home_on(day)
        rules = self.rule_set(day, patient.district)
        visit_id = bulk_id("vis")
        transfers = visit_transfers(
            rules,
            day=day,
            conditions=patient.conditions,
            readings=readings,
            accounts=self._accounts(patient, clinic),
        )
        meta = {
            "event": "visit",
            "event_id": visit_id,
            "patient": patient.id,
            "clinic": clinic.id,
            "rule_set": rules.label,
        }
        booking = self._booking("visit", day, patient.district, transfers, meta)
        row = {
            "id": visit_id,
            "patient_id": patient.id,
            "clinic_id": clinic.id,
            "visited_on": day,
            "systolic": readings.systolic,
            "diastolic": readings.diastolic,
            "hba1c": readings.hba1c,
            "fasting_glucose": readings.fasting_glucose,
            "next_visit_on": None,
            "recorded_at": self.now,
            "recorded_by": RECORDED_BY,
        }
        booking.rows.append((VISITS, row, "transaction_id"))
        return booking

    def _attendance(self, patient: SimPatient, session: SimSession) -> Booking:
        day = session.held_on
        clinic = patient.home_on(day)
        rules = self.rule_set(day, patient.district)
        attendance_id = bulk_id("att")
        transfers = education_transfers(
            rules,
            day=day,
            condition=session.condition,
            conditions=patient.conditions,
            accounts=self._accounts(patient, clinic),
        )
        meta = {
            "event": "education",
            "event_id": attendance_id,
            "session": session.id,
            "patient": patient.id,
            "clinic": clinic.id,
            "rule_set": rules.label,
        }
        booking = self._booking("education", day, patient.district, transfers, meta)
        row = {
            "id": attendance_id,
            "session_id": session.id,
            "patient_id": patient.id,
            "recorded_at": self.now,
            "recorded_by": RECORDED_BY,
        }
        booking.rows.append((ATTENDANCES, row, "transaction_id"))
        return booking

    def _spend_at_visit(self, patient: SimPatient, day: dt.date) -> list[Booking]:
        if not patient.spending or self.rng.random() >= patient.spending:
            return []
        roll = self.rng.random()
        purpose = "treatment" if roll < 0.7 else "test"
        if day.month >= 10 and roll >= 0.9:
            purpose = "vaccination"
        return self._spend(patient, patient.home_on(day), day, purpose)

    def _spend(
        self, patient: SimPatient, clinic: SimClinic, day: dt.date, purpose: str
    ) -> list[Booking]:
        """Part of a bill paid with mileage, when the balance and the rules allow it."""
        rules = self.rule_set(day, patient.district)
        balance = self.books.balance(patient.account)
        allowed = rules.spending.purposes.get(clinic.kind, [])  # type: ignore[call-overload]
        if balance < rules.spending.threshold or purpose not in allowed or not clinic.open_on(day):
            return []
        low, high = FEES[purpose]
        amount = min(balance, self.rng.randint(low // 100, high // 100) * 100)
        redemption_id = bulk_id("red")
        transfer = Transfer(
            patient.account,
            clinic.reimbursable,
            amount,
            min_debit_balance=rules.spending.threshold,
            tag=f"spending:{purpose}",
        )
        meta = {
            "event": "redemption",
            "event_id": redemption_id,
            "patient": patient.id,
            "clinic": clinic.id,
            "rule_set": rules.label,
        }
        booking = self._booking("redemption", day, clinic.district, [transfer], meta)
        row = {
            "id": redemption_id,
            "patient_id": patient.id,
            "clinic_id": clinic.id,
            "amount": amount,
            "purpose": purpose,
            "spent_on": day,
            "recorded_at": self.now,
            "recorded_by": RECORDED_BY,
        }
        booking.rows.append((REDEMPTIONS, row, "transaction_id"))
        return [booking]


# Writing: executemany in large chunks, legs before headers ----------------------------------

# Limit counters: created with the year's moves, or moved when they exist already.
UPSERT_COUNTERS = {
    name: dialect_insert(COUNTERS).on_conflict_do_update(
        index_elements=[COUNTERS.c.account_id, COUNTERS.c.key],
        set_={
            "amount": COUNTERS.c.amount + dialect_insert(COUNTERS).excluded.amount,
            "count": COUNTERS.c.count + dialect_insert(COUNTERS).excluded.count,
        },
    )
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
MOVE_PATIENTS = (
    update(PATIENTS)
    .where(PATIENTS.c.id == bindparam("p_id"))
    .values(clinic_id=bindparam("p_clinic"))
)
CLINIC_LEAVES = (
    update(CLINICS)
    .where(CLINICS.c.id == bindparam("c_id"))
    .values(participating_until=bindparam("c_until"))
)
MOVE_BALANCES = (
    update(BALANCES)
    .where(
        BALANCES.c.account_id == bindparam("b_account"), BALANCES.c.shard == bindparam("b_shard")
    )
    .values(balance=BALANCES.c.balance + bindparam("b_delta"))
)
ENTRY_COLUMNS = ("transaction_id", "account_id", "amount")
POSTING_COLUMNS = ("transaction_id", "account_id", "key", "amount", "count")
HEADER_COLUMNS = (
    "id",
    "kind",
    "effective_date",
    "booked_at",
    "idempotency_key",
    "request_hash",
    "reverses_id",
    "district",
    "details",
    "period",
)


def reserve_transaction_ids(connection: Connection, count: int) -> list[int]:
    """A block of ``count`` transaction ids, contiguous unless another writer draws at once.

    PostgreSQL draws them from the sequence the services use; SQLite takes the next ids
    after the highest, as the services do (its writer holds the database's write lock).
    """
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        drawn = connection.execute(
            text("SELECT nextval('transactions_id_seq') FROM generate_series(1, :n)"), {"n": count}
        ).scalars()
        return sorted(int(i) for i in drawn)
    first = int(
        connection.execute(select(func.coalesce(func.max(HEADERS.c.id), 0) + 1)).scalar_one()
    )
    return list(range(first, first + count))


class TableInsert:
    """An INSERT of some columns of a table, run on plain tuples, many rows a statement.

    Values go through each column type's bind processor for the dialect (dates, timestamps,
    JSON, booleans, decimals: stored as SQLAlchemy stores them), without SQLAlchemy's
    per-row parameter handling, which would cost more than the insert itself. On SQLite a
    statement inserts up to ``SQLITE_ROWS`` rows (multi-row VALUES), so the database does
    the work of many rows in one step, outside Python's interpreter lock; PostgreSQL takes
    them by the driver's executemany (pipelined by psycopg).
    """

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.columns = tuple(columns)
        self.head = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in self.columns)}) VALUES "
        )
        self.one = f"({', '.join(mark for _ in self.columns)})"
        self.sql = self.head + self.one
        self.per_statement = max(1, SQLITE_PARAMETERS // len(self.columns))
        self.processors = [
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in self.columns
        ]
        self._many: dict[int, str] = {}

    def processor(self, column: str) -> Callable[[Any], Any]:
        """The column's bind processor (the identity when the driver takes values as they are)."""
        found = self.processors[self.columns.index(column)]
        return found if found is not None else _same

    def tuples(self, rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Rows given as dicts, as tuples in column order, bound for the dialect."""
        values_of = itemgetter(*self.columns)
        bound = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        out = []
        for row in rows:
            values = list(values_of(row))
            for i, processor in bound:
                if values[i] is not None:
                    values[i] = processor(values[i])
            out.append(tuple(values))
        return out

    def run(self, connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (values in column order, already bound)."""
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql(self.sql, list(rows))
            return
        for start in range(0, len(rows), self.per_statement):
            batch = rows[start : start + self.per_statement]
            sql = self._many.get(len(batch))
            if sql is None:
                sql = self._many[len(batch)] = self.head + ", ".join([self.one] * len(batch))
            connection.exec_driver_sql(sql, tuple(chain.from_iterable(batch)))


def _same(value: Any) -> Any:
    return value


def _given_columns(table: Table) -> list[str]:
    """The columns a registry row gives: all but a generated key (a home clinic row's id)."""
    return [c.name for c in table.columns if not (table is HOMES and c.name == "id")]


# One step of a chunk: an INSERT with its tuples, or a Core statement with its rows.
Step = tuple[TableInsert | Executable, list[Any]]


class BulkWriter:
    """Writes chunks of bookings and registry rows; moves the running totals at the end.

    A chunk's rows are built here, then inserted by a writer thread while the next chunk is
    evaluated: the database does its part (SQLite's C code, PostgreSQL's server) without
    holding Python's interpreter lock, so it overlaps with the evaluation. Only one of the
    two threads uses the connection at a time: every method waits for the previous chunk
    first.
    """

    def __init__(self, connection: Connection, books: Books, now: dt.datetime) -> None:
        self.connection, self.books, self.now = connection, books, now
        dialect = connection.dialect
        self.entries = TableInsert(ENTRIES, ENTRY_COLUMNS, dialect)
        self.postings = TableInsert(POSTINGS, POSTING_COLUMNS, dialect)
        self.headers = TableInsert(HEADERS, HEADER_COLUMNS, dialect)
        self.registry = {
            table: TableInsert(table, _given_columns(table), dialect) for table in REGISTRY_ORDER
        }
        self.balance_moves: dict[tuple[int, int], int] = defaultdict(int)
        self.counter_moves: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulation-writer")
        self._pending: Future[None] | None = None
        self._periods: dict[dt.date, str] = {}
        self._cache_size: int | None = None
        if connection.dialect.name == "sqlite":
            # A larger page cache for the duration: the ledger's indexes take rows in account
            # order, all over the file.
            self._cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
            connection.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")

    def wait(self) -> None:
        """Wait for the chunk being written; raise what went wrong there."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        """Wait for the last chunk, stop the writer thread, give SQLite its cache size back."""
        try:
            self.wait()
        finally:
            self._pool.shutdown()
            if self._cache_size is not None:
                self.connection.exec_driver_sql(f"PRAGMA cache_size = {int(self._cache_size)}")

    def _run(self, steps: list[Step]) -> None:
        for statement, rows in steps:
            if not rows:
                continue
            if isinstance(statement, TableInsert):
                statement.run(self.connection, rows)
            else:
                self.connection.execute(statement, rows)

    def open_accounts(self, specs: Sequence[tuple[str, AccountType, str]]) -> list[int]:
        """Accounts (code, type, district) with their balance rows; their ids, in order."""
        self.wait()
        if not specs:
            return []
        rows = [
            {
                "code": code,
                "type": type_.value,
                "normal_side": type_.normal_side.value,
                "district": district,
                "shards": SHARDS.get(type_, 1),
                "created_at": self.now,
            }
            for code, type_, district in specs
        ]
        ids = [
            int(row[0])
            for row in self.connection.execute(
                insert(ACCOUNTS).returning(ACCOUNTS.c.id, sort_by_parameter_order=True), rows
            )
        ]
        self.connection.execute(
            insert(BALANCES),
            [
                {"account_id": account, "shard": shard, "balance": 0}
                for account, (_, type_, _) in zip(ids, specs, strict=True)
                for shard in range(SHARDS.get(type_, 1))
            ],
        )
        for account, (_, type_, _) in zip(ids, specs, strict=True):
            self.books.open(account, type_)
        return ids

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Registry rows that refer to no transaction (clinics, classes), written at once."""
        self.wait()
        if rows:
            self.connection.execute(insert(table), rows)

    def write(self, bookings: Sequence[Booking], later: Sequence[Step] = ()) -> None:
        """One chunk: legs, limit postings, headers, then the registry rows that refer to
        them, then ``later`` (registry changes); handed to the writer thread."""
        self.wait()
        ids = reserve_transaction_ids(self.connection, len(bookings))
        entries: list[tuple[int, int, int]] = []
        postings: list[tuple[int, int, str, int, int]] = []
        headers: list[tuple[Any, ...]] = []
        registry: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        sharded = self.books.sharded
        balance_moves, counter_moves = self.balance_moves, self.counter_moves
        day_of = self.headers.processor("effective_date")
        details_of = self.headers.processor("details")
        booked_at = self.headers.processor("booked_at")(self.now)
        for tx, booking in zip(ids, bookings, strict=True):
            for account, amount in sorted(booking.planned.entries.items()):
                entries.append((tx, account, amount))
                balance_moves[(account, tx % sharded.get(account, 1))] += amount
            for p in booking.planned.limit_postings:
                postings.append((tx, p.account, p.key, p.amount, p.count))
                move = counter_moves[(p.account, p.key)]
                move[0] += p.amount
                move[1] += p.count
            details = {
                "transfers": [dict(vars(o)) for o in booking.planned.outcomes],
                "meta": booking.meta,
            }
            headers.append(
                (
                    tx,
                    booking.kind,
                    day_of(booking.day),
                    booked_at,
                    None,
                    None,
                    None,
                    booking.district,
                    details_of(details),
                    self._period(booking.day),
                )
            )
            for table, row, column in booking.rows:
                if column:
                    row[column] = tx
                registry[table].append(row)
        steps: list[Step] = [
            (self.entries, entries),
            (self.postings, postings),
            (self.headers, headers),
        ]
        steps += [
            (self.registry[table], self.registry[table].tuples(registry[table]))
            for table in REGISTRY_ORDER
        ]
        self._pending = self._pool.submit(self._run, [*steps, *later])

    def _period(self, day: dt.date) -> str:
        """The settlement quarter of a day ("2024-Q2"): the simulation closes none."""
        period = self._periods.get(day)
        if period is None:
            period = self._periods[day] = label(*quarter_of(day))
        return period

    def settle(self) -> None:
        """Move the balance rows and limit counters by what this database transaction booked."""
        self.wait()
        moves = [
            {"b_account": a, "b_shard": s, "b_delta": delta}
            for (a, s), delta in sorted(self.balance_moves.items())
            if delta
        ]
        counters = [
            {"account_id": a, "key": k, "amount": amount, "count": count}
            for (a, k), (amount, count) in sorted(self.counter_moves.items())
        ]
        self._run(
            [(MOVE_BALANCES, moves), (UPSERT_COUNTERS[self.connection.dialect.name], counters)]
        )
        self.balance_moves.clear()
        self.counter_moves.clear()


# The run ---------------------------------------------------------------------------------


def simulate_seoul(
    sessions: sessionmaker[Session],
    *,
    fraction: float = 1.0,
    through: dt.date | None = None,
    seed: int = 2013,
    model: Model | None = None,
    progress: Callable[[int], None] = lambda _days: None,
) -> SimulationResult:
    """Fill an empty database with the programme's history from 2013 to ``through``.

    ``through`` is the end of last year by default (Asia/Seoul); ``fraction`` scales the
    clinics and patients down (at least one clinic of each kind per district); ``progress``
    is called with the number of simulated days done since its last call.
    """
    if not 0 < fraction <= 1:
        raise InvalidInput("fraction is more than 0 and at most 1", field="fraction")
    started = time.monotonic()
    through = through or default_through()
    model = model or Model()
    days = Calendar()
    world = build_world(random.Random(seed), model, fraction=fraction, through=through, days=days)
    books = Books()
    now = clock.now()
    with session_scope(sessions) as session:
        if not database_is_empty(session):
            raise InvalidInput("the simulation fills an empty database")
        expense = {
            d.code: district_account(session, d.code, AccountType.DISTRICT_EXPENSE)
            for d in world.districts
        }
    for account in expense.values():
        books.open(account, AccountType.DISTRICT_EXPENSE)
    evaluator = Evaluator(random.Random(seed + 1), books, rule_book(), expense, now, through)
    maker = EventMaker(random.Random(seed + 2), model, days, through)
    result = SimulationResult(through=through)
    with _collector_paused():
        for year in range(FIRST_YEAR, through.year + 1):
            with session_scope(sessions) as session:
                writer = BulkWriter(session.connection(), books, now)
                try:
                    _open_year(writer, world, evaluator, year, result)
                    _run_year(writer, evaluator, maker.year(world, year), result, progress, year)
                    writer.settle()
                finally:
                    writer.close()
            books.forget_year(year)
    with session_scope(sessions) as session:
        _demo_keys(session, world, books, result)
        _analyze(session)
    result.districts = len({c.district for c in world.clinics})
    result.seconds = time.monotonic() - started
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: the run makes millions of small objects that
    form no cycles worth collecting, and the collector's passes over them cost a quarter of
    the run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _open_year(
    writer: BulkWriter, world: World, evaluator: Evaluator, year: int, result: SimulationResult
) -> None:
    """The year's new clinics (with their accounts), classes and patients' accounts."""
    clinics = [c for c in world.clinics if c.since.year == year]
    ids = writer.open_accounts(
        [
            (f"{type_.value}:{c.id}", type_, c.district)
            for c in clinics
            for type_ in (AccountType.CLINIC_EARNED, AccountType.CLINIC_REIMBURSABLE)
        ]
    )
    for n, clinic in enumerate(clinics):
        clinic.earned, clinic.reimbursable = ids[2 * n], ids[2 * n + 1]
        if clinic.kind == "ophthalmology":
            evaluator.eyes[clinic.district].append(clinic)
            result.clinics_ophthalmology += 1
        else:
            result.clinics_chronic += 1
    writer.insert(CLINICS, [_clinic_row(c, writer.now) for c in clinics])
    writer.insert(
        SESSIONS,
        [
            {
                "id": s.id,
                "district": s.district,
                "clinic_id": None,
                "held_on": s.held_on,
                "condition": s.condition,
                "title": s.title,
                "created_at": writer.now,
            }
            for s in world.sessions
            if s.held_on.year == year
        ],
    )
    patients = [p for p in world.patients if p.enrolled_on.year == year]
    ids = writer.open_accounts(
        [(f"patient:{p.id}", AccountType.PATIENT, p.district) for p in patients]
    )
    for patient, account in zip(patients, ids, strict=True):
        patient.account = account


def _clinic_row(clinic: SimClinic, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": clinic.id,
        "name": clinic.name,
        "kind": clinic.kind,
        "district": clinic.district,
        "participating_since": clinic.since,
        "participating_until": None,
        "earned_account_id": clinic.earned,
        "reimbursable_account_id": clinic.reimbursable,
        "created_at": now,
    }


def _run_year(
    writer: BulkWriter,
    evaluator: Evaluator,
    events: list[Event],
    result: SimulationResult,
    progress: Callable[[int], None],
    year: int,
) -> None:
    """Evaluate the year's events in order and write them chunk by chunk."""
    done = dt.date(year, 1, 1)
    for start in range(0, len(events), CHUNK):
        chunk = events[start : start + CHUNK]
        bookings: list[Booking] = []
        for event in chunk:
            bookings += evaluator.evaluate(event, result)
        writer.write(bookings, _registry_changes(writer, chunk))
        result.transactions += len(bookings)
        result.redemptions += sum(1 for b in bookings if b.kind == "redemption")
        progress((chunk[-1].day - done).days)
        done = chunk[-1].day
    writer.wait()
    progress((min(dt.date(year, 12, 31), evaluator.through) - done).days + 1)


def _registry_changes(writer: BulkWriter, events: Iterable[Event]) -> list[Step]:
    """Clinics leaving and patients moving to another home clinic, after the chunk's rows."""
    leaves, moves, homes = [], [], []
    for event in events:
        if event.kind == LEAVE and event.clinic is not None:
            leaves.append({"c_id": event.clinic.id, "c_until": event.day})
        elif event.kind == MOVE and event.patient is not None and event.clinic is not None:
            moves.append({"p_id": event.patient.id, "p_clinic": event.clinic.id})
            homes.append(
                {
                    "patient_id": event.patient.id,
                    "clinic_id": event.clinic.id,
                    "from_date": event.day,
                }
            )
    return [
        (writer.registry[HOMES], writer.registry[HOMES].tuples(homes)),
        (MOVE_PATIENTS, moves),
        (CLINIC_LEAVES, leaves),
    ]


def _analyze(session: Session) -> None:
    """Refresh PostgreSQL's planner statistics of the tables just filled: until autovacuum
    gets to them, the reports would be planned for empty tables (minutes instead of seconds).
    """
    if session.get_bind().dialect.name == "postgresql":
        tables = (*LEDGER_TABLES, CLINICS, *REGISTRY_ORDER, SESSIONS)
        session.execute(text(f"ANALYZE {', '.join(t.name for t in tables)}"))


def _demo_keys(session: Session, world: World, books: Books, result: SimulationResult) -> None:
    """API keys for the city, 강동구보건소 and a 강동구 clinic, and a sample patient of it: one
    still coming at the end, with enough mileage to spend (any of the district if none)."""
    district = "11740"
    ours = [p for p in world.patients if p.district == district and p.account]
    patient = next(
        (
            p
            for p in ours
            if p.last_month >= month_index(result.through) and books.balance(p.account) >= 3_000
        ),
        ours[0] if ours else None,
    )
    clinic = (
        patient.home_on(result.through)
        if patient is not None
        else next(c for c in world.clinics if c.district == district and c.kind == "chronic")
    )
    for label_, role, scope in (
        ("서울시 보건의료정책과 (demo)", "city", {}),
        ("강동구보건소 담당자 (demo)", "health_center", {"district": district}),
        (f"{clinic.name} 접수 (demo)", "clinic", {"clinic_id": clinic.id}),
    ):
        issued = create_key(session, role=role, label=label_, created_by=RECORDED_BY, **scope)
        result.keys[role] = issued.token
    result.sample_clinic = clinic.id
    result.sample_patient = patient.id if patient is not None else ""


def default_through(today: dt.date | None = None) -> dt.date:
    """The end of last year (Asia/Seoul): the simulation covers complete years."""
    return dt.date((today or clock.today()).year - 1, 12, 31)


def days_to_simulate(through: dt.date) -> int:
    """How many days the progress reports add up to, from 1 January 2013 to ``through``."""
    return (through - dt.date(FIRST_YEAR, 1, 1)).days + 1


def summary(result: SimulationResult) -> str:
    return (
        f"Seoul {FIRST_YEAR} to {result.through}: {result.districts} districts, "
        f"{result.clinics_chronic} chronic and {result.clinics_ophthalmology} ophthalmology "
        f"clinics, {result.patients:,} patients, {result.visits:,} visits, "
        f"{result.attendances:,} education attendances, {result.redemptions:,} spends; "
        f"{result.transactions:,} transactions in {result.seconds:.0f} s"
    )


def report_lines(session: Session, through: dt.date, *, first: int = REPORTED_FROM) -> list[str]:
    """The city's annual table from ``first`` to ``through`` (cumulative since 2013, as the
    programme doc reports it), from the district report, with each year's own usage rate."""
    lines = [
        "year  districts  clinics (chronic/eye)  registered     visits  education"
        "        accrued M           used M  usage  year's usage"
    ]
    for year in range(max(first, FIRST_YEAR), through.year + 1):
        rows = district_report(session, year)
        districts = sum(1 for r in rows if r.clinics_chronic + r.clinics_ophthalmology)
        row = total_row(rows)
        c = row.cumulative
        clinics = f"{row.clinics_chronic + row.clinics_ophthalmology} "
        clinics += f"({row.clinics_chronic}/{row.clinics_ophthalmology})"
        lines.append(
            f"{year}  {districts:>9}  {clinics:>21}  {c.registered:>10,}  {c.visits:>9,}"
            f"  {c.education:>9,}  {c.accrued:>15,}  {c.used:>15,}  {c.usage_rate:>5.1%}"
            f"  {row.year.usage_rate:>12.1%}"
        )
    return lines
