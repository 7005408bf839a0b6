"""Pilot tests of the dashboard against real services and a real worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Log, Tree

from dfo.client import Client
from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings
from dfo.store import Store, tasks
from dfo.store.schema import tasks as tasks_table
from dfo.tui.app import DfoApp
from dfo.tui.screens.enqueue import EnqueueScreen
from dfo.tui.screens.help import HelpScreen
from dfo.tui.screens.job_detail import JobDetailScreen
from dfo.tui.screens.jobs import JobsScreen
from dfo.tui.screens.task_inspector import TaskInspectorScreen
from dfo.tui.widgets.jobs_table import JobsTable
from tests.store import helpers
from tests.worker.conftest import Spawn, seed

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
SIZE = (170, 40)


async def until(pilot: Pilot[None], condition: Callable[[], bool], within: float = 30) -> None:
    """Let the app run until `condition` holds (bounded)."""
    async with asyncio.timeout(within):
        while not condition():
            await pilot.pause(0.05)


def statuses(app: DfoApp, code: str) -> list[str]:
    return [v.status for v in app.board.jobs.values() if v.task_code == code]


def select_job(app: DfoApp, code: str) -> None:
    table = app.screen.query_one(JobsTable)
    for index, key in enumerate(table.rows):
        if app.board.jobs[str(key.value)].task_code == code:
            table.move_cursor(row=index)
            return
    raise AssertionError(f"{code} not in the table")


async def started(pilot: Pilot[None], app: DfoApp) -> None:
    await until(pilot, lambda: app.client is not None and isinstance(app.screen, JobsScreen))


async def test_jobs_arrive_live_and_complete(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=3)
    spawn_worker()
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await client.enqueue(code)
        await until(pilot, lambda: statuses(app, code) == ["completed"])
        await pilot.pause(0.3)
        table = app.screen.query_one(JobsTable)
        row = table.get_row_at(0)
        assert str(row[1]) == code and str(row[3]) == "completed" and "100%" in str(row[5])
        await until(pilot, lambda: app.workers_alive >= 1)


async def test_enqueue_from_the_dialog(store: Store, fast: Settings, spawn_worker: Spawn) -> None:
    [code] = await seed(store, items=1)
    spawn_worker()
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EnqueueScreen))
        await pilot.press(*code.lower())
        await pilot.press("enter")
        await until(pilot, lambda: statuses(app, code) == ["completed"])


async def test_bad_code_in_the_dialog_is_explained(store: Store, fast: Settings) -> None:
    await seed(store)
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("e", "x", "enter")
        assert isinstance(app.screen, EnqueueScreen)
        assert "invalid task code" in str(app.screen.query_one("#error").render())
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_cancel_with_a_reason_then_retry_and_rerun(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=6, agent="slow", config={"delay": 0.3})
    spawn_worker()
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        queued = await client.enqueue(code)
        await until(
            pilot,
            lambda: (
                app.board.jobs.get(queued.job_id) is not None
                and app.board.jobs[queued.job_id].progress > 20
            ),
        )
        await pilot.pause(0.3)
        select_job(app, code)
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await until(pilot, lambda: app.board.jobs[queued.job_id].status == "cancelled")
        assert (
            await client.snapshot(queued.job_id)
        ).cancel_reason == "cancelled from the dashboard"
        await pilot.pause(0.3)
        select_job(app, code)
        await pilot.press("r")  # retry the cancelled job: a new one
        await until(pilot, lambda: statuses(app, code).count("completed") == 1)
        await pilot.pause(0.3)
        select_job(app, code)
        await pilot.press("R")  # rerun the completed task
        await until(pilot, lambda: statuses(app, code).count("completed") == 2, within=40)


async def test_detail_and_inspector(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    first, second = await seed(store, count=2, items=2)
    async with store.transaction() as conn:
        await helpers.blocks(conn, first, second)
    spawn_worker()
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await client.enqueue(second)
        await until(pilot, lambda: statuses(app, second) == ["blocked"])
        await pilot.pause(0.3)
        select_job(app, second)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        detail = app.screen
        await until(pilot, lambda: detail.query_one(Log).line_count >= 4)
        assert "blocked" in "\n".join(detail.query_one(Log).lines)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TaskInspectorScreen))
        inspector = app.screen
        await until(pilot, lambda: inspector.query_one("#task-items", DataTable).row_count == 2)
        tree = inspector.query_one("#task-deps", Tree)
        labels = [str(leaf.label) for node in tree.root.children for leaf in node.children]
        assert any(first in label and "BLOCKING" in label for label in labels)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, JobsScreen)


async def test_readonly_hides_every_action(store: Store, fast: Settings) -> None:
    [code] = await seed(store)
    app = DfoApp(fast, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("e")
        await pilot.pause(0.1)
        assert isinstance(app.screen, JobsScreen)
        for action in ("enqueue", "cancel", "retry", "rerun"):
            assert app.screen.check_action(action, ()) is False
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Enqueue a task" not in titles and "Help" in titles
        del code


async def test_palette_help_and_hostile_titles(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=1)
    hostile = "[/] [@click=app.quit]x [link=y]z \x1b[31mred\x1b]0;pwn\x07 \u202eevil"
    async with store.transaction() as conn:
        await conn.execute(
            tasks_table.update().where(tasks_table.c.code == code).values(title=hostile)
        )
    spawn_worker()
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Enqueue a task", "Cancel job", "Retry job", "Rerun task", "Open job"} <= titles
        await client.enqueue(code)
        await until(pilot, lambda: statuses(app, code) == ["completed"])
        await pilot.pause(0.3)
        row = app.screen.query_one(JobsTable).get_row_at(0)
        assert str(row[2]).startswith("[/] [@click=app.quit]x [link=y]z red")
        assert "\x1b" not in str(row[2]) and "\u202e" not in str(row[2])
        await pilot.click(JobsTable, offset=(30, 1))  # a click on the title runs no action
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen) and app.is_running
        async with store.read() as conn:
            assert (await tasks.get_task(conn, code)).title == hostile


async def test_text_and_status_filters(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    first, second = await seed(store, count=2, items=1)
    async with store.transaction() as conn:
        await helpers.blocks(conn, first, second)
    spawn_worker()
    app = DfoApp(fast)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await client.enqueue(second)  # ends blocked
        await until(pilot, lambda: statuses(app, second) == ["blocked"])
        await client.enqueue(first)
        await until(pilot, lambda: "completed" in statuses(app, first))
        table = app.screen.query_one(JobsTable)

        def codes() -> set[str]:
            return {app.board.jobs[str(k.value)].task_code for k in table.rows}

        await pilot.press("slash", *first.lower())
        await until(pilot, lambda: codes() == {first})
        await pilot.press("escape")
        await until(pilot, lambda: codes() == {first, second})
        await pilot.press("s", "s", "s", "s")  # "", active, queued, failed, blocked
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await until(pilot, lambda: screen.status_filter == "blocked")
        await until(pilot, lambda: codes() == {second})


async def test_redis_restart_is_shown_and_recovered(
    store: Store, fast: Settings, spawn_worker: Spawn, tmp_path: Path
) -> None:
    own = EmbeddedRedis(tmp_path / "own-redis")
    own.ensure_running()
    settings = fast.model_copy(update={"redis_url": own.url})
    [code] = await seed(store, items=1)
    spawn_worker(settings=settings)
    app = DfoApp(settings)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await until(pilot, lambda: app.connected and app.workers_alive == 1)
            own.stop()
            await until(pilot, lambda: not app.connected, within=15)
            await pilot.pause(0.3)
            assert "REDIS DISCONNECTED" in str(app.screen.query_one("#summary").render())
            own.ensure_running()
            await until(pilot, lambda: app.connected, within=15)
            other = await Client.open(settings)
            try:
                await other.enqueue(code)
            finally:
                await other.close()
            await until(pilot, lambda: statuses(app, code) == ["completed"], within=30)
    finally:
        own.stop()
