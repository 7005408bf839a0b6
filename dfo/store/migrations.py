"""Versioned, idempotent migrations. `dfo db upgrade` runs them; the embedded mode runs them
automatically. Each migration checks what exists before changing it, so running one against a
database that already has part of it (an existing DFO database, a half-finished run) is safe.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from dfo.store import memories as memory_store
from dfo.store.conn import Connection as AsyncConnection
from dfo.store.conn import Database
from dfo.store.schema import memory_words, metadata, schema_migrations, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[AsyncConnection, str], Awaitable[None]]


async def _initial(conn: AsyncConnection, dialect: str) -> None:
    await conn.run_sync(lambda sync: metadata.create_all(sync, checkfirst=True))


# What version 1 built for memory search before `memory_words` replaced it.
_OLD_SQLITE_FTS = [
    "DROP TRIGGER IF EXISTS memories_fts_ai",
    "DROP TRIGGER IF EXISTS memories_fts_ad",
    "DROP TRIGGER IF EXISTS memories_fts_au",
    "DROP TABLE IF EXISTS memories_fts",
]


async def _memory_words(conn: AsyncConnection, dialect: str) -> None:
    await conn.run_sync(
        lambda sync: metadata.create_all(sync, tables=[memory_words], checkfirst=True)
    )
    indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("memories"))
    if not any(ix["column_names"] == ["task_id"] for ix in indexes):
        await conn.execute(text("CREATE INDEX ix_memories_task ON memories (task_id)"))
    if dialect == "mysql":
        if any(ix["name"] == "ft_memories" for ix in indexes):
            await conn.execute(text("DROP INDEX ft_memories ON memories"))
    else:
        for statement in _OLD_SQLITE_FTS:
            await conn.execute(text(statement))
    count = await memory_store.index_all(conn)
    if count:  # an existing database: say what the upgrade did
        log.info("memory search: words of %d memories indexed", count)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _initial),
    Migration(2, "memory search by a word index instead of full-text indexes", _memory_words),
]

LATEST = MIGRATIONS[-1].version


async def current_version(engine: Database) -> int:
    async with engine.connect() as conn:
        exists = await conn.run_sync(lambda sync: inspect(sync).has_table(schema_migrations.name))
        if not exists:
            return 0
        versions = (await conn.execute(select(schema_migrations.c.version))).scalars().all()
        return max(versions, default=0)


async def upgrade(engine: Database, dialect: str) -> list[int]:
    """Apply pending migrations under a lock; return the versions applied (may be empty)."""
    async with _migration_lock(engine, dialect):
        applied: list[int] = []
        start = await current_version(engine)
        for migration in MIGRATIONS:
            if migration.version <= start:
                continue
            async with engine.begin() as conn:
                await migration.apply(conn, dialect)
                await conn.execute(
                    schema_migrations.insert().values(
                        version=migration.version, name=migration.name, applied_at=utcnow()
                    )
                )
            applied.append(migration.version)
        return applied


@asynccontextmanager
async def _migration_lock(engine: Database, dialect: str) -> AsyncIterator[None]:
    """One migrator at a time across processes and hosts."""
    if dialect == "mysql":
        async with engine.connect() as conn:
            got = (await conn.execute(text("SELECT GET_LOCK('dfo_migrate', 60)"))).scalar()
            if got != 1:
                raise TimeoutError("another process is migrating the database (waited 60 s)")
            try:
                yield
            finally:
                await conn.execute(text("SELECT RELEASE_LOCK('dfo_migrate')"))
        return
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        yield
        return
    fd = os.open(f"{database}.migrate.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
