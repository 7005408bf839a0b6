"""Cancel confirmation with a reason."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class CancelScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Keep it")]

    def __init__(self, task_code: str, job_id: str) -> None:
        super().__init__()
        self.task_code = task_code
        self.job_id = job_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Cancel job {self.job_id[:8]} of {self.task_code}?"))
            yield Input("cancelled from the dashboard", placeholder="reason", id="reason")
            with Horizontal():
                yield Button("Cancel the job", variant="error", id="confirm")
                yield Button("Keep it", id="keep")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip() or "cancelled from the dashboard"
        self.dismiss(reason)

    @on(Button.Pressed, "#keep")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)
