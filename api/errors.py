"""The only place that knows HTTP status codes: every error becomes RFC 9457 problem+json.

Each answer carries ``type``, ``title``, ``status``, ``detail`` and ``code``, a stable word
clients branch on. Validation errors (ours and FastAPI's) are 422 ``invalid`` with the
offending ``fields``. An unexpected exception is logged with the request id and answered as a
problem too, never as a bare 500 page.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import errors as e
from ledger.db import is_retryable
from ledger.services.reading import InvalidCursor

log = logging.getLogger("api.errors")

PROBLEM = "application/problem+json"


class ApiError(Exception):
    """Root of the errors only the API raises (authentication, requests, idempotency).

    ApiError
    ├── Unauthenticated       no API key, or an unknown or revoked one
    ├── BadSignature          a webhook whose signature does not match
    ├── InvalidRequest        a request malformed in a way the schema cannot say
    │   └── FormInvalid       a console form whose fields cannot be read (each one named)
    ├── BodyTooLarge          a request body over the size limit (refused while it streams)
    ├── IdempotencyKeyReused  an Idempotency-Key sent again with another request
    ├── RequestInFlight       a repeat while the first request with its key still runs
    ├── SignedOut             a console page asked for without a live session
    ├── PasswordChangeRequired  a console page before the one-time password is changed
    └── CsrfRefused           a console form without its session's CSRF token
    """


class Unauthenticated(ApiError):
    """Raised when a request has no API key, or one that is unknown or revoked."""


class BadSignature(ApiError):
    """Raised when a webhook's signature does not sign the request it came with."""


class InvalidRequest(ApiError):
    """Raised when a request is malformed in a way the schema cannot say."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FormInvalid(InvalidRequest):
    """Raised when a console form's fields cannot be read; ``fields`` names each of them."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"check the form's fields: {', '.join(fields)}", field=fields[0])
        self.fields = fields


class BodyTooLarge(ApiError):
    """Raised when a request body is larger than ``MILEAGE_MAX_BODY_BYTES``."""


class IdempotencyKeyReused(ApiError):
    """Raised when an Idempotency-Key comes back with a different request body."""


class RequestInFlight(ApiError):
    """Raised when a repeat arrives while the first request with its key is still running."""


class SignedOut(ApiError):
    """Raised when a console page is asked for without a live session (none, expired, ended,
    or its account disabled): the answer is the sign-in page."""


class PasswordChangeRequired(ApiError):
    """Raised when a console page is asked for by an account that must first change its
    one-time password: the answer is the password page."""


class CsrfRefused(ApiError):
    """Raised when a console form comes without the CSRF token of the session it is sent in."""


class NotSaved(ApiError):
    """Raised when a request's work could not be committed together with its stored answer."""


# (status, code, title) per error class. An error takes the entry of the nearest class in
# its hierarchy, so a new subclass answers as its parent until it is given its own line.
MAPPING: dict[type[Exception], tuple[int, str, str]] = {
    Unauthenticated: (401, "unauthenticated", "No valid API key"),
    BadSignature: (403, "bad_signature", "Forbidden"),
    InvalidRequest: (422, "invalid", "Invalid request"),
    BodyTooLarge: (413, "body_too_large", "Request body too large"),
    IdempotencyKeyReused: (422, "idempotency_key_reused", "Idempotency key reused"),
    RequestInFlight: (409, "request_in_flight", "Request in flight"),
    NotSaved: (503, "retry", "Not saved"),
    SignedOut: (401, "unauthenticated", "Not signed in"),
    PasswordChangeRequired: (403, "password_change_required", "Password change required"),
    CsrfRefused: (403, "csrf", "Form refused"),
    InvalidCursor: (422, "invalid", "Invalid cursor"),
    e.Forbidden: (403, "forbidden", "Not allowed for this role"),
    e.RateLimited: (429, "rate_limited", "Too many requests"),
    e.SignInFailed: (401, "sign_in_failed", "Sign-in failed"),
    e.NotFound: (404, "not_found", "Not found"),
    e.InvalidInput: (422, "invalid", "Invalid request"),
    e.FutureDate: (422, "future_date", "Invalid request"),
    e.LateEntry: (422, "late_entry", "Invalid request"),
    e.BeforeEnrolment: (422, "before_enrolment", "Invalid request"),
    e.NotParticipating: (422, "not_participating", "Invalid request"),
    e.PurposeNotAllowed: (422, "purpose_not_allowed", "Invalid request"),
    e.OutOfDistrict: (422, "out_of_district", "Invalid request"),
    e.InsufficientFunds: (422, "insufficient_balance", "Insufficient balance"),
    e.BelowThreshold: (422, "below_threshold", "Balance below the spending threshold"),
    e.NoRuleSet: (422, "no_rule_set", "No rule set applies"),
    e.Conflict: (409, "conflict", "Conflicts with what is recorded"),
    e.LoginTaken: (409, "login_taken", "Login taken"),
    e.DuplicatePatient: (409, "duplicate_patient", "Patient already registered"),
    e.AlreadyAttended: (409, "already_attended", "Attendance already recorded"),
    e.AlreadyReversed: (409, "already_reversed", "Transaction already reversed"),
    e.PatientNotActive: (409, "patient_not_active", "Patient has left the programme"),
    e.PatientErased: (409, "patient_erased", "Patient's personal data was erased"),
    e.NotReversible: (409, "not_reversible", "A reversal cannot be reversed"),
    e.NotCorrectable: (409, "not_reversible", "This kind of transaction is not reversible"),
    e.QuarterNotEnded: (409, "quarter_not_ended", "The quarter has not ended"),
    e.EarlierQuarterOpen: (409, "earlier_quarter_open", "An earlier quarter is open"),
    e.QuarterClosed: (409, "quarter_closed", "The quarter is closed"),
    e.AlreadyPaid: (409, "already_paid", "Already paid"),
    e.AlreadyFiled: (409, "already_filed", "Already filed"),
    e.ImportConflict: (409, "import_conflict", "Imported before with other content"),
}
# Answers that tell the client when to come back (an error's own ``retry_after`` first).
RETRY_AFTER: dict[type[Exception], str] = {RequestInFlight: "1", NotSaved: "1"}


# The console's pages: where a signed-out visitor, or one who must change their password,
# is sent instead (303 See Other); every other error is a Korean page with the status above.
SEE_OTHER = 303
PAGE_REDIRECTS: dict[type[Exception], str] = {
    SignedOut: "/console/login",
    PasswordChangeRequired: "/console/password",
}


def redirect(url: str) -> RedirectResponse:
    """A console page's answer to a form (post-redirect-get), or a page sent elsewhere."""
    return RedirectResponse(url, status_code=SEE_OTHER)


def page_status(error: BaseException) -> int:
    """The status of a console page answering ``error`` (500 when it is unexpected)."""
    found = mapped(error)
    return found[0] if found else 500


def mapped(error: BaseException) -> tuple[int, str, str] | None:
    """The (status, code, title) of the nearest mapped class of ``error``, if any."""
    for cls in type(error).__mro__:
        if cls in MAPPING:
            return MAPPING[cls]
    return None


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://mileage.seoul.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def from_exception(error: Exception) -> JSONResponse | None:
    """The problem answer for a known error, or None for an unexpected one."""
    found = mapped(error)
    if found is None:
        return None
    status, code, title = found
    extra: dict[str, Any] = {}
    field = getattr(error, "field", None)
    if isinstance(error, e.InvalidInput | InvalidRequest):
        extra["fields"] = [{"field": field, "message": str(error)}] if field else []
    if isinstance(error, e.DuplicatePatient) and error.existing_id is not None:
        extra["id"] = error.existing_id
    if isinstance(error, e.AlreadyReversed):
        extra["reversal_transaction_id"] = str(error.reversal_id)
    response = problem(status, code, title, str(error), **extra)
    for cls, seconds in RETRY_AFTER.items():
        if isinstance(error, cls):
            response.headers["Retry-After"] = seconds
    if isinstance(error, e.RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def unexpected(error: BaseException, request_id: str | None) -> JSONResponse:
    """The answer to an error nobody expected: logged without personal data, then a problem.

    A database error's text can quote the row it refused (PostgreSQL's DETAIL line names
    every column), so only its type, SQLSTATE and constraint are logged, never the text.
    """
    if isinstance(error, DBAPIError):
        orig = error.orig
        diag = getattr(orig, "diag", None)
        facts = {
            "request_id": request_id,
            "error": f"{type(orig).__name__} sqlstate={getattr(orig, 'sqlstate', None)} "
            f"constraint={getattr(diag, 'constraint_name', None)}",
        }
        if is_retryable(error):
            log.warning("api.request.conflict", extra=facts)
            response = problem(
                503,
                "retry",
                "Busy",
                "the database was busy with a conflicting request; "
                "send the same request again (with the same Idempotency-Key)",
                request_id=request_id,
            )
            response.headers["Retry-After"] = "1"
            return response
        log.error("api.request.failed", extra=facts)
    else:
        log.error("api.request.failed", exc_info=error, extra={"request_id": request_id})
    return problem(
        500,
        "internal_error",
        "Internal error",
        "the service failed; quote the request id when you report it",
        request_id=request_id,
    )


def _allowed(request: Request) -> list[str]:
    """Every method served at this path, from the OpenAPI document's path templates.

    Starlette's own ``Allow`` header names only the methods of the first route that matched.
    """
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in operations if m != "parameters"}
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    async def known(request: Request, error: Exception) -> JSONResponse:
        answer = from_exception(error)
        if answer is None:
            return unexpected(error, getattr(request.state, "request_id", None))
        return answer

    async def validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        fields = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body") or "body",
                "message": err["msg"],
            }
            for err in error.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        return problem(
            422, "invalid", "Invalid request", f"check these fields: {names}", fields=fields
        )

    async def http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400:  # an unreadable body: a validation error like any other
            return problem(
                422,
                "invalid",
                "Invalid request",
                "the body is not UTF-8 JSON",
                fields=[{"field": "body", "message": "not UTF-8 JSON"}],
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        detail = str(error.detail) if error.detail else code
        response = problem(error.status_code, code, detail, detail)
        if error.headers:
            response.headers.update(error.headers)
        if error.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed(request))
        return response

    for cls in (ApiError, e.LedgerError, InvalidCursor):
        app.add_exception_handler(cls, known)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
