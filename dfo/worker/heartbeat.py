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
    """Beat while the block runs (`beat` refreshes it); yields how many earlier attempts
    failed (one round trip)."""
    ttl_ms = int(state.settings.stall_timeout * 1000)
    async with state.pool.pipeline(transaction=False) as pipe:
        pipe.set(keys.heartbeat(job_id), state.worker_id, px=ttl_ms)
        pipe.get(keys.failures(job_id))
        _, failures = await pipe.execute()
    state.beating.add(job_id)
    try:
        yield int(failures or 0)
    finally:
        state.beating.discard(job_id)
        with contextlib.suppress(Exception):
            await state.pool.delete(keys.heartbeat(job_id))


async def beat(state: WorkerState) -> None:
    """Refresh the heartbeat of every job running in this worker, every `heartbeat_interval`:
    one pipeline and one statement for all of them (a task per job cost a transaction per job
    and beat; with hundreds of jobs running, hundreds per interval)."""
    ttl_ms = int(state.settings.stall_timeout * 1000)
    while True:
        await asyncio.sleep(state.settings.heartbeat_interval)
        running = list(state.beating)
        if not running:
            continue
        try:
            async with state.pool.pipeline(transaction=False) as pipe:
                for job_id in running:
                    pipe.set(keys.heartbeat(job_id), state.worker_id, px=ttl_ms)
                await pipe.execute()
            # A job that ended meanwhile deletes its key; should its DEL have overtaken the SET
            # above (a beat that waited for a pooled connection), it has left `beating` by
            # now, and loses the key again here.
            ended = [job_id for job_id in running if job_id not in state.beating]
            if ended:
                await state.pool.delete(*(keys.heartbeat(job_id) for job_id in ended))
            async with state.store.transaction() as conn:
                await jobs.beat(conn, state.worker_id, utcnow())
        except Exception as exc:  # keep beating: a blip must not orphan healthy jobs
            log.warning("heartbeat failed: %s", exc)
