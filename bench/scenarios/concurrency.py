"""concurrency: 500 jobs active at once in one worker process (demo agent, 1 s per item, 20
items), every event watched by one subscriber.

Checks that all 500 progress without stalls (each completes, no job waits more than 2.5 s
between two of its events, no stall recovery), the worker's CPU, and event delivery latency
(watcher's clock minus the event's `ts`, both on this machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from datetime import datetime

from bench.harness import (
    Check,
    Env,
    Result,
    cpu_seconds,
    opened_store,
    percentile,
    reset_tasks,
    seed_tasks,
    worker,
)
from dfo.client import Client
from dfo.events import Event
from dfo.settings import Settings

NAME = "concurrency"
WHAT = "500 jobs active at once in one worker (demo agent 1 s/item, 20 items), events watched"
TARGET = "all progress, no stalls; worker CPU <= 50 % of a core; delivery p99 <= 50 ms"


async def run(env: Env, full: bool) -> Result:
    jobs, items, delay, reps = (500, 20, 1.0, 3) if full else (10, 3, 0.1, 2)
    result = Result(NAME, WHAT, TARGET)
    settings = env.settings("sqlite")
    async with opened_store(settings) as store:
        await seed_tasks(store, "CC", jobs, items=items, config={"delay": delay})
    for rep in range(reps):
        queue = f"cc-{uuid.uuid4().hex[:6]}"
        row = await _once(env, settings.model_copy(update={"queue": queue}), jobs, items)
        row["rep"] = rep + 1
        result.repetitions.append(row)
    for key in ("delivery_p50_ms", "delivery_p99_ms", "worker_cpu_pct", "max_event_gap_s"):
        result.metrics[key] = statistics.median(r[key] for r in result.repetitions)
    result.metrics["completed_min"] = min(r["completed"] for r in result.repetitions)
    result.metrics["stalls_max"] = max(r["stalls"] for r in result.repetitions)
    result.checks = [
        Check("completed_min", result.metrics["completed_min"], jobs, ">="),
        Check("max_event_gap_s", result.metrics["max_event_gap_s"], 2.5 * delay),
        Check("stalls_max", result.metrics["stalls_max"], 0),
        Check("worker_cpu_pct", result.metrics["worker_cpu_pct"], 50.0),
        Check("delivery_p99_ms", result.metrics["delivery_p99_ms"], 50.0),
    ]
    result.notes.append(
        f"{jobs} jobs x {items} items at {delay:g} s per item, worker --concurrency {jobs}, "
        f"{reps} repetitions (tasks reset to pending between them)"
    )
    return result


async def _once(env: Env, settings: Settings, jobs: int, items: int) -> dict[str, float]:
    async with opened_store(settings) as store:
        await reset_tasks(store)
    client = await Client.open(settings)
    latencies: list[float] = []
    last_seen: dict[str, float] = {}
    gaps: list[float] = []
    done: set[str] = set()
    all_done = asyncio.Event()

    async def watch() -> None:
        async for event in client.bus.watch(None):
            now = time.time()
            if event.type == "agent_job_queued":
                continue
            latencies.append(now - _epoch(event))
            if event.job_id in last_seen:
                gaps.append(now - last_seen[event.job_id])
            last_seen[event.job_id] = now
            if event.terminal:
                done.add(event.job_id)
                if len(done) >= jobs:
                    all_done.set()

    watcher = asyncio.create_task(watch())
    log = env.dir / "concurrency-worker.log"
    try:
        await asyncio.sleep(0.2)
        for start in range(0, jobs, 50):
            await asyncio.gather(
                *(client.enqueue(f"CC-{n}") for n in range(start + 1, min(jobs, start + 50) + 1))
            )
        with worker(settings, "--concurrency", str(jobs), log=log) as process:
            t0 = time.monotonic()
            async with asyncio.timeout(items * 10 + 120):
                await all_done.wait()
            cpu = cpu_seconds([process.pid]) / (time.monotonic() - t0) * 100
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await client.close()
    stalls = log.read_text(errors="replace").count("stalled")
    return {
        "completed": len(done),
        "events": len(latencies),
        "delivery_p50_ms": percentile(latencies, 50) * 1000,
        "delivery_p99_ms": percentile(latencies, 99) * 1000,
        "max_event_gap_s": max(gaps),
        "worker_cpu_pct": cpu,
        "stalls": stalls,
    }


def _epoch(event: Event) -> float:
    return datetime.fromisoformat(event.ts.replace("Z", "+00:00")).timestamp()
