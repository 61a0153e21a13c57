"""Delivery reports: what the carrier says became of a text after the channel took it.

``record_status`` runs inside the caller's transaction (the webhook's request): it takes a
``Session``, flushes, never commits. Statuses only move forward, by ``FINAL_ORDER``: a late
report never takes a text back (a ``sent`` after ``delivered`` is ignored), and a text
``delivered``, ``failed``, ``cancelled`` or ``suppressed`` has had its last word. A report
may arrive before the dispatcher has written the batch down; the dispatcher then keeps the
status the report set.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.ids import is_well_formed
from ledger.models import Message
from ledger.vocabulary import MessageStatus

__all__ = ["FINAL_ORDER", "record_status"]

FINAL_ORDER: dict[str, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.FAILED: 3,
}
# A text in one of these has its last word: no report moves it again (a late "undelivered"
# after "delivered", a report for a text cancelled before it went).
SETTLED = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.CANCELLED,
        MessageStatus.SUPPRESSED,
    }
)
# Twilio's words for a text's fate, in ours.
REPORTED = {
    "delivered": MessageStatus.DELIVERED,
    "failed": MessageStatus.FAILED,
    "undelivered": MessageStatus.FAILED,
    "sent": MessageStatus.SENT,
}


def record_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: int | None,
    now: dt.datetime,
    message_id: str | None = None,
) -> Message | None:
    """A delivery report: delivered, or failed/undelivered with the carrier's error code.

    The report names our message id (in its callback URL) when it can: it may arrive before
    the channel's sid is written down.
    """
    named = message_id if message_id and is_well_formed(message_id) else None
    message = session.get(Message, named) if named else None
    if message is None:
        message = session.execute(select(Message).where(Message.provider_sid == sid)).scalar()
    if message is None:
        return None
    if message.provider_sid is None and sid:
        message.provider_sid = sid
    mapped = REPORTED.get(status)
    if mapped is None or message.status in SETTLED:
        return message
    if FINAL_ORDER[mapped] < FINAL_ORDER.get(message.status, 0):
        return message
    message.status, message.updated_at = mapped, now
    if mapped == MessageStatus.DELIVERED:
        message.delivered_at = now
    if mapped == MessageStatus.FAILED:
        message.error_code = error_code
    session.flush()
    return message
