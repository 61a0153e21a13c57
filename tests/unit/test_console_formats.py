"""The console's Korean formats: what a receptionist reads on a page or a receipt."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.web.formats import date_ko, datetime_ko, masked_name, mileage, number, phone_ko
from api.web.words import entry_words, undone_words
from ledger.services.statements import Line


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


def test_a_receipt_masks_the_letters_between_the_first_and_the_last() -> None:
    assert masked_name("김영수") == "김*수"
    assert masked_name("남궁민수") == "남**수"
    assert masked_name("이호") == "이*"
    assert masked_name("김") == "김"
    assert masked_name(None) == "(삭제됨)"


def test_a_stored_mobile_number_reads_as_koreans_write_it() -> None:
    assert phone_ko("+821012345678") == "010-1234-5678"
    assert phone_ko("02-123-4567") == "02-123-4567"  # typed text is shown as typed
    assert phone_ko(None) == ""


def test_a_statement_line_says_what_it_was_in_korean() -> None:
    day = date(2025, 3, 5)

    def line(
        kind: str, rule: str | None, purpose: str | None = None, reverses: int | None = None
    ) -> str:
        return entry_words(Line(day, 1, kind, rule, purpose, 0, reverses=reverses))

    assert line("visit", "visit") == "진료"
    assert line("visit", "control") == "조절 달성"
    assert line("education", "education") == "교육 참석"
    assert line("enrolment", "enrolment") == "등록"
    assert line("redemption", None, "test") == "사용 (검사비)"
    assert line("reversal", "reversal", reverses=7) == "취소"
    assert line("forfeiture", "forfeiture") == "소멸 (프로그램 종료)"
    assert line("migration", "migration") == "이전 시스템에서 이월"


def test_a_void_says_what_it_undid() -> None:
    day = date(2025, 3, 5)
    lines = [
        Line(day, 4, "visit", "visit", None, 1_000),
        Line(day, 4, "visit", "control", None, 2_000),
        Line(day, 9, "redemption", None, "treatment", -3_000),
    ]
    assert undone_words(lines) == {4: "진료, 조절 달성", 9: "사용 (진료비)"}
