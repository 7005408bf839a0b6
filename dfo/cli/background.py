"""A `dfo worker` child process for the commands that bring their own (`dfo demo`, `dfo up`)."""

from __future__ import annotations

import subprocess
import sys

from dfo.settings import Settings


def start_worker(settings: Settings, log_name: str, *args: str) -> subprocess.Popen[bytes]:
    """`dfo worker ARGS`, its output appended to `DFO_HOME/<log_name>`."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / log_name, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dfo", "worker", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
