"""The embedded Redis: started once, shared, recovered from stale files, persistent, stoppable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from dfo.services.redis_server import EmbeddedRedis, process_alive


def wait_gone(pid: int) -> None:
    for _ in range(200):
        if not process_alive(pid):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still alive")


def test_start_reuse_and_stop(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    assert server.ensure_running() is True
    pid = server.pid()
    assert pid is not None and server.ping()
    assert server.ensure_running() is False
    assert server.pid() == pid
    assert server.stop() is True
    wait_gone(pid)
    assert not server.ping() and not server.socket_path.exists()
    assert server.stop() is False


def test_data_survives_a_restart(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    server.ensure_running()
    client = redis.Redis(unix_socket_path=str(server.socket_path))
    client.rpush("queue", "job-1", "job-2")
    client.close()
    server.stop()
    server.ensure_running()
    client = redis.Redis(unix_socket_path=str(server.socket_path))
    assert client.lrange("queue", 0, -1) == [b"job-1", b"job-2"]
    client.close()
    server.stop()


def test_concurrent_starts_end_with_one_server(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from dfo.services.redis_server import EmbeddedRedis, process_alive;"
        "s = EmbeddedRedis(Path(sys.argv[1])); s.ensure_running(); print(s.pid())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE)
        for _ in range(6)
    ]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(pids) == 1
    server = EmbeddedRedis(tmp_path)
    running = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "redis")], capture_output=True, text=True
    )
    assert len(running.stdout.split()) == 1
    server.stop()


def test_recovers_from_a_killed_server_and_stale_files(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    server.ensure_running()
    pid = server.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)
    assert server.socket_path.exists() and server.pid_path.exists()  # left behind
    assert server.ensure_running() is True
    assert server.ping() and server.pid() not in (None, pid)
    server.stop()


def test_pid_file_of_an_unrelated_process_is_ignored(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    server.directory.mkdir(parents=True)
    server.pid_path.write_text(f"{os.getpid()}\n")  # alive, but not redis-server
    server.socket_path.write_text("")  # a plain file where the socket should be
    assert server.ensure_running() is True
    assert server.pid() != os.getpid()
    server.stop()


def test_long_home_paths_get_a_short_socket(tmp_path: Path) -> None:
    home = tmp_path / ("x" * 120)
    server = EmbeddedRedis(home)
    assert len(str(server.socket_path)) < 108
    assert server.ensure_running() is True
    assert server.ping()
    server.stop()
