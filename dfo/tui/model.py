"""What the dashboard shows, kept by the App and updated from bus events (no I/O here)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from dfo.events import Event
from dfo.models import Job

LIVE = ("active", "queued")
_ORDER = {"active": 0, "queued": 1}


@dataclass
class JobView:
    job_id: str
    task_code: str
    title: str
    agent: str
    status: str
    phase: str
    progress: int
    message: str
    attempt: int
    requested_by: str
    request_id: str
    started: float | None = None
    ended: float | None = None
    created: float = field(default_factory=time.time)

    @classmethod
    def from_job(cls, job: Job, title: str) -> JobView:
        return cls(
            job_id=job.job_id,
            task_code=job.task_code,
            title=title,
            agent=job.agent_name or "",
            status=job.status,
            phase=job.phase or "",
            progress=job.progress,
            message=job.last_error or "",
            attempt=job.attempts,
            requested_by=job.requested_by or "",
            request_id=job.request_id or "",
            started=_ts(job.started_at),
            ended=_ts(job.completed_at),
            created=_ts(job.created_at) or time.time(),
        )

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or now) - self.started

    def sort_key(self) -> tuple[int, float]:
        return (_ORDER.get(self.status, 2), -self.created)


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    from datetime import UTC

    return value.replace(tzinfo=UTC).timestamp()


@dataclass
class Board:
    """Every job the dashboard knows, plus counters for the header."""

    jobs: dict[str, JobView] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    finished_at: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    version: int = 0

    def load(self, jobs: list[Job], titles: dict[str, str]) -> None:
        self.titles = titles
        self.jobs = {j.job_id: JobView.from_job(j, titles.get(j.task_code, "")) for j in jobs}
        self.version += 1

    def apply(self, event: Event) -> JobView:
        view = self.jobs.get(event.job_id)
        if view is None:
            view = JobView(
                job_id=event.job_id,
                task_code=event.task_code,
                title=self.titles.get(event.task_code, ""),
                agent=event.agent or "",
                status=event.status,
                phase=event.phase or "",
                progress=event.progress,
                message=event.message,
                attempt=event.attempt,
                requested_by=event.requested_by or "",
                request_id=event.request_id or "",
            )
            self.jobs[event.job_id] = view
        if event.type == "agent_job_log":
            if view.status in LIVE:  # a log line after the end must not hide the outcome
                view.message = event.message
        else:
            view.status, view.phase, view.progress = event.status, event.phase or "", event.progress
            view.message, view.attempt = event.message, event.attempt
        if event.type == "agent_job_started" and view.started is None:
            view.started = time.time()
        if event.terminal:
            view.ended = time.time()
            self.finished_at.append(view.ended)
        self.version += 1
        return view

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for view in self.jobs.values():
            out[view.status] = out.get(view.status, 0) + 1
        return out

    def per_minute(self, now: float) -> int:
        return sum(1 for t in self.finished_at if now - t <= 60)

    def rows(self, text: str = "", status: str = "", limit: int = 1000) -> list[JobView]:
        """Live first, then newest; filtered by status and by text in code/title/agent/id."""
        needle = text.lower()
        picked = [
            v
            for v in self.jobs.values()
            if (not status or v.status == status)
            and (not needle or needle in f"{v.task_code} {v.title} {v.agent} {v.job_id}".lower())
        ]
        picked.sort(key=JobView.sort_key)
        return picked[:limit]
