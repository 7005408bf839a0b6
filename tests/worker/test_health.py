"""`dfo health`: exit 0 healthy, 1 degraded (jobs wait, no worker alive), 6 unreachable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dfo.client import Client
from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings
from dfo.store import Store
from tests.worker.conftest import Spawn, collect, env_of, seed

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def health(settings: Settings) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "dfo", "health", "--json"],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


async def test_health_states(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    code, report = health(fast)
    assert code == 0 and report["status"] == "ok"
    [task] = await seed(store, items=1)
    queued = await client.enqueue(task, priority="high")
    code, report = health(fast)
    assert code == 1 and report["status"] == "degraded"
    work = report["work"]
    assert isinstance(work, dict)
    assert work["queued"] == 1 and work["queued_by_priority"] == {"high": 1}
    assert work["live_workers"] == 0 and work["oldest_queued_age_s"] >= 0
    spawn_worker()
    await collect(client, queued.job_id)
    code, report = health(fast)
    work = report["work"]
    assert isinstance(work, dict)
    assert code == 0 and work["live_workers"] == 1 and work["queued"] == 0
    [worker] = work["workers"]
    assert worker["queue"] == fast.queue and 0 <= worker["last_seen_s"] < 10


async def test_health_follows_a_redis_that_stops_and_starts(
    store: Store, fast: Settings, tmp_path: Path
) -> None:
    own = EmbeddedRedis(tmp_path / "own")
    own.ensure_running()
    settings = fast.model_copy(update={"redis_url": own.url})
    try:
        assert health(settings)[0] == 0
        own.stop()
        code, report = health(settings)
        assert code == 6 and report["status"] == "unavailable"
        own.ensure_running()
        assert health(settings)[0] == 0
    finally:
        own.stop()
