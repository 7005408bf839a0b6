"""The pipeline end to end: phases, events, result, rules of DESIGN.md section 2."""

from __future__ import annotations

import asyncio

import pytest

from dfo.client import Client
from dfo.errors import InvalidInput, NotFound
from dfo.events import EventType
from dfo.store import Store, jobs, tasks
from dfo.store.schema import utcnow
from tests.store import helpers
from tests.worker.conftest import Spawn, assert_gap_free, collect, seed

RESULT_FIELDS = {
    "success",
    "task_id",
    "task_code",
    "agent_id",
    "agent",
    "items_completed",
    "items_total",
    "progress",
    "execution_time_ms",
    "task_status",
    "error",
}


async def test_a_job_runs_all_four_phases(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=3)
    spawn_worker()
    queued = await client.enqueue(code, request_id="req-42", requested_by="alice")
    events = await collect(client, queued.job_id)

    assert_gap_free(events)
    assert events[0].type == EventType.QUEUED and events[-1].type == EventType.COMPLETED
    assert {e.phase for e in events} >= {"context", "validation", "execution", "finalization"}
    progress = [e.progress for e in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert all(e.request_id == "req-42" and e.requested_by == "alice" for e in events)
    assert all(e.project == "TP" and e.task_code == code for e in events)
    item_events = [e for e in events if e.message.startswith("item ")]
    assert [e.progress for e in item_events] == [43, 67, 90]

    job = await client.snapshot(queued.job_id)
    assert (job.status, job.progress) == ("completed", 100)
    async with asyncio.timeout(5):  # the seq is stored right after the event is published
        while job.seq != events[-1].seq:
            await asyncio.sleep(0.01)
            job = await client.snapshot(queued.job_id)
    assert job.result is not None and set(job.result) == RESULT_FIELDS
    assert (job.result["items_completed"], job.result["task_status"]) == (3, "completed")
    async with store.read() as conn:
        task = await tasks.get_task(conn, code)
    assert (task.status, task.progress, task.items_completed) == ("completed", 100, 3)


async def test_one_live_job_per_task_under_50_parallel_enqueues(
    store: Store, client: Client
) -> None:
    [code] = await seed(store)
    results = await asyncio.gather(*(client.enqueue(code) for _ in range(50)))
    assert len({r.job_id for r in results}) == 1
    assert sum(not r.existing for r in results) == 1
    async with store.read() as conn:
        assert len(await jobs.list_jobs(conn)) == 1


async def test_completed_task_answers_from_cache_unless_rerun(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=1)
    spawn_worker()
    first = await client.enqueue(code)
    await collect(client, first.job_id)
    cached = await client.enqueue(code)
    assert cached.from_cache and cached.job_id == first.job_id
    assert cached.result is not None and cached.result["task_status"] == "completed"
    rerun = await client.enqueue(code, rerun=True)
    assert not rerun.from_cache and rerun.job_id != first.job_id
    assert (await collect(client, rerun.job_id))[-1].type == EventType.COMPLETED


async def test_blocked_task_runs_by_itself_once_its_blocker_completes(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    blocker, blocked = await seed(store, count=2, items=1)
    async with store.transaction() as conn:
        await helpers.blocks(conn, blocker, blocked)
    spawn_worker()
    first = await client.enqueue(blocked)
    events = await collect(client, first.job_id)
    assert events[-1].type == EventType.BLOCKED
    assert events[-1].data["blockers"] == [{"code": blocker, "status": "pending"}]
    job = await client.snapshot(first.job_id)
    assert job.status == "blocked" and job.result and job.result["task_status"] == "blocked"

    done = await client.enqueue(blocker)
    await collect(client, done.job_id)
    async with asyncio.timeout(20):
        while True:
            async with store.read() as conn:
                last = await jobs.last_for_task(conn, (await tasks.get_task(conn, blocked)).id)
            if last and last.job_id != first.job_id:
                break
            await asyncio.sleep(0.05)
    assert last.requested_by and "auto-unblock" in last.requested_by
    assert (await collect(client, last.job_id))[-1].type == EventType.COMPLETED


async def test_transient_failure_retries_then_succeeds(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, agent="flaky", config={"delay": 0, "fail_times": 2})
    spawn_worker()
    queued = await client.enqueue(code)
    events = await collect(client, queued.job_id)
    assert_gap_free(events)
    retrying = [e for e in events if e.type == EventType.RETRYING]
    assert len(retrying) == 2 and "attempt 1/3" in retrying[0].message
    assert events[-1].type == EventType.COMPLETED
    assert (await client.snapshot(queued.job_id)).attempts == 3


async def test_failure_past_max_tries_fails_and_can_be_retried(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, agent="broken", config={"delay": 0, "fail_times": 3})
    spawn_worker()
    queued = await client.enqueue(code)
    events = await collect(client, queued.job_id)
    assert [e.type for e in events].count(EventType.RETRYING) == 2
    assert events[-1].type == EventType.FAILED and "after 3 attempts" in events[-1].message
    failed = await client.snapshot(queued.job_id)
    assert failed.status == "failed" and failed.last_error
    again = await client.retry(queued.job_id)
    assert again.job_id != queued.job_id
    assert (await client.snapshot(again.job_id)).retry_of == queued.job_id
    with pytest.raises(InvalidInput, match=r"still (queued|active)"):
        await client.retry(again.job_id)


async def test_cancel_a_queued_job_and_bad_cancels(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    first, second = await seed(store, count=2)
    queued = await client.enqueue(first)
    cancelled = await client.cancel(queued.job_id, reason="not needed")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "not needed"
    events = await collect(client, queued.job_id)
    assert [e.type for e in events] == [EventType.QUEUED, EventType.CANCELLED]
    with pytest.raises(InvalidInput, match="already ended"):
        await client.cancel(queued.job_id)
    with pytest.raises(NotFound):
        await client.cancel("no-such-job")
    # Neither the finished nor the unknown id poisons a later job.
    spawn_worker()
    later = await client.enqueue(second)
    assert (await collect(client, later.job_id))[-1].type == EventType.COMPLETED
    again = await client.enqueue(first)
    assert (await collect(client, again.job_id))[-1].type == EventType.COMPLETED


async def test_cancel_a_running_job_keeps_items_done(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=6, agent="slow", config={"delay": 0.4})
    spawn_worker()
    queued = await client.enqueue(code)
    from tests.worker.conftest import until

    await until(client, queued.job_id, lambda e: e.message.startswith("item 2/6"))
    await client.cancel(queued.job_id, reason="changed my mind")
    events = await collect(client, queued.job_id)
    assert events[-1].type == EventType.CANCELLED
    assert_gap_free(events)
    job = await client.snapshot(queued.job_id)
    assert job.status == "cancelled" and job.live is False
    async with store.read() as conn:
        task = await tasks.get_task(conn, code)
    assert task.status == "pending" and 2 <= task.items_completed < 6


async def test_watchers_joining_mid_job_and_after_the_end_see_everything(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=4, agent="slow", config={"delay": 0.3})
    spawn_worker()
    queued = await client.enqueue(code)
    from tests.worker.conftest import until

    await until(client, queued.job_id, lambda e: e.message.startswith("item 1/4"))
    mid = await collect(client, queued.job_id)
    late = await collect(client, queued.job_id)
    assert_gap_free(mid)
    assert mid == late and mid[-1].type == EventType.COMPLETED


async def test_high_priority_starts_before_waiting_normal_jobs(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    codes = await seed(store, count=101, items=1)
    normal = [await client.enqueue(code) for code in codes[:100]]
    high = await client.enqueue(codes[100], priority="high")
    spawn_worker("--concurrency", "1")
    await collect(client, high.job_id, within=60)
    async with store.read() as conn:
        started_high = (await jobs.get(conn, high.job_id)).started_at
        normals = [await jobs.get(conn, n.job_id) for n in normal]
    assert started_high is not None
    before = [j for j in normals if j.started_at is not None and j.started_at < started_high]
    assert len(before) <= 1  # at most the job already running when the worker started
    assert utcnow() >= started_high


async def test_invalid_agent_config_fails_without_retrying(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, agent="bad", config={"delay": "slow"})
    spawn_worker()
    queued = await client.enqueue(code)
    events = await collect(client, queued.job_id)
    assert events[-1].type == EventType.FAILED and "config.delay" in events[-1].message
    assert not any(e.type == EventType.RETRYING for e in events)


async def test_agent_timeout_fails_the_job_without_retrying(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    [code] = await seed(store, items=5, agent="sleepy", config={"delay": 1, "timeout": 0.3})
    spawn_worker()
    queued = await client.enqueue(code)
    events = await collect(client, queued.job_id)
    assert events[-1].type == EventType.FAILED and "timed out after 0.3 s" in events[-1].message
    assert not any(e.type == EventType.RETRYING for e in events)


async def test_memories_an_agent_leaves_are_stored(
    store: Store, client: Client, spawn_worker: Spawn
) -> None:
    from dfo.store import memories

    [code] = await seed(store, items=2, agent="noter", config={"delay": 0, "memory": True})
    spawn_worker()
    await collect(client, (await client.enqueue(code)).job_id)
    async with store.read() as conn:
        task = await tasks.get_task(conn, code)
        left = await memories.for_task(conn, task.id)
    assert [m.content for m in left] == [f"demo agent noter completed 2 items of {code}"]
