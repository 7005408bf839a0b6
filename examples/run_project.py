"""Enqueue every task of a project, watch all jobs live, and check how each one ended.

    dfo import examples/shop.yaml
    dfo worker &                      # one worker against the embedded services
    python examples/run_project.py SHOP

Blocked tasks end `blocked` first and run again by themselves once their blockers complete
(auto-unblock); the script follows those new jobs too, and exits 0 when every task completed.
"""

from __future__ import annotations

import asyncio
import sys

from dfo.client import Client
from dfo.events import EventType
from dfo.store import jobs, projects, tasks


async def main(project_code: str) -> int:
    async with await Client.open() as client:
        async with client.store.read() as conn:
            project = await projects.get_project(conn, project_code)
            codes = [t.code for t in await tasks.list_tasks(conn, project_id=project.id)]
        watched: set[str] = set()
        for code in codes:
            queued = await client.enqueue(code, requested_by="examples/run_project.py")
            note = " (from cache)" if queued.from_cache else ""
            print(f"{code}: job {queued.job_id or '-'} {queued.status}{note}", flush=True)
            if not queued.from_cache:
                watched.add(queued.job_id)
        # Follow every job of the project, including the ones auto-unblock creates.
        open_tasks = {c for c in codes}
        async with client.store.read() as conn:
            for code in codes:
                if (await tasks.get_task(conn, code)).status == "completed":
                    open_tasks.discard(code)
        async with asyncio.timeout(600):
            async for event in client.watch(None):
                if event.project != project_code or not event.terminal:
                    continue
                print(f"{event.task_code}: {event.type.removeprefix('agent_job_')}"
                      f" ({event.message})", flush=True)
                if event.type == EventType.COMPLETED:
                    open_tasks.discard(event.task_code)
                if not open_tasks:
                    break
        return await check(client, codes)


async def check(client: Client, codes: list[str]) -> int:
    """Each task completed; each job that ended blocked had an unfinished blocker then."""
    problems = 0
    async with client.store.read() as conn:
        for code in codes:
            task = await tasks.get_task(conn, code)
            if task.status != "completed":
                print(f"PROBLEM {code}: task is {task.status}")
                problems += 1
        for job in await jobs.list_jobs(conn, limit=10_000):
            if job.task_code in codes and job.status == "blocked":
                blockers = (job.result or {}).get("blockers") or []
                if not blockers:
                    print(f"PROBLEM {job.task_code}: job {job.job_id} blocked without blockers")
                    problems += 1
    print("all tasks completed" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "SHOP")))
