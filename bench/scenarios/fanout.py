"""fan-out: 100 watch clients (`Client.watch`, 25 per process) on 50 active jobs emitting
1,000 events/s in total (a real worker: demo agent, 200 items at 50 ms each).

Each watcher checks its seqs have no gap; delivery latency is the watcher's clock minus the
event's `ts`. Baseline: a Redis PING round trip from this process, measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from typing import Any

from bench.harness import (
    ROOT,
    Check,
    Env,
    Result,
    env_vars,
    opened_store,
    percentile,
    reset_tasks,
    seed_tasks,
    summary_ms,
    worker,
)
from dfo.client import Client
from dfo.settings import Settings

NAME = "fanout"
WHAT = "100 watch clients on 50 active jobs emitting 1,000 events/s in total"
TARGET = "zero gaps in any watcher's seqs; delivery p99 <= 50 ms"
WATCHERS_PER_PROCESS = 25


async def run(env: Env, full: bool) -> Result:
    jobs, watchers, items, reps = (50, 100, 150, 3) if full else (4, 8, 10, 2)
    result = Result(NAME, WHAT, TARGET)
    settings = env.settings("sqlite")
    async with opened_store(settings) as store:
        await seed_tasks(store, "FO", jobs, items=items, config={"delay": 0.05})
    ping_reps = []
    for rep in range(reps):
        queue = f"fo-{uuid.uuid4().hex[:6]}"
        row = await _once(env, settings.model_copy(update={"queue": queue}), jobs, watchers)
        row["rep"] = rep + 1
        result.repetitions.append(row)
        ping_reps.append(await _ping(settings))
    for key in ("delivery_p50_ms", "delivery_p99_ms", "events_per_s"):
        result.metrics[key] = statistics.median(r[key] for r in result.repetitions)
    result.metrics["gaps"] = sum(r["gaps"] for r in result.repetitions)
    result.metrics["watchers_incomplete"] = sum(r["incomplete"] for r in result.repetitions)
    result.baseline = {
        "name": "Redis PING round trip",
        "delivery_p50_ms": statistics.median(p["p50_ms"] for p in ping_reps),
        "delivery_p99_ms": statistics.median(p["p99_ms"] for p in ping_reps),
    }
    result.ratios = {
        key: result.metrics[key] / result.baseline[key]
        for key in ("delivery_p50_ms", "delivery_p99_ms")
    }
    result.checks = [
        Check("gaps", result.metrics["gaps"], 0),
        Check("watchers_incomplete", result.metrics["watchers_incomplete"], 0),
        Check("delivery_p99_ms", result.metrics["delivery_p99_ms"], 50.0),
    ]
    result.notes.append(
        f"{watchers} watchers in {max(1, watchers // WATCHERS_PER_PROCESS)} processes, "
        f"{jobs} jobs x {items} items at 50 ms, {reps} repetitions"
    )
    return result


async def _once(env: Env, settings: Settings, jobs: int, watchers: int) -> dict[str, Any]:
    async with opened_store(settings) as store:
        await reset_tasks(store)
    client = await Client.open(settings)
    try:
        ids = [(await client.enqueue(f"FO-{n}")).job_id for n in range(1, jobs + 1)]
    finally:
        await client.close()
    targets = [ids[n % jobs] for n in range(watchers)]
    groups = [
        targets[n : n + WATCHERS_PER_PROCESS] for n in range(0, watchers, WATCHERS_PER_PROCESS)
    ]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.watchers",
            *group,
            cwd=ROOT,
            env=env_vars(settings),
            stdout=asyncio.subprocess.PIPE,
        )
        for group in groups
    ]
    for process in processes:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            line = await process.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"watcher process did not start: {line!r}")
    log = env.dir / "fanout-worker.log"
    with worker(settings, "--concurrency", str(jobs), log=log):
        t0 = time.monotonic()
        outputs = []
        for process in processes:
            assert process.stdout is not None
            async with asyncio.timeout(300):
                outputs.append(await process.stdout.readline())
                await process.wait()
        elapsed = time.monotonic() - t0
    reports = [report for out in outputs for report in json.loads(out)]
    latencies = [ms for report in reports for ms in report["ms"]]
    events = sum(report["events"] for report in reports) * jobs / watchers
    return {
        "watchers": len(reports),
        "incomplete": watchers - len(reports),
        "gaps": sum(report["gaps"] for report in reports),
        "deliveries": len(latencies),
        "events_per_s": events / elapsed,
        "delivery_p50_ms": percentile(latencies, 50),
        "delivery_p99_ms": percentile(latencies, 99),
    }


async def _ping(settings: Settings) -> dict[str, float]:
    client = await Client.open(settings)
    try:
        samples = []
        for _ in range(1000):
            t0 = time.perf_counter()
            await client.pool.ping()
            samples.append(time.perf_counter() - t0)
        return summary_ms(samples)
    finally:
        await client.close()
