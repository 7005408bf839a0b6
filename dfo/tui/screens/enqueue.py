"""The enqueue dialog: task code with completion, agent, priority, rerun."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Select

from dfo.errors import InvalidInput
from dfo.models import parse_agent_name, parse_task_code


@dataclass(frozen=True)
class EnqueueRequest:
    code: str
    agent: str | None
    priority: str
    rerun: bool


class EnqueueScreen(ModalScreen[EnqueueRequest | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, codes: list[str], code: str = "") -> None:
        super().__init__()
        self.codes = codes
        self.initial = code

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Enqueue an agent job")
            yield Input(
                self.initial,
                placeholder="task code, e.g. SHOP-101",
                id="code",
                suggester=SuggestFromList(self.codes, case_sensitive=False),
            )
            yield Input(placeholder="agent (empty: the task's own)", id="agent")
            yield Select(
                [(p, p) for p in ("normal", "high", "low")],
                value="normal",
                allow_blank=False,
                id="priority",
            )
            yield Checkbox("rerun even if completed", id="rerun")
            yield Label("", id="error")
            yield Button("Enqueue", variant="primary", id="submit")

    def on_mount(self) -> None:
        self.query_one("#code", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        raw_code = self.query_one("#code", Input).value
        raw_agent = self.query_one("#agent", Input).value.strip()
        try:
            code = parse_task_code(raw_code)
            agent = parse_agent_name(raw_agent) if raw_agent else None
        except InvalidInput as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        priority = str(self.query_one("#priority", Select).value)
        rerun = self.query_one("#rerun", Checkbox).value
        self.dismiss(EnqueueRequest(code, agent, priority, rerun))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
