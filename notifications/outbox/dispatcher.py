"""The worker that sends: claim a batch, hand it to the channel at a pace, write down the outcome.

``dispatch`` owns its transactions (it takes a ``sessionmaker``, never a caller's session),
because the channel must be called between two commits: the claim (``claim``) commits the
batch ``sending`` before any text is handed over, so a crash mid-send leaves rows that
``reconcile`` checks against the channel instead of sending again; the channel is called
outside any transaction, at most ``rate`` texts a second by the ``Pacer``; a second
transaction (``_record``) writes down what the channel said, failing permanent refusals at
once and backing transient ones off (``BACKOFF``, up to ``MAX_ATTEMPTS``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import SEOUL
from ledger.db import run_in_transaction
from ledger.vocabulary import MessageStatus
from notifications.calendar import SendingCalendar
from notifications.channels import (
    Channel,
    PermanentFailure,
    Sent,
    TransientFailure,
    UncertainFailure,
)
from notifications.outbox.claim import MESSAGES, Claimed, claim_due, update_each

__all__ = ["Dispatched", "Pacer", "dispatch", "real_pacer", "virtual_pacer"]

log = logging.getLogger("notifications.outbox")

MAX_ATTEMPTS = 5
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
RECORD_COLUMNS = (
    "status",
    "provider_sid",
    "sender",
    "sent_at",
    "sending_since",
    "error_code",
    "last_error",
    "not_before",
)

# When the i-th text of a batch may go: a real pacer sleeps until then, a virtual one only says.
Pacer = Callable[[int], dt.datetime]


def real_pacer(start: dt.datetime, rate: float) -> Pacer:
    def pace(i: int) -> dt.datetime:
        moment = start + dt.timedelta(seconds=i / rate)
        delay = (moment - dt.datetime.now(SEOUL)).total_seconds()
        if delay > 0:
            time.sleep(delay)
        return moment

    return pace


def virtual_pacer(start: dt.datetime, rate: float) -> Pacer:
    return lambda i: start + dt.timedelta(seconds=i / rate)


@dataclass
class Dispatched:
    """What one dispatch did, by outcome."""

    outcomes: Tally[str] = field(default_factory=Tally)
    sends: list[tuple[str, dt.datetime]] = field(default_factory=list)


def dispatch(
    sessions: sessionmaker[Session],
    channel: Channel,
    *,
    now: dt.datetime,
    calendar: SendingCalendar,
    rate: float,
    seconds: float = 60.0,
    pacer: Pacer | None = None,
    status_callback: str | None = None,
) -> Dispatched:
    """Send what is due, at most ``rate`` texts a second for ``seconds``; the rest waits."""
    done = Dispatched()
    capacity = max(int(rate * seconds), 1)
    claimed = run_in_transaction(
        sessions,
        lambda s: claim_due(
            s,
            now=now,
            calendar=calendar,
            limit=capacity,
            outcomes=done.outcomes,
            status_callback=status_callback,
        ),
    )
    pace = pacer or real_pacer(now, rate)
    results: list[tuple[Claimed, str, dt.datetime, Sent | Exception]] = []
    for i, item in enumerate(claimed):
        moment = pace(i)
        try:
            outcome: Sent | Exception = channel.send(item.outgoing)
        except (PermanentFailure, TransientFailure, UncertainFailure) as error:
            outcome = error
        results.append((item, type(outcome).__name__, moment, outcome))
        done.sends.append((item.message_id, moment))
    if results:
        run_in_transaction(sessions, lambda s: _record(s, results, done=done))
    return done


def _record(
    session: Session,
    results: list[tuple[Claimed, str, dt.datetime, Sent | Exception]],
    *,
    done: Dispatched,
) -> None:
    """Write down what the channel said for each text of the batch, in one UPDATE."""
    current = dict(
        session.execute(
            select(MESSAGES.c.id, MESSAGES.c.status).where(
                MESSAGES.c.id.in_([item.message_id for item, *_ in results])
            )
        ).all()
    )
    changes: list[dict[str, Any]] = []
    for item, _name, moment, outcome in results:
        now_status = current.get(item.message_id)
        # A delivery report can arrive before the batch is written down: it already moved
        # the text on, so only its sid and time are added here.
        early_report = now_status in (MessageStatus.DELIVERED, MessageStatus.FAILED) and isinstance(
            outcome, Sent
        )
        if now_status != MessageStatus.SENDING and not early_report:
            continue
        values: dict[str, Any] = {
            "status": MessageStatus.SENDING,
            "provider_sid": None,
            "sender": None,
            "sent_at": None,
            "sending_since": None,
            "error_code": None,
            "last_error": None,
            "not_before": item.not_before,
        }
        if isinstance(outcome, Sent):
            values |= {
                "status": now_status if early_report else MessageStatus.SENT,
                "provider_sid": outcome.sid,
                "sender": outcome.sender,
                "sent_at": moment,
            }
            done.outcomes[MessageStatus.SENT] += 1
        elif isinstance(outcome, PermanentFailure):
            values |= {
                "status": MessageStatus.FAILED,
                "error_code": outcome.code,
                "last_error": str(outcome)[:200],
            }
            done.outcomes[MessageStatus.FAILED] += 1
            log.info("notifications.sms.failed", extra={"error": outcome.code})
        elif isinstance(outcome, TransientFailure):
            values |= {"error_code": outcome.code, "last_error": str(outcome)[:200]}
            if item.attempts >= MAX_ATTEMPTS:
                values["status"] = MessageStatus.FAILED
                done.outcomes[MessageStatus.FAILED] += 1
            else:
                values["status"] = MessageStatus.QUEUED
                values["not_before"] = moment + BACKOFF[min(item.attempts, len(BACKOFF)) - 1]
                done.outcomes["retry"] += 1
        else:  # uncertain: left ``sending`` for reconcile to settle
            values |= {"sending_since": moment, "last_error": str(outcome)[:200]}
            done.outcomes["uncertain"] += 1
        changes.append(
            {
                "m_id": item.message_id,
                "v_updated_at": moment,
                **{f"v_{k}": v for k, v in values.items()},
            }
        )
    update_each(session, RECORD_COLUMNS, changes)
