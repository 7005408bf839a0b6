"""End to end: `dfo up` in a real terminal (tmux), a job enqueued by a key press, read back
off the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")


def tmux(*args: str) -> str:
    assert TMUX
    return subprocess.run([TMUX, *args], capture_output=True, text=True, check=True).stdout


def screen_until(session: str, predicate: str, within: float = 30, *, line: str = "") -> str:
    """The screen once `predicate` shows (on the line containing `line`, when given)."""
    deadline = time.monotonic() + within
    while True:
        text = tmux("capture-pane", "-t", session, "-p")
        rows = [row for row in text.splitlines() if line in row] if line else [text]
        if any(predicate in row for row in rows):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{predicate!r} never appeared:\n{text}")
        time.sleep(0.2)


def test_dfo_up_in_tmux_enqueue_by_key_press(tmp_path: Path) -> None:
    if TMUX is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the tmux end-to-end test: install tmux")
        pytest.skip("tmux not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFO_")}
    env.update(DFO_HOME=str(tmp_path / "home"), DFO_POLL_DELAY="0.05", TERM="xterm-256color")
    dfo = [sys.executable, "-m", "dfo"]
    for args in (
        ["project", "add", "TMX", "tmux test"],
        ["agent", "add", "quick", "--kind", "demo", "--config", '{"delay": 0.1}'],
        ["task", "add", "TMX", "Seen on screen", "-i", "one", "-i", "two", "--agent", "quick"],
    ):
        subprocess.run([*dfo, *args], env=env, check=True, capture_output=True)
    session = f"dfo-{uuid.uuid4().hex[:8]}"
    command = " ".join([*dfo, "up"]) + "; echo DFO-UP-EXIT=$?; sleep 60"
    tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "160",
        "-y",
        "30",
        "env",
        *[f"{k}={v}" for k, v in env.items() if k.startswith(("DFO_", "PATH", "TERM"))],
        "bash",
        "-c",
        command,
    )
    try:
        # Another tmux server's clients must not shrink the window: fix its size.
        subprocess.run(
            [TMUX, "set-option", "-t", session, "window-size", "manual"],
            capture_output=True,
            check=False,
        )
        subprocess.run(
            [TMUX, "resize-window", "-t", session, "-x", "160", "-y", "30"],
            capture_output=True,
            check=False,
        )
        screen_until(session, "workers 1")
        tmux("send-keys", "-t", session, "e")
        screen_until(session, "Enqueue an agent job")
        tmux("send-keys", "-t", session, "TMX-1", "Enter")
        text = screen_until(session, "100%", line="TMX-1")
        row = next(row for row in text.splitlines() if "TMX-1" in row)
        assert "Seen on screen" in row and "comple" in row  # completed (may be cut short)
        down = subprocess.run([*dfo, "down"], env=env, capture_output=True, text=True, timeout=60)
        assert down.returncode == 0
        screen_until(session, "DFO-UP-EXIT=0")
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, check=False)
        subprocess.run([*dfo, "down"], env=env, capture_output=True, check=False)
