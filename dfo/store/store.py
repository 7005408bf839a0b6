"""`Store`: one engine, its dialect, and the transactions the query modules run in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Connection as SyncConnection
from sqlalchemy.exc import DBAPIError, OperationalError

from dfo.errors import DatabaseUnavailable, SchemaOutdated
from dfo.redact import mask_url
from dfo.settings import Settings
from dfo.store import migrations
from dfo.store.conn import Connection, Database, InlineConnection, InlineEngine
from dfo.store.engine import (
    connect_with_retry,
    create_engine,
    describe_db_error,
    dialect_of,
)


class Store:
    def __init__(self, engine: Database, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect = dialect_of(url)
        # SQLite: transactions run on the loop's thread (see `store.conn`), one at a time per
        # process: SQLite has one writer and every transaction starts with BEGIN IMMEDIATE,
        # so taking turns costs nothing and a statement never waits on a coroutine of ours.
        self._inline = engine.sync_engine if isinstance(engine, InlineEngine) else None
        self._turn = asyncio.Lock()
        # ... and on one connection, kept: checking a connection out of the pool and resetting
        # it on return cost as much as the transaction's own statements (~25 µs of ~55).
        self._kept: SyncConnection | None = None

    @classmethod
    async def open(
        cls, settings: Settings, *, auto_upgrade: bool | None = None, check_schema: bool = True
    ) -> Store:
        """Connect (with the retry policy) and make sure the schema is current.

        SQLite databases are upgraded automatically (the embedded mode); a MariaDB/MySQL
        database must be upgraded explicitly with `dfo db upgrade`.
        """
        url = settings.effective_database_url
        engine = create_engine(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        store = cls(engine, url)
        try:
            await connect_with_retry(
                engine, url, tries=settings.connect_retries, delay=settings.connect_retry_delay
            )
            if check_schema:
                upgrade = store.dialect == "sqlite" if auto_upgrade is None else auto_upgrade
                await store.ensure_schema(upgrade=upgrade)
        except BaseException:
            await engine.dispose()
            raise
        return store

    async def ensure_schema(self, *, upgrade: bool) -> None:
        if upgrade:
            await migrations.upgrade(self.engine, self.dialect)
            return
        version = await migrations.current_version(self.engine)
        if version < migrations.LATEST:
            raise SchemaOutdated(
                f"database {mask_url(self.url)} is at schema version {version}, dfo needs "
                f"{migrations.LATEST}: run 'dfo db upgrade'"
            )

    async def close(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One transaction: committed when the block ends, rolled back on error."""
        try:
            if self._inline is not None:
                async with self._turn:
                    kept = self._kept
                    if kept is None or kept.closed or kept.invalidated:
                        kept = self._kept = self._inline.connect()
                    # A failed BEGIN leaves it usable (tests/store/test_sqlite_connection.py).
                    with kept.begin():
                        yield InlineConnection(kept)
            else:
                async with self.engine.begin() as conn:
                    yield conn
        except (OperationalError, DBAPIError) as exc:
            if _is_disconnect(exc):
                raise DatabaseUnavailable(
                    f"database {mask_url(self.url)}: {describe_db_error(exc, self.url)}"
                ) from None
            raise

    read = transaction


def _is_disconnect(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated) or (
        isinstance(exc, OperationalError)
        and ("connect" in str(exc.orig).lower() or "gone away" in str(exc.orig).lower())
    )
