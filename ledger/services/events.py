"""What every programme event checks first: its rule set and its date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ledger.errors import BeforeEnrolment, FutureDate, LateEntry
from ledger.rules import RuleBook, RuleSet, rule_book_for
from ledger.settings import get_settings

__all__ = ["check_event_date", "late_entry_days", "late_entry_window", "rule_book", "rules_for"]

# A window set for the events checked in one block of code (a history import), which
# outranks both the setting and the rules; None outside such a block.
_window: ContextVar[int | None] = ContextVar("late_entry_window", default=None)


def rule_book() -> RuleBook:
    """The rule sets in force: the shipped ones and those in ``MILEAGE_RULES_DIR``."""
    return rule_book_for(get_settings().rules_dir)


def rules_for(rules: RuleBook | None, day: dt.date, district: str) -> RuleSet:
    """The rule set of an event on ``day`` in ``district``."""
    return (rules or rule_book()).for_event(day.year, district)


@contextmanager
def late_entry_window(days: int) -> Iterator[None]:
    """Let events checked inside the block be up to ``days`` old, whatever else is set.

    For a history import, which replays years-old events through the same rules; the
    window of everything outside the block is left as it was.
    """
    token = _window.set(days)
    try:
        yield
    finally:
        _window.reset(token)


def late_entry_days(rules: RuleSet) -> int:
    """The late-entry window: a block's, else ``MILEAGE_LATE_ENTRY_DAYS``, else the rules' own."""
    override = _window.get()
    if override is None:
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
        # Not the enrolment date itself: a clinic that may spend a patient's mileage, or
        # that held their class, may not read their record.
        raise BeforeEnrolment(
            f"{day} is before the patient's enrolment; check the date", field="date"
        )
