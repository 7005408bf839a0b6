"""SIGKILL and cancel while a job is inside the context, validation or finalization phase.

Those phases take milliseconds, so the tests hold the job there with real MariaDB locks: a
`LOCK TABLES memories WRITE` stops the context phase at its memory search, a shared lock on the
task row stops validation at its status update, and an exclusive one (taken while the worker's
database round trips are slowed by a proxy) stops finalization at its task update. SQLite has no
such fine-grained locks; the execution phase is covered on both backends in test_chaos.py.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import cast

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from dfo import keys
from dfo.client import Client
from dfo.events import Event, EventType
from dfo.settings import Settings
from dfo.store import Store, tasks
from dfo.store.conn import Connection
from tests.support import mariadb
from tests.support import proxy as proxy_process
from tests.worker.conftest import Spawn, assert_gap_free, collect, seed, until

pytestmark = pytest.mark.parametrize("backend", ["mariadb"])


@asynccontextmanager
async def hold(store: Store, phase: str, code: str) -> AsyncIterator[None]:
    async with cast(AsyncEngine, store.engine).connect() as conn:
        if phase == "context":
            await conn.execute(text("LOCK TABLES memories WRITE"))
            yield
            await conn.execute(text("UNLOCK TABLES"))
        else:
            transaction = await conn.begin()
            # A shared lock on the row itself (`title` is not in the code index, so the clustered
            # record is locked): agent_jobs foreign-key checks pass, the task update waits.
            await conn.execute(
                text("SELECT title FROM tasks WHERE code = :c LOCK IN SHARE MODE"), {"c": code}
            )
            yield
            await transaction.rollback()


def reached(phase: str) -> Callable[[Event], bool]:
    # context: STARTED is published just before the memory search; validation: the context
    # phase's last event is published just before validation's task update.
    if phase == "context":
        return lambda e: e.type == EventType.STARTED
    return lambda e: e.type == EventType.PROGRESS and e.phase == "context"


@pytest.mark.parametrize("phase", ["context", "validation"])
async def test_sigkill_inside_a_phase(
    store: Store, client: Client, spawn_worker: Spawn, phase: str
) -> None:
    [code] = await seed(store, items=2)
    queued = await client.enqueue(code)  # before the lock: the insert checks the task row
    async with hold(store, phase, code):
        first = spawn_worker()
        await until(client, queued.job_id, reached(phase))
        first.signal(signal.SIGKILL)
        first.wait()
    spawn_worker()
    events = await collect(client, queued.job_id)
    assert_gap_free(events)
    assert [e.type for e in events].count(EventType.COMPLETED) == 1
    assert [e.attempt for e in events if e.type == EventType.STARTED] == [1, 2]
    async with store.read() as conn:
        assert (await tasks.get_task(conn, code)).status == "completed"


@pytest.mark.parametrize("phase", ["context", "validation"])
async def test_cancel_inside_a_phase(
    store: Store, client: Client, spawn_worker: Spawn, phase: str
) -> None:
    [code] = await seed(store, items=2)
    queued = await client.enqueue(code)
    async with hold(store, phase, code):
        spawn_worker()
        await until(client, queued.job_id, reached(phase))
        await client.cancel(queued.job_id, reason=f"cancel in {phase}")
        # Keep the job held until its worker took the abort (arq removes it from its set).
        arq_id = (await client.snapshot(queued.job_id)).queue_job_id
        async with asyncio.timeout(10):
            while await client.pool.zscore(keys.ARQ_ABORT, arq_id or "") is not None:
                await asyncio.sleep(0.02)
    events = await collect(client, queued.job_id)
    assert_gap_free(events)
    assert events[-1].type == EventType.CANCELLED
    assert not any(e.type == EventType.COMPLETED for e in events)
    job = await client.snapshot(queued.job_id)
    assert job.status == "cancelled" and job.cancel_reason == f"cancel in {phase}"
    async with store.read() as conn:
        task = await tasks.get_task(conn, code)
    assert task.status == "pending" and task.items_completed == 0


@asynccontextmanager
async def slow_database(
    fast: Settings, server: mariadb.MariaDB, delay_ms: int
) -> AsyncIterator[Settings]:
    """Settings whose database connections go through a proxy adding `delay_ms` per request."""
    port = mariadb.free_port()
    proxy = proxy_process.start(port, server.port, delay_ms)
    try:
        database = fast.effective_database_url.rsplit("/", 1)[1]
        yield fast.model_copy(update={"database_url": server.url(database, port=port)})
    finally:
        proxy_process.stop(proxy)


async def hold_in_finalization(
    store: Store, client: Client, job_id: str, code: str, conn: Connection
) -> None:
    """Take the task row (X) once the job entered finalization, before its task update.

    The worker's database is slow (a delaying proxy), so between the `finalization` event and
    the task update there are several slow round trips; the row then shows the job blocked there.
    """
    await until(client, job_id, lambda e: e.phase == "finalization")
    await conn.execute(text("SELECT title FROM tasks WHERE code = :c FOR UPDATE"), {"c": code})
    async with store.read() as check:
        task = await tasks.get_task(check, code)
    assert task.status != "completed", "the job finished before the lock: proxy too fast"


@pytest.mark.parametrize("action", ["sigkill", "cancel"])
async def test_sigkill_and_cancel_inside_finalization(
    store: Store,
    client: Client,
    spawn_worker: Spawn,
    fast: Settings,
    mariadb_server: mariadb.MariaDB,
    action: str,
) -> None:
    [code] = await seed(store, items=2)
    queued = await client.enqueue(code)
    async with slow_database(fast, mariadb_server, 40) as slow:
        async with cast(AsyncEngine, store.engine).connect() as conn:
            transaction = await conn.begin()
            first = spawn_worker(settings=slow)
            await hold_in_finalization(store, client, queued.job_id, code, conn)
            if action == "sigkill":
                first.signal(signal.SIGKILL)
                first.wait()
            else:
                await client.cancel(queued.job_id, reason="cancel in finalization")
                arq_id = (await client.snapshot(queued.job_id)).queue_job_id
                async with asyncio.timeout(10):
                    while await client.pool.zscore(keys.ARQ_ABORT, arq_id or "") is not None:
                        await asyncio.sleep(0.02)
            await transaction.rollback()
        if action == "cancel":  # the slow worker records the cancel through the proxy
            events = await collect(client, queued.job_id)
    if action == "sigkill":
        spawn_worker()
        events = await collect(client, queued.job_id)
    assert_gap_free(events)
    ends = [e.type for e in events if e.terminal]
    async with store.read() as conn2:
        task = await tasks.get_task(conn2, code)
    if action == "sigkill":
        assert ends == [EventType.COMPLETED]
        assert [e.attempt for e in events if e.type == EventType.STARTED] == [1, 2]
        assert task.status == "completed"
    else:
        assert ends == [EventType.CANCELLED]
        assert task.status == "pending" and task.items_completed == 2  # done items stay done
