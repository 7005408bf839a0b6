"""Putting jobs on the arq queue, with priorities and delayed retries.

arq runs ready jobs in score order (a sorted set scored by start time in ms). A job's score is
its enqueue time minus an offset per priority, so every `high` job waiting sorts before every
`normal` one, and those before `low`, FIFO within a priority. A delayed retry waits in
`<queue>:delayed` and is pushed with its priority's score when due (arq's deferral would score
it at its due time and let it lose its priority).

Each push uses a new arq job id `<job_id>.<n>`: arq refuses an id whose job or result still
exists, and an abort left for a finished id kills the next job with that id (arq#485).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from arq.connections import ArqRedis

from dfo import keys
from dfo.models import Priority

FUNCTION = "run_agent_job"
_TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000
_OFFSET_MS = {Priority.HIGH: 2 * _TEN_YEARS_MS, Priority.NORMAL: _TEN_YEARS_MS, Priority.LOW: 0}
JOB_KEY_TTL = timedelta(days=7)


def _counter(job_id: str) -> str:
    return f"dfo:job:{job_id}:pushes"


async def next_id(pool: ArqRedis, job_id: str) -> str:
    """A fresh arq job id for the job's next push (record it before pushing)."""
    n = await pool.incr(_counter(job_id))
    await pool.expire(_counter(job_id), int(JOB_KEY_TTL.total_seconds()))
    return f"{job_id}.{n}"


async def push(pool: ArqRedis, arq_id: str, job_id: str, priority: str, queue: str) -> None:
    """Make the job runnable now under `arq_id`."""
    score_ms = time.time() * 1000 - _OFFSET_MS[Priority(priority)]
    await pool.enqueue_job(
        FUNCTION,
        job_id,
        _job_id=arq_id,
        _queue_name=queue,
        _defer_until=datetime.fromtimestamp(score_ms / 1000, UTC),
        _expires=JOB_KEY_TTL,
    )


def delayed(queue: str) -> str:
    """Sorted set of job ids waiting for a retry, scored by when they are due."""
    return f"{queue}:delayed"


async def push_later(pool: ArqRedis, job_id: str, delay_s: float, queue: str) -> None:
    await pool.zadd(delayed(queue), {job_id: time.time() + delay_s})


async def due(pool: ArqRedis, queue: str) -> list[str]:
    """Claim the delayed jobs that are due (each claimed by exactly one caller)."""
    raw = await pool.zrangebyscore(delayed(queue), "-inf", time.time())
    claimed = []
    for member in raw:
        job_id = member.decode() if isinstance(member, bytes) else str(member)
        if await pool.zrem(delayed(queue), job_id):
            claimed.append(job_id)
    return claimed


async def remove(pool: ArqRedis, job_id: str, arq_id: str | None, queue: str) -> None:
    """Take a queued job off the queue (cancel): it will not start."""
    await pool.zrem(delayed(queue), job_id)
    if arq_id:
        await pool.zrem(queue, arq_id)
        await pool.delete(keys.arq_job(arq_id))


async def abort(pool: ArqRedis, arq_id: str) -> None:
    """Ask the worker running `arq_id` to cancel it (arq's abort set)."""
    await pool.zadd(keys.ARQ_ABORT, {arq_id: time.time() * 1000})


async def state(pool: ArqRedis, arq_id: str | None, job_id: str, queue: str) -> str:
    """Where Redis has the job: running, queued, delayed, finished or missing."""
    if arq_id and await pool.exists(keys.arq_in_progress(arq_id)):
        return "running"
    if arq_id and await pool.zscore(queue, arq_id) is not None:
        return "queued"
    if await pool.zscore(delayed(queue), job_id) is not None:
        return "delayed"
    if arq_id and await pool.exists(keys.arq_result(arq_id)):
        return "finished"
    return "missing"
