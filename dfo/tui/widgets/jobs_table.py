"""The live jobs table: one row per job, progress bar, refreshed from the App's board."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from dfo.text import one_line
from dfo.tui.model import JobView

STATUS_STYLE = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "blocked": "magenta",
    "active": "bold cyan",
    "queued": "dim",
}
COLUMNS = (
    "JOB",
    "TASK",
    "TITLE",
    "STATUS",
    "PHASE",
    "PROGRESS",
    "MESSAGE",
    "AGENT",
    "TRY",
    "ELAPSED",
)


def bar(percent: int, width: int = 12) -> Text:
    filled = max(0, min(width, round(width * percent / 100)))
    return Text("█" * filled + "░" * (width - filled) + f" {percent:3d}%")


def cells(view: JobView, now: float) -> tuple[Text, ...]:
    elapsed = view.elapsed(now)
    return (
        Text(view.job_id[:8]),
        Text(view.task_code),
        Text(one_line(view.title, 40)),
        Text(view.status, style=STATUS_STYLE.get(view.status, "")),
        Text(view.phase),
        bar(view.progress),
        Text(one_line(view.message, 50)),
        Text(one_line(view.agent, 16)),
        Text(str(view.attempt)),
        Text(f"{elapsed:6.1f}s" if view.started else ""),
    )


class JobsTable(DataTable[Text]):
    """Rows are keyed by job id. `show` updates the cells in place when the rows are the same
    jobs in the same order (the common case: progress moving), else rebuilds, keeping the cursor
    on its job."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: Jobs that just ended: their row needs one last update.
        self.stale: set[str] = set()

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for name in COLUMNS:
            self.add_column(name, key=name)

    def show(self, rows: list[JobView]) -> None:
        now = time.time()
        current = [str(key.value) for key in self.rows]
        if current == [view.job_id for view in rows]:
            for view in rows:
                if view.status in ("active", "queued") or view.job_id in self.stale:
                    for column, value in zip(COLUMNS, cells(view, now), strict=True):
                        self.update_cell(view.job_id, column, value)
            self.stale.clear()
            return
        selected = self.selected_job()
        self.stale.clear()
        self.clear()
        for view in rows:
            self.add_row(*cells(view, now), key=view.job_id)
        if selected is not None:
            for index, view in enumerate(rows):
                if view.job_id == selected:
                    self.move_cursor(row=index)
                    break

    def selected_job(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # the cursor points past the rows during a refresh
            return None
        return str(key.value) if key.value is not None else None
