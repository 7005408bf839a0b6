"""The bus on a real Redis: events of concurrent jobs share pipelines, each job's seqs stay
1, 2, 3…, and a publisher cancelled while it sends a shared batch loses nobody's event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from dfo.bus import FULL_BATCH, Bus
from dfo.events import Event
from dfo.services.redis_server import EmbeddedRedis


@pytest.fixture
async def bus(redis_server: EmbeddedRedis) -> AsyncIterator[Bus]:
    client = aioredis.Redis.from_url(redis_server.url)
    bus = Bus(client)
    yield bus
    await bus.close()
    await client.aclose()


def event(job_id: str, n: int) -> Event:
    return Event(
        type="agent_job_progress",
        job_id=job_id,
        task_code="T-1",
        project="T",
        agent="demo",
        status="active",
        phase="execution",
        progress=n,
        message=f"step {n}",
    )


async def test_concurrent_jobs_keep_their_own_gap_free_seqs(bus: Bus) -> None:
    jobs = [uuid.uuid4().hex for _ in range(3 * FULL_BATCH + 5)]

    async def run(job_id: str) -> list[int]:
        return [(await bus.publish(event(job_id, n))).seq for n in range(1, 6)]

    results = await asyncio.gather(*(run(job_id) for job_id in jobs))
    assert all(seqs == [1, 2, 3, 4, 5] for seqs in results)
    for job_id in jobs:
        assert [e.progress for e in await bus.history(job_id)] == [1, 2, 3, 4, 5]


async def test_a_cancelled_publisher_loses_no_other_jobs_event(bus: Bus) -> None:
    jobs = [uuid.uuid4().hex for _ in range(FULL_BATCH)]
    # The last of a full batch sends it itself: cancel exactly that publisher.
    tasks = [asyncio.create_task(bus.publish(event(job_id, 1))) for job_id in jobs]
    await asyncio.sleep(0)  # every publisher has queued its event; the last one is sending
    tasks[-1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[-1], asyncio.CancelledError)
    assert all(isinstance(e, Event) and e.seq >= 1 for e in done[:-1])
    for job_id in jobs[:-1]:
        # Sent again by a background task: once, or twice when the cancel came after the
        # batch had been written (duplicates are allowed, losses are not).
        assert [e.progress for e in await bus.history(job_id)] in ([1], [1, 1])


async def test_events_still_go_out_after_redis_lost_its_scripts(bus: Bus) -> None:
    job_id = uuid.uuid4().hex
    assert (await bus.publish(event(job_id, 1))).seq == 1
    await bus.redis.script_flush()  # as after a restart without persistence
    other = uuid.uuid4().hex
    published = await asyncio.gather(*(bus.publish(event(j, 1)) for j in [job_id, other]))
    assert [e.seq for e in published] == [2, 1]
    assert [e.progress for e in await bus.history(job_id)] == [1, 1]


async def test_the_first_publisher_of_a_batch_cancelled_before_sending(bus: Bus) -> None:
    # The first publisher of a batch waits one loop turn and then sends the batch itself.
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    leader = asyncio.create_task(bus.publish(event(first, 1)))
    follower = asyncio.create_task(bus.publish(event(second, 1)))
    await asyncio.sleep(0)  # both queued; the leader is still waiting for its turn
    leader.cancel()
    assert (await asyncio.wait_for(follower, 5)).seq == 1
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert [e.progress for e in await bus.history(second)] == [1]
    assert await bus.history(first) == []  # cancelled before it was sent: not published


async def test_publishes_one_after_another_share_one_connection(bus: Bus) -> None:
    job_id = uuid.uuid4().hex
    before = len(await bus.redis.client_list())
    seqs = [(await bus.publish(event(job_id, n))).seq for n in range(1, 51)]
    assert seqs == list(range(1, 51))
    assert len(await bus.redis.client_list()) <= before + 1  # the bus's one connection
