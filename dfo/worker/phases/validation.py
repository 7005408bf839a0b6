"""Phase 2, 5 -> 20 %: active blockers end the job `blocked`; otherwise the task starts."""

from __future__ import annotations

from dfo.events import EventType
from dfo.models import Dependency, TaskContext, TaskStatus
from dfo.store import tasks
from dfo.worker.run import JobRun

PHASE = "validation"


async def run(job: JobRun, context: TaskContext) -> list[Dependency]:
    """The active blockers (empty: the task is now `in_progress`)."""
    blockers = context.dependencies.blockers
    if blockers:
        return blockers
    async with job.state.store.transaction() as conn:
        await tasks.set_state(conn, context.task.id, status=TaskStatus.IN_PROGRESS.value)
        await job.record_state(conn, phase=PHASE, progress=20)
    await job.emit(EventType.PROGRESS, phase=PHASE, progress=20, message="no active blockers")
    return []
