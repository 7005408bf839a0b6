"""pickup: enqueue -> `agent_job_started` seen by a watcher, one job at a time, idle worker.

Baseline: plain arq with its default poll_delay (0.5 s), its job publishing a "started" message
that the same kind of watcher receives. Also measured: the CPU an idle dfo worker uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import sys
import time
import uuid
from typing import Any

from arq.connections import create_pool

from bench import arq_baseline
from bench.harness import (
    ROOT,
    Check,
    Env,
    Result,
    cpu_seconds,
    median_of,
    opened_store,
    seed_tasks,
    stop,
    summary_ms,
    wait_for_worker,
    worker,
)
from dfo.client import Client
from dfo.events import EventType

NAME = "pickup"
WHAT = "enqueue -> agent_job_started seen by a watcher, one job at a time, idle worker (SQLite)"
TARGET = "p50 <= 2 ms, p99 <= 5 ms, idle worker <= 1 % of a core"


async def run(env: Env, full: bool) -> Result:
    jobs, reps, baseline_jobs, idle_s = (300, 3, 20, 5.0) if full else (5, 2, 3, 1.0)
    result = Result(NAME, WHAT, TARGET)
    settings = env.settings("sqlite")
    async with opened_store(settings) as store:
        codes = await seed_tasks(store, "PK", jobs * reps, items=1)
    with worker(settings, log=env.dir / "pickup-worker.log") as process:
        await wait_for_worker(settings, process)
        idle = await _idle_cpu(process.pid, idle_s)
        client = await Client.open(settings)
        try:
            for rep in range(reps):
                batch = codes[rep * jobs : (rep + 1) * jobs]
                samples = await _dfo_pickups(client, batch)
                result.repetitions.append({"rep": rep + 1, **summary_ms(samples)})
        finally:
            await client.close()
    base_reps = []
    for rep in range(reps):
        samples = await _arq_pickups(env, baseline_jobs)
        base_reps.append({"rep": rep + 1, **summary_ms(samples)})
    result.metrics = {
        "p50_ms": median_of(result.repetitions, "p50_ms"),
        "p99_ms": median_of(result.repetitions, "p99_ms"),
        "idle_cpu_pct": idle,
    }
    result.baseline = {
        "name": "plain arq, default poll_delay",
        "p50_ms": median_of(base_reps, "p50_ms"),
        "p99_ms": median_of(base_reps, "p99_ms"),
        "repetitions": base_reps,
    }
    result.ratios = {
        "p50_ms": result.metrics["p50_ms"] / result.baseline["p50_ms"],
        "p99_ms": result.metrics["p99_ms"] / result.baseline["p99_ms"],
    }
    result.checks = [
        Check("p50_ms", result.metrics["p50_ms"], 2.0),
        Check("p99_ms", result.metrics["p99_ms"], 5.0),
        Check("idle_cpu_pct", idle, 1.0),
    ]
    result.notes.append(
        f"{jobs} dfo jobs x {reps} repetitions; baseline {baseline_jobs} jobs x {reps} "
        f"(each waits up to 0.5 s); idle CPU over {idle_s:g} s"
    )
    return result


async def _idle_cpu(pid: int, seconds: float) -> float:
    await asyncio.sleep(1.0)  # let startup work settle
    before, start = cpu_seconds([pid]), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds([pid]) - before) / (time.monotonic() - start) * 100


async def _dfo_pickups(client: Client, codes: list[str]) -> list[float]:
    seen: dict[str, tuple[str, float]] = {}
    arrived = asyncio.Event()

    async def watch() -> None:
        async for event in client.bus.watch(None):
            if event.type in (EventType.STARTED, EventType.COMPLETED):
                seen[f"{event.job_id}:{event.type}"] = (event.type, time.perf_counter())
                arrived.set()

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.2)  # subscribed
    samples: list[float] = []
    try:
        for code in codes:
            t0 = time.perf_counter()
            job_id = (await client.enqueue(code)).job_id
            started = await _wait(seen, arrived, f"{job_id}:{EventType.STARTED}")
            samples.append(started - t0)
            await _wait(seen, arrived, f"{job_id}:{EventType.COMPLETED}")
            await asyncio.sleep(0.01)  # the worker is idle again before the next job
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return samples


async def _wait(seen: dict[str, tuple[str, float]], arrived: asyncio.Event, key: str) -> float:
    async with asyncio.timeout(30):
        while key not in seen:
            arrived.clear()
            await arrived.wait()
    return seen.pop(key)[1]


async def _arq_pickups(env: Env, jobs: int) -> list[float]:
    queue = f"arq-pickup-{uuid.uuid4().hex[:6]}"
    url = env.redis.url
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.arq_baseline", url, queue],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pool = await create_pool(arq_baseline.redis_settings(url), default_queue_name=queue)
    pubsub = pool.pubsub()
    try:
        await pubsub.subscribe(queue + ":started")
        await _arq_warmup(pool, pubsub, queue)
        samples = []
        for n in range(jobs):
            job_id = f"{queue}-{n}"  # arq refuses an id whose result it still keeps
            # A random pause, so enqueues are not phase-locked to arq's poll cycle.
            await asyncio.sleep(random.uniform(0, 0.5))
            t0 = time.perf_counter()
            await pool.enqueue_job("started", _job_id=job_id, _queue_name=queue)
            await _arq_started(pubsub, job_id)
            samples.append(time.perf_counter() - t0)
        return samples
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await pool.aclose()
        stop(process)


async def _arq_warmup(pool: Any, pubsub: Any, queue: str) -> None:
    await pool.enqueue_job("started", _job_id=f"{queue}-warmup", _queue_name=queue)
    await _arq_started(pubsub, f"{queue}-warmup", within=60)


async def _arq_started(pubsub: Any, job_id: str, within: float = 30) -> None:
    async with asyncio.timeout(within):
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=within)
            if message and message["data"].decode() == job_id:
                return
