"""Worker tests: real `dfo worker` processes, real Redis, real databases, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dfo.client import Client
from dfo.events import Event
from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings
from dfo.store import Store, agents, projects, tasks


@pytest.fixture
def fast(settings: Settings, redis_server: EmbeddedRedis) -> Settings:
    """Settings with short timings, a private queue, and the session's Redis."""
    return settings.model_copy(
        update={
            "redis_url": redis_server.url,
            "queue": f"test-{uuid.uuid4().hex[:10]}",
            "heartbeat_interval": 0.5,
            "stall_timeout": 2.5,
            "reconcile_interval": 1.0,
            "retry_backoff": 0.05,
            "retry_backoff_max": 0.2,
            "poll_delay": 0.05,
            "shutdown_grace": 1.0,
            "connect_retries": 3,
            "connect_retry_delay": 0.2,
        }
    )


def env_of(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFO_")}
    for name in (
        "home",
        "database_url",
        "redis_url",
        "queue",
        "heartbeat_interval",
        "stall_timeout",
        "reconcile_interval",
        "retry_backoff",
        "retry_backoff_max",
        "poll_delay",
        "shutdown_grace",
        "connect_retries",
        "connect_retry_delay",
        "job_timeout",
        "max_tries",
        "log_format",
    ):
        value = getattr(settings, name)
        if value is not None:
            env[f"DFO_{name.upper()}"] = str(value)
    return env


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path
    closed: bool = field(default=False)

    def signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


Spawn = Callable[..., WorkerProcess]


@pytest.fixture
def spawn_worker(fast: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def spawn(*args: str, settings: Settings | None = None) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started) + 1}.log"
        handle = open(log, "wb")  # noqa: SIM115 - closed by the child's end
        process = subprocess.Popen(
            [sys.executable, "-m", "dfo", "worker", *args],
            env=env_of(settings or fast),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        worker = WorkerProcess(process, log)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


@pytest.fixture
async def client(store: Store, fast: Settings) -> AsyncIterator[Client]:
    opened = await Client.open(fast)
    yield opened
    await opened.close()


async def seed(
    store: Store,
    *,
    count: int = 1,
    items: int = 3,
    agent: str = "demo",
    config: dict[str, object] | None = None,
    code: str = "TP",
) -> list[str]:
    """A project `code` with `count` tasks of `items` items, all assigned to `agent`."""
    async with store.transaction() as conn:
        project = await projects.find_project(conn, code) or await projects.add_project(
            conn, code, "Test project"
        )
        if await agents.find_agent(conn, agent) is None:
            await agents.add_agent(conn, agent, "demo", config or {"delay": 0})
        runner = await agents.get_agent(conn, agent)
        start = len(await tasks.list_tasks(conn, project_id=project.id))
        codes = []
        for n in range(start + 1, start + count + 1):
            await tasks.add_task(
                conn,
                code=f"{code}-{n}",
                project_id=project.id,
                title=f"Task number {n}",
                agent_id=runner.id,
                items=[f"item {m}" for m in range(1, items + 1)],
            )
            codes.append(f"{code}-{n}")
    return codes


async def collect(client: Client, job_id: str, within: float = 30) -> list[Event]:
    """Every event of the job until it ends."""
    events: list[Event] = []
    async with asyncio.timeout(within):
        async for event in client.watch([job_id]):
            events.append(event)
    return events


async def until(
    client: Client, job_id: str, predicate: Callable[[Event], bool], within: float = 30
) -> Event:
    """The first event of the job that satisfies `predicate`."""
    async with asyncio.timeout(within):
        async for event in client.watch([job_id], until_done=False):
            if predicate(event):
                return event
    raise AssertionError("the job ended before the expected event")


def assert_gap_free(events: list[Event]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), [e.seq for e in events]
