"""The console's Korean formats: what a receptionist reads on a page or a receipt."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.web.formats import date_ko, datetime_ko, mileage, number


def test_dates_read_as_in_korean_documents() -> None:
    assert date_ko(date(2025, 3, 5)) == "2025. 3. 5."
    assert date_ko(date(2025, 12, 31)) == "2025. 12. 31."
    assert date_ko(None) == ""


def test_a_time_is_shown_in_seoul() -> None:
    late_utc = datetime(2025, 3, 4, 16, 30, tzinfo=UTC)  # 01:30 on 5 March in Seoul
    assert date_ko(late_utc) == "2025. 3. 5."
    assert datetime_ko(late_utc) == "2025. 3. 5. 01:30"


def test_amounts_carry_thousands_separators_and_the_unit() -> None:
    assert mileage(12345) == "12,345 M"
    assert mileage(-3000) == "-3,000 M"
    assert mileage(0) == "0 M"
    assert number(1234567) == "1,234,567"
    assert mileage(None) == ""
