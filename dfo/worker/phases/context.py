"""Phase 1, 0 -> 5 %: load the task, its items, dependencies, memories and the agent."""

from __future__ import annotations

from dfo.events import EventType
from dfo.models import Agent, TaskContext
from dfo.store import agents
from dfo.store.context import load_task_context
from dfo.worker.run import JobRun

PHASE = "context"


async def run(job: JobRun) -> tuple[TaskContext, Agent]:
    store = job.state.store
    async with store.read() as conn:
        context = await load_task_context(conn, job.job.task_code)
        agent = await agents.get_agent(conn, job.job.agent_name or "")
    await job.emit(
        EventType.PROGRESS,
        phase=PHASE,
        progress=5,
        write=False,  # the row says `context` since the start; 5 % goes out with validation's
        message=(
            f"context loaded: {len(context.items)} items ({len(context.items_pending)} pending),"
            f" {len(context.dependencies.blockers)} blockers, {len(context.memories)} memories"
        ),
    )
    return context, agent
