"""Migrations: idempotent, one migrator at a time, explicit on MariaDB."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect

from dfo.errors import DatabaseUnavailable, SchemaOutdated
from dfo.settings import Settings
from dfo.store import Store, migrations
from dfo.store.engine import create_engine, dialect_of
from dfo.store.schema import metadata
from tests.support import mariadb


async def test_upgrade_twice_changes_nothing(settings: Settings) -> None:
    store = await Store.open(settings, check_schema=False)
    try:
        assert await migrations.current_version(store.engine) == 0
        assert await migrations.upgrade(store.engine, store.dialect) == [migrations.LATEST]
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
        assert sorted(map(len, results)) == [0, 0, 0, 1]
        assert await migrations.current_version(engines[0]) == migrations.LATEST
    finally:
        for engine in engines:
            await engine.dispose()


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
