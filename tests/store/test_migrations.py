"""Migrations: idempotent, one migrator at a time, explicit on MariaDB."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import insert, inspect, text

from dfo.errors import DatabaseUnavailable, SchemaOutdated
from dfo.settings import Settings
from dfo.store import Store, memories, migrations
from dfo.store.engine import create_engine, dialect_of
from dfo.store.schema import memories as memories_table
from dfo.store.schema import metadata, projects, schema_migrations, utcnow
from tests.support import mariadb

ALL = [m.version for m in migrations.MIGRATIONS]


async def test_upgrade_twice_changes_nothing(settings: Settings) -> None:
    store = await Store.open(settings, check_schema=False)
    try:
        assert await migrations.current_version(store.engine) == 0
        assert await migrations.upgrade(store.engine, store.dialect) == ALL
        assert await migrations.upgrade(store.engine, store.dialect) == []
        async with store.engine.connect() as conn:
            names = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert set(metadata.tables) <= names
    finally:
        await store.close()


async def test_concurrent_upgrades_apply_each_migration_once(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(migrations.upgrade(engine, dialect_of(database_url)) for engine in engines)
        )
        assert sorted(map(len, results)) == [0, 0, 0, len(ALL)]
        assert await migrations.current_version(engines[0]) == migrations.LATEST
    finally:
        for engine in engines:
            await engine.dispose()


# What version 1 built for memory search (full-text indexes kept up by the database itself).
_V1_FULLTEXT = {
    "mysql": ["CREATE FULLTEXT INDEX ft_memories ON memories (content, summary)"],
    "sqlite": [
        "DROP INDEX ix_memories_task",  # added by version 2 (MariaDB's foreign key had one)
        "CREATE VIRTUAL TABLE memories_fts USING fts5(content, summary, content='memories', "
        "content_rowid='id')",
        "CREATE TRIGGER memories_fts_ai AFTER INSERT ON memories BEGIN "
        "INSERT INTO memories_fts(rowid, content, summary) "
        "VALUES (new.id, new.content, new.summary); END",
    ],
}


async def test_version_1_memories_get_their_words_and_lose_the_fulltext_index(
    settings: Settings,
) -> None:
    store = await Store.open(settings, check_schema=False)
    try:
        async with store.engine.begin() as conn:
            v1 = [t for t in metadata.sorted_tables if t.name != "memory_words"]
            await conn.run_sync(lambda sync: metadata.create_all(sync, tables=v1))
            for statement in _V1_FULLTEXT[store.dialect]:
                await conn.execute(text(statement))
            await conn.execute(
                insert(schema_migrations).values(version=1, name="initial", applied_at=utcnow())
            )
            await conn.execute(insert(projects).values(code="OLD", name="Old"))
            await conn.execute(
                insert(memories_table),
                [
                    {"project_id": 1, "content": f"legacy note {n}", "content_hash": f"{n:064}"}
                    for n in range(3)
                ],
            )
        assert await migrations.upgrade(store.engine, store.dialect) == ALL[1:]
        async with store.transaction() as conn:  # no trigger left that writes to the old index
            await memories.add_memory(conn, project_id=1, content="legacy note 3")
        async with store.read() as conn:
            found = await memories.search(conn, "legacy", project_id=1)
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("memories"))
        assert sorted(m.content for m in found) == [f"legacy note {n}" for n in range(4)]
        assert "memories_fts" not in tables
        assert all(ix["name"] != "ft_memories" for ix in indexes)
        assert any(ix["column_names"] == ["task_id"] for ix in indexes)
    finally:
        await store.close()


@pytest.mark.mariadb
async def test_mariadb_needs_an_explicit_upgrade(mariadb_server: mariadb.MariaDB) -> None:
    url = mariadb_server.create_database("dfo_needs_upgrade")
    with pytest.raises(SchemaOutdated, match="run 'dfo db upgrade'"):
        await Store.open(Settings(database_url=url, connect_retries=1))


@pytest.mark.mariadb
async def test_unreachable_database_fails_after_the_retries_without_the_password(
    mariadb_server: mariadb.MariaDB,
) -> None:
    url = mariadb_server.url("nope", port=mariadb.free_port())
    settings = Settings(database_url=url, connect_retries=3, connect_retry_delay=0.01)
    with pytest.raises(DatabaseUnavailable) as caught:
        await Store.open(settings)
    message = str(caught.value)
    assert "after 3 attempt(s)" in message
    assert mariadb.PASSWORD not in message and "s3cr3t" not in message
    assert "dfo:***@127.0.0.1" in message


@pytest.mark.mariadb
async def test_wrong_password_is_unavailable_and_masked(mariadb_server: mariadb.MariaDB) -> None:
    url = mariadb_server.url("mysql", password="wrong-secret-123")
    with pytest.raises(DatabaseUnavailable) as caught:
        await Store.open(Settings(database_url=url, connect_retries=1))
    assert "wrong-secret-123" not in str(caught.value)
    assert "Access denied" in str(caught.value)
