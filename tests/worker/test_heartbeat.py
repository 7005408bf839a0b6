"""One beating loop per worker (real Redis and store): running jobs keep their key, and a job
that ended never gets its key back from a beat that was already on its way."""

from __future__ import annotations

import asyncio
import contextlib

from dfo import keys
from dfo.client import Client
from dfo.services.redis_client import connect_queue
from dfo.settings import Settings
from dfo.worker import heartbeat
from dfo.worker.state import WorkerState


async def test_ended_jobs_never_keep_a_heartbeat_key(client: Client, fast: Settings) -> None:
    pool = await connect_queue(fast)
    state = WorkerState(
        settings=fast.model_copy(update={"heartbeat_interval": 0.0005, "stall_timeout": 30}),
        store=client.store,
        pool=pool,
        bus=client.bus,
        queue=fast.queue,
    )
    beating = asyncio.create_task(heartbeat.beat(state))
    job_ids = [f"hb-{n}" for n in range(200)]
    try:

        async def run(job_id: str) -> None:
            async with heartbeat.heartbeat(state, job_id):
                assert await pool.exists(keys.heartbeat(job_id))
                await asyncio.sleep(0.001)

        for start in range(0, len(job_ids), 20):  # jobs end while beats are in flight
            await asyncio.gather(*(run(job_id) for job_id in job_ids[start : start + 20]))
        await asyncio.sleep(0.05)  # many more beats
        assert not state.beating
        assert await pool.exists(*(keys.heartbeat(job_id) for job_id in job_ids)) == 0
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        await pool.aclose()
