"""`agent_jobs`: the source of truth for every job. State changes are conditional updates, so
that races (cancel vs completion, a stalled worker vs its successor) have exactly one winner."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from dfo.errors import InvalidInput, NotFound
from dfo.models import LIVE_JOB_STATUSES, Job, JobStatus
from dfo.store.conn import Connection
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


_INSERT = agent_jobs.insert()


async def create(conn: Connection, **values: Any) -> bool:
    """Insert a queued job; False when the task already has a live job (unique live_task_id)."""
    try:
        # No savepoint needed: SQLite and InnoDB undo just the failed statement.
        row = {"status": JobStatus.QUEUED.value, "live_task_id": values["task_id"], **values}
        await conn.execute(_INSERT, row)
    except IntegrityError:
        return False
    return True


_FIND = _select().where(agent_jobs.c.job_id == bindparam("b_job_id"))


async def find(conn: Connection, job_id: str) -> Job | None:
    row = (await conn.execute(_FIND, {"b_job_id": job_id})).first()
    return _job(row) if row else None


async def get(conn: Connection, job_id: str) -> Job:
    job = await find(conn, job_id)
    if job is None:
        raise NotFound(f"unknown job {job_id}")
    return job


_LIVE_FOR_TASK = _select().where(agent_jobs.c.live_task_id == bindparam("b_task_id"))


async def live_for_task(conn: Connection, task_id: int) -> Job | None:
    row = (await conn.execute(_LIVE_FOR_TASK, {"b_task_id": task_id})).first()
    return _job(row) if row else None


async def last_for_task(conn: Connection, task_id: int) -> Job | None:
    stmt = _select().where(agent_jobs.c.task_id == task_id).order_by(agent_jobs.c.id.desc())
    row = (await conn.execute(stmt.limit(1))).first()
    return _job(row) if row else None


@dataclass(frozen=True)
class LiveRef:
    """What the reconciler needs of a live job (cheap to read for a backlog of thousands)."""

    job_id: str
    status: str
    priority: str
    queue_job_id: str | None
    created_at: datetime | None


_LIVE_REFS = select(
    agent_jobs.c.job_id,
    agent_jobs.c.status,
    agent_jobs.c.priority,
    agent_jobs.c.queue_job_id,
    agent_jobs.c.created_at,
).where(agent_jobs.c.status.in_(LIVE_JOB_STATUSES))


async def live_refs(conn: Connection) -> list[LiveRef]:
    return [LiveRef(*row) for row in await conn.execute(_LIVE_REFS)]


async def list_jobs(
    conn: Connection,
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


# The worker's hot path runs these statements for every job: built once, executed with
# parameters (building a statement costs more than running it on SQLite). `IN (...)` would be
# an "expanding" parameter, whose SQL SQLAlchemy rewrites on every execution.
_IS_LIVE = or_(*(agent_jobs.c.status == status for status in LIVE_JOB_STATUSES))
_START = (
    update(agent_jobs)
    .where(
        agent_jobs.c.job_id == bindparam("b_job_id"),
        _IS_LIVE,
        agent_jobs.c.cancel_requested_at.is_(None),
        agent_jobs.c.attempts < agent_jobs.c.max_tries * bindparam("b_max_starts"),
    )
    .values(
        status=JobStatus.ACTIVE.value,
        phase="context",
        progress=0,
        worker_id=bindparam("b_worker_id"),
        attempts=agent_jobs.c.attempts + 1,
        started_at=func.coalesce(agent_jobs.c.started_at, bindparam("b_now")),
        heartbeat_at=bindparam("b_now"),
    )
)


async def start(conn: Connection, job_id: str, worker_id: str, *, max_starts_per_try: int) -> bool:
    """queued/active -> active for this worker, in phase `context` at 0 %; False when it was
    cancelled or finished meanwhile, or has been started `max_tries * max_starts_per_try`
    times already (worker crashes, takeovers)."""
    params = {
        "b_job_id": job_id,
        "b_worker_id": worker_id,
        "b_max_starts": max_starts_per_try,
        "b_now": utcnow(),
    }
    result = await conn.execute(_START, params)
    return result.rowcount == 1


@functools.cache
def _record(names: tuple[str, ...]) -> Update:
    return (
        update(agent_jobs)
        .where(
            agent_jobs.c.job_id == bindparam("b_job_id"),
            agent_jobs.c.worker_id == bindparam("b_worker_id"),
            agent_jobs.c.status == JobStatus.ACTIVE.value,
        )
        .values({name: bindparam(f"v_{name}") for name in names})
    )


async def record(conn: Connection, job_id: str, worker_id: str, **values: Any) -> bool:
    """Update a job this worker owns (phase, progress, seq, heartbeat)."""
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(b_job_id=job_id, b_worker_id=worker_id)
    result = await conn.execute(_record(tuple(sorted(values))), params)
    return result.rowcount == 1


_BEAT = (
    update(agent_jobs)
    .where(
        agent_jobs.c.worker_id == bindparam("b_worker_id"),
        agent_jobs.c.status == JobStatus.ACTIVE.value,
    )
    .values(heartbeat_at=bindparam("b_now"))
)


async def beat(conn: Connection, worker_id: str, now: datetime) -> int:
    """The heartbeat of every job `worker_id` is running; how many there were."""
    result = await conn.execute(_BEAT, {"b_worker_id": worker_id, "b_now": now})
    return result.rowcount


_SET_SEQ = (
    update(agent_jobs)
    .where(agent_jobs.c.job_id == bindparam("b_job_id"), agent_jobs.c.seq < bindparam("b_seq"))
    .values(seq=bindparam("b_seq"))
)


async def set_seq(conn: Connection, job_id: str, seq: int) -> None:
    await conn.execute(_SET_SEQ, {"b_job_id": job_id, "b_seq": seq})


async def finish(
    conn: Connection,
    job_id: str,
    status: JobStatus,
    *,
    worker_id: str | None,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    execution_time_ms: int | None = None,
    progress: int | None = None,
    phase: str | None = None,
    seq: int | None = None,
) -> bool:
    """End a live job. Only `cancelled` may end a job whose cancel was requested; with
    `worker_id`, only the worker that owns the job may end it."""
    values: dict[str, Any] = {
        "status": status.value,
        "completed_at": utcnow(),
        "job_result": json.dumps(result) if result is not None else None,
        "last_error": error,
        "execution_time_ms": execution_time_ms,
    }
    if progress is not None:
        values["progress"] = progress
    if phase is not None:
        values["phase"] = phase
    if seq is not None:
        values["seq"] = seq
    stmt = _finish(tuple(sorted(values)), status is JobStatus.CANCELLED, worker_id is not None)
    params = {f"v_{name}": value for name, value in values.items()}
    params["b_job_id"] = job_id
    if worker_id is not None:
        params["b_worker_id"] = worker_id
    outcome = await conn.execute(stmt, params)
    return outcome.rowcount == 1


@functools.cache
def _finish(names: tuple[str, ...], cancelling: bool, owned: bool) -> Update:
    conditions = [agent_jobs.c.job_id == bindparam("b_job_id"), _IS_LIVE]
    if not cancelling:
        conditions.append(agent_jobs.c.cancel_requested_at.is_(None))
    if owned:
        conditions.append(agent_jobs.c.worker_id == bindparam("b_worker_id"))
    values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in names}
    return update(agent_jobs).where(and_(*conditions)).values(live_task_id=None, **values)


async def requeue(conn: Connection, job_id: str, *, error: str | None = None) -> bool:
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


async def request_cancel(conn: Connection, job_id: str, reason: str) -> bool:
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


async def counts(conn: Connection) -> dict[str, int]:
    rows = await conn.execute(
        select(agent_jobs.c.status, func.count()).group_by(agent_jobs.c.status)
    )
    return {status: int(n) for status, n in rows}


async def set_queue_id(conn: Connection, job_id: str, arq_id: str) -> None:
    await conn.execute(
        update(agent_jobs).where(agent_jobs.c.job_id == job_id).values(queue_job_id=arq_id)
    )


async def resolve(conn: Connection, ref: str) -> Job:
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
