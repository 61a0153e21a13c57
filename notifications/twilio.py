"""The Twilio channel: texts leave through the official SDK (``twilio.rest.Client``).

This is the only module that imports ``twilio``. It turns what the SDK raises into the
channel's three failures, by whether Twilio took the text:

- ``PermanentFailure``: Twilio answered and refused it for good: 21211 (invalid 'To'),
  21614 (not a mobile number), 21610 (unsubscribed), 21408 (region not enabled), any 4xx.
- ``TransientFailure``: Twilio answered 429 or 5xx, or the connection was never made
  (refused, DNS, connect timeout): the request cannot have reached Twilio.
- ``UncertainFailure``: the request went and no answer came back (read timeout, the
  connection dropped): the outbox leaves the text ``sending`` and reconciles it with
  :meth:`TwilioChannel.find`.

Failure messages name the HTTP status and Twilio's error code only; Twilio's own message
quotes the phone number, and ``str()`` of the SDK's exception is coloured on a terminal.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from ledger.settings import Settings
from notifications.channels import (
    Channel,
    ConsoleChannel,
    Outgoing,
    PermanentFailure,
    Sent,
    TransientFailure,
    UncertainFailure,
)

__all__ = [
    "PERMANENT_CODES",
    "MissingTwilioSetting",
    "TwilioChannel",
    "channel_from_settings",
    "valid_signature",
]

DEFAULT_TIMEOUT_S = 10.0
FIND_LIMIT = 50
# Refusals of this recipient that no retry changes; any other 4xx is permanent too.
PERMANENT_CODES = frozenset({21211, 21614, 21610, 21408})

# The SDK logs every request's query string at INFO, and find() queries by phone number.
_sdk_log = logging.getLogger("notifications.twilio.sdk")
_sdk_log.setLevel(logging.WARNING)
# ``Client`` reads TWILIO_EDGE and TWILIO_REGION from os.environ unless given a mapping, and
# an empty mapping counts as none; they would rewrite the host that settings chose.
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}


class MissingTwilioSetting(ValueError):
    """Raised when ``MILEAGE_SMS_TRANSPORT=twilio`` lacks a credential or a sender."""


class TwilioChannel:
    """Sends texts through Twilio's Messages API and reads them back for reconciliation.

    With a Messaging Service SID the service picks the sender from its pool (spreading
    the load over ``sender_count`` numbers), so ``From`` is not sent even if configured.
    """

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base: str = "https://api.twilio.com",
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise MissingTwilioSetting(
                "a Twilio sender is needed: TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )
        self.from_number = from_number or None
        self.messaging_service_sid = messaging_service_sid or None
        self._http = TwilioHttpClient(timeout=timeout, logger=_sdk_log)
        self._client = Client(
            account_sid, auth_token, http_client=self._http, environment=_NO_ENVIRONMENT
        )
        # The API domain's base URL is a plain attribute of the SDK's Domain; tests point it
        # at a local fake Twilio.
        self._client.api.base_url = api_base.rstrip("/")

    def send(self, outgoing: Outgoing) -> Sent:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number or ""}
        )
        try:
            message = self._client.messages.create(
                to=outgoing.to,
                body=outgoing.body,
                status_callback=outgoing.status_callback,
                **sender,
            )
        except (TwilioRestException, TwilioServiceException) as error:
            raise _refusal(error.status, error.code) from error
        except OSError as error:  # what requests raises, the urllib3 error in its args
            if _never_connected(error):
                raise TransientFailure(
                    f"could not connect to Twilio ({type(error).__name__})"
                ) from error
            raise UncertainFailure(
                f"no answer from Twilio after sending ({type(error).__name__}); "
                "reconcile before retrying"
            ) from error
        except ValueError as error:  # a 2xx whose body was not the message's JSON
            raise UncertainFailure("Twilio's answer could not be read") from error
        return _sent(message)

    def find(self, *, to: str, body: str, since: dt.datetime) -> Sent | None:
        """The message to ``to`` with exactly ``body``, created at or after ``since``.

        The list is read by recipient only and filtered here by ``date_created``: Twilio's
        ``DateSent>`` filter is documented by day only, and a message still queued at
        Twilio has no ``date_sent`` yet, so the filter could hide the very text we look
        for and it would go twice. Raises ``TransientFailure`` when Twilio cannot be read:
        not knowing is not the same as not found.
        """
        if since.tzinfo is None:
            raise ValueError("since must carry an offset")
        try:
            messages = self._client.messages.list(to=to, limit=FIND_LIMIT)
        except (TwilioRestException, TwilioServiceException) as error:
            raise TransientFailure(
                f"Twilio's message list answered HTTP {error.status}", code=error.code
            ) from error
        except TwilioException as error:  # the SDK's Page raises this bare, with the response
            status, code = _page_failure(error)
            raise TransientFailure(
                f"Twilio's message list answered HTTP {status}", code=code
            ) from error
        except (OSError, ValueError) as error:
            raise TransientFailure(
                f"Twilio's message list could not be read ({type(error).__name__})"
            ) from error
        for message in messages:
            created = message.date_created or message.date_sent
            if message.body == body and (created is None or created >= since):
                return _sent(message)
        return None

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        if self._http.session is not None:
            self._http.session.close()

    def __enter__(self) -> TwilioChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sent(message: Any) -> Sent:
    # Through a Messaging Service, ``from`` is empty until Twilio picks a number.
    sender = message.from_ or message.messaging_service_sid
    return Sent(sid=str(message.sid), sender=sender, status=str(message.status or "queued"))


def _refusal(status: int, code: int | None) -> PermanentFailure | TransientFailure:
    code = code if code is not None else status
    words = (
        f"Twilio answered HTTP {status}, error {code} (https://www.twilio.com/docs/errors/{code})"
    )
    # Bad credentials are our fault, not the patient's: keep the text and retry (and alert),
    # rather than failing every due text on its first attempt.
    if status == 429 or status >= 500 or status in (401, 403):
        return TransientFailure(words, code=code)
    if code in PERMANENT_CODES or 400 <= status < 500:
        return PermanentFailure(words, code=code)
    return TransientFailure(words, code=code)


def _page_failure(error: TwilioException) -> tuple[int | None, int | None]:
    """The HTTP status and Twilio's error code of a list page that was not 200."""
    response = error.args[1] if len(error.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        code = json.loads(getattr(response, "text", "") or "{}").get("code", status)
    except (ValueError, AttributeError):
        code = status
    return status, code if isinstance(code, int) else status


def _never_connected(error: OSError) -> bool:
    """True when the request cannot have left: no connection was ever made.

    requests wraps urllib3's error; a connection refused, a name not resolved
    (``NewConnectionError``) and a connect timeout are all ``ConnectTimeoutError``s.
    """
    cause = error.args[0] if error.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError)


def valid_signature(url: str, params: Mapping[str, str], signature: str, auth_token: str) -> bool:
    """Whether ``signature`` (``X-Twilio-Signature``) signs this URL and form with the token.

    ``url`` is the full URL Twilio requested (the public one, with its query string).
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def channel_from_settings(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT_S) -> Channel:
    """The channel ``MILEAGE_SMS_TRANSPORT`` names, with its credentials checked."""
    if settings.sms_transport == "console":
        return ConsoleChannel()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", token),
        )
        if not value
    ]
    if not settings.twilio_from_number and not settings.twilio_messaging_service_sid:
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        raise MissingTwilioSetting(
            "MILEAGE_SMS_TRANSPORT=twilio needs " + ", ".join(missing) + " in the environment"
        )
    return TwilioChannel(
        account_sid=settings.twilio_account_sid or "",
        auth_token=token,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base=settings.twilio_api_base,
        timeout=timeout,
    )
