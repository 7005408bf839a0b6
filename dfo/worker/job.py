"""The arq job function: thin on purpose; the pipeline does the work."""

from __future__ import annotations

from typing import Any

from dfo.worker.pipeline import run_job
from dfo.worker.state import WorkerState


async def run_agent_job(ctx: dict[str, Any], job_id: str) -> str:
    state: WorkerState = ctx["dfo"]
    return await run_job(state, job_id)
