"""Who acts, when and from where: what every action needs besides its own arguments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import after_read, is_reader
from ledger.errors import Forbidden
from ledger.services.access import Principal, record_audit
from notifications.calendar import SendingCalendar

__all__ = ["Context", "system_context"]


@dataclass(frozen=True)
class Context:
    """The caller (a principal), the moment (``now``; ``today`` in Seoul, which tests move on
    their own to play a year), the texts' sending calendar, and the request's origin."""

    principal: Principal
    now: dt.datetime
    today: dt.date
    calendar: SendingCalendar
    client: str | None = None
    request_id: str | None = None

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
        self, session: Session, action: str, resource: str, *, patient_id: str | None = None
    ) -> None:
        """Record that this caller did ``action`` to ``resource``: in the same transaction;
        on a reader session (a read), in a short write transaction right after the read."""
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
                at=at,
            )

        if is_reader(session):
            after_read(session, record)
        else:
            record(session)


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
