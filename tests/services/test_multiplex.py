"""The shared publishing connection on a real Redis: concurrent callers on one socket, replies
in order, error replies in place, a cancelled caller or a killed connection harms nobody else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from dfo.multiplex import SharedConnection
from dfo.services import redis_client
from dfo.services.redis_server import EmbeddedRedis


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_pool(redis_client.connection_pool(redis_server.url))
    await client.delete("mx:counter")
    yield client
    await client.aclose()


@pytest.fixture
async def shared(redis: aioredis.Redis) -> AsyncIterator[SharedConnection]:
    link = SharedConnection(redis.connection_pool)
    yield link
    await link.close()


async def test_concurrent_callers_share_one_connection_and_get_their_own_replies(
    redis: aioredis.Redis, shared: SharedConnection
) -> None:
    async def call(n: int) -> list[object]:
        return await shared.execute([["INCR", "mx:counter"], ["ECHO", f"caller {n}"]])

    before = len(await redis.client_list())
    replies = await asyncio.gather(*(call(n) for n in range(200)))
    assert [r[1] for r in replies] == [f"caller {n}".encode() for n in range(200)]
    assert sorted(int(r[0]) for r in replies) == list(range(1, 201))  # type: ignore[call-overload]
    assert len(await redis.client_list()) == before + 1  # one connection for all 200


async def test_an_error_reply_is_returned_in_its_place(shared: SharedConnection) -> None:
    replies = await shared.execute([["ECHO", "before"], ["NOSUCHCOMMAND"], ["ECHO", "after"]])
    assert replies[0] == b"before" and replies[2] == b"after"
    assert isinstance(replies[1], ResponseError)


async def test_a_cancelled_caller_leaves_the_others_their_replies(
    shared: SharedConnection,
) -> None:
    slow = asyncio.ensure_future(shared.execute([["BLPOP", "mx:none", "0.2"], ["ECHO", "slow"]]))
    await asyncio.sleep(0.05)  # written, waiting for its replies
    quick = asyncio.ensure_future(shared.execute([["ECHO", "quick"]]))
    await asyncio.sleep(0)
    assert not slow.done()
    slow.cancel()
    assert await quick == [b"quick"]  # the reader skipped the cancelled caller's replies
    assert await shared.execute([["ECHO", "later"]]) == [b"later"]


async def test_a_killed_connection_fails_its_callers_then_reconnects(
    redis: aioredis.Redis, shared: SharedConnection
) -> None:
    [client_id] = await shared.execute([["CLIENT", "ID"]])
    waiting = asyncio.ensure_future(shared.execute([["BLPOP", "mx:never", "5"]]))
    await asyncio.sleep(0.05)
    assert await redis.client_kill_filter(_id=str(client_id)) == 1
    with pytest.raises(RedisConnectionError):
        await waiting
    assert await shared.execute([["ECHO", "again"]]) == [b"again"]


async def test_an_aborted_socket_fails_its_caller_then_the_next_call_gets_a_fresh_one(
    shared: SharedConnection,
) -> None:
    waiting = asyncio.ensure_future(shared.execute([["BLPOP", "mx:never", "5"]]))
    await asyncio.sleep(0.05)  # its reader is waiting for the reply
    connection = shared._connection
    assert connection is not None
    connection._writer.transport.abort()  # type: ignore[union-attr]
    with pytest.raises(RedisConnectionError):
        await waiting
    # The next call connects again and reads its own reply.
    assert await asyncio.wait_for(shared.execute([["ECHO", "fresh"]]), 5) == [b"fresh"]
