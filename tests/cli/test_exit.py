"""`dfo` leaves without the interpreter's teardown, but loses nothing on the way out."""

from __future__ import annotations

import subprocess
import sys

import dfo

LEAVE = """
import atexit, sys, threading, time
from dfo.cli import entry
atexit.register(lambda: print("exit handler ran", flush=True))
if "--thread" in sys.argv:
    def late() -> None:
        time.sleep(0.2)
        print("thread finished", flush=True)
    threading.Thread(target=late).start()
sys.stdout.write("buffered output\\n")  # not flushed by the script
entry.leave(int(sys.argv[1]))
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LEAVE, *args], capture_output=True, text=True, check=False
    )


def test_output_is_flushed_and_exit_handlers_run() -> None:
    done = _run("3")
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["buffered output", "exit handler ran"]


def test_a_running_thread_is_waited_for() -> None:
    done = _run("0", "--thread")
    assert done.returncode == 0
    assert "thread finished" in done.stdout.splitlines()


def test_the_command_line_keeps_its_exit_codes_and_output() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "dfo", "--version"], capture_output=True, text=True, check=False
    )
    assert (version.returncode, version.stdout) == (0, f"dfo {dfo.__version__}\n")
    unknown = subprocess.run(
        [sys.executable, "-m", "dfo", "no-such-command"], capture_output=True, text=True
    )
    assert unknown.returncode == 2
    assert "No such command" in unknown.stderr
