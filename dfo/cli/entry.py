"""The `dfo` process: how a command-line process starts and ends around the CLI (`main`)."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from typing import NoReturn

#: The cyclic collector's first-generation threshold (CPython's default: 700 allocations).
#: Start-up creates ~300,000 long-lived objects (SQLAlchemy, pydantic, redis-py); at 700 the
#: collector walks them again and again while they are imported: ~25 ms of a 330 ms
#: `dfo enqueue`. Garbage cycles are still collected, in larger batches.
GC_THRESHOLD = 10_000


def main() -> None:
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    from dfo.cli.main import COMMANDS, GROUPS, app, make_app

    name = sys.argv[1] if len(sys.argv) > 1 else None
    command_line = make_app(only=name) if name in COMMANDS or name in GROUPS else app
    try:
        command_line(prog_name="dfo")
    except SystemExit as done:
        leave(done.code)
    leave(0)


def leave(code: str | int | None) -> NoReturn:
    """Exit with `code` without the interpreter's teardown.

    Tearing down the modules a command loaded (SQLAlchemy, pydantic, redis) takes ~100 ms on
    this class of machine: a fifth of a short command's life, spent after its work is done. The
    exit handlers still run and the output is flushed; a process with a live non-daemon thread,
    or exiting with a message instead of a status, leaves the normal way.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if isinstance(code, str) or any(not t.daemon for t in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    status = code or 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said there
            status = status or 1
    os._exit(status)
