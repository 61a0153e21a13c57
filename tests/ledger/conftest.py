"""The ledger tests' fixtures: the API's (for the tests that compare an edge with HTTP, an
imported visit), and databases left at an earlier revision (for the migrations' tests)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ledger.db import make_engine
from ledger.migrate import upgrade
from tests.api.conftest import app, city, client, clock, key_for
from tests.conftest import create_database

__all__ = ["app", "city", "client", "clock", "database_at", "key_for"]


def database_at(
    request: pytest.FixtureRequest, tmp_path: Path, revision: str, rows: Sequence[str]
) -> Engine:
    """A database of the request's engine migrated to ``revision`` only, holding ``rows``."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'before.sqlite3'}")
    else:
        server: str = request.getfixturevalue("pg_server")
        name = f"mileage_before_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        engine = make_engine(create_database(server, name))
    upgrade(engine, revision)
    with engine.begin() as connection:
        for statement in rows:
            connection.execute(text(statement))
    return engine
