"""The dashboard keeps up with 2,000 events/s for 10 s: no growing backlog, and its final state
equals the store. The events come from a separate process through the real bus."""

from __future__ import annotations

import asyncio
import sys
import uuid

import pytest
from sqlalchemy import update

from dfo.settings import Settings
from dfo.store import Store, jobs, projects
from dfo.store.schema import agent_jobs
from dfo.tui.app import DfoApp
from dfo.tui.screens.jobs import JobsScreen

RATE, SECONDS, JOBS = 2000, 10.0, 50


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_two_thousand_events_a_second(store: Store, fast: Settings) -> None:
    async with store.transaction() as conn:
        project = await projects.add_project(conn, "FL", "flood")
        from dfo.store import tasks

        await tasks.add_task(conn, code="FL-1", project_id=project.id, title="flood", items=[])
        task = await tasks.get_task(conn, "FL-1")
    ids = []
    for _ in range(JOBS):
        job_id = uuid.uuid4().hex
        async with store.transaction() as conn:
            await jobs.create(
                conn,
                job_id=job_id,
                task_id=task.id,
                task_code="FL-1",
                project_id=project.id,
                agent_name="demo",
                priority="normal",
                max_tries=3,
            )
            # The store's final state, as the worker would leave it.
            await conn.execute(
                update(agent_jobs).where(agent_jobs.c.job_id == job_id).values(live_task_id=None)
            )
        ids.append(job_id)
    app = DfoApp(fast)
    async with app.run_test(size=(160, 40)) as pilot:
        async with asyncio.timeout(30):
            while app.client is None or not isinstance(app.screen, JobsScreen):
                await pilot.pause(0.05)
        applied_before = app.board.version
        flood = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.flood",
            fast.redis_url or "",
            str(RATE),
            str(SECONDS),
            *ids,
            stdout=asyncio.subprocess.PIPE,
        )
        assert flood.stdout is not None
        backlogs: list[int] = []
        published = 0
        while True:
            line = (await flood.stdout.readline()).decode().strip()
            if not line:
                break
            if line.startswith("done"):
                published = int(line.split()[1])
                break
            published = int(line)
            backlogs.append(published - (app.board.version - applied_before))
        await flood.wait()
        assert published == int(RATE * SECONDS)
        async with asyncio.timeout(10):
            while app.board.version - applied_before < published:
                await pilot.pause(0.05)
        tail = backlogs[len(backlogs) // 2 :]
        print(f"backlog: max {max(backlogs)}, second half max {max(tail)}, last {tail[-1]}")
        # Keeping up: the backlog in the second half stays under half a second of events and
        # does not grow (its last samples are no larger than its first ones, with slack).
        assert max(tail) < RATE // 2, max(tail)
        assert max(tail[-5:]) <= max(tail[:5]) + RATE // 10
        async with store.transaction() as conn:
            for job_id in ids:
                await conn.execute(
                    update(agent_jobs)
                    .where(agent_jobs.c.job_id == job_id)
                    .values(status="completed", progress=100)
                )
        async with store.read() as conn:
            rows = {j.job_id: j for j in await jobs.list_jobs(conn, limit=1000)}
        for job_id in ids:
            view = app.board.jobs[job_id]
            assert (view.status, view.progress) == (rows[job_id].status, rows[job_id].progress)
