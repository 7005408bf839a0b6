"""dfo's Redis pools on a real Redis: handing out a pooled connection never waits for a turn
of the event loop (redis-py's hiredis check does, and a busy worker's publishes queued for it)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from dfo.services import redis_client
from dfo.services.redis_server import EmbeddedRedis


async def _checkout_waits_for_a_loop_turn(pool: aioredis.ConnectionPool) -> bool:
    await pool.release(await pool.get_connection())  # connected, back in the pool
    turned: list[bool] = []
    asyncio.get_running_loop().call_soon(turned.append, True)
    connection = await pool.get_connection()
    await pool.release(connection)
    return bool(turned)


async def test_a_pooled_connection_is_handed_out_without_a_loop_turn(
    redis_server: EmbeddedRedis,
) -> None:
    pool = redis_client.connection_pool(redis_server.url)
    try:
        assert not await _checkout_waits_for_a_loop_turn(pool)
    finally:
        await pool.aclose()


async def test_the_default_pool_with_hiredis_would_wait(redis_server: EmbeddedRedis) -> None:
    # Shows the check above can fail: redis-py's default pool (hiredis is installed) waits.
    pool = aioredis.ConnectionPool.from_url(redis_server.url)
    try:
        assert await _checkout_waits_for_a_loop_turn(pool)
    finally:
        await pool.aclose()


async def test_queue_and_plain_clients_use_dfo_pools(redis_server: EmbeddedRedis) -> None:
    from dfo.settings import Settings

    settings = Settings(redis_url=redis_server.url)
    queue = await redis_client.connect_queue(settings)
    plain = await redis_client.connect(settings)
    try:
        for client in (queue, plain):
            assert not await _checkout_waits_for_a_loop_turn(client.connection_pool)
    finally:
        await queue.aclose()
        await plain.aclose()
