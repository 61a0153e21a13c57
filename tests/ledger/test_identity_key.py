"""The identity key that recognises an erased patient registering again: configured, or
generated once and kept; a key configured later still recognises earlier erasures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger import clock
from ledger.db import session_scope
from ledger.models import ServiceSecret
from ledger.services import erasure, identity, registry
from ledger.settings import get_settings
from tests.factories import make_clinic, make_patient

CONFIGURED = "a key kept in the service's environment"


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MILEAGE_IDENTITY_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def erase_someone(sessions: sessionmaker[Session]) -> dict[str, object]:
    """A patient registered, withdrawn and erased; who they were."""
    with session_scope(sessions) as session:
        patient = make_patient(session, make_clinic(session)).patient
        person = {"name": patient.name, "birth_date": patient.birth_date, "phone": patient.phone}
        registry.leave_programme(
            session, patient_id=patient.id, status="withdrawn", on=dt.date(2024, 1, 3)
        )
        erasure.erase_personal_data(
            session,
            patient_id=patient.id,
            reason="본인 요청",
            erased_by="test",
            key_id=None,
            now=clock.now(),
        )
    return person


def test_without_a_configured_key_one_is_generated_once_and_kept(
    unconfigured: None, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        first = identity.signing_key(session)
    with session_scope(sessions) as session:
        assert identity.signing_key(session) == first
        stored = session.execute(select(ServiceSecret.name)).scalars().all()
    assert stored == ["identity_key"]
    assert len(first) == 32


def test_a_key_configured_later_still_recognises_earlier_erasures(
    unconfigured: None, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    person = erase_someone(sessions)
    monkeypatch.setenv("MILEAGE_IDENTITY_KEY", CONFIGURED)
    get_settings.cache_clear()

    with session_scope(sessions) as session:
        assert identity.signing_key(session) == CONFIGURED.encode()
        assert identity.erased_before(session, **person)  # type: ignore[arg-type]
        assert not identity.erased_before(
            session,
            **person | {"phone": "+821099990000"},  # type: ignore[arg-type]
        )
