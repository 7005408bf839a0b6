"""Phase 4, 90 -> 100 %: task progress and status from its items, the result stored.

The job ends `completed` only if nobody cancelled it and this worker still owns it: the task
update and the job's end are one transaction, so a lost race changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dfo.events import EventType
from dfo.models import JobStatus, TaskStatus
from dfo.store import jobs, tasks
from dfo.worker.run import JobRun

PHASE = "finalization"


class LostRace(Exception):
    """The job was cancelled or taken over while finishing: roll back."""


def result_document(
    job: JobRun, done: int, total: int, task_status: str, *, success: bool, error: str | None = None
) -> dict[str, Any]:
    """The result contract of DESIGN.md section 2."""
    return {
        "success": success,
        "task_id": job.job.task_id,
        "task_code": job.job.task_code,
        "agent_id": job.job.agent_id,
        "agent": job.job.agent_name,
        "items_completed": done,
        "items_total": total,
        "progress": round(100 * done / total) if total else 100,
        "execution_time_ms": job.elapsed_ms(),
        "task_status": task_status,
        "error": error,
    }


@dataclass(frozen=True)
class Finished:
    result: dict[str, Any]
    #: Codes of the tasks this one blocks (candidates for auto-unblock), when it completed.
    dependents: list[str]


async def run(job: JobRun) -> Finished | None:
    """The stored result, or None when a cancel or a takeover won the race."""
    # Written with the job's end just below (a row at `finalization 90 %` would last 1 ms).
    await job.emit(EventType.PROGRESS, phase=PHASE, progress=90, message="finalizing", write=False)
    seq = job.end_seq()
    try:
        async with job.state.store.transaction() as conn:
            done, total = await tasks.item_counts(conn, job.job.task_id)
            status = TaskStatus.COMPLETED if done == total else TaskStatus.IN_PROGRESS
            progress = round(100 * done / total) if total else 100
            await tasks.set_state(conn, job.job.task_id, status=status.value, progress=progress)
            result = result_document(job, done, total, status.value, success=True)
            if not await jobs.finish(
                conn,
                job.job_id,
                JobStatus.COMPLETED,
                worker_id=job.state.worker_id,
                result=result,
                execution_time_ms=result["execution_time_ms"],
                progress=100,
                phase=PHASE,
                seq=seq,
            ):
                raise LostRace
            completed = status == TaskStatus.COMPLETED
            dependents = await tasks.blocked_by(conn, job.job.task_id) if completed else []
    except LostRace:
        return None
    job.seq_stored = seq
    job.finished("completed")
    await job.emit(
        EventType.COMPLETED,
        status=JobStatus.COMPLETED.value,
        phase=PHASE,
        progress=100,
        message=f"{done}/{total} items done, task {status.value}",
        result=result,
    )
    return Finished(result, dependents)
