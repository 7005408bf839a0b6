"""What the CLI, the TUI and scripts call: enqueue, cancel, retry, snapshot, watch.

async with await Client.open(Settings()) as client:
    queued = await client.enqueue("SHOP-101")
    async for event in client.watch([queued.job_id]):
        print(event.seq, event.type, event.progress)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

from redis.asyncio import Redis

from dfo import enqueue as enqueue_rules
from dfo import queue
from dfo.bus import Bus
from dfo.enqueue import Enqueued, job_event, publish
from dfo.errors import InvalidInput
from dfo.events import Event, EventType
from dfo.models import Job, JobStatus, TaskStatus
from dfo.services import redis_client
from dfo.settings import Settings
from dfo.store import Store, jobs, tasks

_TERMINAL_STATUS = {
    JobStatus.COMPLETED.value: EventType.COMPLETED,
    JobStatus.FAILED.value: EventType.FAILED,
    JobStatus.CANCELLED.value: EventType.CANCELLED,
    JobStatus.BLOCKED.value: EventType.BLOCKED,
}


class Client:
    def __init__(self, settings: Settings, store: Store, pool: Redis) -> None:
        self.settings = settings
        self.store = store
        self.pool = pool
        self.bus = Bus(pool, retention_s=settings.event_retention)

    @classmethod
    async def open(
        cls,
        settings: Settings | None = None,
        *,
        connect: Callable[[Settings], Awaitable[Redis]] = redis_client.connect,
    ) -> Client:
        """Open the store, then Redis with `connect` (a worker passes `connect_queue`)."""
        settings = settings or Settings()
        store = await Store.open(settings)
        try:
            pool = await connect(settings)
        except BaseException:
            await store.close()
            raise
        return cls(settings, store, pool)

    async def close(self) -> None:
        await self.bus.close()
        await self.pool.aclose()
        await self.store.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def enqueue(
        self,
        task_code: str,
        agent: str | None = None,
        priority: str = "normal",
        rerun: bool = False,
        request_id: str | None = None,
        requested_by: str | None = None,
    ) -> Enqueued:
        return await enqueue_rules.enqueue(
            self.store,
            self.pool,
            self.bus,
            self.settings,
            task_code,
            agent=agent,
            priority=priority,
            rerun=rerun,
            request_id=request_id,
            requested_by=requested_by,
        )

    async def resolve(self, ref: str) -> Job:
        """A job by id or unambiguous id prefix (what `dfo jobs` shows)."""
        async with self.store.read() as conn:
            return await jobs.resolve(conn, ref)

    async def history(self, job_id: str) -> list[Event]:
        """The job's events so far (empty once its replay log expired)."""
        return await self.bus.history(job_id)

    async def snapshot(self, job_id: str) -> Job:
        async with self.store.read() as conn:
            return await jobs.get(conn, job_id)

    async def cancel(self, job_id: str, reason: str = "cancelled by user") -> Job:
        """Cancel a queued or running job (from any process or host)."""
        async with self.store.transaction() as conn:
            job = await jobs.get(conn, job_id)
            if not job.live:
                raise InvalidInput(f"job {job_id} already ended ({job.status}): nothing to cancel")
            requested = await jobs.request_cancel(conn, job_id, reason)
            job = await jobs.get(conn, job_id)
        if not requested and not job.live:
            raise InvalidInput(f"job {job_id} already ended ({job.status}): nothing to cancel")
        if job.status == JobStatus.QUEUED:
            await queue.remove(self.pool, job_id, job.queue_job_id, self.settings.queue)
            await self._end_queued(job, job.cancel_reason or reason)
        elif job.queue_job_id:
            await queue.abort(self.pool, job.queue_job_id, self.settings.queue)
        return await self.snapshot(job_id)

    async def _end_queued(self, job: Job, reason: str) -> None:
        # A worker can no longer start it (start requires no cancel request), so ending it here
        # cannot race with a run.
        async with self.store.transaction() as conn:
            ended = await jobs.finish(
                conn,
                job.job_id,
                JobStatus.CANCELLED,
                worker_id=None,
                error=f"cancelled: {reason}",
            )
            task = await tasks.get_task(conn, job.task_code)
            if ended and task.status == TaskStatus.IN_PROGRESS:
                await tasks.set_state(conn, task.id, status=TaskStatus.PENDING.value)
            current = await jobs.get(conn, job.job_id)
        if ended:
            await publish(
                self.store,
                self.bus,
                job_event(
                    current, EventType.CANCELLED, message=f"cancelled: {reason}", reason=reason
                ),
            )

    async def retry(self, job_id: str) -> Enqueued:
        """Run a failed, cancelled or blocked job's task again (a new job, `retry_of` it)."""
        job = await self.snapshot(job_id)
        if job.live:
            raise InvalidInput(f"job {job_id} is still {job.status}: nothing to retry")
        if job.status == JobStatus.COMPLETED:
            raise InvalidInput(
                f"job {job_id} completed: use 'dfo enqueue {job.task_code} --rerun' to run again"
            )
        return await enqueue_rules.enqueue(
            self.store,
            self.pool,
            self.bus,
            self.settings,
            job.task_code,
            agent=job.agent_name,
            priority=job.priority,
            rerun=True,
            request_id=job.request_id,
            requested_by=job.requested_by,
            retry_of=job.job_id,
        )

    async def watch(
        self, job_ids: Iterable[str] | None = None, *, until_done: bool = True
    ) -> AsyncIterator[Event]:
        """Events of the given jobs (or of all jobs), gap-free, from seq 1.

        With job ids and `until_done`, stops once every job reached an end (completed, failed,
        cancelled or blocked). A job whose replay log has expired yields one event rebuilt from
        its row.
        """
        if job_ids is None:
            async for event in self.bus.watch(None):
                yield event
            return
        wanted = list(dict.fromkeys(job_ids))
        open_jobs = set(wanted)
        since: dict[str, int] = {}
        for job_id in wanted:
            job = await self.snapshot(job_id)
            if not job.live and await self.bus.last_seq(job_id) == 0:
                yield job_event(
                    job,
                    _TERMINAL_STATUS.get(job.status, EventType.FAILED),
                    message="replay log expired; state from the store",
                )
                open_jobs.discard(job_id)
                since[job_id] = job.seq
        if until_done and not open_jobs:
            return
        async for event in self.bus.watch([j for j in wanted if j in open_jobs], since=since):
            yield event
            if event.terminal:
                open_jobs.discard(event.job_id)
                if until_done and not open_jobs:
                    return

    async def queue_counts(self) -> dict[str, Any]:
        async with self.store.read() as conn:
            counts = await jobs.counts(conn)
        workers = [key async for key in self.pool.scan_iter(match="dfo:worker:*")]
        return {"jobs": counts, "workers": len(workers)}
