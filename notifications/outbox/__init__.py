"""The outbox: texts are rows first and leave only after commit, so a rolled-back visit never
texts anyone, and every text is sent once.

A row per (patient, kind, due date) makes queueing idempotent. ``dispatch`` marks a batch
``sending`` and commits *before* handing it to the channel; afterwards it records what the
channel said. A text found ``sending`` later (the process died, or the channel timed out) is
reconciled against the channel's own record (``reconcile``) before anything is retried: it
is marked sent if the channel has it, queued again if not. Permanent refusals (an invalid or
landline number: Twilio 21211, 21614) fail at once; transient ones (429, 5xx) back off.

The package is split by who owns the transaction:

- ``queue`` (``on_visit``, ``queue_reminder``, ``queue_recall``, ``cancel_for_patient``,
  ``close_failed``, ``forget_texts``, ``list_messages``) and ``status`` (``record_status``,
  the carrier's delivery reports) run inside the caller's transaction: they take a
  ``Session`` and never commit, so a text is queued, cancelled or moved on together with the
  change that caused it;
- ``dispatcher`` (``dispatch``, with its pacer and backoff; the claim it commits first is in
  ``claim``) and ``reconciler`` (``reconcile``) are the worker: they take a ``sessionmaker``
  and own their transactions, since no user action is theirs and a dispatch must call the
  channel between two commits.
"""

from notifications.outbox.dispatcher import Dispatched, Pacer, dispatch, real_pacer, virtual_pacer
from notifications.outbox.queue import (
    Owed,
    cancel_for_patient,
    close_failed,
    forget_texts,
    list_messages,
    on_visit,
    queue_recall,
    queue_recalls,
    queue_reminder,
)
from notifications.outbox.reconciler import reconcile
from notifications.outbox.status import record_status

__all__ = [
    "Dispatched",
    "Owed",
    "Pacer",
    "cancel_for_patient",
    "close_failed",
    "dispatch",
    "forget_texts",
    "list_messages",
    "on_visit",
    "queue_recall",
    "queue_recalls",
    "queue_reminder",
    "real_pacer",
    "reconcile",
    "record_status",
    "virtual_pacer",
]
