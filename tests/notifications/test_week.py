"""A week of scheduler time for one district, with a controllable clock.

Mon 21 Sep 2026 to Sun 27 Sep; 추석 falls on Thu 24 to Sat 26, so the last sending day before
Mon 28 is Wed 23. The dispatcher runs every ten minutes of the week.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.tasks import JobContext, dispatch_texts, recall_overdue
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import Message
from ledger.settings import Settings
from notifications.channels import ConsoleChannel
from notifications.outbox import virtual_pacer
from tests.api.helpers import new_clinic, patient_body


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=SEOUL)


class Week:
    def __init__(
        self,
        client: TestClient,
        city: Any,
        key_for: Any,
        clock: Any,
        sessions: sessionmaker[Session],
        database_url: str,
    ) -> None:
        self.client, self.clock = client, clock
        self.clinic = new_clinic(client, city, key_for, district="11740")
        self.centre = key_for("health_center", district="11740")
        self.channel = ConsoleChannel(out=io.StringIO())
        self.now = at(21, 0)
        self.ctx = JobContext(
            sessions,
            self.channel,
            Settings(database_url=database_url),
            now=lambda: self.now,
            pacer=virtual_pacer,
        )
        self.sessions = sessions

    def patient(self, name: str, *, consent: bool = True, enrolled_on: str = "2026-08-25"):
        self.clock(self.now)
        body = patient_body(
            name=name, enrolled_on=enrolled_on, sms_consent=consent, conditions=["hypertension"]
        )
        response = self.client.post("/v1/patients", headers=self.clinic.headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def visit(self, patient: dict[str, Any], day: str, follow_up: str | None = None) -> None:
        self.clock(self.now)
        body: dict[str, Any] = {"visited_on": day}
        if follow_up:
            body["next_visit_on"] = follow_up
        response = self.client.post(
            f"/v1/patients/{patient['id']}/visits", headers=self.clinic.headers, json=body
        )
        assert response.status_code == 201, response.text

    def pause(self, paused: bool) -> None:
        self.clock(self.now)
        response = self.client.put(
            "/v1/districts/11740/messaging",
            headers=self.centre,
            json={"paused": paused, "reason": "수해 복구"},
        )
        assert response.status_code == 200 and response.json()["paused"] is paused

    def run_until(self, end: dt.datetime, events: dict[dt.datetime, Any]) -> None:
        while self.now <= end:
            if self.now in events:
                events[self.now]()
            if self.now.time() == dt.time(6, 0):
                recall_overdue(self.ctx)
            dispatch_texts(self.ctx)
            self.now += dt.timedelta(minutes=10)

    def messages(self, patient: dict[str, Any]) -> list[Message]:
        with session_scope(self.sessions) as session:
            return list(
                session.execute(
                    select(Message)
                    .where(Message.patient_id == patient["id"])
                    .order_by(Message.not_before)
                ).scalars()
            )


def test_a_week_of_reminders_and_recalls(
    client: TestClient,
    city: Any,
    key_for: Any,
    clock: Any,
    sessions: sessionmaker[Session],
    database_url: str,
) -> None:
    week = Week(client, city, key_for, clock, sessions, database_url)
    people: dict[str, dict[str, Any]] = {}

    def monday_morning() -> None:
        for name in ("김민수", "이영희", "박지훈", "최수진", "정하늘"):
            people[name] = week.patient(name, consent=name != "박지훈")
        # 정하늘 missed a follow-up booked for 16 Sep (entered late: its reminder is stale)
        week.visit(people["정하늘"], "2026-08-26", "2026-09-16")

    def monday_visits() -> None:
        week.visit(people["김민수"], "2026-09-21", "2026-09-22")  # reminder: today, now
        week.visit(people["이영희"], "2026-09-21", "2026-09-28")  # Wed 23: 추석, Sunday skipped
        week.visit(people["박지훈"], "2026-09-21", "2026-09-23")  # no consent: no text
        week.visit(people["최수진"], "2026-09-21", "2026-09-24")  # comes back early, on Tue

    events = {
        at(21, 9, 30): monday_morning,
        at(21, 10): monday_visits,
        at(22, 15): lambda: week.visit(people["최수진"], "2026-09-22"),
        at(22, 18): lambda: week.pause(True),
        at(23, 12): lambda: week.pause(False),
    }
    week.run_until(at(27, 23, 50), events)

    every = [m for p in people.values() for m in week.messages(p)]
    sent = {m.patient_id: m for m in every if m.status == "sent"}
    kim, lee = sent[people["김민수"]["id"]], sent[people["이영희"]["id"]]
    assert (kim.kind, kim.sent_at) == ("reminder", at(21, 10))
    assert "9월 22일(화)" in (kim.body or "") and (kim.body or "").startswith("김민수님")
    assert (lee.kind, lee.not_before, lee.sent_at) == ("reminder", at(23, 9), at(23, 12))
    assert "9월 28일(월)" in (lee.body or "")

    jung = week.messages(people["정하늘"])
    assert [(m.kind, m.status) for m in jung] == [("reminder", "suppressed"), ("recall", "sent")]
    assert jung[1].sent_at == at(22, 9) and "정기 진료" in (jung[1].body or "")

    assert week.messages(people["박지훈"]) == []
    choi = week.messages(people["최수진"])
    assert [(m.kind, m.status) for m in choi] == [("reminder", "cancelled")]

    for outgoing, _ in week.channel.sent:
        assert "010" not in outgoing.redacted
    times = [m.sent_at for m in sent.values()]
    assert all(t is not None and t.weekday() < 3 and 9 <= t.hour < 20 for t in times)
    assert len(week.channel.sent) == 3  # 김민수, 이영희, 정하늘: each once

    listed = client.get(
        f"/v1/patients/{people['이영희']['id']}/messages", headers=week.clinic.headers
    ).json()["items"]
    assert [(m["kind"], m["status"]) for m in listed] == [("reminder", "sent")]
