"""Following jobs live: Rich bars on a terminal, one plain line per event otherwise, NDJSON with
--json; and the exit code a set of outcomes gives (DESIGN.md section 5)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dfo.cli import output
from dfo.errors import ExitCode
from dfo.events import Event, EventType
from dfo.text import one_line

if TYPE_CHECKING:
    from rich.text import Text

#: How an outcome ranks for the exit code: the highest present wins.
_SEVERITY = {
    EventType.FAILED.value: (4, ExitCode.FAILED),
    EventType.CANCELLED.value: (3, ExitCode.CANCELLED),
    EventType.BLOCKED.value: (2, ExitCode.BLOCKED),
}


@dataclass
class Outcome:
    job_id: str
    task_code: str
    status: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "job_id": self.job_id,
            "task_code": self.task_code,
            "status": self.status,
            "message": self.message,
        }


def exit_code(outcomes: dict[str, Outcome], unfinished: list[str]) -> ExitCode:
    """Worst outcome first: failed (1) > cancelled (4) > blocked (3) > timeout (5) > ok (0)."""
    worst = (0, ExitCode.OK)
    for outcome in outcomes.values():
        worst = max(worst, _SEVERITY.get(f"agent_job_{outcome.status}", (0, ExitCode.OK)))
    if worst[0] == 0 and unfinished:
        return ExitCode.TIMEOUT
    return worst[1]


class Display(Protocol):
    def event(self, event: Event) -> None: ...

    def close(self) -> None: ...


class JsonLines:
    def event(self, event: Event) -> None:
        sys.stdout.write(json.dumps(event.as_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


class PlainLines:
    def event(self, event: Event) -> None:
        line = (
            f"{event.ts[11:19]} {event.task_code} {event.job_id[:8]} "
            f"{event.type.removeprefix('agent_job_')} {event.phase or '-'} {event.progress}% "
            f"{one_line(event.message, 200)}"
        )
        sys.stdout.write(line.rstrip() + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


def display_for(json_mode: bool) -> Display:
    if json_mode:
        return JsonLines()
    if sys.stdout.isatty():
        from dfo.cli.bars import Bars  # Rich's progress display: loaded only to be shown

        return Bars(output.stdout)
    return PlainLines()


async def follow(
    events: AsyncIterator[Event], display: Display, job_ids: list[str], within: float | None
) -> tuple[dict[str, Outcome], list[str]]:
    """Show events until every job ended (or `within` seconds): (outcomes, unfinished)."""
    outcomes: dict[str, Outcome] = {}
    try:
        async with asyncio.timeout(within):
            async for event in events:
                display.event(event)
                if event.terminal:
                    outcomes[event.job_id] = Outcome(
                        event.job_id,
                        event.task_code,
                        event.type.removeprefix("agent_job_"),
                        event.message,
                    )
                    if job_ids and all(j in outcomes for j in job_ids):
                        break
    except TimeoutError:
        pass
    finally:
        display.close()
    return outcomes, [j for j in job_ids if j not in outcomes]


def summary(
    outcomes: dict[str, Outcome], unfinished: list[str], json_mode: bool, code: ExitCode
) -> None:
    if json_mode:
        doc = {
            "summary": [o.as_dict() for o in outcomes.values()],
            "unfinished": unfinished,
            "exit_code": int(code),
        }
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
        return
    output.table(
        ["JOB", "TASK", "OUTCOME", "MESSAGE"],
        [
            (o.job_id[:8], o.task_code, o.status, output.literal(o.message, 70))
            for o in outcomes.values()
        ]
        + [(j[:8], "", "still running", "") for j in unfinished],
    )


def status_text(status: str) -> Text:
    from rich.text import Text

    style = {
        "completed": "green",
        "failed": "red",
        "cancelled": "yellow",
        "blocked": "magenta",
        "active": "cyan",
    }.get(status, "")
    return Text(status, style=style)
