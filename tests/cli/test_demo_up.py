"""`dfo demo` and `dfo up`/`dfo down` on the embedded default, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFO_")}
    env.update(DFO_HOME=str(home), DFO_POLL_DELAY="0.05", DFO_RETRY_BACKOFF="0.2", NO_COLOR="1")
    return env


def dfo(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dfo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_demo_shows_every_rule_and_exits_0(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home")
    try:
        result = dfo(env, "demo", "--json")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        outcome = json.loads(result.stdout.splitlines()[-1])
        assert outcome["as_designed"] is True
        assert outcome["outcomes"]["DEMO-2"] == ["blocked", "completed"]
        assert outcome["outcomes"]["DEMO-3"] == ["retrying", "completed"]
        assert outcome["outcomes"]["DEMO-4"] == ["cancelled"]
        events = [json.loads(line) for line in result.stdout.splitlines()[:-1]]
        started = [e["task_code"] for e in events if e["type"] == "agent_job_started"]
        # Concurrency 2, everything queued before the worker starts: the high-priority job is
        # among the first two started, before DEMO-5 and DEMO-6 that were queued before it.
        assert started.index("DEMO-7") < started.index("DEMO-5")
        again = dfo(env, "demo")  # runs again from a clean start
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr
        assert "blocked -> completed" in again.stdout
    finally:
        dfo(env, "down")


@pytest.mark.parametrize("signal_or_down", ["down", "sigint"])
def test_up_runs_a_worker_until_down_or_ctrl_c(tmp_path: Path, signal_or_down: str) -> None:
    env = env_for(tmp_path / "home")
    assert dfo(env, "project", "add", "UP", "Up test").returncode == 0
    assert (
        dfo(env, "agent", "add", "fast", "--kind", "demo", "--config", '{"delay": 0}').returncode
        == 0
    )
    assert dfo(env, "task", "add", "UP", "One", "-i", "a", "--agent", "fast").returncode == 0
    up = subprocess.Popen(
        [sys.executable, "-m", "dfo", "up", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        done = dfo(env, "enqueue", "UP-1", "--wait", "--timeout", "60")
        assert done.returncode == 0, done.stdout + done.stderr
        assert (tmp_path / "home" / "up.pid").exists()
        second = dfo(env, "up")
        assert second.returncode == 2 and "already running" in second.stderr
        if signal_or_down == "down":
            stopped = dfo(env, "down", "--json")
            assert json.loads(stopped.stdout)["up_stopped"] is True
        else:
            up.send_signal(signal.SIGINT)
        out, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        dfo(env, "down")
    assert up.returncode == 0
    assert any(json.loads(line)["type"] == "agent_job_completed" for line in out.splitlines())
    assert not (tmp_path / "home" / "up.pid").exists()
    time.sleep(0.2)
    workers = subprocess.run(["pgrep", "-f", f"{tmp_path}"], capture_output=True, text=True)
    assert workers.stdout.strip() == ""
