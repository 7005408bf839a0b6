"""The dashboard App: it alone talks to dfo (client: store + bus); screens ask it for data and
receive its messages. One worker follows the bus and turns events into messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from dfo.client import Client
from dfo.enqueue import Enqueued
from dfo.events import Event
from dfo.models import Dependencies, Job, Memory, Task, TaskItem
from dfo.settings import Settings
from dfo.tui.messages import BoardReloaded, JobEvent
from dfo.tui.model import Board

HISTORY = 2000  # jobs loaded from the store at start; live ones always come in through the bus


class DfoApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "dfo"
    BINDINGS = [Binding("question_mark", "help", "Help", key_display="?")]

    def __init__(self, settings: Settings, *, readonly: bool = False, connect: bool = True) -> None:
        super().__init__()
        self.connect = connect  # False: show the board as loaded (snapshot tests)
        self.settings = settings
        self.readonly = readonly
        self.board = Board()
        self.client: Client | None = None
        self.connected = False
        self.workers_alive = 0
        self.sub_title = "read-only" if readonly else ""

    def on_mount(self) -> None:
        from dfo.tui.screens.jobs import JobsScreen

        self.push_screen(JobsScreen())
        if self.connect:
            self.follow_bus()
            self.set_interval(2.0, self.check_connection)

    # -- the one place that talks to dfo ---------------------------------------------------

    @work(exclusive=True, group="bus")
    async def follow_bus(self) -> None:
        self.client = await Client.open(self.settings)
        await self.reload()
        async for event in self.client.watch(None):
            self.apply(event)

    def apply(self, event: Event) -> None:
        self.board.apply(event)
        self.connected = True
        self.screen.post_message(JobEvent(event))

    async def reload(self) -> None:
        client = self.require_client()
        from dfo.store import jobs, tasks

        async with client.store.read() as conn:
            rows = await jobs.list_jobs(conn, limit=HISTORY)
            titles = {t.code: t.title for t in await tasks.list_tasks(conn)}
        self.board.load(rows, titles)
        self.connected = True
        self.screen.post_message(BoardReloaded())

    async def check_connection(self) -> None:
        if self.client is None:
            return
        try:
            await self.client.pool.ping()
            self.workers_alive = len([k async for k in self.client.pool.scan_iter("dfo:worker:*")])
            if not self.connected:
                await self.reload()  # missed events while disconnected: re-snapshot
        except Exception:
            self.connected = False
        self.screen.post_message(BoardReloaded())

    def require_client(self) -> Client:
        if self.client is None:
            raise RuntimeError("not connected yet")
        return self.client

    async def enqueue(self, code: str, agent: str | None, priority: str, rerun: bool) -> Enqueued:
        return await self.require_client().enqueue(
            code, agent=agent or None, priority=priority, rerun=rerun, requested_by="dfo tui"
        )

    async def cancel(self, job_id: str, reason: str) -> Job:
        return await self.require_client().cancel(job_id, reason=reason)

    async def retry(self, job_id: str) -> Enqueued:
        return await self.require_client().retry(job_id)

    async def job(self, job_id: str) -> tuple[Job, list[Event]]:
        client = self.require_client()
        return await client.snapshot(job_id), await client.history(job_id)

    async def task_details(
        self, code: str
    ) -> tuple[Task, list[TaskItem], Dependencies, list[Memory]]:
        from dfo.store import memories, tasks

        client = self.require_client()
        async with client.store.read() as conn:
            task = await tasks.get_task(conn, code)
            items = await tasks.list_items(conn, task.id)
            deps = await tasks.dependencies(conn, task.id)
            found = await memories.relevant_to(conn, task)
        return task, items, deps, found

    async def search_memories(self, code: str, query: str) -> list[Memory]:
        from dfo.store import memories, tasks

        client = self.require_client()
        async with client.store.read() as conn:
            task = await tasks.get_task(conn, code)
            return await memories.search(conn, query, project_id=task.project_id, limit=20)

    def task_codes(self) -> list[str]:
        return sorted(self.board.titles)

    # -- app-wide actions --------------------------------------------------------------------

    def action_help(self) -> None:
        from dfo.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and what they do", self.action_help)
        from dfo.tui.screens.jobs import JobsScreen

        jobs_screen = next((s for s in self.screen_stack if isinstance(s, JobsScreen)), None)
        if jobs_screen is None:
            return
        commands = [
            ("Open job", "Job detail of the selected job", jobs_screen.action_open),
            ("Inspect task", "Items, dependencies, memories", jobs_screen.action_inspect),
            ("Filter jobs", "Filter by text", jobs_screen.action_filter),
            ("Cycle status filter", "active, queued, failed…", jobs_screen.action_status_filter),
        ]
        if not self.readonly:
            commands += [
                ("Enqueue a task", "Run an agent on a task", jobs_screen.action_enqueue),
                ("Cancel job", "Cancel the selected job", jobs_screen.action_cancel),
                ("Retry job", "Retry the selected job", jobs_screen.action_retry),
                ("Rerun task", "Run the selected job's task again", jobs_screen.action_rerun),
            ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)

    async def on_unmount(self) -> None:
        if self.client is not None:
            await asyncio.shield(self.client.close())
