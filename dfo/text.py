"""User-supplied text is data: strip what a terminal would interpret."""

from __future__ import annotations

import re

# ESC/CSI/OSC sequences first (so their payload goes too), then every remaining C0/C1 control
# character, then the bidi overrides that can make text read differently from what it is.
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NO_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Return `text` safe to print literally: no escape sequences, controls or bidi overrides."""
    text = _ANSI.sub("", text)
    text = (_CONTROL if keep_newlines else _CONTROL_NO_NEWLINE).sub(
        "" if keep_newlines else " ", text
    )
    return _BIDI.sub("", text)


def one_line(text: str, width: int = 0) -> str:
    """Collapse to a single cleaned line, cut to `width` characters (0: no limit)."""
    line = " ".join(clean(text).split())
    if width and len(line) > width:
        return line[: max(width - 1, 0)] + "…"
    return line
