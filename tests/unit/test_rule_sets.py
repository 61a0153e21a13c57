"""Every shipped rule set, applied to a patient's events: what each award earns.

The tests run once per file in ``ledger/rules/sets/`` (a new file is covered as soon as it
is added), and read the amounts from the file's own fields: a rule set is data, so the test
of a rule is that the award equals the field. The worked examples at the end state the
published numbers of program.md plainly, so a wrong edit to a file shows up there too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from decimal import Decimal

import pytest

from ledger.domain import Counter, TransferOutcome
from ledger.programme import (
    AwardAccounts,
    Readings,
    at_target,
    education_transfers,
    enrolment_transfers,
    visit_transfers,
)
from ledger.rules import SHIPPED, RuleSet, load_rule_set
from tests.unit.books import CLINIC, EXPENSE, PATIENT, Books

ACCOUNTS = AwardAccounts(expense=EXPENSE, patient=PATIENT, clinic=CLINIC)
BOTH = ("hypertension", "diabetes")
NO_READINGS = Readings()
RULE_SETS = [load_rule_set(path) for path in sorted(SHIPPED.glob("*.toml"))]


def rule_sets(where: Callable[[RuleSet], object] = lambda rules: True) -> list[object]:
    """The shipped rule sets that have the rule under test, one test each, named by file."""
    return [pytest.param(rules, id=rules.label) for rules in RULE_SETS if where(rules)]


def shipped(label: str) -> RuleSet:
    return load_rule_set(SHIPPED / f"{label}.toml")


def test_the_published_rule_sets_are_all_shipped() -> None:
    labels = {rules.label for rules in RULE_SETS}
    assert {"2016-11740", "2019-11215", "2020-11545", "2023-11260", "2024"} <= labels


# A patient's events, booked in memory ------------------------------------------------


def in_year(rules: RuleSet, month: int = 3, day: int = 5) -> dt.date:
    """A day of the rule set's own programme year."""
    return dt.date(rules.year, month, day)


def on_target(rules: RuleSet) -> Readings:
    """Every reading just inside its target."""
    t = rules.targets
    return Readings(
        systolic=t.systolic_below - 1,
        diastolic=t.diastolic_below - 1,
        hba1c=t.hba1c_below - Decimal("0.1"),
        fasting_glucose=t.fasting_glucose_below - 1,
    )


def off_target(rules: RuleSet) -> Readings:
    """Blood pressure on its limit (not below it); the rest at target."""
    t = rules.targets
    return Readings(
        systolic=t.systolic_below,
        diastolic=t.diastolic_below - 1,
        hba1c=t.hba1c_below - Decimal("0.1"),
    )


Awards = dict[str, TransferOutcome]


def booked(books: Books, transfers: list) -> Awards:
    return {outcome.tag: outcome for outcome in books.book(transfers).outcomes}


def enrol(books: Books, rules: RuleSet, on: dt.date) -> Awards:
    return booked(books, enrolment_transfers(rules, day=on, accounts=ACCOUNTS))


def visit(
    books: Books,
    rules: RuleSet,
    on: dt.date,
    readings: Readings = NO_READINGS,
    conditions: Collection[str] = BOTH,
) -> Awards:
    transfers = visit_transfers(
        rules, day=on, conditions=conditions, readings=readings, accounts=ACCOUNTS
    )
    return booked(books, transfers)


def attend(
    books: Books,
    rules: RuleSet,
    on: dt.date,
    condition: str = "diabetes",
    conditions: Collection[str] = BOTH,
) -> Awards:
    transfers = education_transfers(
        rules, day=on, condition=condition, conditions=conditions, accounts=ACCOUNTS
    )
    return booked(books, transfers)


def earned(outcome: TransferOutcome) -> tuple[int, int, str | None]:
    return outcome.amount, outcome.clipped, outcome.reason


def capped_sequence(amount: int, cap: int) -> list[int]:
    """What awards of ``amount`` earn, one after another, under a cap of ``cap``."""
    full, rest = divmod(cap, amount)
    return [amount] * full + ([rest] if rest else []) + [0]


# Enrolment ---------------------------------------------------------------------------


@pytest.mark.parametrize("rules", rule_sets())
def test_enrolment_earns_the_patient_and_the_clinic_their_enrolment_amounts(
    rules: RuleSet,
) -> None:
    books = Books()
    awards = enrol(books, rules, in_year(rules))
    assert earned(awards["patient:enrolment"]) == (rules.patient.enrolment.amount, 0, None)
    assert earned(awards["clinic:enrolment"]) == (rules.clinic.enrolment, 0, None)
    assert books.balance(PATIENT) == rules.patient.enrolment.amount
    assert books.balance(CLINIC) == rules.clinic.enrolment


@pytest.mark.parametrize("rules", rule_sets())
def test_a_patient_earns_the_enrolment_award_once_ever(rules: RuleSet) -> None:
    books = Books()
    enrol(books, rules, in_year(rules))
    again = enrol(books, rules, dt.date(rules.year + 1, 3, 5))
    amount = rules.patient.enrolment.amount
    assert earned(again["patient:enrolment"]) == (0, amount, "once_only")
    assert earned(again["clinic:enrolment"]) == (0, rules.clinic.enrolment, "once_only")


@pytest.mark.parametrize("rules", rule_sets())
def test_a_person_enrolled_before_under_an_erased_record_earns_no_enrolment_award(
    rules: RuleSet,
) -> None:
    books = Books()
    transfers = enrolment_transfers(
        rules, day=in_year(rules), accounts=ACCOUNTS, enrolled_before=True
    )
    again = booked(books, transfers)
    assert earned(again["patient:enrolment"]) == (0, rules.patient.enrolment.amount, "once_only")
    assert earned(again["clinic:enrolment"]) == (0, rules.clinic.enrolment, "once_only")
    assert books.balance(PATIENT) == 0
    assert books.balance(CLINIC) == 0


# Treatment visits --------------------------------------------------------------------


@pytest.mark.parametrize("rules", rule_sets())
def test_a_visit_earns_the_visit_amount_and_the_clinic_its_visit_award(rules: RuleSet) -> None:
    awards = visit(Books(), rules, in_year(rules))
    assert set(awards) == {"patient:visit", "clinic:visit"}
    assert earned(awards["patient:visit"]) == (rules.patient.visit.amount, 0, None)
    assert earned(awards["clinic:visit"]) == (rules.clinic.visit, 0, None)


@pytest.mark.parametrize("rules", rule_sets())
def test_second_visit_in_a_month_earns_nothing(rules: RuleSet) -> None:
    amount, per_month = rules.patient.visit.amount, rules.patient.visit.per_month
    books = Books()
    allowed = [visit(books, rules, in_year(rules, 3, 1 + n)) for n in range(per_month)]
    refused = visit(books, rules, in_year(rules, 3, 28))
    assert [a["patient:visit"].amount for a in allowed] == [amount] * per_month
    assert earned(refused["patient:visit"]) == (0, amount, "monthly_limit")
    assert earned(refused["clinic:visit"]) == (0, rules.clinic.visit, "monthly_limit")


@pytest.mark.parametrize("rules", rule_sets())
def test_a_visit_in_the_next_month_earns_again(rules: RuleSet) -> None:
    books = Books()
    for n in range(rules.patient.visit.per_month):
        visit(books, rules, in_year(rules, 3, 1 + n))
    april = visit(books, rules, in_year(rules, 4, 1))
    assert earned(april["patient:visit"]) == (rules.patient.visit.amount, 0, None)


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.visit.yearly_cap))
def test_visits_stop_earning_at_the_visit_rules_yearly_cap(rules: RuleSet) -> None:
    visit_rule = rules.patient.visit
    books = Books(counters={(PATIENT, f"{rules.year}/visit"): Counter(visit_rule.yearly_cap, 0)})
    refused = visit(books, rules, in_year(rules))
    assert earned(refused["patient:visit"]) == (0, visit_rule.amount, "rule_cap")


# Disease control ---------------------------------------------------------------------


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.control))
def test_a_visit_at_target_earns_the_control_award(rules: RuleSet) -> None:
    books = Books()
    awards = visit(books, rules, in_year(rules), on_target(rules))
    assert earned(awards["patient:control"]) == (rules.patient.control.amount, 0, None)
    assert books.balance(PATIENT) == rules.patient.visit.amount + rules.patient.control.amount


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.control))
def test_a_visit_off_target_reports_the_control_award_withheld_as_not_eligible(
    rules: RuleSet,
) -> None:
    awards = visit(Books(), rules, in_year(rules), off_target(rules))
    assert earned(awards["patient:control"]) == (0, rules.patient.control.amount, "not_eligible")
    assert earned(awards["patient:visit"]) == (rules.patient.visit.amount, 0, None)


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.control))
def test_an_off_target_visit_does_not_use_up_the_control_award(rules: RuleSet) -> None:
    books = Books()
    visit(books, rules, in_year(rules, 1, 10), off_target(rules))
    february = visit(books, rules, in_year(rules, 2, 10), on_target(rules))
    assert earned(february["patient:control"]) == (rules.patient.control.amount, 0, None)


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.control))
def test_a_visit_without_readings_has_no_control_award(rules: RuleSet) -> None:
    assert "patient:control" not in visit(Books(), rules, in_year(rules))


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.control is None))
def test_a_rule_set_without_disease_control_pays_nothing_for_readings_at_target(
    rules: RuleSet,
) -> None:
    books = Books()
    awards = visit(books, rules, in_year(rules), on_target(rules))
    assert set(awards) == {"patient:visit", "clinic:visit"}
    assert books.balance(PATIENT) == rules.patient.visit.amount


@pytest.mark.parametrize(
    "rules", rule_sets(lambda r: r.patient.control and r.patient.control.per_half_year)
)
def test_control_is_awarded_at_most_so_often_each_half_year(rules: RuleSet) -> None:
    control = rules.patient.control
    books = Books()
    first_half = [
        visit(books, rules, in_year(rules, month, 10), on_target(rules))["patient:control"]
        for month in range(1, control.per_half_year + 2)
    ]
    july = visit(books, rules, in_year(rules, 7, 10), on_target(rules))["patient:control"]
    assert [o.amount for o in first_half] == [control.amount] * control.per_half_year + [0]
    assert first_half[-1].reason == "half_year_limit"
    assert earned(july) == (control.amount, 0, None)


@pytest.mark.parametrize(
    "rules", rule_sets(lambda r: r.patient.control and r.patient.control.yearly_cap)
)
def test_control_awards_stop_at_the_control_rules_yearly_cap(rules: RuleSet) -> None:
    control = rules.patient.control
    expected = capped_sequence(control.amount, control.yearly_cap)
    books = Books()
    awards = [
        visit(books, rules, in_year(rules, month, 10), on_target(rules))["patient:control"]
        for month in range(1, len(expected) + 1)
    ]
    assert [o.amount for o in awards] == expected
    assert {o.reason for o in awards if o.clipped} == {"rule_cap"}


# Education ---------------------------------------------------------------------------


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.education))
def test_an_education_session_earns_the_patient_and_the_clinic(rules: RuleSet) -> None:
    awards = attend(Books(), rules, in_year(rules))
    assert earned(awards["patient:education"]) == (rules.patient.education.amount, 0, None)
    assert earned(awards["clinic:education"]) == (rules.clinic.education, 0, None)


@pytest.mark.parametrize("rules", rule_sets(lambda r: r.patient.education))
def test_a_session_on_a_condition_the_patient_does_not_have_earns_nothing(rules: RuleSet) -> None:
    books = Books()
    awards = attend(books, rules, in_year(rules), "diabetes", conditions=("hypertension",))
    education = rules.patient.education.amount
    assert earned(awards["patient:education"]) == (0, education, "not_eligible")
    assert earned(awards["clinic:education"]) == (0, rules.clinic.education, "not_eligible")
    assert books.snapshot() == ({}, {})


@pytest.mark.parametrize(
    "rules", rule_sets(lambda r: r.patient.education and r.patient.education.per_condition_per_year)
)
def test_education_earns_for_so_many_sessions_per_condition_a_year(rules: RuleSet) -> None:
    education = rules.patient.education
    sessions = education.per_condition_per_year
    books = Books()
    diabetes = [
        attend(books, rules, in_year(rules, 1 + n, 10), "diabetes")["patient:education"]
        for n in range(sessions + 1)
    ]
    hypertension = attend(books, rules, in_year(rules, 11, 10), "hypertension")["patient:education"]
    assert [o.amount for o in diabetes] == [education.amount] * sessions + [0]
    assert diabetes[-1].reason == "condition_limit"
    assert earned(hypertension) == (education.amount, 0, None)


@pytest.mark.parametrize(
    "rules", rule_sets(lambda r: r.patient.education and r.patient.education.yearly_cap)
)
def test_education_awards_stop_at_the_education_rules_yearly_cap(rules: RuleSet) -> None:
    education = rules.patient.education
    expected = capped_sequence(education.amount, education.yearly_cap)
    books = Books()
    awards = [
        attend(books, rules, in_year(rules, 1 + n, 10), BOTH[n % 2])["patient:education"]
        for n in range(len(expected))
    ]
    assert [o.amount for o in awards] == expected
    assert {o.reason for o in awards if o.clipped} == {"rule_cap"}


# The annual cap ----------------------------------------------------------------------


@pytest.mark.parametrize("rules", rule_sets())
def test_an_award_that_would_cross_the_annual_cap_is_clipped_to_what_is_left(
    rules: RuleSet,
) -> None:
    amount = rules.patient.visit.amount
    left = amount // 2
    already = Counter(rules.patient.annual_cap - left, 20)
    books = Books(counters={(PATIENT, f"{rules.year}/annual"): already})
    awards = visit(books, rules, in_year(rules))
    assert earned(awards["patient:visit"]) == (left, amount - left, "annual_cap")
    assert earned(awards["clinic:visit"]) == (rules.clinic.visit, 0, None)
    assert books.counter(PATIENT, f"{rules.year}/annual").amount == rules.patient.annual_cap


def a_full_year(rules: RuleSet, books: Books) -> list[TransferOutcome]:
    """Everything a patient with both conditions could try in a year: enrolment, two visits
    at target and a session on each condition every month."""
    outcomes = list(enrol(books, rules, in_year(rules, 1, 2)).values())
    for month in range(1, 13):
        for date in (5, 20):
            outcomes += visit(books, rules, in_year(rules, month, date), on_target(rules)).values()
        for condition in BOTH:
            outcomes += attend(books, rules, in_year(rules, month, 25), condition).values()
    return [o for o in outcomes if o.tag.startswith("patient:")]


@pytest.mark.parametrize("rules", rule_sets())
def test_a_patients_year_earns_what_the_rules_allow_up_to_the_annual_cap(rules: RuleSet) -> None:
    uncapped = rules.model_copy(
        update={"patient": rules.patient.model_copy(update={"annual_cap": 10**9})}
    )
    allowed = sum(o.amount for o in a_full_year(uncapped, Books()))
    books = Books()
    outcomes = a_full_year(rules, books)
    assert books.balance(PATIENT) == min(allowed, rules.patient.annual_cap)
    assert books.counter(PATIENT, f"{rules.year}/annual").amount == books.balance(PATIENT)
    cap_clipped = sum(o.clipped for o in outcomes if o.reason == "annual_cap")
    assert cap_clipped == allowed - books.balance(PATIENT)


# Targets -----------------------------------------------------------------------------


@pytest.mark.parametrize("rules", rule_sets())
def test_readings_just_below_every_target_are_at_target(rules: RuleSet) -> None:
    assert at_target(rules.targets, BOTH, on_target(rules))


@pytest.mark.parametrize("rules", rule_sets())
@pytest.mark.parametrize(
    "on_the_limit", ["systolic", "diastolic", "hba1c", "fasting_glucose"], ids=str
)
def test_a_reading_on_its_limit_is_not_at_target(rules: RuleSet, on_the_limit: str) -> None:
    t = rules.targets
    readings = {
        "systolic": t.systolic_below - 1,
        "diastolic": t.diastolic_below - 1,
        "hba1c": None if on_the_limit == "fasting_glucose" else t.hba1c_below - Decimal("0.1"),
        "fasting_glucose": None if on_the_limit == "hba1c" else t.fasting_glucose_below - 1,
        on_the_limit: getattr(t, f"{on_the_limit}_below"),
    }
    assert not at_target(t, BOTH, Readings(**readings))


@pytest.mark.parametrize("rules", rule_sets())
def test_diabetes_is_at_target_by_hba1c_or_by_fasting_glucose(rules: RuleSet) -> None:
    t = rules.targets
    by_glucose = Readings(hba1c=t.hba1c_below + 1, fasting_glucose=t.fasting_glucose_below - 1)
    by_hba1c = Readings(
        hba1c=t.hba1c_below - Decimal("0.1"), fasting_glucose=t.fasting_glucose_below
    )
    assert at_target(t, ["diabetes"], by_glucose)
    assert at_target(t, ["diabetes"], by_hba1c)


def test_a_patient_is_at_target_only_for_the_conditions_they_have() -> None:
    targets = shipped("2024").targets
    high_pressure_good_sugar = Readings(systolic=180, diastolic=110, hba1c=Decimal("6.5"))
    assert at_target(targets, ["diabetes"], high_pressure_good_sugar)
    assert not at_target(targets, ["hypertension"], high_pressure_good_sugar)
    assert not at_target(targets, BOTH, high_pressure_good_sugar)


def test_a_condition_without_a_reading_is_not_at_target() -> None:
    targets = shipped("2024").targets
    assert not at_target(targets, BOTH, Readings(systolic=120, diastolic=80))
    assert not at_target(targets, ["hypertension"], Readings(systolic=120))
    assert not at_target(targets, [], Readings(systolic=120, diastolic=80))


# The published rules, in plain numbers (program.md, "Earning rules") -----------------


def test_a_2024_visit_at_target_earns_1000_plus_2000_and_the_clinic_2000() -> None:
    awards = visit(
        Books(),
        shipped("2024"),
        dt.date(2024, 3, 5),
        Readings(systolic=128, diastolic=82),
        conditions=["hypertension"],
    )
    amounts = {tag: o.amount for tag, o in awards.items()}
    assert amounts == {"patient:visit": 1_000, "clinic:visit": 2_000, "patient:control": 2_000}


def test_a_2024_visit_off_target_earns_1000_and_the_clinic_2000() -> None:
    awards = visit(
        Books(),
        shipped("2024"),
        dt.date(2024, 3, 5),
        Readings(systolic=152, diastolic=94),
        conditions=["hypertension"],
    )
    amounts = {tag: o.amount for tag, o in awards.items()}
    assert amounts == {"patient:visit": 1_000, "clinic:visit": 2_000, "patient:control": 0}


def test_2024_targets_are_below_140_90_and_hba1c_7_or_glucose_130() -> None:
    targets = shipped("2024").targets
    assert at_target(targets, ["hypertension"], Readings(systolic=139, diastolic=89))
    assert not at_target(targets, ["hypertension"], Readings(systolic=140, diastolic=89))
    assert not at_target(targets, ["hypertension"], Readings(systolic=139, diastolic=90))
    assert at_target(targets, ["diabetes"], Readings(hba1c=Decimal("6.9")))
    assert not at_target(targets, ["diabetes"], Readings(hba1c=Decimal("7.0")))
    assert at_target(targets, ["diabetes"], Readings(fasting_glucose=129))
    assert not at_target(targets, ["diabetes"], Readings(fasting_glucose=130))


def test_a_2024_patients_full_year_is_clipped_at_35000() -> None:
    # 3,000 enrolment + 12 x 1,000 visits + 2 x 2,000 control + 6 x 3,000 education
    # = 37,000 asked; the cap keeps 35,000 and reports 2,000 withheld.
    books = Books()
    outcomes = a_full_year(shipped("2024"), books)
    assert books.balance(PATIENT) == 35_000
    assert sum(o.clipped for o in outcomes if o.reason == "annual_cap") == 2_000
    # The clinic: 10,000 enrolment + 12 x 2,000 visits + 6 x 1,000 education.
    assert books.balance(CLINIC) == 40_000


def test_a_2016_gangdong_fifth_education_session_earns_the_1000_left_under_9000() -> None:
    rules, books = shipped("2016-11740"), Books()
    amounts = [
        attend(books, rules, dt.date(2016, month, 10), "diabetes")["patient:education"].amount
        for month in range(1, 7)
    ]
    assert amounts == [2_000, 2_000, 2_000, 2_000, 1_000, 0]


def test_a_2019_gwangjin_fourth_session_for_one_condition_earns_nothing() -> None:
    rules, books = shipped("2019-11215"), Books()
    amounts = [
        attend(books, rules, dt.date(2019, month, 10), "hypertension")["patient:education"].amount
        for month in range(1, 5)
    ]
    assert amounts == [3_000, 3_000, 3_000, 0]


def test_a_2019_gwangjin_full_year_earns_exactly_its_33000_cap() -> None:
    # 3,000 + 12 x 1,000 + 6 x 3,000 = 33,000: every award fits, nothing is clipped by the cap.
    books = Books()
    outcomes = a_full_year(shipped("2019-11215"), books)
    assert books.balance(PATIENT) == 33_000
    assert not [o for o in outcomes if o.reason == "annual_cap"]


# The programme without a clinic, a clinic award or an education rule ------------------


def test_a_patient_without_a_home_clinic_earns_alone() -> None:
    rules = shipped("2024")
    alone = AwardAccounts(expense=EXPENSE, patient=PATIENT, clinic=None)
    transfers = visit_transfers(
        rules, day=dt.date(2024, 3, 5), conditions=BOTH, readings=Readings(), accounts=alone
    )
    assert [t.tag for t in transfers] == ["patient:visit"]


def test_a_clinic_award_of_nothing_is_no_transfer() -> None:
    rules = shipped("2024")
    rules = rules.model_copy(update={"clinic": rules.clinic.model_copy(update={"visit": 0})})
    awards = visit(Books(), rules, dt.date(2024, 3, 5))
    assert set(awards) == {"patient:visit"}


def test_a_rule_set_without_education_books_nothing_for_a_session() -> None:
    rules = shipped("2024")
    rules = rules.model_copy(
        update={"patient": rules.patient.model_copy(update={"education": None})}
    )
    assert attend(Books(), rules, dt.date(2024, 3, 5)) == {}
