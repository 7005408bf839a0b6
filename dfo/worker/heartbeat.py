"""A running job's heartbeat: a Redis key with a short TTL, refreshed while the job runs.

The reaper of any worker treats an active job without heartbeat as orphaned (its worker was
killed) and hands it to another worker within `stall_timeout` + one reaper period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from dfo import keys
from dfo.store import jobs
from dfo.store.schema import utcnow
from dfo.worker.state import WorkerState

log = logging.getLogger("dfo.worker")


@contextlib.asynccontextmanager
async def heartbeat(state: WorkerState, job_id: str) -> AsyncIterator[int]:
    """Beat while the block runs; yields how many earlier attempts failed (one round trip)."""
    ttl_ms = int(state.settings.stall_timeout * 1000)
    async with state.pool.pipeline(transaction=False) as pipe:
        pipe.set(keys.heartbeat(job_id), state.worker_id, px=ttl_ms)
        pipe.get(keys.failures(job_id))
        _, failures = await pipe.execute()
    task = asyncio.create_task(_beat(state, job_id, ttl_ms))
    try:
        yield int(failures or 0)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):
            await state.pool.delete(keys.heartbeat(job_id))


async def _beat(state: WorkerState, job_id: str, ttl_ms: int) -> None:
    while True:
        await asyncio.sleep(state.settings.heartbeat_interval)
        try:
            await state.pool.set(keys.heartbeat(job_id), state.worker_id, px=ttl_ms)
            async with state.store.transaction() as conn:
                await jobs.record(conn, job_id, state.worker_id, heartbeat_at=utcnow())
        except Exception as exc:  # keep beating: a blip must not orphan a healthy job
            log.warning("heartbeat failed: %s", exc)
