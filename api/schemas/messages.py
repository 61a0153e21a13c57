"""Texts to patients: the outbox as listed, the districts' switches, the message report."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Body
from ledger.vocabulary import MessageKind


class MessageOut(BaseModel):
    id: str
    kind: MessageKind
    scheduled_for: dt.datetime
    status: Literal["queued", "sent", "delivered", "failed", "cancelled", "suppressed"]
    body: str | None
    due_date: dt.date
    sent_at: dt.datetime | None = None
    reason: str | None = None


class MessagingSwitch(Body):
    paused: bool
    reason: str = Field(default="", max_length=200)


class MessagingState(BaseModel):
    district: str
    paused: bool
    reason: str
    changed_at: dt.datetime
    changed_by: str


class NoSendDayIn(Body):
    reason: str = Field(default="", max_length=200)


class NoSendDayOut(BaseModel):
    district: str
    day: dt.date
    reason: str


class MessageReport(BaseModel):
    district: str
    start: dt.date
    end: dt.date
    sent: int
    delivered: int
    failed: int
    suppressed: int
    cancelled: int
    queued: int
    overdue: int
    lost_to_follow_up: int
    recalled: int
    came_back: int
