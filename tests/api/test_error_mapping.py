"""Errors answer by their class hierarchy: every refusal the ledger and the API define has a
status and a code, and a new subclass answers as its parent without a line of its own."""

from __future__ import annotations

import inspect
import json

import pytest

from api import errors as api_errors
from api.errors import from_exception
from ledger import errors as e


def _answer(error: Exception) -> tuple[int, str]:
    response = from_exception(error)
    assert response is not None, f"{type(error).__name__} would be a 500"
    return response.status_code, json.loads(bytes(response.body))["code"]


DEFINED = [
    cls
    for module in (e, api_errors)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, Exception) and cls.__module__ == module.__name__
]


# Roots, an operator's errors (a command's, not a request's) and a broken invariant, which
# the database refuses as well: answered as 500s on purpose.
NOT_ANSWERS = (
    e.LedgerError,
    api_errors.ApiError,
    e.RuleSetError,
    e.BackupFailed,
    e.UnbalancedTransaction,
)


@pytest.mark.parametrize(
    "cls", [c for c in DEFINED if c not in NOT_ANSWERS], ids=lambda c: c.__name__
)
def test_every_refusal_the_service_raises_has_an_answer(cls: type[Exception]) -> None:
    found = api_errors.mapped(cls.__new__(cls))
    assert found is not None, f"{cls.__name__} would be a 500"
    status, code, _title = found
    assert 400 <= status < 600 and code


def test_a_new_subclass_answers_as_its_parent() -> None:
    class ClinicOnHoliday(e.Conflict):
        """Raised when a clinic is closed (a class this test makes up)."""

    class GoneToo(e.UnknownPatient):
        """Raised when ... (made up)."""

    assert _answer(ClinicOnHoliday("closed today")) == (409, "conflict")
    assert _answer(GoneToo("no patient")) == (404, "not_found")
    assert _answer(e.UnknownTransaction("no transaction 7")) == (404, "not_found")
    assert _answer(e.AlreadyReversed(7, 8)) == (409, "already_reversed")
    assert _answer(e.NotCorrectable("a payout")) == (409, "not_reversible")
