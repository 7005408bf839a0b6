"""Enqueueing a task: the rules of DESIGN.md section 2 in one place (client and worker use it).

- at most one live job per task: a second enqueue returns the live job (`existing`);
- a completed task with nothing pending returns its last result at once (`from_cache`) unless
  `rerun`;
- the `agent_jobs` row is written first (the store is the source of truth), then the arq job,
  then the `agent_job_queued` event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from dfo import queue, scripts
from dfo.bus import SCRIPTS as BUS_SCRIPTS
from dfo.bus import Bus
from dfo.errors import DfoError, InvalidInput, RedisUnavailable
from dfo.events import Event, EventType
from dfo.models import Job, JobStatus, Priority, Task, TaskStatus, parse_task_code
from dfo.settings import Settings
from dfo.store import Store, agents, jobs, tasks


@dataclass(frozen=True)
class Enqueued:
    job_id: str
    task_code: str
    status: str
    existing: bool = False
    from_cache: bool = False
    result: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "task_code": self.task_code,
            "status": self.status,
            "existing": self.existing,
            "from_cache": self.from_cache,
            "result": self.result,
        }


def parse_priority(raw: str) -> Priority:
    try:
        return Priority(raw)
    except ValueError:
        raise InvalidInput(f"invalid priority {raw!r}: use high, normal or low") from None


def job_event(job: Job, kind: EventType, *, message: str = "", **data: Any) -> Event:
    return Event(
        type=kind.value,
        job_id=job.job_id,
        task_code=job.task_code,
        project=job.project_code,
        agent=job.agent_name,
        status=job.status,
        phase=job.phase,
        progress=job.progress,
        message=message,
        request_id=job.request_id,
        requested_by=job.requested_by,
        attempt=job.attempts,
        data=data,
    )


async def publish(store: Store, bus: Bus, event: Event) -> Event:
    """Publish and store the seq with the job row."""
    published = await bus.publish(event)
    async with store.transaction() as conn:
        await jobs.set_seq(conn, event.job_id, published.seq)
    return published


async def enqueue(
    store: Store,
    pool: Redis,
    bus: Bus,
    settings: Settings,
    task_code: str,
    *,
    agent: str | None = None,
    priority: str = "normal",
    rerun: bool = False,
    request_id: str | None = None,
    requested_by: str | None = None,
    retry_of: str | None = None,
) -> Enqueued:
    code = parse_task_code(task_code)
    level = parse_priority(priority)
    request_id = request_id or uuid.uuid4().hex
    async with store.transaction() as conn:
        task = await tasks.get_task(conn, code)
        # A task with work left needs no look-up of a live job: the insert below finds it
        # (unique live_task_id). A finished one may still have a live job (a rerun).
        if not rerun and _finished(task):
            live = await jobs.live_for_task(conn, task.id)
            if live is not None:
                return Enqueued(live.job_id, code, live.status, existing=True)
            last = await jobs.last_for_task(conn, task.id)
            return Enqueued(
                last.job_id if last else "",
                code,
                JobStatus.COMPLETED.value,
                from_cache=True,
                result=last.result if last and last.result else _cached_result(task),
            )
        try:
            runner = await _agent(conn, task, agent)
        except DfoError:
            live = await jobs.live_for_task(conn, task.id)
            if live is not None:  # already running, whatever became of its agent
                return Enqueued(live.job_id, code, live.status, existing=True)
            raise
        job_id = uuid.uuid4().hex
        arq_id = queue.new_id(job_id)
        created = await jobs.create(
            conn,
            job_id=job_id,
            queue_job_id=arq_id,
            seq=1,  # the `queued` event below: a snapshot may say 1 before it is published
            task_id=task.id,
            task_code=code,
            project_id=task.project_id,
            agent_id=runner.id,
            agent_name=runner.name,
            priority=level.value,
            max_tries=int(str(runner.config.get("max_tries", settings.max_tries))),
            request_id=request_id,
            requested_by=requested_by,
            retry_of=retry_of,
        )
        if not created:
            raced = await jobs.live_for_task(conn, task.id)
            if raced is not None:
                return Enqueued(raced.job_id, code, raced.status, existing=True)
            raise InvalidInput(f"task {code}: could not enqueue, try again")
    queued = Event(
        type=EventType.QUEUED.value,
        job_id=job_id,
        task_code=code,
        project=task.project_code,
        agent=runner.name,
        status=JobStatus.QUEUED.value,
        phase=None,
        progress=0,
        message=f"queued ({level.value})",
        request_id=request_id,
        requested_by=requested_by,
    )

    # Published before the push in the same round trip, so that `queued` is always seq 1 (a
    # worker may start the job the moment it is pushed).
    def stage(pipe: Pipeline) -> None:
        bus.stage(pipe, queued)
        queue.stage_push(pipe, arq_id, job_id, level.value, settings.queue)

    try:
        results = await scripts.execute(pool, stage, [*BUS_SCRIPTS, *queue.SCRIPTS])
        for result in results:
            if isinstance(result, Exception):
                raise result
    except (RedisError, OSError) as exc:
        raise RedisUnavailable(
            f"job {job_id} for {code} is recorded but could not be queued ({exc}); "
            "a worker's reconciler queues it once Redis is back"
        ) from None
    return Enqueued(job_id, code, JobStatus.QUEUED.value)


def _finished(task: Task) -> bool:
    return task.status == TaskStatus.COMPLETED and task.items_completed == task.items_total


def _cached_result(task: Task) -> dict[str, Any]:
    return {
        "success": True,
        "task_id": task.id,
        "task_code": task.code,
        "agent_id": None,
        "agent": task.agent_name,
        "items_completed": task.items_completed,
        "items_total": task.items_total,
        "progress": task.progress,
        "execution_time_ms": 0,
        "task_status": task.status,
        "error": None,
    }


async def _agent(conn: Any, task: Task, name: str | None) -> Any:
    chosen = name or task.agent_name
    if chosen is None:
        raise InvalidInput(f"task {task.code} has no agent: pass --agent NAME or assign one")
    agent = await agents.get_agent(conn, chosen)
    if not agent.is_active:
        raise InvalidInput(f"agent {agent.name} is inactive")
    return agent
