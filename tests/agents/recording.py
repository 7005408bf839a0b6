"""A sink that records what an agent emits (the real AgentSink interface, no store)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RecordingSink:
    done: list[tuple[int, str | None]] = field(default_factory=list)
    progress_seen: list[tuple[float, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    memories: list[tuple[str, str | None, float]] = field(default_factory=list)
    levels: list[tuple[str, str]] = field(default_factory=list)

    async def item_done(self, item_id: int, result: str | None = None) -> None:
        self.done.append((item_id, result))

    async def progress(self, percent: float, message: str) -> None:
        self.progress_seen.append((percent, message))

    async def log(self, line: str, level: str = "info") -> None:
        self.logs.append(line)
        if level != "info":
            self.levels.append((level, line))

    async def memory(self, content: str, summary: str | None, importance: float) -> None:
        self.memories.append((content, summary, importance))
