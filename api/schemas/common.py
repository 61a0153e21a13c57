"""The contract's shared parts: text-only dates, strict bodies, pages, problem details."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

T = TypeVar("T")

DistrictCode = Annotated[str, Field(pattern=r"^\d{5}$", examples=["11740"])]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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


# Every date in a body or query: YYYY-MM-DD text only.
Day = Annotated[dt.date, BeforeValidator(_text_only)]
Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]
DayOrMoment = Annotated[
    dt.date | dt.datetime,
    BeforeValidator(_day_or_moment),
    WithJsonSchema(
        {
            "type": "string",
            "description": "YYYY-MM-DD, or RFC 3339 with offset",
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
    """OpenAPI ``responses`` for the problems a route can answer (401 and 422 always)."""
    return {
        status: {
            "model": Problem,
            "description": _MEANING[status],
            "content": {"application/problem+json": {}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in sorted({401, 422, 503, *statuses})
    }
