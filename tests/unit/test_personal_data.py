"""The pure parts of erasure and retention: what counts as the same person, and what a
stored answer keeps of a patient."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

from ledger.services.identity import identity_hash, normalise_name
from ledger.services.retention import narrowed, without_personal_fields

REGISTERED = {
    "id": "pat_01J0000000000000000000000A",
    "clinic_id": "cln_01J0000000000000000000000B",
    "name": "김하늘",
    "birth_date": "1957-03-21",
    "phone": "+821020240321",
    "balance": 3000,
    "transaction_id": "41",
    "awards": [{"beneficiary": "patient", "rule": "enrolment", "amount": 3000}],
}
CLINIC = {"id": "cln_01J0000000000000000000000B", "name": "하늘 의원", "kind": "chronic"}


def test_one_name_however_it_is_typed() -> None:
    typed = [
        "김하늘",
        unicodedata.normalize("NFD", "김하늘"),
        " 김하늘 ",
        "김\u200b하늘",  # a zero-width space
    ]
    assert {normalise_name(name) for name in typed} == {"김하늘"}
    assert normalise_name("Kim  Ha\tNeul") == normalise_name("ＫＩＭ ha neul") == "kim ha neul"
    assert normalise_name("김 하늘") != normalise_name("김하늘")


def test_the_identity_hash_is_keyed() -> None:
    born = dt.date(1957, 3, 21)

    def hashed(key: bytes, name: str = "김하늘", phone: str = "+821020240321") -> str:
        return identity_hash(key, name=name, birth_date=born, phone=phone)

    assert hashed(b"one key") == hashed(b"one key", name=" 김하늘")
    assert hashed(b"one key") != hashed(b"another key")
    assert hashed(b"one key") != hashed(b"one key", phone="+821020240322")
    assert len(hashed(b"one key")) == 64


def test_a_patients_personal_fields_leave_a_stored_answer_and_nothing_else() -> None:
    answer = json.dumps({**REGISTERED, "clinic": CLINIC}, ensure_ascii=False)

    scrubbed = without_personal_fields(answer)

    assert scrubbed is not None
    kept = json.loads(scrubbed)
    assert [kept[k] for k in ("name", "birth_date", "phone")] == [None, None, None]
    assert kept["clinic"] == CLINIC  # a clinic's name is not personal data
    assert kept["transaction_id"] == "41" and kept["awards"] == REGISTERED["awards"]
    assert without_personal_fields(scrubbed) is None  # nothing left to take
    assert without_personal_fields('{"id": "vis_1", "awards": []}') is None
    assert without_personal_fields("not json") is None


def test_only_the_named_patient_is_scrubbed_when_one_is_named() -> None:
    other = {**REGISTERED, "id": "pat_01J0000000000000000000000Z"}
    answer = json.dumps({"items": [REGISTERED, other]}, ensure_ascii=False)

    kept = json.loads(without_personal_fields(answer, patient_id=REGISTERED["id"]) or "")

    assert kept["items"][0]["name"] is None
    assert kept["items"][1]["name"] == "김하늘"


def test_a_replay_cuts_a_patient_the_caller_may_no_longer_read_to_the_ids() -> None:
    answer = json.dumps(REGISTERED, ensure_ascii=False)

    assert narrowed(answer, 201, lambda _: True) is answer
    assert json.loads(narrowed(answer, 201, lambda _: False)) == {
        "id": REGISTERED["id"],
        "transaction_id": "41",
    }
    refusal = json.dumps({"code": "duplicate_patient", "id": REGISTERED["id"]})
    assert narrowed(refusal, 409, lambda _: True) is refusal
    assert json.loads(narrowed(refusal, 409, lambda _: False)) == {
        "code": "duplicate_patient",
        "detail": "this person is already registered; look them up instead of registering "
        "them again",
    }
