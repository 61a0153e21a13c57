"""Every text fits what Korean carriers take: KS X 1001 or ASCII, 90 bytes with the prefix."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.templates import encodable, render_recall, render_reminder, sms_bytes

HOSTILE_NAMES = [
    "김민수",
    "똠방각하",
    "뷁",
    "John Smith",
    "😀 이모지",
    "이\n줄바꿈",
    "{name}",
    "%s%d",
    "",
    "   ",
    "가" * 40,
    "Ǆ",
    "\u200b김철수",
    "김\u0301",
    "<script>",
    "a" * 200,
    "冊",
    "ＡＢＣ",
]
HOSTILE_CLINICS = ["강동365내과", "서울가정의학과의원" * 3, "똠양꿍내과", "💊약국", "", "\t"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("clinic", HOSTILE_CLINICS)
def test_every_template_fits_and_encodes_whatever_the_inputs(name: str, clinic: str) -> None:
    for text in (
        render_reminder(
            name=name, clinic=clinic, follow_up=dt.date(2026, 12, 31), balance=1_234_567
        ),
        render_recall(name=name, clinic=clinic, balance=35_000),
    ):
        assert encodable(text), text
        assert sms_bytes(text) <= 90, (sms_bytes(text), text)
        assert "\n" not in text and "\t" not in text


def test_format_codes_in_a_name_are_printed_as_they_are() -> None:
    text = render_recall(name="{balance}", clinic="%s", balance=3_000)
    assert text.startswith("{balance}님, %s에서")


def test_python_euc_kr_encodes_rare_syllables_in_8_bytes_so_they_are_refused() -> None:
    assert len("똠".encode("euc_kr")) == 8
    assert not encodable("똠") and encodable("김") and encodable("·")


def test_a_name_outside_ks_x_1001_is_left_out_not_mangled() -> None:
    text = render_reminder(
        name="똠방각하", clinic="길동내과", follow_up=dt.date(2026, 3, 5), balance=3_000
    )
    assert text.startswith("안녕하세요. 길동내과 진료 예약일은 3월 5일(목)입니다.")
    assert "똠" not in text and "방각하" not in text


def test_the_reminder_names_the_patient_clinic_date_and_balance() -> None:
    text = render_reminder(
        name="김민수", clinic="강동365내과", follow_up=dt.date(2026, 3, 5), balance=13_000
    )
    assert text == "김민수님, 강동365내과 진료 예약일은 3월 5일(목)입니다. 건강마일리지 13,000점"
