"""Running one worker process: connections, the arq Worker, the reaper, and signals.

SIGTERM/SIGINT: stop taking jobs, give running jobs `shutdown_grace` seconds to finish, then
cancel the rest, which put themselves back on the queue (not cancelled, not failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from arq.connections import ArqRedis
from arq.worker import Worker, func
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dfo import keys, queue
from dfo.client import Client
from dfo.redact import mask_url
from dfo.services import redis_client
from dfo.settings import Settings
from dfo.worker import heartbeat, reaper, wakeup
from dfo.worker.job import run_agent_job
from dfo.worker.state import WorkerState

log = logging.getLogger("dfo.worker")


async def serve(
    settings: Settings,
    *,
    concurrency: int,
    queue_name: str,
    burst: bool,
    metrics_port: int | None = None,
) -> None:
    # the store, the queue's Redis (an arq pool: arq's Worker calls its own methods) and the bus
    client = await Client.open(settings, connect=redis_client.connect_queue)
    if metrics_port is not None:
        from dfo.worker import metrics

        metrics.serve(metrics_port)
    store, pool = client.store, client.pool
    assert isinstance(pool, ArqRedis)  # connect_queue's
    state = WorkerState(settings=settings, store=store, pool=pool, bus=client.bus, queue=queue_name)
    worker = wakeup.WakeableWorker(
        functions=[func(run_agent_job, name=queue.FUNCTION, max_tries=1_000_000)],
        redis_pool=pool,
        queue_name=queue_name,
        max_jobs=concurrency,
        job_timeout=settings.job_timeout,
        keep_result=3600,
        poll_delay=settings.poll_delay,
        allow_abort_jobs=True,
        handle_signals=False,
        burst=burst,
        retry_jobs=True,
        ctx={"dfo": state},
        health_check_interval=60,
    )
    loop = asyncio.get_running_loop()
    stopping: asyncio.Task[None] | None = None

    def on_signal(signum: signal.Signals) -> None:
        nonlocal stopping
        if stopping is None:
            log.info("%s: draining (grace %gs)", signum.name, settings.shutdown_grace)
            stopping = asyncio.create_task(drain(state, worker))
        else:
            log.info("%s again: stopping now", signum.name)
            state.requeue_on_cancel = True
            worker.handle_sig(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    log.info(
        "worker %s ready: queue %s, concurrency %d, database %s",
        state.worker_id,
        queue_name,
        concurrency,
        mask_url(store.url),
    )
    background = asyncio.gather(
        reaper.run(state, concurrency),
        wakeup.listen(pool, queue_name, worker),
        heartbeat.beat(state),
    )
    try:
        while True:
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker.async_run()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                # arq ends its poll loop on a Redis error; a restarted Redis must not end us.
                log.warning("redis connection lost (%s); reconnecting", exc)
                await asyncio.sleep(1.0)
                continue
            if not burst or stopping is not None:
                break
            # A burst worker also waits for retries that are still delayed.
            if not await pool.zcard(queue.delayed(queue_name)) and not await pool.zcard(queue_name):
                break
            await asyncio.sleep(settings.poll_delay)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
        if stopping is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
        state.requeue_on_cancel = True
        # Let cancelled jobs record where they stand before arq's close() cancels again.
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await pool.delete(keys.worker(state.worker_id))
        await client.bus.close()
        await worker.close()  # closes the pool too
        await client.store.close()
        log.info("worker %s stopped", state.worker_id)


async def drain(state: WorkerState, worker: Worker) -> None:
    state.draining = True
    worker.allow_pick_jobs = False
    deadline = asyncio.get_running_loop().time() + state.settings.shutdown_grace
    while any(not t.done() for t in worker.tasks.values()):
        if asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.1)
    state.requeue_on_cancel = True
    worker.handle_sig(signal.SIGTERM)
