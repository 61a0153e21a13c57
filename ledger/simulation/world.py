"""The simulated world: every district's clinics, patients and classes, with their traits.

Built once, up front, from one seeded generator: clinics recruited over a district's first
years (a few leave, and a successor joins the next day), patients enrolled month by month
with their home clinics, adherence, control and habits, and the health centres' classes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from ledger.simulation.bulk_ids import bulk_id
from ledger.simulation.days import Calendar, month_index, month_of
from ledger.simulation.model import (
    PANDEMIC_ENROLMENT,
    SEOUL_DISTRICTS,
    DistrictJoin,
    Model,
    classes_in_month,
    pandemic_factor,
)
from ledger.simulation.people import korean_name, mobile_phone

__all__ = ["SimClinic", "SimPatient", "SimSession", "World", "build_world"]

CHRONIC_NAMES = ("연세", "서울", "365", "튼튼", "하나", "우리", "새봄", "참", "열린", "중앙")
CHRONIC_KINDS = ("내과의원", "가정의학과의원", "의원", "내과")
EYE_NAMES = ("밝은눈", "맑은눈", "새빛", "서울", "연세")


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
        expected *= pandemic_factor(dt.date(year, month, 1), PANDEMIC_ENROLMENT)
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
        phone = mobile_phone(rng)
    phones.add(phone)
    months = int(math.log(1 - rng.random()) / math.log(1 - model.dropout))
    return SimPatient(
        id=bulk_id("pat"),
        name=korean_name(rng),
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
