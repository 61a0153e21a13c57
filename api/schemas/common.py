"""The contract's shared parts: text-only dates, strict bodies, pages, problem details."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from ledger.text import unsafe_character

T = TypeVar("T")

DistrictCode = Annotated[str, Field(pattern=r"^[0-9]{5}$", examples=["11740"])]


class Body(BaseModel):
    """A request body: unknown fields refused, text trimmed, and no text anywhere in it (lists
    and nested objects included) holding a control or invisible formatting character
    (``ledger.text.unsafe_character``: NUL, newlines, U+202E, ...), each refused as 422
    ``invalid`` naming its field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_hidden_characters(cls, value: Any) -> Any:
        refused = _hidden_character(value)
        if refused is not None:
            raise ValueError(
                f"holds an invisible control or formatting character ({refused}); remove it"
            )
        return value


def _hidden_character(value: Any) -> str | None:
    """The first refused character in ``value``'s text, walking lists and objects."""
    if isinstance(value, str):
        return unsafe_character(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        for item in value:
            found = _hidden_character(item)
            if found is not None:
                return found
    return None


def _text_only(value: Any) -> Any:
    """Dates and moments are written as text; a number is not read as Unix time."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+\s*", value)):
        raise ValueError("write a date as YYYY-MM-DD (a moment as RFC 3339 with its offset)")
    return value


def _day_or_moment(value: Any) -> Any:
    """A plain date, or a timestamp with an offset (counted on its Seoul date)."""
    value = _text_only(value)
    if isinstance(value, str) and "T" in value:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a timestamp needs its offset, e.g. 2024-06-12T10:00:00+09:00")
        return moment
    return value


# Every date a caller sends lies in the programme's calendar: from its first year to the last
# programme year the service knows (the reports' `year` goes to 2100). Far outside it, plain
# date arithmetic on a stored row (a follow-up's grace days, a report's end + 1) leaves
# Python's range and fails whatever reads that row: a recall scan, a report, a job.
FIRST_DAY = dt.date(2013, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
FIRST_BIRTH_DATE = dt.date(1900, 1, 1)


def _between(first: dt.date, last: dt.date) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        day = value.date() if isinstance(value, dt.datetime) else value  # as written: no shift
        if not first <= day <= last:
            raise ValueError(f"a date from {first} to {last}")
        return value

    return check


def _date_schema(kind: str, first: dt.date, last: dt.date) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "format": kind, "description": f"{first} to {last}"})


# Every date in a body or query: YYYY-MM-DD text only, within the programme's calendar.
Day = Annotated[
    dt.date,
    BeforeValidator(_text_only),
    AfterValidator(_between(FIRST_DAY, LAST_DAY)),
    _date_schema("date", FIRST_DAY, LAST_DAY),
]
BirthDate = Annotated[
    dt.date,
    BeforeValidator(_text_only),
    AfterValidator(_between(FIRST_BIRTH_DATE, LAST_DAY)),
    _date_schema("date", FIRST_BIRTH_DATE, LAST_DAY),
]
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    AfterValidator(_between(FIRST_DAY, LAST_DAY)),
    _date_schema("date-time", FIRST_DAY, LAST_DAY),
]
DayOrMoment = Annotated[
    dt.date | dt.datetime,
    BeforeValidator(_day_or_moment),
    AfterValidator(_between(FIRST_DAY, LAST_DAY)),
    WithJsonSchema(
        {
            "type": "string",
            "description": f"YYYY-MM-DD, or RFC 3339 with offset; {FIRST_DAY} to {LAST_DAY}",
            "anyOf": [{"format": "date"}, {"format": "date-time"}],
        }
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class ProblemField(BaseModel):
    field: str | None
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details with a stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    fields: list[ProblemField] | None = None


_MEANING = {
    400: "Bad request",
    401: "No valid API key",
    403: "The key's role may not do this",
    404: "Not found, or outside the caller's district or clinic",
    405: "Method not allowed",
    409: "Conflicts with what is recorded, or the same request is still in flight",
    413: "The request body is over the size limit (`body_too_large`)",
    422: "Invalid request (code `invalid`, with `fields`) or refused by the rules",
    429: "Too many requests of this kind from this caller (`rate_limited`); see `Retry-After`",
    503: "The database is busy or down; send the same request again",
}


# Headers a problem of a status carries, as documented.
_HEADERS = {
    429: {
        "Retry-After": {
            "description": "seconds until the caller's next window",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer (401, 413, 422, 503 always)."""
    return {
        status: {
            "model": Problem,
            "description": _MEANING[status],
            "content": {"application/problem+json": {}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in sorted({401, 413, 422, 503, *statuses})
    }
