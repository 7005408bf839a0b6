"""`Connection`: what the query modules need of a connection, whichever way SQL runs.

MariaDB/MySQL run through SQLAlchemy's asyncio engine (aiomysql). SQLite runs on the event
loop's thread through SQLAlchemy's plain engine: a local SQLite statement takes microseconds,
while aiosqlite's hop to its thread and back plus SQLAlchemy's greenlet bridge cost several
times the statement itself (measured on 2 cores: `SELECT 1` 0.61 ms through aiosqlite, a
prepared UPDATE 31 µs on the driver). `Store` runs one transaction at a time per process, so a
statement only ever waits for another process's short transaction (SQLite's busy timeout),
never for a coroutine of its own process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar, Unpack

from sqlalchemy import URL, CursorResult, Engine, Executable
from sqlalchemy import Connection as SyncConnection

T = TypeVar("T")
Result = CursorResult[Unpack[tuple[Any, ...]]]  # noqa: UP044 - a runtime alias on 3.11


class Connection(Protocol):
    async def execute(self, statement: Executable, parameters: Any = None) -> Result: ...

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Result: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


class InlineConnection:
    """A plain SQLAlchemy connection behind the awaitable interface (SQLite)."""

    def __init__(self, sync_connection: SyncConnection) -> None:
        self.sync_connection = sync_connection

    async def execute(self, statement: Executable, parameters: Any = None) -> Result:
        return self.sync_connection.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Result:
        return self.sync_connection.exec_driver_sql(statement, parameters)

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self.sync_connection, *args, **kwargs)


class Database(Protocol):
    """An engine as the store uses it: SQLAlchemy's `AsyncEngine`, or `InlineEngine`."""

    @property
    def url(self) -> URL: ...

    def connect(self) -> AbstractAsyncContextManager[Connection]: ...

    def begin(self) -> AbstractAsyncContextManager[Connection]: ...

    async def dispose(self) -> None: ...


class InlineEngine:
    """A plain SQLAlchemy engine behind the awaitable interface (SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.sync_engine = engine

    @property
    def url(self) -> URL:
        return self.sync_engine.url

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        with self.sync_engine.connect() as sync:
            yield InlineConnection(sync)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Connection]:
        with self.sync_engine.begin() as sync:
            yield InlineConnection(sync)

    async def dispose(self) -> None:
        self.sync_engine.dispose()
