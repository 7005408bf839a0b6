"""Every worker runs this loop: register itself, promote due retries, hand orphaned jobs to a
live worker (stall detection), and reconcile the store with what Redis says.

The store is the source of truth; Redis is transport. Repairs:
- active job, no heartbeat, arq says running -> its worker died: drop arq's in-progress key so
  the job is picked up again at once (arq would wait for the whole job timeout);
- queued job unknown to Redis (Redis lost its data, or the push failed) -> pushed again;
- live job whose arq run finished without dfo recording an end (arq's "max retries
  exceeded" never calls the job function) -> failed, with arq's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from datetime import timedelta

from dfo import keys, queue
from dfo.enqueue import job_event, publish
from dfo.events import EventType
from dfo.models import Job, JobStatus, TaskStatus
from dfo.store import jobs, tasks
from dfo.store.schema import utcnow
from dfo.worker import metrics
from dfo.worker.state import WorkerState

log = logging.getLogger("dfo.worker")


async def run(state: WorkerState, concurrency: int) -> None:
    period = min(state.settings.heartbeat_interval, state.settings.reconcile_interval)
    last_reconcile = 0.0
    while True:
        try:
            await register(state, concurrency)
            metrics.beat()
            await promote_due(state)
            await detect_stalls(state)
            if time.monotonic() - last_reconcile >= state.settings.reconcile_interval:
                last_reconcile = time.monotonic()
                await reconcile(state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("reaper pass failed: %s", exc)
        await asyncio.sleep(period)


async def register(state: WorkerState, concurrency: int) -> None:
    info = {
        "worker_id": state.worker_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "queue": state.queue,
        "concurrency": concurrency,
        "draining": state.draining,
        "seen_at": time.time(),
    }
    ttl = int(max(3 * state.settings.heartbeat_interval, 5))
    await state.pool.set(keys.worker(state.worker_id), json.dumps(info), ex=ttl)


async def promote_due(state: WorkerState) -> None:
    for job_id in await queue.due(state.pool, state.queue):
        async with state.store.read() as conn:
            job = await jobs.find(conn, job_id)
        if job is None or not job.live or job.cancel_requested_at is not None:
            continue
        # A row may still say `active` when the store was down as the attempt failed.
        if job.status == JobStatus.ACTIVE:
            async with state.store.transaction() as conn:
                await jobs.requeue(conn, job.job_id)
        await _push(state, job)


async def _push(state: WorkerState, job: Job) -> None:
    arq_id = queue.new_id(job.job_id)
    async with state.store.transaction() as conn:
        await jobs.set_queue_id(conn, job.job_id, arq_id)
    await queue.push(state.pool, arq_id, job.job_id, job.priority, state.queue)


async def detect_stalls(state: WorkerState) -> None:
    async with state.store.read() as conn:
        active = await jobs.list_jobs(conn, statuses=[JobStatus.ACTIVE.value], limit=1000)
    fresh = utcnow() - timedelta(seconds=state.settings.stall_timeout)
    for job in active:
        # The row's heartbeat is written when the job starts and with every beat: a job that
        # has just started may not have its Redis heartbeat yet.
        if job.heartbeat_at is not None and job.heartbeat_at > fresh:
            continue
        if await state.pool.exists(keys.heartbeat(job.job_id)):
            continue
        where = await queue.state(state.pool, job.queue_job_id, job.job_id, state.queue)
        if where == "running" and job.queue_job_id:
            # Checked after the heartbeat: a new run only starts once this key is gone.
            await state.pool.delete(keys.arq_in_progress(job.queue_job_id))
            await queue.wake(state.pool, state.queue)
            metrics.STALLS.inc()
            log.warning(
                "job %s stalled: worker %s silent for over %gs; handed to another worker",
                job.job_id,
                job.worker_id,
                state.settings.stall_timeout,
            )
            await _requeued(state, job, f"worker {job.worker_id} stopped responding; job requeued")
        elif where in ("queued", "delayed"):
            await _requeued(state, job, None)


async def _requeued(state: WorkerState, job: Job, message: str | None) -> None:
    async with state.store.transaction() as conn:
        if not await jobs.requeue(conn, job.job_id):
            return
        current = await jobs.get(conn, job.job_id)
    if message:
        await publish(state.store, state.bus, job_event(current, EventType.QUEUED, message=message))


async def reconcile(state: WorkerState) -> None:
    lock_ttl = int(max(state.settings.reconcile_interval, 1))
    if not await state.pool.set(
        keys.reconcile_lock(state.queue), state.worker_id, nx=True, ex=lock_ttl
    ):
        return
    async with state.store.read() as conn:
        live = await jobs.live_refs(conn)
    depth: dict[str, int] = {"high": 0, "normal": 0, "low": 0}
    for ref in live:
        if ref.status == JobStatus.QUEUED.value:
            depth[ref.priority] = depth.get(ref.priority, 0) + 1
    for priority, count in depth.items():
        metrics.QUEUE_DEPTH.labels(priority).set(count)
    now = utcnow()
    # A row younger than this may still be on its way to Redis (an enqueue in progress).
    grace = timedelta(seconds=2 * state.settings.reconcile_interval)
    settled = [r for r in live if r.created_at is None or now - r.created_at > grace]
    # A backlog of thousands costs a few round trips: only jobs that Redis has neither queued,
    # delayed nor heartbeating are looked at one by one.
    for start in range(0, len(settled), 1000):
        for ref in await queue.unaccounted(state.pool, settled[start : start + 1000], state.queue):
            await _reconcile_one(state, ref.job_id)


async def _reconcile_one(state: WorkerState, job_id: str) -> None:
    async with state.store.read() as conn:
        job = await jobs.find(conn, job_id)
    if job is None or not job.live or await state.pool.exists(keys.heartbeat(job.job_id)):
        return
    where = await queue.state(state.pool, job.queue_job_id, job.job_id, state.queue)
    if where == "missing":
        log.warning(
            "job %s is %s in the store but unknown to Redis: queued again", job.job_id, job.status
        )
        async with state.store.transaction() as conn:
            await jobs.requeue(conn, job.job_id)
        await _push(state, job)
    elif where == "finished":
        await _finished_without_end(state, job)


async def _finished_without_end(state: WorkerState, job: Job) -> None:
    """arq finished the run but the store has no end for the job.

    A failed run that never reached the job function (arq's "max retries exceeded", an
    expired job) fails the job with arq's reason; any other run is pushed again: a job is
    never dropped because one attempt could not record itself.
    """
    assert job.queue_job_id is not None
    raw = await state.pool.get(keys.arq_result(job.queue_job_id))
    info = None
    if raw:
        from arq.jobs import deserialize_result

        with contextlib.suppress(Exception):
            info = deserialize_result(raw)
    if info is None or info.success or isinstance(info.result, asyncio.CancelledError):
        log.warning(
            "job %s: its last run ended without an outcome in the store; queued again", job.job_id
        )
        async with state.store.transaction() as conn:
            await jobs.requeue(conn, job.job_id)
        await _push(state, job)
        return
    error = f"the queue failed the job: {info.result}"
    async with state.store.transaction() as conn:
        done, total = await tasks.item_counts(conn, job.task_id)
        ended = await jobs.finish(
            conn,
            job.job_id,
            JobStatus.FAILED,
            worker_id=None,
            error=error,
            result={
                "success": False,
                "task_id": job.task_id,
                "task_code": job.task_code,
                "agent_id": job.agent_id,
                "agent": job.agent_name,
                "items_completed": done,
                "items_total": total,
                "progress": round(100 * done / total) if total else 0,
                "execution_time_ms": 0,
                "task_status": TaskStatus.PENDING.value,
                "error": error,
            },
        )
        if ended:
            await tasks.set_state(conn, job.task_id, status=TaskStatus.PENDING.value)
        current = await jobs.get(conn, job.job_id)
    if ended:
        log.warning("job %s failed by reconciliation: %s", job.job_id, error)
        await publish(state.store, state.bus, job_event(current, EventType.FAILED, message=error))
