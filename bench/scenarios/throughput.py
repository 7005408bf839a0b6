"""throughput: drain pre-enqueued tasks through the full pipeline (demo agent, delay 0, 3 items).

Rate = jobs / (last job completed - first job started), from the jobs' own timestamps. The
baseline drains the same number of plain arq no-op jobs (default settings) on the same Redis,
timed the same way from arq's results. Between repetitions the tasks are reset to pending,
so every repetition does the same work.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import uuid
from typing import Any

from arq.connections import create_pool
from sqlalchemy import func, select

from bench import arq_baseline
from bench.harness import (
    ROOT,
    Check,
    Env,
    Result,
    cpu_seconds,
    opened_store,
    reset_tasks,
    seed_tasks,
    stop,
    worker,
)
from dfo.client import Client
from dfo.settings import Settings
from dfo.store import Store
from dfo.store.schema import agent_jobs

NAME = "throughput"
WHAT = "drain pre-enqueued tasks (demo agent, delay 0, 3 items), SQLite/MariaDB, 1/2 processes"
TARGET = "SQLite, 1 process >= 1.5x plain arq no-op jobs/s (default settings)"
CONCURRENCY = 10  # arq's default max_jobs


async def run(env: Env, full: bool) -> Result:
    jobs, reps = (5000, 3) if full else (20, 2)
    result = Result(NAME, WHAT, TARGET)
    configs = [("sqlite", 1), ("sqlite", 2), ("mariadb", 1), ("mariadb", 2)]
    for backend, processes in configs:
        settings = env.settings(backend)
        async with opened_store(settings) as store:
            await seed_tasks(store, "TP", jobs, items=3)
        rates = []
        for rep in range(reps):
            rate, enqueue_rate, cpu = await _drain(env, settings, jobs, processes)
            rates.append(rate)
            result.repetitions.append(
                {
                    "config": f"{backend}-{processes}p",
                    "rep": rep + 1,
                    "jobs": jobs,
                    "jobs_per_s": round(rate, 1),
                    "enqueue_per_s": round(enqueue_rate, 1),
                    "worker_cpu_pct": round(cpu, 1),
                }
            )
        result.metrics[f"{backend}_{processes}p_jobs_per_s"] = statistics.median(rates)
    base = [await _arq_drain(env, jobs) for _ in range(reps)]
    arq = statistics.median(base)
    result.baseline = {
        "name": "plain arq no-op jobs, default settings",
        "repetitions": [round(b, 1) for b in base],
    }
    for key, value in list(result.metrics.items()):
        result.baseline[key] = arq
        result.ratios[key] = value / arq
    key = "sqlite_1p_jobs_per_s"
    result.checks = [Check(key, result.metrics[key], round(1.5 * arq, 1), ">=")]
    result.notes.append(
        f"{jobs} jobs x {reps} repetitions per configuration; worker --concurrency "
        f"{CONCURRENCY}; MariaDB with innodb_flush_log_at_trx_commit=0 (the test server)"
    )
    return result


async def _drain(
    env: Env, settings: Settings, jobs: int, processes: int
) -> tuple[float, float, float]:
    settings = settings.model_copy(update={"queue": f"tp-{uuid.uuid4().hex[:6]}"})
    async with opened_store(settings) as store:
        await reset_tasks(store)
    client = await Client.open(settings)
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        codes = [f"TP-{n}" for n in range(1, jobs + 1)]
        for start in range(0, jobs, 50):
            await asyncio.gather(*(client.enqueue(code) for code in codes[start : start + 50]))
        enqueue_rate = jobs / (loop.time() - t0)
        args = ["--concurrency", str(CONCURRENCY), "--processes", str(processes)]
        with worker(settings, *args, log=env.dir / "throughput-worker.log") as process:
            t1 = loop.time()
            await _until_done(client.store, jobs, process)
            cpu = cpu_seconds([process.pid]) / (loop.time() - t1) * 100
        async with client.store.read() as conn:
            first, last = (
                await conn.execute(
                    select(func.min(agent_jobs.c.started_at), func.max(agent_jobs.c.completed_at))
                )
            ).one()
        return jobs / (last - first).total_seconds(), enqueue_rate, cpu
    finally:
        await client.close()


async def _until_done(store: Store, jobs: int, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(600):
        while True:
            async with store.read() as conn:
                done = (
                    await conn.execute(
                        select(func.count()).where(agent_jobs.c.status == "completed")
                    )
                ).scalar_one()
            if done >= jobs:
                return
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with {process.returncode}")
            await asyncio.sleep(0.2)


async def _arq_drain(env: Env, jobs: int) -> float:
    queue = f"arq-tp-{uuid.uuid4().hex[:6]}"
    pool = await create_pool(arq_baseline.redis_settings(env.redis.url), default_queue_name=queue)
    try:
        for start in range(0, jobs, 50):
            await asyncio.gather(
                *(
                    pool.enqueue_job("noop", _job_id=f"{queue}-{n}", _queue_name=queue)
                    for n in range(start, min(jobs, start + 50))
                )
            )
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.arq_baseline", env.redis.url, queue, "--burst"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await asyncio.to_thread(process.wait, 600)
        finally:
            stop(process)
        results: list[Any] = await pool.all_job_results()
        mine = [r for r in results if r.queue_name == queue]
        if len(mine) < jobs:
            raise RuntimeError(f"arq baseline finished {len(mine)} of {jobs} jobs")
        first = min(r.start_time for r in mine)
        last = max(r.finish_time for r in mine)
        return float(jobs / (last - first).total_seconds())
    finally:
        await pool.aclose()
