"""Rule sets are data: validated on load, resolved by year and district."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from ledger.errors import NoRuleSet, RuleSetError
from ledger.rules import SHIPPED, load_rule_book, rule_book_for
from ledger.settings import get_settings

GOOD_2025 = """
year = 2025
title = "2025 서울시"
[patient]
annual_cap = 40_000
[patient.enrolment]
amount = 5_000
[patient.visit]
amount = 1_000
"""


@pytest.fixture
def rules_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MILEAGE_RULES_DIR", str(tmp_path))
    get_settings.cache_clear()
    rule_book_for.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    rule_book_for.cache_clear()


def test_each_district_and_year_finds_the_latest_earlier_rule_set() -> None:
    book = load_rule_book()
    assert book.for_event(2016, "11740").label == "2016-11740"
    assert book.for_event(2018, "11740").label == "2016-11740"
    assert book.for_event(2020, "11215").label == "2019-11215"
    assert book.for_event(2024, "11215").label == "2024"
    assert book.for_event(2030, "11260").label == "2024"
    # 2013 to 2015, and districts without a set of their own until 2024, follow the
    # reconstructed city-wide 2013 set (no rules were published for those years).
    assert book.for_event(2015, "11170").label == "2013"
    assert book.for_event(2013, "11740").label == "2013"
    assert book.for_event(2021, "11170").label == "2013"
    assert "추정" in book.for_event(2015, "11170").title


def test_a_year_before_the_programme_has_no_rule_set() -> None:
    with pytest.raises(NoRuleSet, match="2012 in district 11170"):
        load_rule_book().for_event(2012, "11170")


def test_an_officer_publishes_next_years_rules_without_a_code_change(rules_dir: Path) -> None:
    (rules_dir / "2025.toml").write_text(GOOD_2025, encoding="utf-8")
    book = load_rule_book([SHIPPED, rules_dir])
    assert book.for_event(2025, "11740").patient.annual_cap == 40_000
    assert book.for_event(2024, "11740").patient.annual_cap == 35_000


def test_a_malformed_rule_file_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "2025.toml").write_text(
        GOOD_2025.replace("amount = 1_000", "amount = -1"), encoding="utf-8"
    )
    with pytest.raises(RuleSetError) as refused:
        load_rule_book([tmp_path])
    assert "2025.toml" in str(refused.value)
    assert "patient.visit.amount" in str(refused.value)


def test_a_rule_file_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2025.toml").write_text(GOOD_2025 + "per_week = 2\n", encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"patient\.visit\.per_week"):
        load_rule_book([tmp_path])


def test_a_rule_file_whose_name_disagrees_with_its_content_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2026.toml").write_text(GOOD_2025, encoding="utf-8")
    with pytest.raises(RuleSetError, match="do not match the file name"):
        load_rule_book([tmp_path])


def test_a_broken_toml_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2025-11740.toml").write_text("year = = 2025", encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"2025-11740\.toml"):
        load_rule_book([tmp_path])


def test_the_service_refuses_to_start_on_a_malformed_rule_file(rules_dir: Path) -> None:
    (rules_dir / "2025.toml").write_text(
        GOOD_2025.replace("annual_cap = 40_000", 'annual_cap = "lots"'), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "2025.toml" in result.output and "patient.annual_cap" in result.output
