"""Async engines for both dialects, and the first connect with its retry policy."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, event, text
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from dfo.errors import DatabaseUnavailable, InvalidInput
from dfo.redact import mask_url, scrub, url_password
from dfo.store.conn import Database, InlineEngine

log = logging.getLogger(__name__)

SUPPORTED = ("sqlite+aiosqlite", "mysql+aiomysql", "mariadb+aiomysql")


def dialect_of(url: str) -> str:
    """`sqlite` or `mysql` (MariaDB reports itself as mysql or mariadb)."""
    name = make_url(url).get_backend_name()
    return "mysql" if name in ("mysql", "mariadb") else name


def create_engine(url: str, *, busy_timeout_ms: int = 5000) -> Database:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"invalid database URL {mask_url(url)!r}") from None
    if parsed.drivername not in SUPPORTED:
        raise InvalidInput(
            f"unsupported database URL scheme {parsed.drivername!r}: use one of "
            + ", ".join(SUPPORTED)
        )
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_ms)
    return _mysql_engine(url)


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Database:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return InlineEngine(inline_sqlite_engine(url, busy_timeout_ms=busy_timeout_ms))


class ImmediateSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, with every transaction begun by BEGIN IMMEDIATE: a deferred read-then-write
    transaction would fail with SQLITE_BUSY instead of waiting when two processes write at once.

    A dialect rather than SQLAlchemy's documented `begin` event: any connection event makes
    SQLAlchemy dispatch every execution's events, and the event ran BEGIN through the whole
    statement machinery; together a tenth of a worker's CPU per job. Here BEGIN is the
    driver's, and its errors are SQLAlchemy's as for any statement.
    """

    supports_statement_cache = True  # SQLAlchemy asks every dialect subclass to say so

    def do_begin(self, dbapi_connection: Any) -> None:
        dbapi_connection.execute("BEGIN IMMEDIATE")


registry.register("sqlite.dfo_immediate", __name__, "ImmediateSQLiteDialect")


def inline_sqlite_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    """The plain engine SQLite transactions run on, on the loop's thread (see `store.conn`)."""
    engine = sqlalchemy.create_engine(
        make_url(url).set(drivername="sqlite+dfo_immediate"),
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )
    _sqlite_hooks(engine, busy_timeout_ms)
    return engine


def _sqlite_hooks(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transaction control taken from the driver: ImmediateSQLiteDialect begins them.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _mysql_engine(url: str) -> Database:
    from sqlalchemy.ext.asyncio import create_async_engine  # only MariaDB/MySQL need asyncio

    parsed = make_url(url)
    if "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    # READ COMMITTED: a pooled connection must never keep an old snapshot (pollers would see
    # stale rows), and it avoids gap locks between concurrent workers.
    return create_async_engine(
        parsed,
        pool_pre_ping=True,
        pool_recycle=1800,
        isolation_level="READ COMMITTED",
    )


async def connect_with_retry(engine: Database, url: str, *, tries: int, delay: float) -> None:
    """First connect: retry `tries` times `delay` seconds apart, then fail with exit 6."""
    last: BaseException | None = None
    for attempt in range(1, tries + 1):
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        except (OperationalError, DBAPIError, OSError) as exc:
            last = exc
            reason = describe_db_error(exc, url)
            if attempt < tries:
                log.warning(
                    "database not reachable (attempt %d/%d): %s; retrying in %.1fs",
                    attempt,
                    tries,
                    reason,
                    delay,
                )
                await asyncio.sleep(delay)
    assert last is not None
    raise DatabaseUnavailable(
        f"database {mask_url(url)} unreachable after {tries} attempt(s): "
        f"{describe_db_error(last, url)}"
    ) from None


def describe_db_error(exc: BaseException, url: str) -> str:
    """A one-line reason without SQL, parameters or secrets."""
    orig = getattr(exc, "orig", None) or exc
    message = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    return scrub(message, [url_password(url)])
