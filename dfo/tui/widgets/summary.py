"""The header line: counts by status, live workers, jobs per minute, connection state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

ORDER = ("active", "queued", "completed", "failed", "blocked", "cancelled")


class Summary(Static):
    def show(
        self, counts: dict[str, int], workers: int, per_minute: int, connected: bool, readonly: bool
    ) -> None:
        text = Text()
        if not connected:
            text.append(" REDIS DISCONNECTED — reconnecting ", style="bold white on red")
            text.append("  ")
        for status in ORDER:
            text.append(f"{status} ", style="dim")
            text.append(f"{counts.get(status, 0)}  ", style="bold")
        text.append("workers ", style="dim")
        text.append(f"{workers}  ", style="bold")
        text.append("done/min ", style="dim")
        text.append(f"{per_minute}", style="bold")
        if readonly:
            text.append("   read-only", style="yellow")
        self.update(text)
