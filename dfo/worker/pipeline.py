"""The pipeline: context -> validation -> execution -> finalization, and how a job ends.

How an attempt can end, and what the job row and the events say:
- completed / blocked: the phases ran (blocked: active blockers, never retried);
- cancelled: a cancel was requested (recorded in the store before the abort reached us);
- back on the queue: the worker is shutting down (SIGTERM after its grace period);
- failed: a timeout, invalid input, an unexpected error, or transient errors past max_tries;
- retrying: a transient error (agent or database/Redis trouble) with tries left; the job waits
  an exponential backoff with jitter in `dfo:delayed` and runs again, skipping items done.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from dfo import keys, queue
from dfo.agents import TransientAgentError
from dfo.enqueue import enqueue, job_event
from dfo.errors import DatabaseUnavailable, DfoError, RedisUnavailable
from dfo.events import EventType
from dfo.models import Dependency, Job, JobStatus, TaskStatus, evolve
from dfo.store import jobs, tasks
from dfo.worker import metrics
from dfo.worker.heartbeat import heartbeat
from dfo.worker.logs import job_context
from dfo.worker.phases import context as context_phase
from dfo.worker.phases import execution, finalization, validation
from dfo.worker.run import JobRun
from dfo.worker.state import WorkerState

log = logging.getLogger("dfo.worker")

TRANSIENT = (
    TransientAgentError,
    DatabaseUnavailable,
    RedisUnavailable,
    DBAPIError,
    RedisError,
    OSError,
)
#: A job restarted this many times max_tries (crashes, takeovers) is given up.
START_BUDGET = 3


async def run_job(state: WorkerState, job_id: str) -> str:
    """Run one attempt of the job; returns how it ended (for arq's log)."""
    # One transaction claims the job and reads it: status, phase `context`, progress 0 and
    # the row's heartbeat are written here, so the `started` event needs no write of its own.
    async with state.store.transaction() as conn:
        started = await jobs.start(conn, job_id, state.worker_id, max_starts_per_try=START_BUDGET)
        job = await jobs.find(conn, job_id)
    if job is None:
        log.warning("job %s is not in the store; dropped", job_id)
        return "unknown"
    token = job_context.set(
        {
            "job_id": job.job_id,
            "task_code": job.task_code,
            "project": job.project_code,
            "request_id": job.request_id,
            "requested_by": job.requested_by,
            "agent": job.agent_name,
            "attempt": job.attempts,
            "worker_id": state.worker_id,
        }
    )
    try:
        if not started:
            return await _not_started(state, job)
        metrics.ACTIVE.inc()
        began = time.perf_counter()
        try:
            return await _attempt(state, job)
        finally:
            metrics.ACTIVE.dec()
            agent = metrics.label("agent", job.agent_name)
            metrics.JOB_DURATION.labels(agent).observe(time.perf_counter() - began)
    finally:
        job_context.reset(token)


async def _not_started(state: WorkerState, job: Job) -> str:
    if not job.live:
        return f"already {job.status}"
    if job.cancel_requested_at is not None:
        await _end_cancelled(state, job)
        return "cancelled"
    await _end(
        state,
        JobRun(state, job),
        JobStatus.FAILED,
        f"gave up after {job.attempts} starts (worker crashes or takeovers)",
        owned=False,
    )
    return "failed"


async def _attempt(state: WorkerState, job: Job) -> str:
    run = JobRun(state, job)
    failures: int | None = None
    log.info("job started (attempt %d)", job.attempts)
    try:
        # Published before the Redis heartbeat is set, so watchers see the start at once: the
        # reaper leaves a job alone while its row's heartbeat (just written by `start`) is fresh.
        await run.emit(
            EventType.STARTED,
            status=JobStatus.ACTIVE.value,
            phase="context",
            progress=0,
            message=f"started on {state.worker_id} (attempt {job.attempts})",
        )
        async with heartbeat(state, job.job_id) as failures:
            context, agent = await context_phase.run(run)
            blockers = await validation.run(run, context)
            if blockers:
                await _end_blocked(state, run, blockers)
                return "blocked"
            await execution.run(run, context, agent, attempt=failures + 1)
            finished = await finalization.run(run)
            if finished is None:
                return await _lost_race(state, run)
            if failures:
                await state.pool.delete(keys.failures(job.job_id))
            log.info("job completed in %d ms", finished.result["execution_time_ms"])
            await _release_dependents(state, run, finished.dependents)
            return "completed"
    except asyncio.CancelledError:
        await asyncio.shield(_cancelled(state, run))
        raise
    except TRANSIENT as exc:
        if failures is None:  # failed before the heartbeat read the count
            failures = int(await state.pool.get(keys.failures(job.job_id)) or 0)
        return await _transient(state, run, exc, failures + 1)
    except DfoError as exc:
        await _end(state, run, JobStatus.FAILED, str(exc))
        return "failed"
    except Exception as exc:
        log.exception("job failed with an unexpected error")
        await _end(state, run, JobStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return "failed"


async def _cancelled(state: WorkerState, run: JobRun) -> None:
    """CancelledError: a cancel request, a shutdown, or arq's timeout (told apart by intent)."""
    try:
        async with state.store.read() as conn:
            current = await jobs.find(conn, run.job_id)
        if current is not None and current.cancel_requested_at is not None:
            await _end_cancelled(state, current, run)
        elif state.requeue_on_cancel:
            async with state.store.transaction() as conn:
                await jobs.requeue(conn, run.job_id)
            await run.emit(
                EventType.QUEUED,
                status=JobStatus.QUEUED.value,
                message="worker shutting down: job back on the queue",
            )
            log.info("job put back on the queue (worker shutdown)")
        else:
            timeout = state.settings.job_timeout
            await _end(state, run, JobStatus.FAILED, f"timed out after {timeout:g} s")
    except Exception:
        log.exception("could not record how the job was interrupted")


async def _transient(state: WorkerState, run: JobRun, exc: BaseException, failures: int) -> str:
    error = f"{type(exc).__name__}: {exc}"
    await state.pool.set(keys.failures(run.job_id), failures, ex=7 * 24 * 3600)
    if failures >= run.job.max_tries:
        await _end(state, run, JobStatus.FAILED, f"{error} (after {failures} attempts)")
        return "failed"
    delay = backoff(state, failures)
    metrics.RETRIES.labels(metrics.label("agent", run.job.agent_name)).inc()
    log.warning("attempt %d failed (%s); retrying in %.1f s", failures, error, delay)
    try:
        async with state.store.transaction() as conn:
            await jobs.requeue(conn, run.job_id, error=error)
    except Exception:  # the database may be what failed; the retry fixes the row later
        log.warning("could not mark the job queued (store unavailable)")
    await queue.push_later(state.pool, run.job_id, delay, state.queue)
    await _publish_quietly(
        state,
        run,
        EventType.RETRYING,
        f"attempt {failures}/{run.job.max_tries} failed: {error}; retrying in {delay:.1f}s",
        status=JobStatus.QUEUED.value,
        delay_s=round(delay, 3),
        error=error,
    )
    return "retrying"


def backoff(state: WorkerState, failures: int) -> float:
    base = state.settings.retry_backoff * 2 ** (failures - 1)
    capped = min(base, state.settings.retry_backoff_max)
    return float(capped * (1 + random.random() * 0.25))


async def _publish_quietly(
    state: WorkerState, run: JobRun, kind: EventType, message: str, *, status: str, **data: Any
) -> None:
    """Publish even when the store is down (the seq is stored on the next successful write)."""
    event = job_event(evolve(run.job, status=status), kind, message=message, **data)
    try:
        published = await state.bus.publish(event)
        async with state.store.transaction() as conn:
            await jobs.set_seq(conn, run.job_id, published.seq)
    except Exception:
        log.warning("could not publish or record %s", kind.value)


async def _end(
    state: WorkerState, run: JobRun, status: JobStatus, error: str, *, owned: bool = True
) -> None:
    """End the job failed with `error` (only if this worker still owns it, when `owned`)."""
    async with state.store.transaction() as conn:
        done, total = await tasks.item_counts(conn, run.job.task_id)
        task_status = TaskStatus.IN_PROGRESS if done else TaskStatus.PENDING
        result = finalization.result_document(
            run, done, total, task_status.value, success=False, error=error
        )
        ended = await jobs.finish(
            conn,
            run.job_id,
            status,
            worker_id=state.worker_id if owned else None,
            result=result,
            error=error,
            execution_time_ms=result["execution_time_ms"],
        )
        if ended:
            await tasks.set_state(conn, run.job.task_id, status=task_status.value)
    if ended:
        run.finished(status.value)
        log.warning("job %s: %s", status.value, error)
        await run.emit(EventType.FAILED, status=status.value, message=error, result=result)


async def _end_blocked(state: WorkerState, run: JobRun, blockers: list[Dependency]) -> None:
    codes = [b.source_task_code for b in blockers]
    error = "TASK_BLOCKED: blocked by " + ", ".join(codes)
    async with state.store.transaction() as conn:
        done, total = await tasks.item_counts(conn, run.job.task_id)
        result = finalization.result_document(
            run, done, total, TaskStatus.BLOCKED.value, success=False, error=error
        )
        result["blockers"] = [
            {"code": b.source_task_code, "status": b.source_task_status} for b in blockers
        ]
        ended = await jobs.finish(
            conn,
            run.job_id,
            JobStatus.BLOCKED,
            worker_id=state.worker_id,
            result=result,
            error=error,
            execution_time_ms=result["execution_time_ms"],
            progress=20,
            phase="validation",
        )
        if ended:
            await tasks.set_state(conn, run.job.task_id, status=TaskStatus.BLOCKED.value)
    if not ended:
        await _lost_race(state, run)
        return
    run.finished("blocked")
    log.info("job blocked by %s", ", ".join(codes))
    await run.emit(
        EventType.BLOCKED,
        status=JobStatus.BLOCKED.value,
        phase="validation",
        progress=20,
        message=error,
        blockers=result["blockers"],
        result=result,
    )
    # A blocker may have completed while this job was deciding; that blocker's own release
    # check ran before this job was `blocked`, so look again now (no lost wake-up).
    async with state.store.read() as conn:
        remaining = (await tasks.dependencies(conn, run.job.task_id)).blockers
    if not remaining:
        await _enqueue_again(state, run, run.job, "its blockers completed meanwhile")


async def _end_cancelled(state: WorkerState, job: Job, run: JobRun | None = None) -> None:
    """Cancelled: items done stay done, the task goes back to `pending`."""
    run = run or JobRun(state, job)
    reason = job.cancel_reason or "cancelled"
    async with state.store.transaction() as conn:
        done, total = await tasks.item_counts(conn, job.task_id)
        result = finalization.result_document(
            run, done, total, TaskStatus.PENDING.value, success=False, error=f"cancelled: {reason}"
        )
        ended = await jobs.finish(
            conn,
            job.job_id,
            JobStatus.CANCELLED,
            worker_id=None,
            result=result,
            error=f"cancelled: {reason}",
        )
        if ended:
            await tasks.set_state(conn, job.task_id, status=TaskStatus.PENDING.value)
    if ended:
        run.finished("cancelled")
        log.info("job cancelled: %s", reason)
        await run.emit(
            EventType.CANCELLED,
            status=JobStatus.CANCELLED.value,
            message=f"cancelled: {reason}",
            reason=reason,
            result=result,
        )


async def _lost_race(state: WorkerState, run: JobRun) -> str:
    async with state.store.read() as conn:
        current = await jobs.get(conn, run.job_id)
    if current.cancel_requested_at is not None:
        await _end_cancelled(state, current, run)
        return "cancelled"
    return f"superseded ({current.status} on {current.worker_id})"


async def _release_dependents(state: WorkerState, run: JobRun, dependents: list[str]) -> None:
    """Auto-unblock: tasks whose last job was blocked only by this one run again."""
    for code in dependents:
        async with state.store.read() as conn:
            task = await tasks.get_task(conn, code)
            last = await jobs.last_for_task(conn, task.id)
            remaining = (await tasks.dependencies(conn, task.id)).blockers
        if last is None or last.status != JobStatus.BLOCKED or remaining:
            continue
        await _enqueue_again(state, run, last, f"{run.job.task_code} completed")


async def _enqueue_again(state: WorkerState, run: JobRun, blocked: Job, why: str) -> None:
    released = await enqueue(
        state.store,
        state.pool,
        state.bus,
        state.settings,
        blocked.task_code,
        agent=blocked.agent_name,
        priority=blocked.priority,
        request_id=run.job.request_id,
        requested_by=f"dfo:auto-unblock ({why})",
    )
    if not released.existing:
        log.info("released %s (job %s): %s", blocked.task_code, released.job_id, why)
        await run.log(f"released {blocked.task_code}: job {released.job_id} ({why})")
