"""`agent_jobs`: the source of truth for every job. State changes are conditional updates, so
that races (cancel vs completion, a stalled worker vs its successor) have exactly one winner."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from dfo.errors import InvalidInput, NotFound
from dfo.models import LIVE_JOB_STATUSES, Job, JobStatus
from dfo.store.schema import agent_jobs, projects, utcnow


@functools.cache
def _select() -> Select[tuple[Any, ...]]:
    return select(agent_jobs, projects.c.code.label("project_code")).join(
        projects, agent_jobs.c.project_id == projects.c.id
    )


def _job(row: Row[tuple[object, ...]]) -> Job:
    m = row._mapping
    raw = m["job_result"]
    return Job(
        job_id=m["job_id"],
        task_id=m["task_id"],
        task_code=m["task_code"],
        project_id=m["project_id"],
        project_code=m["project_code"],
        agent_id=m["agent_id"],
        agent_name=m["agent_name"],
        status=m["status"],
        priority=m["priority"],
        phase=m["phase"],
        progress=m["progress"],
        attempts=m["attempts"],
        max_tries=m["max_tries"],
        seq=m["seq"],
        request_id=m["request_id"],
        requested_by=m["requested_by"],
        worker_id=m["worker_id"],
        retry_of=m["retry_of"],
        queue_job_id=m["queue_job_id"],
        cancel_reason=m["cancel_reason"],
        cancel_requested_at=m["cancel_requested_at"],
        result=json.loads(raw) if raw else None,
        last_error=m["last_error"],
        execution_time_ms=m["execution_time_ms"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        heartbeat_at=m["heartbeat_at"],
        completed_at=m["completed_at"],
    )


async def create(conn: AsyncConnection, **values: Any) -> bool:
    """Insert a queued job; False when the task already has a live job (unique live_task_id)."""
    try:
        # No savepoint needed: SQLite and InnoDB undo just the failed statement.
        await conn.execute(
            agent_jobs.insert().values(
                status=JobStatus.QUEUED.value, live_task_id=values["task_id"], **values
            )
        )
    except IntegrityError:
        return False
    return True


async def find(conn: AsyncConnection, job_id: str) -> Job | None:
    row = (await conn.execute(_select().where(agent_jobs.c.job_id == job_id))).first()
    return _job(row) if row else None


async def get(conn: AsyncConnection, job_id: str) -> Job:
    job = await find(conn, job_id)
    if job is None:
        raise NotFound(f"unknown job {job_id}")
    return job


async def live_for_task(conn: AsyncConnection, task_id: int) -> Job | None:
    row = (await conn.execute(_select().where(agent_jobs.c.live_task_id == task_id))).first()
    return _job(row) if row else None


async def last_for_task(conn: AsyncConnection, task_id: int) -> Job | None:
    stmt = _select().where(agent_jobs.c.task_id == task_id).order_by(agent_jobs.c.id.desc())
    row = (await conn.execute(stmt.limit(1))).first()
    return _job(row) if row else None


async def list_jobs(
    conn: AsyncConnection,
    *,
    statuses: Sequence[str] | None = None,
    project_id: int | None = None,
    limit: int = 100,
) -> list[Job]:
    stmt = _select().order_by(agent_jobs.c.id.desc()).limit(limit)
    if statuses:
        stmt = stmt.where(agent_jobs.c.status.in_(list(statuses)))
    if project_id is not None:
        stmt = stmt.where(agent_jobs.c.project_id == project_id)
    return [_job(row) for row in await conn.execute(stmt)]


async def start(
    conn: AsyncConnection, job_id: str, worker_id: str, *, max_starts_per_try: int
) -> bool:
    """queued/active -> active for this worker, in phase `context` at 0 %; False when it was
    cancelled or finished meanwhile, or has been started `max_tries * max_starts_per_try`
    times already (worker crashes, takeovers)."""
    result = await conn.execute(
        update(agent_jobs)
        .where(
            agent_jobs.c.job_id == job_id,
            agent_jobs.c.status.in_(LIVE_JOB_STATUSES),
            agent_jobs.c.cancel_requested_at.is_(None),
            agent_jobs.c.attempts < agent_jobs.c.max_tries * max_starts_per_try,
        )
        .values(
            status=JobStatus.ACTIVE.value,
            phase="context",
            progress=0,
            worker_id=worker_id,
            attempts=agent_jobs.c.attempts + 1,
            started_at=func.coalesce(agent_jobs.c.started_at, utcnow()),
            heartbeat_at=utcnow(),
        )
    )
    return result.rowcount == 1


async def record(conn: AsyncConnection, job_id: str, worker_id: str, **values: Any) -> bool:
    """Update a job this worker owns (phase, progress, seq, heartbeat)."""
    result = await conn.execute(
        update(agent_jobs)
        .where(
            agent_jobs.c.job_id == job_id,
            agent_jobs.c.worker_id == worker_id,
            agent_jobs.c.status == JobStatus.ACTIVE.value,
        )
        .values(**values)
    )
    return result.rowcount == 1


async def set_seq(conn: AsyncConnection, job_id: str, seq: int) -> None:
    await conn.execute(
        update(agent_jobs)
        .where(agent_jobs.c.job_id == job_id, agent_jobs.c.seq < seq)
        .values(seq=seq)
    )


async def finish(
    conn: AsyncConnection,
    job_id: str,
    status: JobStatus,
    *,
    worker_id: str | None,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    execution_time_ms: int | None = None,
    progress: int | None = None,
    phase: str | None = None,
) -> bool:
    """End a live job. Only `cancelled` may end a job whose cancel was requested; with
    `worker_id`, only the worker that owns the job may end it."""
    conditions = [agent_jobs.c.job_id == job_id, agent_jobs.c.status.in_(LIVE_JOB_STATUSES)]
    if status is not JobStatus.CANCELLED:
        conditions.append(agent_jobs.c.cancel_requested_at.is_(None))
    if worker_id is not None:
        conditions.append(agent_jobs.c.worker_id == worker_id)
    values: dict[str, Any] = {
        "status": status.value,
        "live_task_id": None,
        "completed_at": utcnow(),
        "job_result": json.dumps(result) if result is not None else None,
        "last_error": error,
        "execution_time_ms": execution_time_ms,
    }
    if progress is not None:
        values["progress"] = progress
    if phase is not None:
        values["phase"] = phase
    outcome = await conn.execute(update(agent_jobs).where(and_(*conditions)).values(**values))
    return outcome.rowcount == 1


async def requeue(conn: AsyncConnection, job_id: str, *, error: str | None = None) -> bool:
    """active -> queued (a retry after a transient error, or a worker shutting down)."""
    values: dict[str, Any] = {"status": JobStatus.QUEUED.value, "worker_id": None}
    if error is not None:
        values["last_error"] = error
    outcome = await conn.execute(
        update(agent_jobs)
        .where(agent_jobs.c.job_id == job_id, agent_jobs.c.status.in_(LIVE_JOB_STATUSES))
        .values(**values)
    )
    return outcome.rowcount == 1


async def request_cancel(conn: AsyncConnection, job_id: str, reason: str) -> bool:
    """Record the intent to cancel a live job; False when it is not live (or already asked)."""
    outcome = await conn.execute(
        update(agent_jobs)
        .where(
            agent_jobs.c.job_id == job_id,
            agent_jobs.c.status.in_(LIVE_JOB_STATUSES),
            agent_jobs.c.cancel_requested_at.is_(None),
        )
        .values(cancel_requested_at=utcnow(), cancel_reason=reason)
    )
    return outcome.rowcount == 1


async def counts(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(
        select(agent_jobs.c.status, func.count()).group_by(agent_jobs.c.status)
    )
    return {status: int(n) for status, n in rows}


async def set_queue_id(conn: AsyncConnection, job_id: str, arq_id: str) -> None:
    await conn.execute(
        update(agent_jobs).where(agent_jobs.c.job_id == job_id).values(queue_job_id=arq_id)
    )


async def resolve(conn: AsyncConnection, ref: str) -> Job:
    """A job by its id or an unambiguous prefix of it (at least 6 characters)."""
    ref = ref.strip().lower()
    if not ref or not all(c in "0123456789abcdef" for c in ref):
        raise InvalidInput(f"invalid job id {ref!r}: expected the hex id `dfo jobs` shows")
    exact = await find(conn, ref)
    if exact is not None:
        return exact
    if len(ref) < 6:
        raise NotFound(f"unknown job {ref} (give at least 6 characters of its id)")
    rows = (await conn.execute(_select().where(agent_jobs.c.job_id.like(f"{ref}%")).limit(2))).all()
    if not rows:
        raise NotFound(f"unknown job {ref}")
    if len(rows) > 1:
        raise InvalidInput(f"job id prefix {ref} is ambiguous: give more characters")
    return _job(rows[0])
