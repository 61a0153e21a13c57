"""Reading one cell of an import row as the value it means, in the spellings the old system
and Korean spreadsheets use (dates as ``2024-03-05``, ``2024.3.5`` or ``20240305``, ``고혈압``
for hypertension, ``강동구`` for district 11740, ``Y``/``예`` for yes), or refusing it with a
message that names the column."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import InvalidInput, UnknownDistrict
from ledger.models import District
from ledger.text import unsafe_character

__all__ = [
    "CLINIC_KINDS",
    "CONDITIONS",
    "EVENT_TYPES",
    "Row",
    "amount",
    "check_text",
    "choice",
    "conditions",
    "date",
    "district",
    "flag",
    "optional_date",
    "optional_decimal",
    "optional_int",
    "parse_date",
    "required",
    "text",
]

Row = Mapping[str, str]

# The spellings the old system and Korean spreadsheets use, mapped to ours.
CLINIC_KINDS = {
    "chronic": "chronic",
    "만성질환": "chronic",
    "ophthalmology": "ophthalmology",
    "안과": "ophthalmology",
}
CONDITIONS = {
    "hypertension": "hypertension",
    "고혈압": "hypertension",
    "diabetes": "diabetes",
    "당뇨": "diabetes",
    "당뇨병": "diabetes",
}
EVENT_TYPES = {"visit": "visit", "진료": "visit", "education": "education", "교육": "education"}
YES = frozenset({"y", "yes", "true", "1", "o", "예", "동의"})
NO = frozenset({"", "n", "no", "false", "0", "x", "아니오", "아니요", "미동의"})
DATE = re.compile(
    r"(?P<y>\d{4})\s*[-./]\s*(?P<m>\d{1,2})\s*[-./]\s*(?P<d>\d{1,2})\.?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?P<y8>\d{4})(?P<m8>\d{2})(?P<d8>\d{2})"
)


def check_text(row: Row) -> None:
    """Refuse a row any of whose cells holds a control or invisible formatting character
    (``ledger.text.unsafe_character``): the importer is an edge like a request body."""
    for column, value in row.items():
        refused = unsafe_character(value)
        if refused is not None:
            raise InvalidInput(
                f"{column} holds an invisible control or formatting character ({refused}); "
                "remove it from the file",
                field=column,
            )


def required(row: Row, column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise InvalidInput(f"{column} is empty", field=column)
    return value


def text(row: Row, column: str, *, max_length: int) -> str:
    value = required(row, column)
    if len(value) > max_length:
        raise InvalidInput(f"{column} is longer than {max_length} characters", field=column)
    return value


def choice(row: Row, column: str, choices: Mapping[str, str]) -> str:
    value = required(row, column)
    found = choices.get(value.lower())
    if found is None:
        raise InvalidInput(f"{column} {value!r} is not one of {', '.join(choices)}", field=column)
    return found


def parse_date(value: str) -> dt.date | None:
    """The date ``value`` spells, or None if it spells none."""
    match = DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day = (
        (match["y"], match["m"], match["d"])
        if match["y"]
        else (match["y8"], match["m8"], match["d8"])
    )
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def date(row: Row, column: str) -> dt.date:
    value = required(row, column)
    parsed = parse_date(value)
    if parsed is None:
        raise InvalidInput(
            f"{column} {value!r} is not a date (2024-03-05, 2024.03.05 or 20240305)",
            field=column,
        )
    return parsed


def optional_date(row: Row, column: str) -> dt.date | None:
    return date(row, column) if row.get(column) else None


def optional_int(row: Row, column: str) -> int | None:
    value = row.get(column, "").replace(",", "")
    if not value:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise InvalidInput(f"{column} {value!r} is not a whole number", field=column) from error


def amount(row: Row, column: str) -> int:
    value = optional_int(row, column)
    if value is None or value < 0:
        raise InvalidInput(f"{column} is a whole number of M, 0 or more", field=column)
    return value


def optional_decimal(row: Row, column: str) -> Decimal | None:
    value = row.get(column, "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise InvalidInput(f"{column} {value!r} is not a number", field=column) from error
    if not number.is_finite():
        raise InvalidInput(f"{column} {value!r} is not a number", field=column)
    return number


def flag(row: Row, column: str) -> bool:
    value = row.get(column, "").lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise InvalidInput(f"{column} {value!r} is not Y or N", field=column)


def conditions(row: Row, column: str) -> list[str]:
    names = [name for name in re.split(r"[;,/|+\s]+", row.get(column, "").lower()) if name]
    unknown = [name for name in names if name not in CONDITIONS]
    if unknown or not names:
        raise InvalidInput(
            f"{column} lists hypertension and/or diabetes (고혈압, 당뇨), "
            f"separated by ';', not {row.get(column, '')!r}",
            field=column,
        )
    return sorted({CONDITIONS[name] for name in names})


def district(session: Session, value: str) -> str:
    """A district's code, given its code (11740) or its name (강동구, 강동)."""
    if value.isdigit():
        return value
    code = session.execute(
        select(District.code).where(District.name.in_([value, f"{value}구"]))
    ).scalar()
    if code is None:
        raise UnknownDistrict(
            f"no district {value!r}; districts are 5-digit codes like 11740 or names like 강동구"
        )
    return code
