"""Text entering the service: the characters refused everywhere, and a name as an identity."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.text import IGNORED_IN_NAMES, normalise_name, unsafe_character

HANGUL = st.text(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1, max_size=5)


@given(st.text())
def test_a_normalised_name_normalises_to_itself(name: str) -> None:
    once = normalise_name(name)
    assert normalise_name(once) == once
    assert unsafe_character(once) is None


@given(st.lists(HANGUL, min_size=1, max_size=3))
def test_a_name_in_composed_or_decomposed_hangul_is_one_name(words: list[str]) -> None:
    name = " ".join(words)
    assert normalise_name(unicodedata.normalize("NFD", name)) == normalise_name(name) == name


@given(HANGUL, st.sampled_from(sorted(IGNORED_IN_NAMES)), st.integers(0, 5))
def test_a_zero_width_character_makes_no_other_name(name: str, hidden: str, at: int) -> None:
    assert normalise_name(name[:at] + hidden + name[at:]) == name


@pytest.mark.parametrize(
    "written",
    [
        "홍  길동",
        " 홍 길동 ",
        "홍\u3000길동",
        "홍\u00a0길동",
        "홍\t길동",
        "\ufeff홍 길동",
        "홍\u2003길동",
    ],
)
def test_spacing_makes_no_other_name(written: str) -> None:
    assert normalise_name(written) == "홍 길동"


def test_full_width_letters_are_the_same_letters() -> None:
    assert normalise_name("ＫＩＭ Ｍｉｎｓｕ") == "KIM Minsu"


@pytest.mark.parametrize(
    "char",
    [
        "\x00",  # NUL: a 500 on PostgreSQL before
        "\n",
        "\t",
        "\x1b",
        "\x7f",
        "\x85",
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u202a",
        "\u2066",  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",  # LEFT-TO-RIGHT MARK
        "\u200f",
        "\u061c",  # ARABIC LETTER MARK
        "\u2062",  # INVISIBLE TIMES
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A
        "\ud800",  # a lone surrogate: no UTF-8 column can hold it
    ],
)
def test_control_and_formatting_characters_are_refused(char: str) -> None:
    assert unsafe_character(f"김{char}민수") == f"U+{ord(char):04X}"


@pytest.mark.parametrize(
    "text",
    ["김민수", "Kim Min-su", "혈압 교실 🩺", "a\u200bb", "a\u200db", "\ufeffa", "co\u00adop"],
)
def test_ordinary_text_and_zero_width_characters_are_accepted(text: str) -> None:
    assert unsafe_character(text) is None
