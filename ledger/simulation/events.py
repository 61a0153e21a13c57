"""The event maker: a year of the world's life as events in the order they happened.

Enrolments, visits (with the readings the clinic entered), class attendances, trips only to
spend, patients moving to another clinic and clinics leaving, each drawn from the patient's
traits with the maker's own seeded generator.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.programme import Readings
from ledger.simulation.days import Calendar, month_index, month_of
from ledger.simulation.model import PANDEMIC_VISITS, Model, pandemic_factor
from ledger.simulation.world import SimClinic, SimPatient, SimSession, World

__all__ = ["CLASS", "ENROL", "EYE", "LEAVE", "MOVE", "TRIP", "VISIT", "Event", "EventMaker"]

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
            elif self.rng.random() < patient.adherence * pandemic_factor(
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
