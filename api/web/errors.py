"""The console's answers to errors: Korean pages, never problem+json.

The status of each comes from ``api.errors`` (the only place that knows them); a signed-out
visitor is sent to the sign-in page and one who must change their password to its page. A
refused sign-in shows the form again with the reason; a refused password shows the form
again with the reason beside the field it concerns; a form that named its page for refusals
(``forms.refuse_again_with``: the form again, its typed values kept, each reason beside its
field) is answered by it, after the rollback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import (
    PAGE_REDIRECTS,
    ApiError,
    CsrfRefused,
    InvalidRequest,
    RequestInFlight,
    page_status,
    redirect,
)
from api.web.forms import OUT_OF_DISTRICT
from api.web.pages import login_page, page
from api.web.render import render
from ledger import errors as e

log = logging.getLogger("api.web")

__all__ = ["install"]

TITLES = {401: "로그인하지 못했습니다", 403: "할 수 없는 일입니다", 404: "찾을 수 없습니다"}
MESSAGES: dict[type[BaseException], str] = {
    CsrfRefused: "이 양식은 만료되었거나 이 사이트에서 보낸 것이 아닙니다. "
    "페이지를 새로 고친 뒤 다시 보내 주세요.",
    e.SignInFailed: "아이디 또는 비밀번호가 맞지 않거나, 사용이 중지된 계정입니다.",
    e.RateLimited: "로그인 시도가 너무 많습니다. {retry_after}초 뒤에 다시 시도해 주세요.",
    e.Forbidden: "이 계정으로는 할 수 없는 일입니다.",
    e.NotFound: "찾는 페이지나 항목이 없습니다.",
    e.OutOfDistrict: OUT_OF_DISTRICT,
    e.InvalidInput: "입력한 값을 확인해 주세요.",
    InvalidRequest: "입력한 값을 확인해 주세요.",
    e.InvalidPhone: "휴대전화 번호(010-1234-5678)를 입력해 주세요. "
    "일반 전화는 문자를 받을 수 없습니다.",
    e.LoginTaken: "이미 쓰이는 아이디입니다. 다른 아이디를 정해 주세요.",
    e.Conflict: "이미 기록된 내용과 맞지 않아 처리하지 못했습니다.",
    RequestInFlight: "같은 양식을 처리하는 중입니다. 잠시 뒤 환자 화면을 다시 열어 확인해 주세요.",
    e.QuarterClosed: "이 항목이 속한 분기는 이미 마감되어 의원에서 취소할 수 없습니다. "
    "보건소에 정정을 요청해 주세요.",
    e.AlreadyReversed: "이미 취소된 항목입니다. 다시 취소할 수 없습니다.",
    e.NotReversible: "취소 기록은 다시 취소할 수 없습니다.",
    e.NotCorrectable: "정산, 지급, 소멸, 이월 항목은 취소할 수 없습니다.",
    e.DuplicatePatient: "같은 이름, 생년월일, 전화번호로 등록된 다른 환자가 있습니다. "
    "입력한 값을 확인해 주세요.",
    e.PatientErased: "이 환자의 개인정보는 삭제되었습니다. 다시 참여하면 새로 등록해 주세요.",
}
FIELD_MESSAGES = {
    "current": "현재 비밀번호가 맞지 않습니다.",
    "new": "새 비밀번호는 10자 이상이고, 현재 비밀번호나 아이디와 달라야 합니다.",
    "confirm": "새 비밀번호 두 개가 서로 다릅니다.",
}
FAILED = "처리하지 못했습니다. 잠시 뒤 다시 시도해 주세요."


def korean(error: BaseException) -> str:
    for cls in type(error).__mro__:
        if cls in MESSAGES:
            return MESSAGES[cls].format(retry_after=getattr(error, "retry_after", ""))
    return FAILED


def answer(request: Request, error: BaseException, status: int) -> Response:
    for cls, url in PAGE_REDIRECTS.items():
        if isinstance(error, cls):
            return redirect(url)
    again: Callable[[e.LedgerError | InvalidRequest, int], Response] | None = getattr(
        request.state, "form_again", None
    )
    if again is not None and isinstance(error, e.LedgerError | InvalidRequest):
        return again(error, status)  # the form again, each error beside its field
    message = korean(error)
    post = request.method == "POST"
    if post and request.url.path == "/console/login" and not isinstance(error, CsrfRefused):
        return login_page(request, status, message=message)
    visitor = getattr(request.state, "visitor", None)
    password_form = post and request.url.path == "/console/password"
    if password_form and visitor is not None and isinstance(error, e.InvalidInput):
        field = error.field or "new"
        errors = {field: FIELD_MESSAGES.get(field, message)}
        return page(visitor, "password.html", status, errors=errors)
    title = TITLES.get(status, "처리하지 못했습니다")
    if visitor is not None:
        return page(visitor, "error.html", status, title=title, message=message)
    return render("error.html", status, title=title, message=message)


def install(console: FastAPI) -> None:
    """Register the console's error pages on its own application."""

    async def known(request: Request, error: Exception) -> Response:
        status = page_status(error)
        if status >= 500:
            log.error(
                "api.web.page_failed",
                exc_info=error,
                extra={"request_id": getattr(request.state, "request_id", None)},
            )
        return answer(request, error, status)

    async def http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        return answer(request, e.NotFound("no such page"), error.status_code)

    for cls in (ApiError, e.LedgerError, Exception):
        console.add_exception_handler(cls, known)
    console.add_exception_handler(StarletteHTTPException, http)
