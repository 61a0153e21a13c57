"""Twilio's status callback and the district switches, over HTTP, on both engines.

Texts leave through the real SDK to a fake Twilio, asking Twilio to report to the service's
public URL; the reports are then posted the way Twilio posts them, signed with
``X-Twilio-Signature`` over that public URL (Twilio's own ``RequestValidator``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from api.app import create_app
from jobs.tasks import JobContext, dispatch_texts, recall_overdue
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import Message
from ledger.settings import Settings
from notifications.channels import Outgoing, Sent
from notifications.outbox import virtual_pacer
from notifications.twilio import TwilioChannel
from tests.api.helpers import ClinicSetup, new_clinic, new_patient
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    FakeTwilio,
    fake_twilio_server,  # noqa: F401  (the ``fake_twilio`` fixture)
)

PUBLIC_URL = "https://mileage.example.kr"
PATH = "/v1/webhooks/twilio/status"
CALLBACK = PUBLIC_URL + PATH
FRIDAY = dt.datetime(2024, 6, 14, 12, 0, tzinfo=SEOUL)  # the API clock's default moment

Clock = Callable[[dt.date | dt.datetime], None]


@pytest.fixture(scope="module")
def app(engine: Engine, database_url: str) -> FastAPI:
    """The service as deployed behind its public URL, with Twilio's auth token."""
    settings = Settings(
        database_url=database_url, public_url=PUBLIC_URL, twilio_auth_token=AUTH_TOKEN
    )
    return create_app(settings, engine=engine)


@pytest.fixture
def channel(fake_twilio: FakeTwilio) -> Iterator[TwilioChannel]:
    with TwilioChannel(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base=fake_twilio.base_url,
        timeout=5.0,
    ) as twilio:
        yield twilio


def jobs_at(
    sessions: sessionmaker[Session], database_url: str, channel: TwilioChannel, now: dt.datetime
) -> JobContext:
    return JobContext(
        sessions,
        channel,
        Settings(database_url=database_url),
        now=lambda: now,
        pacer=virtual_pacer,
        status_callback=CALLBACK,
    )


def message_of(sessions: sessionmaker[Session], patient_id: str, kind: str) -> Message:
    with session_scope(sessions) as session:
        found = session.execute(
            select(Message).where(Message.patient_id == patient_id, Message.kind == kind)
        ).scalar_one()
        session.expunge(found)
        return found


def report(
    client: TestClient,
    sid: str,
    status: str,
    *,
    error_code: int | None = None,
    signature: str | None = None,
    signed_url: str | None = None,
    signed_params: dict[str, str] | None = None,
    callback: str = CALLBACK,
) -> Any:
    """Post Twilio's status callback for ``sid`` to ``callback`` (the URL Twilio was given),
    signed as Twilio signs it unless told."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": FROM_NUMBER,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": "+821012345678",
    }
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    headers = {}
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            signed_url or callback, signed_params if signed_params is not None else params
        )
    if signature:
        headers["X-Twilio-Signature"] = signature
    query = callback.partition("?")[2]
    return client.post(f"{PATH}?{query}" if query else PATH, data=params, headers=headers)


class Texts:
    """A clinic of one district whose patients are texted through the fake Twilio."""

    def __init__(
        self,
        client: TestClient,
        city: dict[str, str],
        key_for: Any,
        clock: Clock,
        sessions: sessionmaker[Session],
        database_url: str,
        channel: TwilioChannel,
        district: str,
    ) -> None:
        self.client, self.clock, self.sessions = client, clock, sessions
        self.database_url, self.channel = database_url, channel
        self.clinic: ClinicSetup = new_clinic(client, city, key_for, district=district)
        self.centre = key_for("health_center", district=district)

    def patient(self, at: dt.datetime, **fields: Any) -> dict[str, Any]:
        self.clock(at)
        return new_patient(self.client, self.clinic, **fields)

    def visit(
        self, patient: dict[str, Any], at: dt.datetime, follow_up: dt.date | None = None
    ) -> None:
        self.clock(at)
        body: dict[str, Any] = {"visited_on": at.date().isoformat()}
        if follow_up is not None:
            body["next_visit_on"] = follow_up.isoformat()
        response = self.client.post(
            f"/v1/patients/{patient['id']}/visits", headers=self.clinic.headers, json=body
        )
        assert response.status_code == 201, response.text

    def dispatch(self, at: dt.datetime) -> Any:
        return dispatch_texts(jobs_at(self.sessions, self.database_url, self.channel, at))

    def reminded(self) -> Message:
        """A patient seen today who comes back tomorrow: reminded at once, through Twilio."""
        patient = self.patient(FRIDAY)
        self.visit(patient, FRIDAY, FRIDAY.date() + dt.timedelta(days=1))
        self.dispatch(FRIDAY)
        message = message_of(self.sessions, patient["id"], "reminder")
        assert message.status == "sent" and message.provider_sid, message.status
        return message


@pytest.fixture
def texts(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    clock: Clock,
    sessions: sessionmaker[Session],
    database_url: str,
    channel: TwilioChannel,
) -> Callable[[str], Texts]:
    return lambda district: Texts(
        client, city, key_for, clock, sessions, database_url, channel, district
    )


def status_of(sessions: sessionmaker[Session], message_id: str) -> Message:
    with session_scope(sessions) as session:
        found = session.get(Message, message_id)
        assert found is not None
        session.expunge(found)
        return found


# -- the status callback ------------------------------------------------------------------


def test_a_signed_delivered_report_marks_the_text_delivered(
    client: TestClient,
    clock: Clock,
    sessions: sessionmaker[Session],
    texts: Callable[[str], Texts],
    fake_twilio: FakeTwilio,
) -> None:
    scene = texts("11740")
    message = scene.reminded()
    # Twilio was asked to report to the public URL
    (create,) = [r for r in fake_twilio.creates if r.form["Body"] == message.body]
    assert create.form["StatusCallback"] == f"{CALLBACK}?m={message.id}"

    reported_at = FRIDAY + dt.timedelta(minutes=2)
    clock(reported_at)
    response = report(
        client, message.provider_sid or "", "delivered", callback=create.form["StatusCallback"]
    )

    assert response.status_code == 200, response.text
    after = status_of(sessions, message.id)
    assert (after.status, after.delivered_at, after.error_code) == (
        "delivered",
        reported_at,
        None,
    )
    listed = client.get(
        f"/v1/patients/{after.patient_id}/messages", headers=scene.clinic.headers
    ).json()["items"]
    assert [(m["kind"], m["status"]) for m in listed] == [("reminder", "delivered")]


def test_an_undelivered_report_fails_the_text_with_the_carriers_code(
    client: TestClient, sessions: sessionmaker[Session], texts: Callable[[str], Texts]
) -> None:
    message = texts("11740").reminded()

    response = report(client, message.provider_sid or "", "undelivered", error_code=30003)

    assert response.status_code == 200, response.text
    after = status_of(sessions, message.id)
    assert (after.status, after.error_code, after.delivered_at) == ("failed", 30003, None)


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"signature": ""}, id="missing"),
        pytest.param({"signature": "bm90IGEgc2lnbmF0dXJl"}, id="garbage"),
        pytest.param({"signed_url": "http://testserver" + PATH}, id="signed-for-another-url"),
        pytest.param({"signed_url": PUBLIC_URL + PATH + "?x=1"}, id="signed-with-a-query"),
        pytest.param(
            {"signed_params": {"MessageSid": "SMother", "MessageStatus": "delivered"}},
            id="signed-other-params",
        ),
    ],
)
def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    client: TestClient,
    sessions: sessionmaker[Session],
    texts: Callable[[str], Texts],
    forgery: dict[str, Any],
) -> None:
    message = texts("11740").reminded()

    response = report(client, message.provider_sid or "", "delivered", **forgery)

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "bad_signature"
    assert status_of(sessions, message.id).status == "sent"


def test_a_report_signed_with_another_token_is_refused(
    client: TestClient, sessions: sessionmaker[Session], texts: Callable[[str], Texts]
) -> None:
    message = texts("11740").reminded()
    params = {"MessageSid": message.provider_sid or "", "MessageStatus": "delivered"}
    forged = RequestValidator("not-the-token").compute_signature(CALLBACK, params)

    response = client.post(PATH, data=params, headers={"X-Twilio-Signature": forged})

    assert response.status_code == 403
    assert status_of(sessions, message.id).status == "sent"


def test_a_status_never_moves_backwards(
    client: TestClient, sessions: sessionmaker[Session], texts: Callable[[str], Texts]
) -> None:
    message = texts("11740").reminded()
    sid = message.provider_sid or ""

    assert report(client, sid, "delivered").status_code == 200
    for late in ("sent", "queued", "sending", "accepted"):  # reports arrive out of order
        assert report(client, sid, late).status_code == 200
        assert status_of(sessions, message.id).status == "delivered", late


def test_a_late_undelivered_after_delivered_changes_nothing(
    client: TestClient, sessions: sessionmaker[Session], texts: Callable[[str], Texts]
) -> None:
    message = texts("11740").reminded()
    sid = message.provider_sid or ""
    assert report(client, sid, "delivered").status_code == 200
    assert report(client, sid, "undelivered", error_code=30003).status_code == 200
    found = status_of(sessions, message.id)
    assert (found.status, found.error_code) == ("delivered", None)


def test_a_report_for_a_cancelled_text_changes_nothing(
    client: TestClient, sessions: sessionmaker[Session], texts: Callable[[str], Texts]
) -> None:
    scene = texts("11740")
    patient = scene.patient(FRIDAY)
    scene.visit(patient, FRIDAY, FRIDAY.date() + dt.timedelta(days=4))
    message = message_of(sessions, patient["id"], "reminder")
    assert message.status == "queued"
    withdrawn = client.patch(
        f"/v1/patients/{patient['id']}", headers=scene.clinic.headers, json={"sms_consent": False}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    for status in ("sent", "delivered", "undelivered"):
        answer = report(client, f"SM{message.id}", status, callback=f"{CALLBACK}?m={message.id}")
        assert answer.status_code == 200
        assert status_of(sessions, message.id).status == "cancelled", status


class ReportedAtOnce:
    """Twilio as it is at busy times: a text's status report comes in seconds after Twilio
    took it, while the rest of its batch is still going out (a batch paced at 2 a second
    takes a minute)."""

    name = "twilio"

    def __init__(self, twilio: TwilioChannel, client: TestClient) -> None:
        self.twilio, self.client = twilio, client
        self.answers: list[int] = []

    def send(self, outgoing: Outgoing) -> Sent:
        sent = self.twilio.send(outgoing)
        callback = outgoing.status_callback or CALLBACK
        self.answers.append(
            report(self.client, sent.sid, "delivered", callback=callback).status_code
        )
        return sent

    def find(self, *, to: str, body: str, since: dt.datetime) -> Sent | None:
        return self.twilio.find(to=to, body=body, since=since)


def test_a_delivery_report_that_comes_while_its_batch_is_sent_is_not_lost(
    client: TestClient,
    sessions: sessionmaker[Session],
    texts: Callable[[str], Texts],
    database_url: str,
    channel: TwilioChannel,
) -> None:
    scene = texts("11740")
    patients = [scene.patient(FRIDAY) for _ in range(2)]
    for patient in patients:
        scene.visit(patient, FRIDAY, FRIDAY.date() + dt.timedelta(days=1))
    twilio = ReportedAtOnce(channel, client)

    dispatch_texts(jobs_at(sessions, database_url, twilio, FRIDAY))  # type: ignore[arg-type]

    assert twilio.answers == [200, 200]  # Twilio was told the reports were taken
    statuses = [message_of(sessions, p["id"], "reminder").status for p in patients]
    assert statuses == ["delivered", "delivered"], "the delivery reports were dropped"


def test_a_report_for_an_unknown_message_is_acknowledged(client: TestClient) -> None:
    response = report(client, "SM" + "0" * 32, "delivered")
    assert response.status_code == 200


# -- the district's switches --------------------------------------------------------------


def test_a_health_centre_pauses_and_resumes_its_districts_texts(
    client: TestClient,
    key_for: Any,
    city: dict[str, str],
    sessions: sessionmaker[Session],
    texts: Callable[[str], Texts],
) -> None:
    scene = texts("11650")
    url = "/v1/districts/11650/messaging"

    paused = client.put(url, headers=scene.centre, json={"paused": True, "reason": "수해 복구"})
    assert paused.status_code == 200, paused.text
    state = paused.json()
    assert (state["district"], state["paused"], state["reason"]) == ("11650", True, "수해 복구")
    assert state["changed_by"] and state["changed_at"].startswith("2024-06-14T12:00:00")
    assert client.get(url, headers=scene.centre).json()["paused"] is True
    assert client.get(url, headers=city).json()["paused"] is True

    # paused, a due text waits in the outbox; resumed, it goes
    patient = scene.patient(FRIDAY)
    scene.visit(patient, FRIDAY, FRIDAY.date() + dt.timedelta(days=1))
    scene.dispatch(FRIDAY)
    assert message_of(sessions, patient["id"], "reminder").status == "queued"

    resumed = client.put(url, headers=scene.centre, json={"paused": False})
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    scene.dispatch(FRIDAY + dt.timedelta(minutes=1))
    assert message_of(sessions, patient["id"], "reminder").status == "sent"

    # the city may switch any district
    assert client.put(url, headers=city, json={"paused": False}).status_code == 200


def test_only_the_districts_own_centre_or_the_city_switches_its_texts(
    client: TestClient, key_for: Any, city: dict[str, str]
) -> None:
    clinic = new_clinic(client, city, key_for, district="11650")
    other_centre = key_for("health_center", district="11740")
    url = "/v1/districts/11650/messaging"
    switch = {"paused": True, "reason": "x"}
    for who in (clinic.headers, other_centre):
        assert client.put(url, headers=who, json=switch).status_code == 403
        assert client.get(url, headers=who).status_code == 403
        day_url = "/v1/districts/11650/no-send-days/2024-06-20"
        assert client.put(day_url, headers=who, json={"reason": "x"}).status_code == 403
        assert client.delete(day_url, headers=who).status_code == 403
        assert client.get("/v1/districts/11650/no-send-days", headers=who).status_code == 403
    assert client.get(url, headers=city).json()["paused"] is False


def test_no_send_days_are_set_listed_and_removed(
    client: TestClient, sessions: sessionmaker[Session], texts: Callable[[str], Texts]
) -> None:
    scene = texts("11650")
    base = "/v1/districts/11650/no-send-days"

    put = client.put(f"{base}/2024-06-20", headers=scene.centre, json={"reason": "구민의 날"})
    assert put.status_code == 200, put.text
    assert put.json() == {"district": "11650", "day": "2024-06-20", "reason": "구민의 날"}
    past = client.put(f"{base}/2024-06-03", headers=scene.centre, json={"reason": "지난 날"})
    assert past.status_code == 200
    # setting it again changes its reason, it does not add a second one
    again = client.put(f"{base}/2024-06-20", headers=scene.centre, json={"reason": "구민 체육대회"})
    assert again.status_code == 200

    listed = client.get(base, headers=scene.centre)
    assert listed.status_code == 200
    assert listed.json()["items"] == [
        {"district": "11650", "day": "2024-06-20", "reason": "구민 체육대회"}
    ]  # from today on only

    # a reminder for Friday 21 goes on Wednesday 19, the sending day before the 20th
    patient = scene.patient(FRIDAY)
    scene.visit(patient, FRIDAY, dt.date(2024, 6, 21))
    assert message_of(sessions, patient["id"], "reminder").not_before == dt.datetime(
        2024, 6, 19, 9, tzinfo=SEOUL
    )

    assert client.delete(f"{base}/2024-06-20", headers=scene.centre).status_code == 204
    assert client.get(base, headers=scene.centre).json()["items"] == []
    assert client.delete(f"{base}/2024-06-03", headers=scene.centre).status_code == 204


# -- the report ---------------------------------------------------------------------------


def test_the_message_report_counts_outcomes_and_who_came_back(
    client: TestClient,
    key_for: Any,
    sessions: sessionmaker[Session],
    texts: Callable[[str], Texts],
    database_url: str,
    channel: TwilioChannel,
) -> None:
    """In 동작구, July 2024: two recalls sent on Monday 1 (one patient comes back on the 10th,
    the other only on the 22nd); two reminders sent on Tuesday 2, one delivered and one
    undelivered; a third reminder recorded too late that evening, suppressed."""

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2024, 7, day, hour, minute, tzinfo=SEOUL)

    scene = texts("11590")
    back, away = (scene.patient(FRIDAY, enrolled_on="2024-05-20") for _ in range(2))

    assert recall_overdue(jobs_at(sessions, database_url, channel, at(1, 6))) is not None
    scene.dispatch(at(1, 9))
    assert message_of(sessions, back["id"], "recall").status == "sent"

    delivered, undelivered, late = (
        scene.patient(at(1, 10), enrolled_on="2024-06-25") for _ in range(3)
    )
    for patient in (delivered, undelivered):
        scene.visit(patient, at(1, 10), dt.date(2024, 7, 3))
    scene.dispatch(at(2, 9))
    scene.clock(at(2, 12))
    for patient, status, code in (
        (delivered, "delivered", None),
        (undelivered, "undelivered", 30003),
    ):
        sid = message_of(sessions, patient["id"], "reminder").provider_sid or ""
        assert report(client, sid, status, error_code=code).status_code == 200
    scene.visit(late, at(2, 20, 30), dt.date(2024, 7, 3))  # after the window of the 2nd

    scene.visit(back, at(10, 12))  # 9 days after the recall
    scene.visit(away, at(22, 12))  # 21 days after

    query = {"district": "11590", "start": "2024-07-01", "end": "2024-07-31"}
    response = client.get("/v1/reports/messages", headers=scene.centre, params=query)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "district": "11590",
        "start": "2024-07-01",
        "end": "2024-07-31",
        "sent": 4,  # every text that left: 2 recalls, then 1 delivered and 1 failed
        "delivered": 1,
        "failed": 1,
        "suppressed": 1,
        "cancelled": 0,
        "queued": 0,
        "overdue": 3,  # the three reminded patients missed their 3 July follow-up
        "lost_to_follow_up": 0,
        "recalled": 2,
        "came_back": 1,
    }

    for who in (scene.clinic.headers, key_for("health_center", district="11740")):
        assert client.get("/v1/reports/messages", headers=who, params=query).status_code == 403
