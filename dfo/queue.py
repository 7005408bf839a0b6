"""Putting jobs on the arq queue, with priorities and delayed retries.

arq runs ready jobs in score order (a sorted set scored by start time in ms). A job's score is
its enqueue time minus an offset per priority, so every `high` job waiting sorts before every
`normal` one, and those before `low`, FIFO within a priority. A delayed retry waits in
`<queue>:delayed` and is pushed with its priority's score when due (arq's deferral would score
it at its due time and let it lose its priority).

Each push uses a new arq job id `<job_id>.<random>`: arq refuses an id whose job or result still
exists, and an abort left for a finished id kills the next job with that id (arq#485).
"""

from __future__ import annotations

import pickle
import secrets
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from dfo import keys
from dfo.models import Priority
from dfo.scripts import Lua

FUNCTION = "run_agent_job"
_TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000
_OFFSET_MS = {Priority.HIGH: 2 * _TEN_YEARS_MS, Priority.NORMAL: _TEN_YEARS_MS, Priority.LOW: 0}
JOB_KEY_TTL = timedelta(days=7)


def new_id(job_id: str) -> str:
    """A fresh arq job id for the job's next push (record it on the row before pushing)."""
    return f"{job_id}.{secrets.token_hex(4)}"


# arq's enqueue (job key and result key must not exist; job data with a TTL; ZADD) in one
# round trip, then the wake-up. The same checks as arq's WATCH/MULTI, atomically.
_PUSH = Lua("""
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
redis.call('PUBLISH', ARGV[5], '')
return 1
""")
SCRIPTS = [_PUSH]


def payload(job_id: str, enqueued_ms: int) -> bytes:
    """arq's job data for `run_agent_job(job_id)`, as `arq.jobs.serialize_job` writes it with
    arq's default serializer (pickle): kept here so that clients need not import arq
    (tests/test_queue.py checks arq reads it back)."""
    data: dict[str, object] = {"t": None, "f": FUNCTION, "a": (job_id,), "k": {}, "et": enqueued_ms}
    return pickle.dumps(data)


def stage_push(pipe: Pipeline, arq_id: str, job_id: str, priority: str, queue: str) -> None:
    """Add the push of `arq_id` (runnable now, at its priority) to `pipe`."""
    _PUSH.stage(pipe, *_push_arguments(arq_id, job_id, priority, queue))


async def push(pool: Redis, arq_id: str, job_id: str, priority: str, queue: str) -> None:
    """Make the job runnable now under `arq_id`, and wake an idle worker."""
    await _PUSH(pool, *_push_arguments(arq_id, job_id, priority, queue))


def _push_arguments(
    arq_id: str, job_id: str, priority: str, queue: str
) -> tuple[list[str], list[str | int | bytes]]:
    now_ms = int(time.time() * 1000)
    return (
        [keys.arq_job(arq_id), keys.arq_result(arq_id), queue],
        [
            payload(job_id, now_ms),
            int(JOB_KEY_TTL.total_seconds() * 1000),
            now_ms - _OFFSET_MS[Priority(priority)],
            arq_id,
            keys.wake(queue),
        ],
    )


async def wake(pool: Redis, queue: str) -> None:
    """Tell the queue's idle workers to poll now (they would otherwise wait for their next poll)."""
    await pool.publish(keys.wake(queue), b"")


def delayed(queue: str) -> str:
    """Sorted set of job ids waiting for a retry, scored by when they are due."""
    return f"{queue}:delayed"


async def push_later(pool: Redis, job_id: str, delay_s: float, queue: str) -> None:
    await pool.zadd(delayed(queue), {job_id: time.time() + delay_s})


async def due(pool: Redis, queue: str) -> list[str]:
    """Claim the delayed jobs that are due (each claimed by exactly one caller)."""
    raw = await pool.zrangebyscore(delayed(queue), "-inf", time.time())
    claimed = []
    for member in raw:
        job_id = member.decode() if isinstance(member, bytes) else str(member)
        if await pool.zrem(delayed(queue), job_id):
            claimed.append(job_id)
    return claimed


async def remove(pool: Redis, job_id: str, arq_id: str | None, queue: str) -> None:
    """Take a queued job off the queue (cancel): it will not start."""
    await pool.zrem(delayed(queue), job_id)
    if arq_id:
        await pool.zrem(queue, arq_id)
        await pool.delete(keys.arq_job(arq_id))


async def abort(pool: Redis, arq_id: str, queue: str) -> None:
    """Ask the worker running `arq_id` to cancel it (arq's abort set, read on each poll)."""
    await pool.zadd(keys.ARQ_ABORT, {arq_id: time.time() * 1000})
    await wake(pool, queue)


class JobRef(Protocol):
    @property
    def job_id(self) -> str: ...
    @property
    def queue_job_id(self) -> str | None: ...


R = TypeVar("R", bound=JobRef)


async def unaccounted(pool: Redis, refs: Sequence[R], queue: str) -> list[R]:
    """The jobs Redis has neither in the queue, nor delayed, nor heartbeating (3 commands)."""
    if not refs:
        return []
    async with pool.pipeline(transaction=False) as pipe:
        pipe.zmscore(queue, [ref.queue_job_id or "-" for ref in refs])
        pipe.zmscore(delayed(queue), [ref.job_id for ref in refs])
        pipe.mget([keys.heartbeat(ref.job_id) for ref in refs])
        queued, waiting, beating = await pipe.execute()
    return [
        ref
        for ref, q, w, b in zip(refs, queued, waiting, beating, strict=True)
        if q is None and w is None and b is None
    ]


async def state(pool: Redis, arq_id: str | None, job_id: str, queue: str) -> str:
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
