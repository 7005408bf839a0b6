"""Fixtures: real SQLite, a real MariaDB server and a real Redis, private to the test session."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings
from dfo.store import Store
from tests.support import mariadb

BACKENDS = ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)]
_db_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's DFO_* variables or dfo.toml."""
    for name in list(os.environ):
        if name.startswith("DFO_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mariadb.MariaDB]:
    try:
        server = mariadb.start(tmp_path_factory.mktemp("mariadb"))
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the MariaDB tests: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis-home"))
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'dfo.db'}"
    server: mariadb.MariaDB = request.getfixturevalue("mariadb_server")
    return server.create_database(f"dfo_test_{os.getpid()}_{next(_db_numbers)}")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        connect_retries=1,
        connect_retry_delay=0,
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = await Store.open(settings, auto_upgrade=True)
    yield opened
    await opened.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show that the backend-parametrised tests really ran on each backend."""
    counts: Counter[str] = Counter()
    for report in terminalreporter.stats.get("passed", []):
        for name in ("sqlite", "mariadb"):
            if f"[{name}" in report.nodeid:
                counts[name] += 1
    if counts:
        terminalreporter.write_line(
            "backend tests passed: "
            + ", ".join(f"{name}={counts[name]}" for name in ("sqlite", "mariadb"))
        )
