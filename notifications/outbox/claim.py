"""The claim: the first half of a dispatch, choosing the due texts and marking them ``sending``.

It takes the oldest due texts of unpaused districts (``FOR UPDATE SKIP LOCKED``, so two
schedulers never claim the same text), settles the ones that must not go now (outside the
sending window: wait; consent withdrawn or the patient left: cancelled; a reminder whose
follow-up passed: suppressed), renders the rest afresh with the patient's balance and clinic
(what was queued holds a preview), and marks them ``sending`` in one batched UPDATE.

``claim_due`` runs inside a transaction the dispatcher opens for it and never commits: that
commit, before the channel is called, is what lets ``reconcile`` find a text whose send was
interrupted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter as Tally
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from ledger.clock import SEOUL
from ledger.models import Balance, Clinic, DistrictMessaging, Message, Patient
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.channels import Outgoing
from notifications.outbox.queue import no_send_days
from notifications.templates import render

__all__ = ["MESSAGES", "Claimed", "claim_due", "update_each"]

MESSAGES = cast(Table, Message.__table__)
CLAIM_COLUMNS = ("status", "not_before", "body", "sending_since", "attempts", "closed_reason")


@dataclass(frozen=True)
class Claimed:
    message_id: str
    outgoing: Outgoing
    attempts: int
    not_before: dt.datetime


def update_each(session: Session, columns: tuple[str, ...], changes: list[dict[str, Any]]) -> None:
    """One executemany UPDATE of ``columns`` for every message in ``changes`` (by ``m_id``)."""
    if not changes:
        return
    statement = (
        update(MESSAGES)
        .where(MESSAGES.c.id == bindparam("m_id"))
        .values({name: bindparam(f"v_{name}") for name in (*columns, "updated_at")})
    )
    session.execute(statement, changes)


def claim_due(
    session: Session,
    *,
    now: dt.datetime,
    calendar: SendingCalendar,
    limit: int,
    outcomes: Tally[str],
    status_callback: str | None,
) -> list[Claimed]:
    """Claim up to ``limit`` due texts, counting in ``outcomes`` those it settles instead."""
    paused = set(
        session.execute(
            select(DistrictMessaging.district).where(DistrictMessaging.paused.is_(True))
        ).scalars()
    )
    query = (
        select(
            MESSAGES.c.id,
            MESSAGES.c.kind,
            MESSAGES.c.district,
            MESSAGES.c.due_date,
            MESSAGES.c.clinic_id,
            MESSAGES.c.attempts,
            MESSAGES.c.not_before,
            MESSAGES.c.body,
            Patient.name,
            Patient.phone,
            Patient.sms_consent,
            Patient.status.label("patient_status"),
            Patient.account_id,
            Patient.clinic_id.label("home_clinic"),
        )
        .join(Patient, Patient.id == MESSAGES.c.patient_id)
        .where(MESSAGES.c.status == MessageStatus.QUEUED, MESSAGES.c.not_before <= now)
        .order_by(MESSAGES.c.not_before, MESSAGES.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=MESSAGES)
    )
    if paused:
        query = query.where(MESSAGES.c.district.not_in(paused))
    rows = session.execute(query).all()
    balances = _balances(session, [row.account_id for row in rows])
    clinic_names = _clinic_names(session, {row.clinic_id or row.home_clinic for row in rows})
    closed_days = {d: no_send_days(session, d) for d in {row.district for row in rows}}
    today = now.astimezone(SEOUL).date()
    claimed: list[Claimed] = []
    changes: list[dict[str, Any]] = []

    def change(row: Any, **values: Any) -> None:
        current = {
            "status": MessageStatus.QUEUED,
            "not_before": row.not_before,
            "body": row.body,
            "sending_since": None,
            "attempts": row.attempts,
            "closed_reason": None,
        }
        changes.append(
            {
                "m_id": row.id,
                "v_updated_at": now,
                **{f"v_{k}": v for k, v in {**current, **values}.items()},
            }
        )

    for row in rows:
        days = closed_days[row.district]
        if not calendar.open_now(now, days):
            change(row, not_before=calendar.next_opening(now, days))
            outcomes["waiting"] += 1
        elif not row.sms_consent or row.patient_status != PatientStatus.ACTIVE:
            reason = "no consent" if not row.sms_consent else "left"
            change(row, status=MessageStatus.CANCELLED, closed_reason=reason)
            outcomes[MessageStatus.CANCELLED] += 1
        elif row.kind == MessageKind.REMINDER and row.due_date < today:
            change(
                row, status=MessageStatus.SUPPRESSED, closed_reason="its follow-up date has passed"
            )
            outcomes[MessageStatus.SUPPRESSED] += 1
        else:
            # Rendered afresh: the balance and the names may have changed since the
            # preview was rendered at queueing.
            body = render(
                row.kind,
                name=row.name,
                clinic=clinic_names.get(row.clinic_id or row.home_clinic, ""),
                due=row.due_date,
                balance=balances.get(row.account_id, 0),
            )
            change(
                row,
                status=MessageStatus.SENDING,
                body=body,
                sending_since=now,
                attempts=row.attempts + 1,
            )
            redacted = body.replace(row.name, "○○○")
            claimed.append(
                Claimed(
                    row.id,
                    Outgoing(
                        row.id,
                        row.phone,
                        body,
                        redacted,
                        f"{status_callback}?m={row.id}" if status_callback else None,
                    ),
                    row.attempts + 1,
                    row.not_before,
                )
            )
    update_each(session, CLAIM_COLUMNS, changes)
    return claimed


def _balances(session: Session, account_ids: list[int]) -> dict[int, int]:
    """Patients' balances (credit-normal), for a whole batch in one query."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Balance.account_id, func.sum(Balance.balance))
        .where(Balance.account_id.in_(account_ids))
        .group_by(Balance.account_id)
    ).all()
    return {account: -int(raw) for account, raw in rows}


def _clinic_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Clinic.id, Clinic.name).where(Clinic.id.in_(ids))).all())
