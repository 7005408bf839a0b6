"""Job detail: who asked, the phase timeline, the event log (following live), result or error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Log, Static

from dfo.events import Event
from dfo.text import one_line
from dfo.tui.messages import JobEvent

if TYPE_CHECKING:
    from dfo.tui.app import DfoApp

PHASES = ("context", "validation", "execution", "finalization")


def timeline(events: list[Event]) -> Text:
    """Time spent in each phase, from the events' timestamps."""
    starts: dict[str, datetime] = {}
    last: datetime | None = None
    for event in events:
        stamp = datetime.fromisoformat(event.ts.replace("Z", "+00:00"))
        if event.phase and event.phase not in starts:
            starts[event.phase] = stamp
        last = stamp
    text = Text()
    for index, phase in enumerate(PHASES):
        if phase not in starts:
            text.append(f"{phase} -   ", style="dim")
            continue
        end = next((starts[p] for p in PHASES[index + 1 :] if p in starts), last)
        seconds = (end - starts[phase]).total_seconds() if end else 0.0
        text.append(f"{phase} {seconds:.2f}s   ")
    return text


def line(event: Event) -> str:
    kind = event.type.removeprefix("agent_job_")
    return one_line(
        f"{event.seq:>4} {event.ts[11:23]} {kind:<9} {event.progress:>3}% {event.message}", 400
    )


class JobDetailScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("t", "inspect", "Task")]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.events: list[Event] = []
        self.last_seq = 0

    @property
    def dfo(self) -> DfoApp:
        return cast("DfoApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail-head")
        yield Static(id="timeline")
        yield Log(id="events", highlight=False)
        yield Static(id="result")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"job {self.job_id[:8]}"
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        job, history = await self.dfo.job(self.job_id)
        head = Text()
        for label, value in (
            ("task", job.task_code),
            ("status", job.status),
            ("agent", job.agent_name),
            ("attempts", str(job.attempts)),
            ("requested by", job.requested_by),
            ("request id", job.request_id),
        ):
            head.append(f"{label}: ", style="dim")
            head.append(one_line(value or "-", 60) + "   ")
        self.query_one("#detail-head", Static).update(head)
        for event in history:
            self.add(event)
        self.show_result(job.result, job.last_error)

    def add(self, event: Event) -> None:
        if event.seq <= self.last_seq:
            return
        self.last_seq = event.seq
        self.events.append(event)
        self.query_one(Log).write_line(line(event))
        self.query_one("#timeline", Static).update(timeline(self.events))

    def show_result(self, result: dict[str, object] | None, error: str | None) -> None:
        text = Text()
        if error:
            text.append("error: ", style="bold red")
            text.append(one_line(error, 300))
        elif result:
            text.append("result: ", style="bold green")
            text.append(one_line(json.dumps(result), 300))
        self.query_one("#result", Static).update(text)

    def on_job_event(self, message: JobEvent) -> None:
        if message.event.job_id == self.job_id:
            self.add(message.event)
            if message.event.terminal:
                result = message.event.data.get("result")
                error = (
                    None if message.event.type == "agent_job_completed" else message.event.message
                )
                self.show_result(result if isinstance(result, dict) else None, error)

    def action_inspect(self) -> None:
        from dfo.tui.screens.task_inspector import TaskInspectorScreen

        view = self.dfo.board.jobs.get(self.job_id)
        if view is not None:
            self.app.push_screen(TaskInspectorScreen(view.task_code))
