"""Texts found ``sending``: settled against the channel's own record before any retry.

A text stays ``sending`` when the process died between the claim's commit and the record, or
when the channel could not say whether it took the text (a timeout). ``reconcile`` asks the
channel for a message to that number with that body since shortly before the send: found, the
text is ``sent``; not found, it is ``queued`` again for the dispatcher; the channel unable to
answer, it is asked again next time. So no text is lost and none is sent twice.

``reconcile`` owns its transaction (it takes a ``sessionmaker``): it is a worker step, run
before each dispatch, not part of any user action. It locks the texts it settles
(``FOR UPDATE SKIP LOCKED``), so two schedulers never settle the same text, and it holds
those locks while it asks the channel.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter as Tally

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import run_in_transaction
from ledger.models import Message, Patient
from ledger.vocabulary import MessageStatus
from notifications.channels import Channel, TransientFailure

__all__ = ["RECONCILE_AFTER", "reconcile"]

RECONCILE_AFTER = dt.timedelta(minutes=2)


def reconcile(
    sessions: sessionmaker[Session],
    channel: Channel,
    *,
    now: dt.datetime,
    older_than: dt.timedelta = RECONCILE_AFTER,
) -> Tally[str]:
    """Settle texts left ``sending``: sent if the channel has them, queued again if not."""
    tally: Tally[str] = Tally()

    def settle(session: Session) -> None:
        stuck = session.execute(
            select(Message, Patient)
            .join(Patient, Patient.id == Message.patient_id)
            .where(
                Message.status == MessageStatus.SENDING, Message.sending_since <= now - older_than
            )
            .with_for_update(skip_locked=True, of=Message)
        ).all()
        for message, patient in stuck:
            since = (message.sending_since or now) - dt.timedelta(minutes=5)
            try:
                # An erased patient has no phone to ask about: queued again, the dispatcher
                # cancels it (an erased patient has left).
                found = (
                    None
                    if patient.phone is None
                    else channel.find(to=patient.phone, body=message.body or "", since=since)
                )
            except TransientFailure:  # the channel cannot say yet: ask again next time
                tally["unknown"] += 1
                continue
            if found is not None:
                message.status, message.provider_sid, message.sender = (
                    MessageStatus.SENT,
                    found.sid,
                    found.sender,
                )
                message.sent_at = message.sending_since
                tally[MessageStatus.SENT] += 1
            else:
                message.status = MessageStatus.QUEUED
                tally["requeued"] += 1
            message.sending_since, message.updated_at = None, now

    run_in_transaction(sessions, settle)
    return tally
