"""Messages the App sends to its screens."""

from __future__ import annotations

from textual.message import Message

from dfo.events import Event


class JobEvent(Message):
    """A bus event, after the App applied it to its board."""

    def __init__(self, event: Event) -> None:
        self.event = event
        super().__init__()


class BoardReloaded(Message):
    """The App re-read the store (start, or after a reconnect)."""
