"""The programme's earning rules turned into ledger transfers. Pure: no I/O.

An event (enrolment, visit, education attendance) becomes one transaction: the patient's
awards and the home clinic's, each within its limits. Limits are keyed by the event's
programme year (the calendar year of its date, Asia/Seoul): ``2024/annual`` for the annual
cap, ``2024/visit/2024-03`` for the month's visits, ``2024/education/diabetes`` for a
condition's sessions, ``2024/control/H1`` for a half-year, ``2024/<rule>`` for a per-rule
yearly cap, and ``enrolment`` (once per patient, ever). A clinic's award follows the
patient's: it is booked when the patient's award was eligible under its frequency limits,
whatever the patient's cap left, and counts against the clinic's own cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain import Limit, Transfer, TransferOutcome
from ledger.records import Tag
from ledger.rules.schema import RuleSet, Targets
from ledger.vocabulary import Beneficiary

__all__ = [
    "NOT_ELIGIBLE",
    "Award",
    "AwardAccounts",
    "Readings",
    "at_target",
    "awards_from",
    "education_transfers",
    "enrolment_transfers",
    "visit_transfers",
]


# A limit nothing passes: an award the event does not qualify for, reported as such.
NOT_ELIGIBLE = Limit("not_eligible", "not_eligible", max_count=0)


@dataclass(frozen=True)
class AwardAccounts:
    """The ledger accounts of one event: the district's expense, the patient, the clinic."""

    expense: int
    patient: int
    clinic: int | None


@dataclass(frozen=True)
class Readings:
    """Clinical values recorded at a visit; measurements, never floats."""

    systolic: int | None = None
    diastolic: int | None = None
    hba1c: Decimal | None = None
    fasting_glucose: int | None = None


@dataclass(frozen=True)
class Award:
    """One award as the API reports it."""

    beneficiary: str
    rule: str
    amount: int
    clipped: int
    reason: str | None


def at_target(targets: Targets, conditions: Collection[str], readings: Readings) -> bool:
    """Whether every condition the patient has was recorded at target at this visit.

    Hypertension needs both blood-pressure readings below their limits; diabetes needs
    HbA1c or fasting glucose below its limit. A condition with no reading is not at target.
    """
    if not conditions:
        return False
    if "hypertension" in conditions and not (
        readings.systolic is not None
        and readings.diastolic is not None
        and readings.systolic < targets.systolic_below
        and readings.diastolic < targets.diastolic_below
    ):
        return False
    return "diabetes" not in conditions or (
        (readings.hba1c is not None and readings.hba1c < targets.hba1c_below)
        or (
            readings.fasting_glucose is not None
            and readings.fasting_glucose < targets.fasting_glucose_below
        )
    )


def enrolment_transfers(
    rules: RuleSet, *, day: dt.date, accounts: AwardAccounts, enrolled_before: bool = False
) -> list[Transfer]:
    """The enrolment awards, once per person: ``enrolled_before`` (a person whose earlier
    patient record was erased) withholds both as ``once_only``, as a second enrolment of one
    account would be."""
    once = Limit("enrolment", "once_only", max_count=0 if enrolled_before else 1)
    patient = Transfer(
        accounts.expense,
        accounts.patient,
        rules.patient.enrolment.amount,
        (once, _annual(rules, day)),
        tag=str(Tag(Beneficiary.PATIENT, "enrolment")),
    )
    return [patient, *_clinic(rules, day, accounts, rules.clinic.enrolment, "enrolment", 0)]


def visit_transfers(
    rules: RuleSet,
    *,
    day: dt.date,
    conditions: Collection[str],
    readings: Readings,
    accounts: AwardAccounts,
) -> list[Transfer]:
    visit = rules.patient.visit
    limits = [Limit(f"{day.year}/visit/{day:%Y-%m}", "monthly_limit", max_count=visit.per_month)]
    limits += _rule_cap(day, "visit", visit.yearly_cap)
    transfers = [
        Transfer(
            accounts.expense,
            accounts.patient,
            visit.amount,
            (*limits, _annual(rules, day)),
            tag=str(Tag(Beneficiary.PATIENT, "visit")),
        )
    ]
    transfers += _clinic(rules, day, accounts, rules.clinic.visit, "visit", 0)
    control = rules.patient.control
    measured = any(v is not None for v in vars(readings).values())
    if control is not None and measured:
        # Values recorded but not all at target: reported as a control award withheld as
        # not_eligible, so the clinic and patient see why none was given.
        half = 1 if day.month <= 6 else 2
        limits = []
        if not at_target(rules.targets, conditions, readings):
            limits.append(NOT_ELIGIBLE)
        if control.per_half_year is not None:
            limits.append(
                Limit(
                    f"{day.year}/control/H{half}",
                    "half_year_limit",
                    max_count=control.per_half_year,
                )
            )
        limits += _rule_cap(day, "control", control.yearly_cap)
        transfers.append(
            Transfer(
                accounts.expense,
                accounts.patient,
                control.amount,
                (*limits, _annual(rules, day)),
                tag=str(Tag(Beneficiary.PATIENT, "control")),
            )
        )
    return transfers


def education_transfers(
    rules: RuleSet,
    *,
    day: dt.date,
    condition: str,
    conditions: Collection[str],
    accounts: AwardAccounts,
) -> list[Transfer]:
    education = rules.patient.education
    if education is None:
        return []
    limits: list[Limit] = []
    if condition not in conditions:
        limits.append(NOT_ELIGIBLE)
    if education.per_condition_per_year is not None:
        limits.append(
            Limit(
                f"{day.year}/education/{condition}",
                "condition_limit",
                max_count=education.per_condition_per_year,
            )
        )
    limits += _rule_cap(day, "education", education.yearly_cap)
    patient = Transfer(
        accounts.expense,
        accounts.patient,
        education.amount,
        (*limits, _annual(rules, day)),
        tag=str(Tag(Beneficiary.PATIENT, "education")),
    )
    return [patient, *_clinic(rules, day, accounts, rules.clinic.education, "education", 0)]


def awards_from(outcomes: Collection[TransferOutcome]) -> list[Award]:
    """The awards of a booked event, in the order they were applied."""
    awards = []
    for outcome in outcomes:
        tag = Tag.parse(outcome.tag)
        awards.append(Award(tag.group, tag.name, outcome.amount, outcome.clipped, outcome.reason))
    return awards


def _annual(rules: RuleSet, day: dt.date) -> Limit:
    return Limit(f"{day.year}/annual", "annual_cap", max_amount=rules.patient.annual_cap)


def _rule_cap(day: dt.date, rule: str, cap: int | None) -> list[Limit]:
    return [] if cap is None else [Limit(f"{day.year}/{rule}", "rule_cap", max_amount=cap)]


def _clinic(
    rules: RuleSet, day: dt.date, accounts: AwardAccounts, amount: int, rule: str, follows: int
) -> list[Transfer]:
    if accounts.clinic is None or amount == 0:
        return []
    cap = Limit(f"{day.year}/annual", "annual_cap", max_amount=rules.clinic.annual_cap)
    return [
        Transfer(
            accounts.expense,
            accounts.clinic,
            amount,
            (cap,),
            follows=follows,
            tag=str(Tag(Beneficiary.CLINIC, rule)),
        )
    ]
