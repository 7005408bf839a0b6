"""`JobRun`: one attempt of one job, and the events it publishes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from dfo.enqueue import job_event, publish
from dfo.events import Event, EventType
from dfo.models import Job, JobStatus
from dfo.store import jobs
from dfo.worker import metrics
from dfo.worker.state import WorkerState


@dataclass
class JobRun:
    state: WorkerState
    job: Job
    started: float = field(default_factory=time.perf_counter)
    phase_started: float = field(default_factory=time.perf_counter)
    #: Seq of the last event published. The row's `seq` is written with the next state change
    #: (a snapshot's seq may lag its state, never lead it: watchers re-apply, never skip).
    last_seq: int = 0

    @property
    def job_id(self) -> str:
        return self.job.job_id

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    async def emit(
        self,
        kind: EventType,
        *,
        status: str | None = None,
        phase: str | None = None,
        progress: int | None = None,
        message: str = "",
        **data: Any,
    ) -> Event:
        """Record phase/progress on the row (state first), then publish the event."""
        changes: dict[str, Any] = {}
        if phase is not None and phase != self.job.phase:
            changes["phase"] = phase
            now = time.perf_counter()
            if self.job.phase:
                metrics.PHASE_DURATION.labels(self.job.phase).observe(now - self.phase_started)
            self.phase_started = now
        if progress is not None and progress != self.job.progress:
            changes["progress"] = progress
        self.job = replace(
            self.job,
            status=status or self.job.status,
            phase=phase if phase is not None else self.job.phase,
            progress=progress if progress is not None else self.job.progress,
        )
        if changes:
            if self.last_seq:
                changes["seq"] = self.last_seq
            async with self.state.store.transaction() as conn:
                await jobs.record(conn, self.job_id, self.state.worker_id, **changes)
        metrics.EVENTS.labels(kind.value).inc()
        event = job_event(self.job, kind, message=message, **data)
        if self.job.status != JobStatus.ACTIVE.value:  # the job's last word: store its seq now
            published = await publish(self.state.store, self.state.bus, event)
        else:
            published = await self.state.bus.publish(event)
        self.last_seq = published.seq
        return published

    def finished(self, status: str) -> None:
        """Count the job's end (once per job end, from the code path that ended it)."""
        metrics.JOBS_FINISHED.labels(
            status,
            metrics.label("agent", self.job.agent_name),
            metrics.label("project", self.job.project_code),
        ).inc()

    async def log(self, line: str, level: str = "info") -> None:
        """An agent log line: published, not stored (the replay log keeps it)."""
        extra = {"level": level} if level != "info" else {}
        event = job_event(self.job, EventType.LOG, message=line[:4000], **extra)
        metrics.EVENTS.labels(EventType.LOG.value).inc()
        await self.state.bus.publish(event)
