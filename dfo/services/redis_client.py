"""Which Redis dfo talks to: `DFO_REDIS_URL`, or the embedded server (started on first need)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.exceptions import RedisError

from dfo.errors import RedisUnavailable
from dfo.redact import mask_url
from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings


def embedded(settings: Settings) -> EmbeddedRedis:
    return EmbeddedRedis(settings.home)


async def redis_url(settings: Settings, *, start: bool = True) -> tuple[str, bool]:
    """The URL to use, and whether this call started the embedded server."""
    if settings.redis_url:
        return settings.redis_url, False
    server = embedded(settings)
    started = await asyncio.to_thread(server.ensure_running) if start else False
    return server.url, started


async def connect(settings: Settings, *, start: bool = True) -> aioredis.Redis:
    """A client that has answered PING (retrying per the connect policy)."""
    url, _ = await redis_url(settings, start=start)
    client: aioredis.Redis = aioredis.Redis.from_url(url)
    for attempt in range(1, settings.connect_retries + 1):
        try:
            await client.ping()
            return client
        except (RedisError, OSError) as exc:
            if attempt == settings.connect_retries:
                await client.aclose()
                raise RedisUnavailable(
                    f"redis {mask_url(url)} unreachable after {attempt} attempt(s): {exc}"
                ) from None
            await asyncio.sleep(settings.connect_retry_delay)
    raise AssertionError("unreachable")


async def connect_queue(settings: Settings) -> ArqRedis:
    """An arq pool on dfo's Redis (starting the embedded one if needed), with the retry policy."""
    url, _ = await redis_url(settings)
    redis_settings = RedisSettings.from_dsn(url)
    redis_settings.conn_retries = settings.connect_retries - 1
    redis_settings.conn_retry_delay = int(max(settings.connect_retry_delay, 0))
    try:
        return await create_pool(redis_settings, default_queue_name=settings.queue)
    except Exception as exc:
        raise RedisUnavailable(f"redis {mask_url(url)} unreachable: {exc}") from None
