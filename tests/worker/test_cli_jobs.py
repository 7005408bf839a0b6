"""`dfo enqueue/watch/jobs/job/cancel/retry/events` as subprocesses against real services:
every exit code of the contract from a real scenario."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dfo.client import Client
from dfo.settings import Settings
from dfo.store import Store, tasks
from dfo.store.schema import task_items
from tests.worker.conftest import Spawn, env_of, seed, until

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def dfo(fast: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dfo", *args],
        env={**env_of(fast), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _default_sigint() -> None:
    # A test run started in the background inherits an ignored SIGINT (shells do that for `&`
    # jobs); give the child the terminal's default, as a user's shell would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen(fast: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dfo", *args],
        env={**env_of(fast), "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


async def test_enqueue_wait_completed_is_0_with_documented_json(
    store: Store, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=2)
    spawn_worker()
    result = dfo(fast, "enqueue", code, "--wait", "--json", "--request-id", "ci-1")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    events, summary = lines[:-1], lines[-1]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {
        "v",
        "seq",
        "ts",
        "type",
        "job_id",
        "task_code",
        "project",
        "agent",
        "status",
        "phase",
        "progress",
        "message",
        "request_id",
    } <= set(events[0])
    assert all(e["request_id"] == "ci-1" for e in events)
    assert summary["exit_code"] == 0 and summary["summary"][0]["status"] == "completed"
    again = dfo(fast, "enqueue", code, "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["jobs"][0]["from_cache"] is True


async def test_failed_is_1_and_retry(store: Store, fast: Settings, spawn_worker: Spawn) -> None:
    [code] = await seed(store, agent="broken", config={"delay": 0, "fail_times": 9, "max_tries": 1})
    spawn_worker()
    result = dfo(fast, "enqueue", code, "--wait")
    assert result.returncode == 1, result.stdout + result.stderr
    job_id = dfo(fast, "jobs", "--status", "failed", "--json").stdout
    failed = json.loads(job_id)[0]["job_id"]
    retried = dfo(fast, "retry", failed[:8], "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["retry_of"] == failed


async def test_bad_input_is_2_with_one_line(store: Store, fast: Settings) -> None:
    await seed(store)
    for args, message in [
        (["enqueue", "TP-99"], "dfo: error: unknown task TP-99"),
        (
            ["enqueue", "tp-1", "bad code"],
            "dfo: error: invalid task code 'bad code': expected PROJECT-NUMBER, e.g. DFO-12",
        ),
        (["cancel", "0123456789abcdef"], "dfo: error: unknown job 0123456789abcdef"),
        (["job", "zz"], "dfo: error: invalid job id 'zz': expected the hex id `dfo jobs` shows"),
        (["enqueue", "TP-1", "--priority", "urgent"], None),
    ]:
        result = dfo(fast, *args)
        assert result.returncode == 2, (args, result.stderr)
        if message:
            assert result.stderr.strip() == message
    # Nothing was queued by the refused commands.
    assert json.loads(dfo(fast, "jobs", "--json").stdout) == []


async def test_blocked_is_3(store: Store, fast: Settings, spawn_worker: Spawn) -> None:
    first, second = await seed(store, count=2)
    from tests.store import helpers

    async with store.transaction() as conn:
        await helpers.blocks(conn, first, second)
    spawn_worker()
    result = dfo(fast, "enqueue", second, "--wait")
    assert result.returncode == 3
    assert "blocked by TP-1" in result.stdout


async def test_cancel_from_another_process_is_4(
    store: Store, fast: Settings, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=8, agent="slow", config={"delay": 0.3})
    spawn_worker()
    waiting = popen(fast, "enqueue", code, "--wait")
    async with client.store.read() as conn:
        task = await tasks.get_task(conn, code)
    del task
    job = None
    for _ in range(200):
        listed = json.loads(dfo(fast, "jobs", "--json").stdout)
        if listed:
            job = listed[0]["job_id"]
            break
    assert job
    await until(client, job, lambda e: e.message.startswith("item 1/"))
    cancelled = dfo(fast, "cancel", job, "--reason", "from CI")
    assert cancelled.returncode == 0, cancelled.stderr
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 4, out + err


async def test_timeout_is_5_and_the_job_continues(
    store: Store, fast: Settings, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=6, agent="slow", config={"delay": 0.3})
    spawn_worker()
    result = dfo(fast, "enqueue", code, "--wait", "--timeout", "0.5")
    assert result.returncode == 5
    assert "still running (they continue)" in result.stderr
    job = json.loads(dfo(fast, "jobs", "--json").stdout)[0]["job_id"]
    watched = dfo(fast, "watch", job)  # joins mid-way, follows to the end
    assert watched.returncode == 0, watched.stderr
    assert (await client.snapshot(job)).status == "completed"


async def test_unreachable_redis_is_6(store: Store, fast: Settings) -> None:
    [code] = await seed(store)
    broken = fast.model_copy(
        update={"redis_url": "redis://:pw9@127.0.0.1:1/0", "connect_retries": 1}
    )
    result = dfo(broken, "enqueue", code)
    assert result.returncode == 6
    assert "pw9" not in result.stderr and "redis://:***@127.0.0.1:1/0" in result.stderr


async def test_ctrl_c_while_waiting_is_130_and_the_job_continues(
    store: Store, fast: Settings, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=6, agent="slow", config={"delay": 0.3})
    spawn_worker()
    waiting = popen(fast, "enqueue", code, "--wait", "--json")
    assert waiting.stdout is not None
    first = json.loads(waiting.stdout.readline())  # the queued event: it is waiting now
    waiting.send_signal(signal.SIGINT)
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 130, (out[-1500:], err[-1500:])
    events = [e async for e in client.watch([first["job_id"]])]
    assert events[-1].type == "agent_job_completed"


async def test_hostile_titles_are_printed_literally(
    store: Store, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=1)
    async with store.transaction() as conn:
        task = await tasks.get_task(conn, code)
        await conn.execute(
            task_items.update()
            .where(task_items.c.task_id == task.id)
            .values(
                title="[/] [link=x]y[/link] [@click=app.quit]z \x1b[31mred\x1b]0;pwn\x07 \u202eevil"
            )
        )
    spawn_worker()
    result = dfo(fast, "enqueue", code, "--wait")
    assert result.returncode == 0, result.stderr
    assert "[/] [link=x]y[/link] [@click=app.quit]z red evil" in result.stdout
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout


async def test_events_job_streams_ndjson_and_job_shows_history(
    store: Store, fast: Settings, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=1)
    spawn_worker()
    done = dfo(fast, "enqueue", code, "--wait", "--json")
    job = json.loads(done.stdout.splitlines()[0])["job_id"]
    streamed = dfo(fast, "events", "--job", job[:10], "--json")
    assert streamed.returncode == 0
    types = [json.loads(line)["type"] for line in streamed.stdout.splitlines()]
    assert types[0] == "agent_job_queued" and types[-1] == "agent_job_completed"
    shown = json.loads(dfo(fast, "job", job, "--json").stdout)
    assert shown["status"] == "completed" and len(shown["events"]) == len(types)
    assert set(shown["result"]) >= {"success", "items_completed", "task_status"}


async def test_ci_script_example(
    store: Store, fast: Settings, spawn_worker: Spawn, tmp_path: Path
) -> None:
    """examples/ci.sh: the documented way to call dfo from CI."""
    [first] = await seed(store, items=1)
    spawn_worker()
    ok = subprocess.run(
        ["bash", str(ROOT / "examples" / "ci.sh"), first],
        env={**env_of(fast), "DFO": f"{sys.executable} -m dfo"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{first}: completed" in ok.stdout
    missing = subprocess.run(
        ["bash", str(ROOT / "examples" / "ci.sh"), "TP-404"],
        env={**env_of(fast), "DFO": f"{sys.executable} -m dfo"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert missing.returncode == 2
    assert "bad input" in missing.stdout
