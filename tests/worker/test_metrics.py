"""Prometheus metrics scraped over HTTP from real workers while they run jobs."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dfo.client import Client
from dfo.settings import Settings
from dfo.store import Store
from tests.support.mariadb import free_port
from tests.worker.conftest import Spawn, collect, env_of, seed

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with asyncio.timeout(20):
        while True:
            try:
                async with httpx.AsyncClient() as http:
                    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return sum(
        v
        for (n, ls), v in samples.items()
        if n == name and all((k, w) in ls for k, w in labels.items())
    )


async def test_metrics_move_as_jobs_finish(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    codes = await seed(store, count=2, items=2)
    port = free_port()
    spawn_worker("--metrics-port", str(port))
    before = await scrape(port)
    assert value(before, "dfo_jobs_finished_total", status="completed") == 0
    for code in codes:
        await collect(client, (await client.enqueue(code)).job_id)
    after = await scrape(port)
    assert (
        value(after, "dfo_jobs_finished_total", status="completed", agent="demo", project="TP") == 2
    )
    assert value(after, "dfo_phase_duration_seconds_count", phase="execution") == 2
    assert value(after, "dfo_job_duration_seconds_count") == 2
    assert value(after, "dfo_events_published_total", type="agent_job_progress") > 0
    assert value(after, "dfo_worker_heartbeat_timestamp_seconds") > 0
    assert value(after, "dfo_active_jobs") == 0


async def test_processes_expose_one_view(store: Store, client: Client, fast: Settings) -> None:
    codes = await seed(store, count=4, items=1)
    port = free_port()
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dfo",
            "worker",
            "--processes",
            "2",
            "--concurrency",
            "1",
            "--metrics-port",
            str(port),
        ],
        env=env_of(fast),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        jobs = [await client.enqueue(code) for code in codes]
        for job in jobs:
            await collect(client, job.job_id)
        samples = await scrape(port)
        assert value(samples, "dfo_jobs_finished_total", status="completed") == 4
    finally:
        launcher.terminate()
        launcher.wait(timeout=30)
