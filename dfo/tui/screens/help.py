"""`?`: the keys and what they do."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("enter", "job detail: phase timeline, event log, result"),
    ("t", "task inspector: items, dependencies (blockers), memories"),
    ("e", "enqueue a task (dialog with code completion)"),
    ("c", "cancel the selected job (asks for a reason)"),
    ("r", "retry the selected failed/cancelled/blocked job"),
    ("R", "rerun the selected job's task"),
    ("/", "filter by task, title, agent or job id (Esc clears)"),
    ("s", "cycle the status filter"),
    ("ctrl+p", "command palette: every action by name"),
    ("escape", "back / close"),
    ("q", "quit"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table("key", "action", box=None, title="dfo dashboard")
        for key, action in KEYS:
            table.add_row(key, action)
        with Vertical(classes="dialog"):
            yield Static(table)
            if getattr(self.app, "readonly", False):
                yield Static("read-only: enqueue, cancel, retry and rerun are disabled")
