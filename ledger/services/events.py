"""What every programme event checks first: its rule set and its date."""

from __future__ import annotations

import datetime as dt

from ledger.errors import BeforeEnrolment, FutureDate, LateEntry
from ledger.rules import RuleBook, RuleSet, rule_book_for
from ledger.settings import get_settings

__all__ = ["check_event_date", "late_entry_days", "rule_book", "rules_for"]


def rule_book() -> RuleBook:
    """The rule sets in force: the shipped ones and those in ``MILEAGE_RULES_DIR``."""
    return rule_book_for(get_settings().rules_dir)


def rules_for(rules: RuleBook | None, day: dt.date, district: str) -> RuleSet:
    """The rule set of an event on ``day`` in ``district``."""
    return (rules or rule_book()).for_event(day.year, district)


def late_entry_days(rules: RuleSet) -> int:
    """The late-entry window: ``MILEAGE_LATE_ENTRY_DAYS`` when set, else the rules' own."""
    override = get_settings().late_entry_days
    return rules.late_entry_days if override is None else override


def check_event_date(day: dt.date, *, enrolled_on: dt.date, rules: RuleSet, today: dt.date) -> None:
    """Refuse a future date, then one past the late-entry window, then one before enrolment."""
    if day > today:
        raise FutureDate(f"{day} is after today ({today}, Asia/Seoul)", field="date")
    window = late_entry_days(rules)
    if (today - day).days > window:
        raise LateEntry(
            f"{day} is more than {window} days ago; events may be entered up to {window} days "
            "late (ask the health centre to book a correction)",
            field="date",
        )
    if day < enrolled_on:
        raise BeforeEnrolment(
            f"{day} is before the patient's enrolment on {enrolled_on}", field="date"
        )
