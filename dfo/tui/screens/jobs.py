"""The jobs screen: the live table, the header, filters, and the job actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from dfo.errors import DfoError
from dfo.text import one_line
from dfo.tui.messages import BoardReloaded, JobEvent
from dfo.tui.widgets.jobs_table import JobsTable
from dfo.tui.widgets.summary import Summary

if TYPE_CHECKING:
    from dfo.tui.app import DfoApp

STATUS_FILTERS = ("", "active", "queued", "failed", "blocked", "cancelled", "completed")
ACTIONS = {"enqueue", "cancel", "retry", "rerun"}
#: Rows in the table (live ones always first); the filters reach the rest of the history.
ROW_LIMIT = 500


class JobsScreen(Screen[None]):
    AUTO_FOCUS = "#jobs"
    BINDINGS = [
        Binding("enter", "open", "Detail"),
        Binding("t", "inspect", "Task"),
        Binding("e", "enqueue", "Enqueue"),
        Binding("c", "cancel", "Cancel"),
        Binding("r", "retry", "Retry"),
        Binding("R", "rerun", "Rerun"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "status_filter", "Status"),
        Binding("escape", "clear_filter", "Clear", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.text_filter = ""
        self.status_filter = ""
        self.shown_version = -1

    @property
    def dfo(self) -> DfoApp:
        return cast("DfoApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Summary(id="summary")
        # Disabled while hidden, so that it never takes the keys meant for the table.
        yield Input(
            placeholder="filter: task, title, agent or job id (Esc clears)",
            id="filter",
            disabled=True,
        )
        yield JobsTable(id="jobs")
        yield Footer()

    def on_mount(self) -> None:
        # Many events a second are coalesced: the table is redrawn at most 4 times a second.
        self.set_interval(0.25, self.refresh_table)
        self.refresh_table()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In read-only mode the actions are hidden from the footer and their keys do nothing.
        return not (action in ACTIONS and self.dfo.readonly)

    def on_job_event(self, message: JobEvent) -> None:
        # The board already has it; the timer redraws. A job that just ended gets its last update.
        if message.event.terminal:
            self.query_one(JobsTable).stale.add(message.event.job_id)

    def on_board_reloaded(self, message: BoardReloaded) -> None:
        del message
        self.shown_version = -1

    def refresh_table(self) -> None:
        board = self.dfo.board
        summary = self.query_one(Summary)
        summary.show(
            board.counts(),
            self.dfo.workers_alive,
            board.per_minute(_now()),
            self.dfo.connected,
            self.dfo.readonly,
        )
        live = any(v.status == "active" for v in board.jobs.values())
        if board.version == self.shown_version and not live:
            return
        self.shown_version = board.version
        rows = board.rows(self.text_filter, self.status_filter, limit=ROW_LIMIT)
        self.query_one(JobsTable).show(rows)
        hidden = len(board.jobs) - len(rows)
        if hidden > 0 and not (self.text_filter or self.status_filter):
            self.sub_title = f"newest {ROW_LIMIT} of {len(board.jobs)} jobs: filter to find others"
        if self.status_filter:
            self.sub_title = f"status: {self.status_filter}"

    def selected(self) -> str | None:
        return self.query_one(JobsTable).selected_job()

    # -- navigation ----------------------------------------------------------------------------

    def action_open(self) -> None:
        job_id = self.selected()
        if job_id:
            from dfo.tui.screens.job_detail import JobDetailScreen

            self.app.push_screen(JobDetailScreen(job_id))

    @on(JobsTable.RowSelected, "#jobs")
    def row_selected(self) -> None:
        # The table takes Enter for itself and reports the selected row.
        self.action_open()

    def action_inspect(self) -> None:
        job_id = self.selected()
        if job_id:
            from dfo.tui.screens.task_inspector import TaskInspectorScreen

            self.app.push_screen(TaskInspectorScreen(self.dfo.board.jobs[job_id].task_code))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.disabled = False
        box.add_class("visible")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("visible")
        box.disabled = True
        self.text_filter = ""
        self.shown_version = -1
        self.query_one(JobsTable).focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value
        self.shown_version = -1
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(JobsTable).focus()

    def action_status_filter(self) -> None:
        index = (STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)
        self.status_filter = STATUS_FILTERS[index]
        self.sub_title = f"status: {self.status_filter}" if self.status_filter else ""
        self.shown_version = -1
        self.refresh_table()

    # -- actions ---------------------------------------------------------------------------------

    def action_enqueue(self, code: str = "") -> None:
        from dfo.tui.screens.enqueue import EnqueueRequest, EnqueueScreen

        def done(request: EnqueueRequest | None) -> None:
            if request is not None:
                self.run_action_enqueue(
                    request.code, request.agent, request.priority, request.rerun
                )

        self.app.push_screen(EnqueueScreen(self.dfo.task_codes(), code), done)

    def action_cancel(self) -> None:
        job_id = self.selected()
        if not job_id:
            return
        from dfo.tui.screens.cancel import CancelScreen

        view = self.dfo.board.jobs[job_id]

        def done(reason: str | None) -> None:
            if reason is not None:
                self.run_cancel(job_id, reason)

        self.app.push_screen(CancelScreen(view.task_code, job_id), done)

    def action_retry(self) -> None:
        job_id = self.selected()
        if job_id:
            self.run_retry(job_id)

    def action_rerun(self) -> None:
        job_id = self.selected()
        if job_id:
            view = self.dfo.board.jobs[job_id]
            self.run_action_enqueue(view.task_code, None, "normal", True)

    @work(group="actions")
    async def run_action_enqueue(
        self, code: str, agent: str | None, priority: str, rerun: bool
    ) -> None:
        await self._report(self.dfo.enqueue(code, agent, priority, rerun), "queued")

    @work(group="actions")
    async def run_cancel(self, job_id: str, reason: str) -> None:
        await self._report(self.dfo.cancel(job_id, reason), "cancel requested for")

    @work(group="actions")
    async def run_retry(self, job_id: str) -> None:
        await self._report(self.dfo.retry(job_id), "retry queued")

    async def _report(self, pending: Any, verb: str) -> None:
        try:
            result = await pending
        except DfoError as exc:
            self.notify(one_line(str(exc), 200), severity="error", markup=False)
            return
        code = getattr(result, "task_code", "")
        note = " (already live)" if getattr(result, "existing", False) else ""
        note = " (from cache)" if getattr(result, "from_cache", False) else note
        self.notify(one_line(f"{verb} {code} {result.job_id[:8]}{note}", 200), markup=False)


def _now() -> float:
    import time

    return time.time()
