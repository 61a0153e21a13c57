"""Rule sets as data: one TOML file per programme year, city-wide or for one district.

``sets/2024.toml`` holds the city's rules for 2024; ``sets/2019-11215.toml`` holds 광진구's
own rules for 2019. The rules of an event dated in year Y in district D are those of the
latest set, city-wide or D's own, of a year not after Y; when a city-wide set and D's own set
share a year, D's own applies. A city officer publishes next year's rules by adding a file to
the directory named by ``MILEAGE_RULES_DIR`` (read beside the shipped ones): no code changes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from ledger.errors import NoRuleSet, RuleSetError
from ledger.rules.schema import RuleSet

__all__ = ["SHIPPED", "NoRuleSet", "RuleBook", "RuleSet", "RuleSetError", "load_rule_book"]

SHIPPED = Path(__file__).parent / "sets"
FILE_NAME = re.compile(r"^(?P<year>\d{4})(?:-(?P<district>\d{5}))?\.toml$")


@dataclass(frozen=True)
class RuleBook:
    sets: dict[tuple[int, str | None], RuleSet]

    def for_event(self, year: int, district: str) -> RuleSet:
        """The rule set that governs an event of ``year`` in ``district``."""
        applicable = [
            (set_year, set_district is not None, rules)
            for (set_year, set_district), rules in self.sets.items()
            if set_year <= year and set_district in (None, district)
        ]
        if not applicable:
            raise NoRuleSet(
                f"no rule set applies to {year} in district {district}: publish one as "
                f"{year}.toml or {year}-{district}.toml in MILEAGE_RULES_DIR"
            )
        return max(applicable, key=lambda found: (found[0], found[1]))[2]


def load_rule_book(directories: Iterable[Path] = (SHIPPED,)) -> RuleBook:
    """Read and validate every rule set file; a later directory overrides an earlier one."""
    sets: dict[tuple[int, str | None], RuleSet] = {}
    for directory in directories:
        if not directory.is_dir():
            raise RuleSetError(f"{directory}: the rules directory does not exist")
        for path in sorted(directory.glob("*.toml")):
            rules = load_rule_set(path)
            sets[(rules.year, rules.district)] = rules
    return RuleBook(sets)


def load_rule_set(path: Path) -> RuleSet:
    name = FILE_NAME.match(path.name)
    if name is None:
        raise RuleSetError(f"{path}: a rule file is named YEAR.toml or YEAR-DISTRICT.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RuleSetError(f"{path}: {error}") from error
    try:
        rules = RuleSet.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in error.errors()
        )
        raise RuleSetError(f"{path}: {problems}") from error
    if (str(rules.year), rules.district) != (name["year"], name["district"]):
        raise RuleSetError(
            f"{path}: year/district inside ({rules.label}) do not match the file name"
        )
    return rules


@lru_cache(maxsize=4)
def rule_book_for(extra_dir: str | None) -> RuleBook:
    """The shipped rule sets plus those in ``extra_dir``, loaded once per process."""
    directories = [SHIPPED] + ([Path(extra_dir)] if extra_dir else [])
    return load_rule_book(directories)
