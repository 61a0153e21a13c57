"""The schema of a rule set file (TOML), validated on load."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

Purpose = Literal["treatment", "test", "vaccination", "eye_exam"]
ClinicKind = Literal["chronic", "ophthalmology"]
Condition = Literal["hypertension", "diabetes"]

__all__ = [
    "ClinicKind",
    "ClinicRules",
    "Condition",
    "ControlRule",
    "EducationRule",
    "EnrolmentRule",
    "Leaving",
    "PatientRules",
    "Purpose",
    "RuleSet",
    "Spending",
    "Targets",
    "VisitRule",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnrolmentRule(_Strict):
    """Awarded once per patient, on enrolment."""

    amount: PositiveInt


class VisitRule(_Strict):
    """Awarded for a treatment visit, at most ``per_month`` times a calendar month."""

    amount: PositiveInt
    per_month: PositiveInt = 1
    yearly_cap: PositiveInt | None = None


class EducationRule(_Strict):
    """Awarded for attending a health-centre education session."""

    amount: PositiveInt
    per_condition_per_year: PositiveInt | None = None
    yearly_cap: PositiveInt | None = None


class ControlRule(_Strict):
    """Awarded when a visit records every condition of the patient at target."""

    amount: PositiveInt
    per_half_year: PositiveInt | None = None
    yearly_cap: PositiveInt | None = None


class PatientRules(_Strict):
    annual_cap: PositiveInt
    enrolment: EnrolmentRule
    visit: VisitRule
    education: EducationRule | None = None
    control: ControlRule | None = None


class ClinicRules(_Strict):
    """What a clinic earns for the patients it manages; the city's defaults until it sets them."""

    annual_cap: PositiveInt = 3_000_000
    enrolment: int = Field(default=10_000, ge=0)
    visit: int = Field(default=2_000, ge=0)
    education: int = Field(default=1_000, ge=0)


class Targets(_Strict):
    """Disease control: BP below both limits; HbA1c or fasting glucose below its limit."""

    systolic_below: PositiveInt = 140
    diastolic_below: PositiveInt = 90
    hba1c_below: Decimal = Decimal("7.0")
    fasting_glucose_below: PositiveInt = 130


class Spending(_Strict):
    threshold: int = Field(default=3_000, ge=0)
    scope: Literal["district", "city"] = "district"
    purposes: dict[ClinicKind, list[Purpose]] = {
        "chronic": ["treatment", "test", "vaccination"],
        "ophthalmology": ["eye_exam"],
    }


class Leaving(_Strict):
    """What happens to the balance of a patient who leaves the programme."""

    balance: Literal["forfeit", "keep"] = "forfeit"


class RuleSet(_Strict):
    """One programme year's rules, city-wide (no ``district``) or for one district."""

    year: int = Field(ge=2013, le=2100)
    district: str | None = Field(default=None, pattern=r"^\d{5}$")
    title: str
    source: str | None = None
    late_entry_days: int = Field(default=30, ge=0, le=3660)
    patient: PatientRules
    clinic: ClinicRules = ClinicRules()
    targets: Targets = Targets()
    spending: Spending = Spending()
    leaving: Leaving = Leaving()

    @model_validator(mode="after")
    def _caps_hold_the_rules(self) -> RuleSet:
        for name in ("visit", "education", "control"):
            rule = getattr(self.patient, name)
            if rule is not None and rule.yearly_cap is not None and rule.yearly_cap < rule.amount:
                raise ValueError(f"patient.{name}.yearly_cap is below one award's amount")
        return self

    @property
    def label(self) -> str:
        return f"{self.year}" if self.district is None else f"{self.year}-{self.district}"
