"""The audit trail's keyed hashes (``ledger.pseudonyms``): one key per service, kept out of the
database, made once on first use. No database."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from ledger.pseudonyms import KeyFileError, Pseudonyms
from ledger.settings import Settings

KIM = {"name": "김민수", "birth_date": dt.date(1957, 3, 21), "phone": "+821048217396"}


def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "audit.key"
    first = Pseudonyms(None, path).person(**KIM)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Pseudonyms(None, path).person(**KIM) == first  # a later process reads the same key


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    hashes: list[str] = []
    start = threading.Barrier(8)

    def first_use() -> None:
        start.wait()
        hashes.append(Pseudonyms(None, path).person(**KIM))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(hashes) == 8 and len(set(hashes)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"]


def test_a_hash_names_one_person_under_one_key(tmp_path: Path) -> None:
    key = Pseudonyms(SecretStr("k" * 32), tmp_path / "unused.key")
    other_key = Pseudonyms(SecretStr("o" * 32), tmp_path / "unused.key")
    assert key.person(**KIM) == key.person(**KIM)
    assert key.person(**{**KIM, "phone": "+821048217397"}) != key.person(**KIM)
    assert other_key.person(**KIM) != key.person(**KIM)
    plain = "\x1f".join((KIM["name"], "1957-03-21", KIM["phone"]))  # type: ignore[arg-type]
    assert key.person(**KIM) != hashlib.sha256(plain.encode()).hexdigest()
    assert not (tmp_path / "unused.key").exists()  # a given key needs no file


def test_a_damaged_key_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text("not a key\n")
    with pytest.raises(KeyFileError, match="restore it from its backup"):
        Pseudonyms(None, path).person(**KIM)


def test_a_short_audit_key_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(audit_key=SecretStr("short"))
