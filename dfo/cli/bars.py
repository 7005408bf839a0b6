"""Live progress bars on a terminal (`--wait`, `watch`, `demo`, `up`)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from dfo.events import Event
from dfo.text import one_line


class Bars:
    """One Rich progress bar per job: task code, bar, percent, phase, last message."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[code]}", markup=False),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            TextColumn("{task.fields[state]}", markup=False),
            TextColumn("{task.fields[message]}", markup=False),
            console=console,
            auto_refresh=True,
            refresh_per_second=8,
        )
        self.rows: dict[str, TaskID] = {}
        self.ended: set[str] = set()
        self.progress.start()

    def event(self, event: Event) -> None:
        if event.job_id in self.ended and not event.terminal:
            return  # a log line after the end must not hide the outcome
        if event.terminal:
            self.ended.add(event.job_id)
        state = event.status if event.terminal or event.status != "active" else event.phase or ""
        message = one_line(event.message, 60)
        row = self.rows.get(event.job_id)
        if row is None:
            self.rows[event.job_id] = self.progress.add_task(
                "",
                total=100,
                completed=event.progress,
                code=event.task_code,
                state=state,
                message=message,
            )
        else:
            self.progress.update(
                row, completed=event.progress, code=event.task_code, state=state, message=message
            )

    def close(self) -> None:
        self.progress.stop()
