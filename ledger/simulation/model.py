"""The programme's shape and the simulation's parameters: which districts joined when, how
clinics and patients behave, the COVID-19 years, the fees patients pay with mileage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "FEES",
    "FIRST_YEAR",
    "PANDEMIC",
    "PANDEMIC_ENROLMENT",
    "PANDEMIC_VISITS",
    "SEOUL_DISTRICTS",
    "DistrictJoin",
    "Model",
    "classes_in_month",
    "pandemic_factor",
]

FIRST_YEAR = 2013  # the programme's first year, where every simulation starts


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


def pandemic_factor(day: dt.date, factor: float) -> float:
    """``factor`` on a day of the COVID-19 years, 1 on any other."""
    return factor if PANDEMIC[0] <= day <= PANDEMIC[1] else 1.0


# Fees a patient pays part of with mileage: (lowest, highest) in M, in steps of 100.
FEES = {
    "treatment": (1_500, 6_000),
    "test": (5_000, 30_000),
    "vaccination": (10_000, 40_000),
    "eye_exam": (15_000, 30_000),
}
