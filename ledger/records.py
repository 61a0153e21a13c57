"""What a transaction records about its event, and what its transfers are labelled: typed.

A booked transaction keeps, in ``details["meta"]``, the programme event that caused it (which
patient, which clinic, which rule set...) and, per transfer, a ``tag`` such as
``patient:visit`` (who is credited, under which rule) or ``spending:test``. Booked rows never
change, so these types are both the writer and the reader of that JSON: each record turns
into the same keys the ledger already holds (``to_meta``) and is read back from them
(:func:`read_record`), for rows written before the types existed as much as after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ledger.vocabulary import EventKind

__all__ = [
    "AttendanceRecord",
    "EnrolmentRecord",
    "LeavingRecord",
    "MigrationRecord",
    "PaymentRecord",
    "Record",
    "RedemptionRecord",
    "ReversalRecord",
    "SettlementRecord",
    "Tag",
    "VisitRecord",
    "read_record",
]


@dataclass(frozen=True, kw_only=True)
class Record:
    """The event behind a transaction; ``patient`` and ``clinic`` where it has them."""

    event: ClassVar[EventKind | None] = None
    patient: str | None = None
    clinic: str | None = None

    def to_meta(self) -> dict[str, Any]:
        """The JSON kept with the transaction: ``event`` and every field that has a value."""
        meta: dict[str, Any] = {} if self.event is None else {"event": self.event.value}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is not None:
                meta[item.name] = value
        return meta


@dataclass(frozen=True, kw_only=True)
class EnrolmentRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.ENROLMENT
    rule_set: str


@dataclass(frozen=True, kw_only=True)
class VisitRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.VISIT
    event_id: str
    rule_set: str


@dataclass(frozen=True, kw_only=True)
class AttendanceRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.EDUCATION
    event_id: str
    session: str
    rule_set: str


@dataclass(frozen=True, kw_only=True)
class RedemptionRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.REDEMPTION
    event_id: str
    rule_set: str


@dataclass(frozen=True, kw_only=True)
class LeavingRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.LEAVING
    status: str
    rule_set: str


@dataclass(frozen=True, kw_only=True)
class MigrationRecord(Record):
    """A balance carried over from the previous system, and how it compared with replay."""

    event: ClassVar[EventKind | None] = EventKind.MIGRATION
    legacy_id: str
    recorded: int
    replayed: int
    replayed_events: bool


@dataclass(frozen=True, kw_only=True)
class SettlementRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.SETTLEMENT
    settlement: str
    total: int


@dataclass(frozen=True, kw_only=True)
class PaymentRecord(Record):
    event: ClassVar[EventKind | None] = EventKind.PAYMENT
    settlement: str
    reference: str


@dataclass(frozen=True, kw_only=True)
class ReversalRecord(Record):
    """Who undid a transaction: a health centre's or the city's key (``by``), or a clinic
    voiding its own entry (``voided_by_clinic``). It names no event of its own."""

    by: str | None = None
    voided_by_clinic: str | None = None


_BY_EVENT: dict[str, type[Record]] = {
    str(cls.event): cls
    for cls in (
        EnrolmentRecord,
        VisitRecord,
        AttendanceRecord,
        RedemptionRecord,
        LeavingRecord,
        MigrationRecord,
        SettlementRecord,
        PaymentRecord,
    )
}


def read_record(meta: Mapping[str, Any] | None) -> Record:
    """The record kept in a transaction's ``details["meta"]`` (a reversal's has no event)."""
    meta = meta or {}
    event = meta.get("event")
    cls = ReversalRecord if event is None else _BY_EVENT.get(str(event), Record)
    names = {item.name for item in dataclasses.fields(cls)}
    return cls(**{key: value for key, value in meta.items() if key in names})


@dataclass(frozen=True)
class Tag:
    """A transfer's label, ``group:name``: an award's beneficiary and rule (``patient:visit``,
    ``clinic:control``), a spending purpose (``spending:test``), a settlement's clinic."""

    group: str
    name: str

    def __str__(self) -> str:
        return f"{self.group}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> Tag:
        group, _, name = text.partition(":")
        return cls(group, name)
