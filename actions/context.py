"""Who acts, when and from where: what every action needs besides its own arguments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import after_read, is_reader
from ledger.errors import Forbidden
from ledger.pseudonyms import Pseudonyms
from ledger.services.access import Principal, record_audit
from ledger.services.staff import Passwords
from ledger.settings import Settings, get_settings
from notifications.calendar import SendingCalendar

__all__ = ["Context", "Safeguards", "SignInLimits", "system_context"]


@dataclass(frozen=True)
class SignInLimits:
    """How often one account, and one client address, may try to sign in per window, and how
    long a console session lives without a request."""

    per_account: int
    per_address: int
    window: dt.timedelta
    idle: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimits:
        return cls(
            settings.sign_ins_per_account,
            settings.sign_ins_per_address,
            dt.timedelta(seconds=settings.sign_in_window_seconds),
            dt.timedelta(minutes=settings.web_idle_minutes),
        )


@dataclass(frozen=True)
class Safeguards:
    """What keeps personal data from being probed: how many look-ups by name, birth date and
    phone a caller may make a minute, and the keyed hashes that name what a look-up searched
    for in the audit trail; and what guards the console: staff passwords' hashing, the
    sign-in limits and the sessions' idle timeout."""

    lookups_per_minute: int
    pseudonyms: Pseudonyms
    passwords: Passwords
    sign_in: SignInLimits

    @classmethod
    def from_settings(cls, settings: Settings) -> Safeguards:
        return cls(
            settings.lookups_per_minute,
            Pseudonyms(settings.audit_key, settings.audit_key_file),
            Passwords.from_settings(settings),
            SignInLimits.from_settings(settings),
        )


@lru_cache(maxsize=1)
def _configured() -> Safeguards:
    return Safeguards.from_settings(get_settings())


@dataclass(frozen=True)
class Context:
    """The caller (a principal), the moment (``now``; ``today`` in Seoul, which tests move on
    their own to play a year), the texts' sending calendar, the request's origin, and the
    safeguards of personal data (the service's configured ones unless given)."""

    principal: Principal
    now: dt.datetime
    today: dt.date
    calendar: SendingCalendar
    client: str | None = None
    request_id: str | None = None
    # Audit rows of refused attempts, kept aside from the request's transaction (which the
    # refusal rolls back) until the edge writes them in one of their own: see
    # ``audit_refusal``.
    refusals: list[dict[str, Any]] = field(default_factory=list, compare=False, repr=False)
    safeguards: Safeguards = field(default_factory=_configured)

    @property
    def label(self) -> str:
        """Who did it, as recorded on the rows an action writes (``recorded_by``)."""
        return self.principal.label

    @property
    def clinic_id(self) -> str:
        """The calling clinic; refused for a caller that is not a clinic."""
        if self.principal.clinic_id is None:
            raise Forbidden(f"a {self.principal.role} may not do this; it is a clinic's action")
        return self.principal.clinic_id

    def audit(
        self,
        session: Session,
        action: str,
        resource: str,
        *,
        patient_id: str | None = None,
        outcome: str | None = None,
        subject_hash: str | None = None,
    ) -> None:
        """Record that this caller did ``action`` to ``resource``: in the same transaction;
        on a reader session (a read), in a short write transaction right after the read. A
        search records its ``outcome`` and the keyed hash of whom it searched for."""
        at = clock.now()

        def record(writer: Session) -> None:
            record_audit(
                writer,
                principal=self.principal,
                action=action,
                resource=resource,
                patient_id=patient_id,
                client=self.client,
                request_id=self.request_id,
                outcome=outcome,
                subject_hash=subject_hash,
                at=at,
            )

        if is_reader(session):
            after_read(session, record)
        else:
            record(session)

    def audit_refusal(self, action: str, resource: str, *, patient_id: str | None = None) -> None:
        """Record that this caller attempted ``action`` on ``resource`` and was refused.

        A refusal rolls the request's transaction back, and an audit row written in it with
        it, so the row is kept here and written after the rollback, in a transaction of its
        own, by the edge that owns the transaction (:meth:`write_refusals`: the request's
        session dependency, the idempotency layer, the importer).
        """
        self.refusals.append(
            {
                "principal": self.principal,
                "action": action,
                "resource": resource,
                "patient_id": patient_id,
                "client": self.client,
                "request_id": self.request_id,
            }
        )

    def write_refusals(self, session: Session) -> None:
        """Write the refused attempts' audit rows (see :meth:`audit_refusal`) in ``session``.

        The edge calls it once, after the rollback; a retried transaction writes them again
        in its fresh session, so they are kept exactly once.
        """
        for row in self.refusals:
            record_audit(session, **row)


def system_context(
    label: str,
    calendar: SendingCalendar,
    *,
    now: dt.datetime | None = None,
    client: str | None = None,
) -> Context:
    """The service acting on its own (a command, a job), city-wide, named ``label``."""
    now = now or clock.now()
    today = now.astimezone(clock.SEOUL).date()
    return Context(Principal.system(label), now, today, calendar, client=client)
