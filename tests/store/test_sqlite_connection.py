"""SQLite: a store runs its transactions one at a time on one kept connection. It must stay
usable after a transaction that failed, and after one that could not even begin (another
process held the write lock past the busy timeout)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from dfo.settings import Settings
from dfo.store import Store, projects


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'dfo.db'}",
        sqlite_busy_timeout_ms=100,
    )
    store = await Store.open(settings, auto_upgrade=True)
    yield store
    await store.close()


async def add_then_list(store: Store, code: str) -> list[str]:
    """Add project `code` in a transaction of its own, then the codes of every project."""
    async with store.transaction() as conn:
        await projects.add_project(conn, code, "a project")
    async with store.read() as conn:
        return [p.code for p, _ in await projects.list_projects(conn)]


async def test_a_failed_transaction_is_rolled_back_and_the_next_runs(sqlite_store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with sqlite_store.transaction() as conn:
            await projects.add_project(conn, "GONE", "rolled back")
            raise RuntimeError("the caller failed mid-transaction")
    assert await add_then_list(sqlite_store, "KEPT") == ["KEPT"]


async def test_a_transaction_that_could_not_begin_leaves_the_store_usable(
    sqlite_store: Store, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "dfo.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing, past our busy timeout
        with pytest.raises(OperationalError, match="locked"):
            async with sqlite_store.transaction() as conn:
                await projects.add_project(conn, "LOCKED", "never written")
        other.execute("COMMIT")
    finally:
        other.close()
    assert await add_then_list(sqlite_store, "AFTER") == ["AFTER"]
