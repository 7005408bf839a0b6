"""Phase 3, 20 -> 90 %: the agent works through the pending items.

Each completed item is committed at once, so a re-run (after a crash, a retry or a requeue)
starts from the items still pending. Progress is the share of the task's items done.
"""

from __future__ import annotations

import asyncio

from dfo import agents as agent_kinds
from dfo.errors import DfoError, InvalidInput
from dfo.events import EventType
from dfo.models import Agent, TaskContext
from dfo.store import memories, tasks
from dfo.worker.run import JobRun

PHASE = "execution"
START, END = 20, 90


class Sink:
    """Where the agent reports: the store and the event bus."""

    def __init__(self, job: JobRun, context: TaskContext) -> None:
        self.job = job
        self.context = context
        self.done = len(context.items) - len(context.items_pending)
        self.total = len(context.items)
        self.pending_ids = {item.id for item in context.items_pending}

    def percent(self) -> int:
        share = self.done / self.total if self.total else 1.0
        return START + round((END - START) * share)

    async def item_done(self, item_id: int, result: str | None = None) -> None:
        if item_id not in self.pending_ids:
            await self.job.log(f"ignored item_done for item {item_id}: not a pending item")
            return
        async with self.job.state.store.transaction() as conn:
            marked = await tasks.complete_item(conn, self.context.task.id, item_id, result)
            if marked:
                self.done += 1
                await tasks.set_state(
                    conn,
                    self.context.task.id,
                    status="in_progress",
                    progress=round(100 * self.done / self.total) if self.total else 100,
                )
                await self.job.record_state(conn, phase=PHASE, progress=self.percent())
        self.pending_ids.discard(item_id)
        if marked:
            title = next((i.title for i in self.context.items if i.id == item_id), str(item_id))
            await self.job.emit(
                EventType.PROGRESS,
                phase=PHASE,
                progress=self.percent(),
                message=f"item {self.done}/{self.total} done: {title}",
                item_id=item_id,
            )

    async def progress(self, percent: float, message: str) -> None:
        share = max(0.0, min(100.0, float(percent))) / 100
        value = max(self.job.job.progress, START + round((END - START) * share))
        await self.job.emit(EventType.PROGRESS, phase=PHASE, progress=value, message=message)

    async def log(self, line: str, level: str = "info") -> None:
        await self.job.log(line, level)

    async def memory(self, content: str, summary: str | None, importance: float) -> None:
        async with self.job.state.store.transaction() as conn:
            await memories.add_memory(
                conn,
                project_id=self.context.task.project_id,
                task_id=self.context.task.id,
                content=content,
                summary=summary,
                importance=max(0.0, min(1.0, importance)),
            )
        await self.job.log(f"memory saved: {summary or content[:80]}")


async def run(job: JobRun, context: TaskContext, agent: Agent, attempt: int) -> Sink:
    info = agent_kinds.RunInfo(job.job_id, job.job.request_id or "", attempt)
    runner = agent_kinds.build(agent, info)
    limit = _timeout(agent)
    sink = Sink(job, context)
    await job.emit(
        EventType.PROGRESS,
        phase=PHASE,
        progress=sink.percent(),
        message=f"agent {agent.name} ({agent.kind}) on {len(context.items_pending)} pending items",
        write=False,  # written with the first item (or the job's end)
    )
    try:
        async with asyncio.timeout(limit):
            await runner.run(context, sink)
    except TimeoutError:
        if limit is None:
            raise
        # A timeout is final: the agent had its time (not retried, unlike a transient error).
        raise AgentTimeout(f"agent {agent.name} timed out after {limit:g} s") from None
    return sink


def _timeout(agent: Agent) -> float | None:
    """The agent's own `timeout` (seconds) from its config, if any."""
    raw = agent.config.get("timeout")
    if raw is None:
        return None
    try:
        value = float(str(raw))
    except ValueError:
        raise InvalidInput(f"agent {agent.name}: timeout must be a number of seconds") from None
    if value <= 0:
        raise InvalidInput(f"agent {agent.name}: timeout must be positive")
    return value


class AgentTimeout(DfoError):
    pass
