"""The Twilio channel end to end: the official SDK against a fake Twilio on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from ledger.clock import SEOUL
from ledger.settings import Settings
from notifications.channels import (
    ConsoleChannel,
    Outgoing,
    PermanentFailure,
    TransientFailure,
    UncertainFailure,
)
from notifications.twilio import (
    MissingTwilioSetting,
    TwilioChannel,
    channel_from_settings,
    valid_signature,
)
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    SERVICE_SID,
    Drop,
    FakeTwilio,
    Refuse,
    Stall,
    fake_twilio_server,  # noqa: F401  (the ``fake_twilio`` fixture)
    running_fake_twilio,
)

PATIENT = "+821012345678"
BODY = "[마일리지] 김민수님, 내일(3/14 금) 서울내과 방문일입니다. 적립 12,000M"
CALLBACK = "https://mileage.example.kr/v1/webhooks/twilio/status"


def text(to: str = PATIENT, body: str = BODY, callback: str | None = CALLBACK) -> Outgoing:
    return Outgoing("msg_1", to, body, body.replace("김민수", "○○○"), callback)


def twilio(fake: FakeTwilio, **options: object) -> TwilioChannel:
    settings: dict[str, object] = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from_number": FROM_NUMBER,
        "api_base": fake.base_url,
        "timeout": 2.0,
    }
    return TwilioChannel(**{**settings, **options})  # type: ignore[arg-type]


@pytest.fixture
def channel(fake_twilio: FakeTwilio) -> Iterator[TwilioChannel]:
    with twilio(fake_twilio) as channel:
        yield channel


# -- what the SDK sends


def test_a_text_goes_with_to_body_from_and_the_status_callback(
    fake_twilio: FakeTwilio, channel: TwilioChannel
) -> None:
    sent = channel.send(text())

    (request,) = fake_twilio.creates
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form == {
        "To": PATIENT,
        "Body": BODY,
        "From": FROM_NUMBER,
        "StatusCallback": CALLBACK,
    }
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.sender, sent.status) == (FROM_NUMBER, "queued")
    assert fake_twilio.sent_to(PATIENT)[0]["sid"] == sent.sid


def test_a_messaging_service_picks_the_sender(fake_twilio: FakeTwilio) -> None:
    with twilio(fake_twilio, from_number=None, messaging_service_sid=SERVICE_SID) as channel:
        sent = channel.send(text(callback=None))

    (request,) = fake_twilio.creates
    assert request.form == {"To": PATIENT, "Body": BODY, "MessagingServiceSid": SERVICE_SID}
    # Twilio answers before it has chosen a number from the pool.
    assert (sent.sender, sent.status) == (SERVICE_SID, "accepted")


# -- Twilio's refusals


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(21211, id="invalid number"),
        pytest.param(21614, id="landline"),
        pytest.param(21610, id="unsubscribed"),
        pytest.param(21408, id="region not enabled"),
        pytest.param(21606, id="another 400"),
    ],
)
def test_a_refused_number_fails_for_good(
    fake_twilio: FakeTwilio, channel: TwilioChannel, code: int
) -> None:
    fake_twilio.script_for(PATIENT, Refuse(code))

    with pytest.raises(PermanentFailure) as failure:
        channel.send(text())

    assert failure.value.code == code
    assert PATIENT not in str(failure.value)  # Twilio's message quotes the number
    assert fake_twilio.sent_to(PATIENT) == []


def test_other_recipients_are_not_refused(fake_twilio: FakeTwilio, channel: TwilioChannel) -> None:
    fake_twilio.script_for("+8223456789", Refuse(21614))

    assert channel.send(text()).sid.startswith("SM")
    with pytest.raises(PermanentFailure):
        channel.send(text(to="+8223456789"))


def test_wrong_credentials_keep_the_text_for_a_retry(fake_twilio: FakeTwilio) -> None:
    with (
        twilio(fake_twilio, auth_token="not-the-token") as channel,
        pytest.raises(TransientFailure) as failure,
    ):
        channel.send(text())

    assert failure.value.code == 20003


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        pytest.param(Refuse(20429), 20429, id="429"),
        pytest.param(Refuse(20500), 20500, id="500"),
        pytest.param(Refuse(20503), 20503, id="503"),
        pytest.param(Refuse(20503, raw_body="<html>503</html>"), 503, id="503 not json"),
    ],
)
def test_a_busy_or_broken_twilio_is_tried_again(
    fake_twilio: FakeTwilio, channel: TwilioChannel, refusal: Refuse, code: int
) -> None:
    fake_twilio.script_next(refusal)

    with pytest.raises(TransientFailure) as failure:
        channel.send(text())

    assert failure.value.code == code
    assert channel.send(text()).sid.startswith("SM")  # the script was for one request


# -- no answer


def test_no_answer_in_time_is_uncertain_and_reconciles(fake_twilio: FakeTwilio) -> None:
    fake_twilio.script_next(Stall(30))
    before = dt.datetime.now(SEOUL) - dt.timedelta(seconds=5)

    with twilio(fake_twilio, timeout=0.2) as channel:
        with pytest.raises(UncertainFailure):
            channel.send(text())
        found = channel.find(to=PATIENT, body=BODY, since=before)

    (taken,) = fake_twilio.sent_to(PATIENT)
    assert found is not None and found.sid == taken["sid"]


def test_a_connection_dropped_after_twilio_took_the_text_is_uncertain(
    fake_twilio: FakeTwilio, channel: TwilioChannel
) -> None:
    fake_twilio.script_next(Drop())

    with pytest.raises(UncertainFailure):
        channel.send(text())

    (taken,) = fake_twilio.sent_to(PATIENT)
    found = channel.find(to=PATIENT, body=BODY, since=dt.datetime.now(SEOUL) - dt.timedelta(1))
    assert found is not None
    assert (found.sid, found.sender, found.status) == (taken["sid"], FROM_NUMBER, "sent")


def test_a_dropped_text_twilio_did_not_take_is_not_found(
    fake_twilio: FakeTwilio, channel: TwilioChannel
) -> None:
    fake_twilio.script_next(Drop(accept=False))

    with pytest.raises(UncertainFailure):
        channel.send(text())

    since = dt.datetime.now(SEOUL) - dt.timedelta(minutes=5)
    assert channel.find(to=PATIENT, body=BODY, since=since) is None


def test_a_refused_connection_never_reached_twilio() -> None:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    channel = TwilioChannel(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base=f"http://127.0.0.1:{port}",
        timeout=1.0,
    )

    with channel, pytest.raises(TransientFailure):
        channel.send(text())


# -- reading Twilio's list


def test_find_returns_the_text_with_this_exact_body_since_then(
    fake_twilio: FakeTwilio, channel: TwilioChannel
) -> None:
    now = dt.datetime.now(dt.UTC)
    fake_twilio.add_message(to=PATIENT, body=BODY, at=now - dt.timedelta(days=30))
    fake_twilio.add_message(to=PATIENT, body=BODY + " ", at=now - dt.timedelta(minutes=1))
    fake_twilio.add_message(to="+821099998888", body=BODY, at=now - dt.timedelta(minutes=1))
    wanted = fake_twilio.add_message(to=PATIENT, body=BODY, at=now - dt.timedelta(minutes=3))

    found = channel.find(to=PATIENT, body=BODY, since=now - dt.timedelta(minutes=10))

    assert found is not None
    assert (found.sid, found.sender, found.status) == (wanted["sid"], FROM_NUMBER, "delivered")
    (listing,) = fake_twilio.lists
    assert listing.query == {"To": PATIENT, "PageSize": "50"}


def test_find_reads_since_in_any_offset(fake_twilio: FakeTwilio, channel: TwilioChannel) -> None:
    ten_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    fake_twilio.add_message(to=PATIENT, body=BODY, at=ten_minutes_ago)
    seoul = dt.datetime.now(SEOUL)

    assert channel.find(to=PATIENT, body=BODY, since=seoul - dt.timedelta(minutes=5)) is None
    assert channel.find(to=PATIENT, body=BODY, since=seoul - dt.timedelta(minutes=15))


def test_find_sees_a_text_still_queued_at_twilio() -> None:
    with running_fake_twilio(hold_in_queue=True) as fake, twilio(fake) as channel:
        sent = channel.send(text())
        found = channel.find(
            to=PATIENT, body=BODY, since=dt.datetime.now(SEOUL) - dt.timedelta(minutes=5)
        )

    assert fake.sent_to(PATIENT)[0]["date_sent"] is None
    assert found is not None and (found.sid, found.status) == (sent.sid, "queued")


def test_find_fails_rather_than_answer_not_found_when_twilio_cannot_be_read(
    fake_twilio: FakeTwilio, channel: TwilioChannel
) -> None:
    fake_twilio.script_next(Refuse(20429))

    with pytest.raises(TransientFailure) as failure:
        channel.find(to=PATIENT, body=BODY, since=dt.datetime.now(SEOUL))

    assert failure.value.code == 20429


def test_the_fake_filters_and_pages_as_twilio_does(fake_twilio: FakeTwilio) -> None:
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    for day in range(5):
        fake_twilio.add_message(to=PATIENT, body=f"{day}", at=start + dt.timedelta(days=day))
    query = {"To": PATIENT, "DateSent>": "2025-03-02T00:00:00Z", "PageSize": 3}
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    first = _get(fake_twilio, f"{path}?{urlencode(query)}")
    second = _get(fake_twilio, first["next_page_uri"])

    assert [m["body"] for m in first["messages"]] == ["4", "3", "2"]
    assert [m["body"] for m in second["messages"]] == ["1"]
    assert second["next_page_uri"] is None
    assert first["messages"][0]["date_sent"] == "Wed, 05 Mar 2025 00:00:00 +0000"


def _get(fake: FakeTwilio, uri: str) -> dict[str, Any]:
    credentials = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    request = urllib.request.Request(
        fake.base_url + uri, headers={"Authorization": f"Basic {credentials}"}
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


# -- signed callbacks


CALLBACK_FORM = {
    "MessageSid": "SM" + "ab" * 16,
    "MessageStatus": "delivered",
    "AccountSid": ACCOUNT_SID,
    "To": PATIENT,
}


def test_a_callback_signed_by_twilio_is_accepted() -> None:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(CALLBACK, CALLBACK_FORM)

    assert valid_signature(CALLBACK, CALLBACK_FORM, signature, AUTH_TOKEN)


@pytest.mark.parametrize(
    ("url", "form", "token"),
    [
        pytest.param(CALLBACK, {**CALLBACK_FORM, "MessageStatus": "failed"}, AUTH_TOKEN, id="form"),
        pytest.param(CALLBACK + "?x=1", CALLBACK_FORM, AUTH_TOKEN, id="url"),
        pytest.param(CALLBACK, CALLBACK_FORM, "another-token", id="token"),
    ],
)
def test_a_tampered_callback_is_refused(url: str, form: dict[str, str], token: str) -> None:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(CALLBACK, CALLBACK_FORM)

    assert not valid_signature(url, form, signature, token)
    assert not valid_signature(CALLBACK, CALLBACK_FORM, "", AUTH_TOKEN)


def test_the_fake_signs_callbacks_as_twilio_does(fake_twilio: FakeTwilio) -> None:
    signature = fake_twilio.sign(CALLBACK, CALLBACK_FORM)

    assert signature == RequestValidator(AUTH_TOKEN).compute_signature(CALLBACK, CALLBACK_FORM)
    assert valid_signature(CALLBACK, CALLBACK_FORM, signature, AUTH_TOKEN)


# -- settings


@pytest.fixture
def no_twilio_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID",
        "MILEAGE_SMS_TRANSPORT",
        "MILEAGE_TWILIO_API_BASE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_twilio_environment")
def test_the_console_is_the_default_channel() -> None:
    assert isinstance(channel_from_settings(Settings()), ConsoleChannel)


@pytest.mark.usefixtures("no_twilio_environment")
def test_twilio_without_credentials_names_what_is_missing() -> None:
    settings = Settings.model_validate(
        {"sms_transport": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID}
    )

    with pytest.raises(MissingTwilioSetting) as missing:
        channel_from_settings(settings)

    assert "TWILIO_AUTH_TOKEN" in str(missing.value)
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID" in str(missing.value)
    assert "TWILIO_ACCOUNT_SID" not in str(missing.value)


@pytest.mark.usefixtures("no_twilio_environment")
def test_twilio_settings_make_a_working_channel(fake_twilio: FakeTwilio) -> None:
    settings = Settings.model_validate(
        {
            "sms_transport": "twilio",
            "twilio_api_base": fake_twilio.base_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        }
    )

    channel = channel_from_settings(settings)
    assert isinstance(channel, TwilioChannel)
    with channel:
        channel.send(text())

    assert fake_twilio.creates[0].form["MessagingServiceSid"] == SERVICE_SID
