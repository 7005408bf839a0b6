"""Both real agents through the whole pipeline with a real worker."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from dfo.client import Client
from dfo.events import EventType
from dfo.services.redis_server import process_alive
from dfo.settings import Settings
from dfo.store import Store, agents, memories, tasks
from dfo.store.schema import task_items
from dfo.store.schema import tasks as tasks_table
from tests.support.fake_llm import ANSWER, FakeLLM
from tests.worker.conftest import Spawn, collect, env_of, seed, until

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def use_agent(
    store: Store, code: str, name: str, kind: str, config: dict[str, object]
) -> None:
    async with store.transaction() as conn:
        agent = await agents.add_agent(conn, name, kind, config)
        await conn.execute(
            tasks_table.update()
            .where(tasks_table.c.code == code)
            .values(assigned_agent_id=agent.id)
        )


async def results(store: Store, code: str) -> list[str | None]:
    async with store.read() as conn:
        task = await tasks.get_task(conn, code)
        rows = await conn.execute(
            select(task_items.c.result)
            .where(task_items.c.task_id == task.id)
            .order_by(task_items.c.sort_order)
        )
        return [r[0] for r in rows]


async def test_example_command_agent_completes_a_task_via_enqueue_wait(
    store: Store, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=3)
    await use_agent(
        store,
        code,
        "checklist",
        "command",
        {"argv": [sys.executable, str(ROOT / "examples/agents/checklist_agent.py")]},
    )
    spawn_worker()
    done = subprocess.run(
        [sys.executable, "-m", "dfo", "enqueue", code, "--wait", "--json"],
        env=env_of(fast),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["summary"][0]["status"] == "completed"
    assert all(r and r.startswith("did 'item") for r in await results(store, code))
    async with store.read() as conn:
        left = await memories.for_task(conn, (await tasks.get_task(conn, code)).id)
    assert [m.summary for m in left] == ["checklist agent run"]


@pytest.mark.parametrize("stop", ["timeout", "cancel"])
async def test_command_agent_timeout_and_cancel_leave_no_process(
    store: Store, client: Client, spawn_worker: Spawn, tmp_path: Path, stop: str
) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "stubborn.py"
    script.write_text(
        textwrap.dedent(f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(["sleep", "300"])
        open({str(pids)!r}, "w").write(f"{{__import__('os').getpid()}} {{child.pid}}")
        print("working", flush=True)
        time.sleep(300)
    """)
    )
    [code] = await seed(store, items=2)
    config: dict[str, object] = {"argv": [sys.executable, str(script)], "grace": 0.3}
    if stop == "timeout":
        config["timeout"] = 1.0
    await use_agent(store, code, "stubborn", "command", config)
    spawn_worker()
    queued = await client.enqueue(code)
    await until(client, queued.job_id, lambda e: e.message == "working")
    leader, child = map(int, pids.read_text().split())
    if stop == "cancel":
        await client.cancel(queued.job_id, reason="stop it")
    events = await collect(client, queued.job_id)
    expected = EventType.FAILED if stop == "timeout" else EventType.CANCELLED
    assert events[-1].type == expected
    if stop == "timeout":
        assert "timed out after 1 s" in events[-1].message
    assert not process_alive(leader) and not process_alive(child)


async def test_openai_agent_through_the_worker(
    store: Store, client: Client, fast: Settings, spawn_worker: Spawn
) -> None:
    llm = FakeLLM(api_key="sk-pipeline-4321")
    try:
        [code] = await seed(store, items=2)
        await use_agent(
            store,
            code,
            "llm",
            "openai",
            {"base_url": llm.base_url, "model": "stream", "api_key_env": "LLM_KEY"},
        )
        import os

        os.environ["LLM_KEY"] = "sk-pipeline-4321"  # the worker inherits it through env_of
        try:
            spawn_worker(settings=fast)
        finally:
            del os.environ["LLM_KEY"]
        events = await collect(client, (await client.enqueue(code)).job_id)
        assert events[-1].type == EventType.COMPLETED
        assert await results(store, code) == ["".join(ANSWER)] * 2
        assert all("sk-pipeline-4321" not in e.message for e in events)
    finally:
        llm.stop()
