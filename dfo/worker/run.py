"""`JobRun`: one attempt of one job, and the events it publishes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from dfo.enqueue import job_event, publish
from dfo.events import Event, EventType
from dfo.models import Job, JobStatus, evolve
from dfo.store import jobs
from dfo.store.conn import Connection
from dfo.worker import metrics
from dfo.worker.state import WorkerState

log = logging.getLogger("dfo.worker")


@dataclass
class JobRun:
    state: WorkerState
    job: Job
    started: float = field(default_factory=time.perf_counter)
    phase_started: float = field(default_factory=time.perf_counter)
    #: Seq of the last event published. The row's `seq` is written with the next state change
    #: (a snapshot's seq may lag its state, never lead it: watchers re-apply, never skip).
    last_seq: int = 0
    #: Phase/progress staged by `emit(write=False)`, written with the job's next write.
    unwritten: dict[str, Any] = field(default_factory=dict)
    #: The seq stored with the job's end (`end_seq`), if any.
    seq_stored: int | None = None

    @property
    def job_id(self) -> str:
        return self.job.job_id

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def _stage(self, status: str | None, phase: str | None, progress: int | None) -> None:
        """Apply a state change to `self.job`; the columns it changes wait in `unwritten`."""
        if phase is not None and phase != self.job.phase:
            self.unwritten["phase"] = phase
            now = time.perf_counter()
            if self.job.phase:
                metrics.phase_ended(self.job.phase, now - self.phase_started)
            self.phase_started = now
        if progress is not None and progress != self.job.progress:
            self.unwritten["progress"] = progress
        self.job = evolve(
            self.job,
            status=status or self.job.status,
            phase=phase if phase is not None else self.job.phase,
            progress=progress if progress is not None else self.job.progress,
        )

    def _take_unwritten(self) -> dict[str, Any]:
        changes, self.unwritten = self.unwritten, {}
        if changes and self.last_seq:
            changes["seq"] = self.last_seq
        return changes

    def end_seq(self) -> int | None:
        """The seq the job's closing event will get, to store with its end in one write (then
        set `seq_stored`). Exact: while a worker owns a job nobody else publishes for it.
        None before this attempt published anything (the seq is stored after the publish)."""
        return self.last_seq + 1 if self.last_seq else None

    async def record_state(
        self, conn: Connection, *, phase: str | None = None, progress: int | None = None
    ) -> None:
        """Write phase/progress (and anything still unwritten) in the caller's transaction;
        the next `emit` then only publishes: one transaction per step instead of two."""
        self._stage(None, phase, progress)
        changes = self._take_unwritten()
        if changes:
            await jobs.record(conn, self.job_id, self.state.worker_id, **changes)

    async def emit(
        self,
        kind: EventType,
        *,
        status: str | None = None,
        phase: str | None = None,
        progress: int | None = None,
        message: str = "",
        write: bool = True,
        **data: Any,
    ) -> Event:
        """Record phase/progress on the row (state first), then publish the event.

        `write=False` for a step followed at once by a write of the job's own: its state goes
        out with that write (the row lags the event by one step, never the other way round
        for a watcher, whose snapshot seq lags too)."""
        self._stage(status, phase, progress)
        active = self.job.status == JobStatus.ACTIVE.value
        if not active:
            self.unwritten.clear()  # an ended or requeued job's row was written by its end
        elif write and (changes := self._take_unwritten()):
            async with self.state.store.transaction() as conn:
                await jobs.record(conn, self.job_id, self.state.worker_id, **changes)
        metrics.event_published(kind.value)
        event = job_event(self.job, kind, message=message, **data)
        if active or self.seq_stored:
            published = await self.state.bus.publish(event)
        else:
            published = await publish(self.state.store, self.state.bus, event)
        if self.seq_stored and published.seq != self.seq_stored:
            log.warning("job %s: seq %d, expected %d", self.job_id, published.seq, self.seq_stored)
            async with self.state.store.transaction() as conn:
                await jobs.set_seq(conn, self.job_id, published.seq)
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
        metrics.event_published(EventType.LOG.value)
        await self.state.bus.publish(event)
