"""Fixtures shared by the whole suite.

Every ledger and API test runs on both engines through the module-scoped ``database_url``
fixture: a fresh database per test module, cloned from a migrated template (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests never delete booked rows.
PostgreSQL is a throwaway cluster started once per run (see ``tests/pgcluster.py``); set
``MILEAGE_TEST_PG_URL`` to use a running server instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, make_session_factory, session_scope
from ledger.migrate import upgrade
from ledger.settings import get_settings
from tests.pgcluster import running_cluster

ENGINES = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "engine(name): a test of one engine's own mechanism, run on that engine only"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``engine("postgresql")`` exists for that engine only: its other
    engine's variant is not collected (deselected, not skipped)."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("engine")
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("database_url") if callspec else None
        (drop if marker and param and param != marker.args[0] else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# Staff passwords are hashed with argon2id; its production cost (64 MiB, 3 passes) would
# make every sign-in in the suite slow, so the tests, and only they, use the cheapest.
os.environ.setdefault("MILEAGE_PASSWORD_MEMORY_KIB", "8")
os.environ.setdefault("MILEAGE_PASSWORD_TIME_COST", "1")
os.environ.setdefault("MILEAGE_PASSWORD_PARALLELISM", "1")

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    if os.environ.get("MILEAGE_TEST_PG_URL"):
        yield os.environ["MILEAGE_TEST_PG_URL"]
        return
    with running_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    admin = make_engine(pg_server, isolation_level="AUTOCOMMIT")
    name = f"mileage_template_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine = make_engine(make_url(pg_server).set(database=name).render_as_string(False))
    upgrade(engine)
    engine.dispose()
    admin.dispose()
    return name


def new_database(kind: str, request: pytest.FixtureRequest, tmp_dir: Path) -> str:
    """A URL of a fresh, migrated, empty database of the given kind."""
    n = next(_counter)
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_dir / f"db{n}.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server: str = request.getfixturevalue("pg_server")
    template_name: str = request.getfixturevalue("pg_template")
    return create_database(server, f"mileage_test_{os.getpid()}_{n}", template=template_name)


def create_database(server: str, name: str, *, template: str | None = None) -> str:
    """Create database ``name`` on the PostgreSQL ``server`` (a copy of ``template``, if
    given); its URL."""
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        )
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(False)


@pytest.fixture(scope="module", params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return new_database(request.param, request, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed when the test passes."""
    with session_scope(sessions) as s:
        yield s


@pytest.fixture
def command_line(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """``mileage``'s command line (``api.cli.main``) on the module's test database."""
    monkeypatch.setenv("MILEAGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
