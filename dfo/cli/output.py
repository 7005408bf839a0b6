"""Output: stdout is data (JSON or tables), stderr is diagnostics; user text printed literally.

Rich is imported on first use, not with this module: `dfo enqueue --json` never needs it, and
every command's start-up would pay ~20 ms for it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from dfo.text import clean, one_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def __getattr__(name: str) -> Console:
    """`output.stdout` and `output.stderr`: the Rich consoles, made on first use."""
    if name in ("stdout", "stderr"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _console(name: str) -> Console:
    made: Console | None = globals().get(name)
    if made is not None:
        return made
    from rich.console import Console

    if name == "stdout":
        # Piped output is data: no wrapping at 80 columns (a terminal keeps its own width).
        width = None if sys.stdout.isatty() else 250
        made = Console(highlight=False, soft_wrap=False, width=width)
    else:
        made = Console(stderr=True, highlight=False, soft_wrap=True)
    globals()[name] = made
    return made


def plain(value: Any) -> Any:
    """A JSON-ready copy of dataclasses, enums, datetimes, lists and dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(plain(value), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def literal(value: object, width: int = 0) -> Text:
    """A cell or line shown exactly as written: no markup, no escape sequences."""
    from rich.text import Text

    return Text("" if value is None else one_line(str(value), width))


def block(value: object) -> Text:
    """Multi-line user text, cleaned but keeping its line breaks."""
    from rich.text import Text

    return Text("" if value is None else clean(str(value), keep_newlines=True))


def table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None
) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table(*columns, title=title, title_justify="left", box=None, header_style="bold")
    for row in rows:
        grid.add_row(*(cell if isinstance(cell, Text) else literal(cell) for cell in row))
    _console("stdout").print(grid)


def line(*parts: object) -> None:
    from rich.text import Text

    _console("stdout").print(
        Text(" ").join(p if isinstance(p, Text) else literal(p) for p in parts)
    )


def error(message: str) -> None:
    from rich.text import Text

    _console("stderr").print(Text("dfo: error: ", style="bold red") + Text(one_line(message)))


def warn(message: str) -> None:
    from rich.text import Text

    _console("stderr").print(Text("dfo: ", style="yellow") + Text(one_line(message)))


def progress_bar(percent: int, width: int = 10) -> Text:
    from rich.text import Text

    filled = max(0, min(width, round(width * percent / 100)))
    return Text("█" * filled + "░" * (width - filled) + f" {percent:3d}%")
