"""Operating workers: --burst, --processes, structured logs, the example project end to end."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dfo import keys
from dfo.client import Client
from dfo.settings import Settings
from dfo.store import Store, tasks
from tests.worker.conftest import Spawn, collect, env_of, seed

ROOT = Path(__file__).parents[2]


async def test_burst_worker_exits_when_the_queue_is_empty(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    codes = await seed(store, count=3, items=1)
    queued = [await client.enqueue(code) for code in codes]
    worker = spawn_worker("--burst")
    assert worker.wait(timeout=60) == 0
    for job in queued:
        assert (await client.snapshot(job.job_id)).status == "completed"


async def test_log_lines_are_json_with_the_job_context(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=1)
    worker = spawn_worker("--burst")
    queued = await client.enqueue(code, request_id="trace-7", requested_by="ci-bot")
    assert worker.wait(timeout=60) == 0
    lines = [json.loads(line) for line in worker.output().splitlines() if line.strip()]
    about_job = [line for line in lines if line.get("job_id") == queued.job_id]
    assert about_job, lines
    for line in about_job:
        assert (line["agent"], line["attempt"], line["task_code"]) == ("demo", 1, code)
        assert (line["request_id"], line["requested_by"], line["project"]) == (
            "trace-7",
            "ci-bot",
            "TP",
        )


@pytest.mark.parametrize("backend", ["sqlite"])
async def registered(client: Client, queue: str) -> list[str]:
    """Ids of the live workers of `queue`."""
    found = []
    async for key in client.pool.scan_iter(match=keys.WORKERS_PATTERN):
        raw = await client.pool.get(key)
        if raw and json.loads(raw).get("queue") == queue:
            found.append(json.loads(raw)["worker_id"])
    return found


async def test_processes_launcher_prefixes_forwards_signals_and_stops_all(
    store: Store, client: Client, fast: Settings
) -> None:
    codes = await seed(store, count=4, items=1)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "dfo", "worker", "--processes", "2", "--concurrency", "1"],
        env=env_of(fast),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Both children up before the jobs: a fast one could otherwise take all four and the
        # SIGTERM reach the other while it is still starting.
        async with asyncio.timeout(30):
            while len(await registered(client, fast.queue)) < 2:
                await asyncio.sleep(0.05)
        for code in codes:
            await collect(client, (await client.enqueue(code)).job_id)
        launcher.send_signal(signal.SIGTERM)
        output, _ = launcher.communicate(timeout=30)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert launcher.returncode == 0
    prefixes = {line.split(" ", 1)[0] for line in output.splitlines() if line.startswith("[w")}
    assert prefixes == {"[w1]", "[w2]"}, output
    assert output.count("stopped") >= 2

    # One child dying takes the launcher and the other child down with its exit code.
    launcher = subprocess.Popen(
        [sys.executable, "-m", "dfo", "worker", "--processes", "2"],
        env={**env_of(fast), "DFO_REDIS_URL": "redis://127.0.0.1:1/0", "DFO_CONNECT_RETRIES": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 6, output
    assert "stopping the others" in output


def test_example_project_runs_to_the_end_on_the_embedded_services(tmp_path: Path) -> None:
    """The issue's done-when: one worker on the embedded default, a script using dfo.client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFO_")}
    env.update(DFO_HOME=str(tmp_path / "home"), DFO_POLL_DELAY="0.05")
    dfo = [sys.executable, "-m", "dfo"]
    subprocess.run(
        [*dfo, "import", str(ROOT / "examples" / "shop.yaml")],
        env=env,
        check=True,
        capture_output=True,
    )
    worker = subprocess.Popen(
        [*dfo, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        script = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "run_project.py"), "SHOP"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert script.returncode == 0, script.stdout + script.stderr
        assert script.stdout.strip().endswith("all tasks completed")
        assert "SHOP-306: blocked" in script.stdout  # blocked first, released later
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
        subprocess.run([*dfo, "down"], env=env, check=True, capture_output=True)
    assert worker.returncode == 0


async def test_items_progress_is_kept_on_the_task(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=4)
    spawn_worker()
    await collect(client, (await client.enqueue(code)).job_id)
    async with store.read() as conn:
        task = await tasks.get_task(conn, code)
    assert (task.items_completed, task.progress, task.status) == (4, 100, "completed")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_text_logs_for_people(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=1)
    worker = spawn_worker("--burst", settings=fast.model_copy(update={"log_format": "text"}))
    queued = await client.enqueue(code)
    assert worker.wait(timeout=60) == 0
    lines = [line for line in worker.output().splitlines() if "job started" in line]
    assert lines and not lines[0].startswith("{")
    assert f"task_code={code}" in lines[0] and f"job_id={queued.job_id}" in lines[0]
    assert "attempt=1" in lines[0] and "agent=demo" in lines[0]
