"""Which Redis dfo talks to: `DFO_REDIS_URL`, or the embedded server (started on first need)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

import redis.asyncio as aioredis
from redis._parsers import _AsyncRESP2Parser
from redis.asyncio.connection import ConnectionPool
from redis.exceptions import RedisError

from dfo.errors import RedisUnavailable
from dfo.redact import mask_url
from dfo.services.redis_server import EmbeddedRedis
from dfo.settings import Settings

if TYPE_CHECKING:
    from arq.connections import ArqRedis

CONNECT_TIMEOUT_S = 1.0
_Client = TypeVar("_Client", bound=aioredis.Redis)


def embedded(settings: Settings) -> EmbeddedRedis:
    return EmbeddedRedis(settings.home)


async def redis_url(settings: Settings, *, start: bool = True) -> tuple[str, bool]:
    """The URL to use, and whether this call started the embedded server."""
    if settings.redis_url:
        return settings.redis_url, False
    server = embedded(settings)
    started = await asyncio.to_thread(server.ensure_running) if start else False
    return server.url, started


def connection_pool(url: str) -> ConnectionPool:
    """dfo's connection pool for `url`: the pure-Python reply parser, even with hiredis installed.

    With hiredis, redis-py checks every connection it hands out by awaiting a zero timeout while
    holding the pool's lock, so each checkout waits for a whole event-loop turn. A worker running
    hundreds of jobs has long turns, and its publishes queued for the lock: event delivery p99
    went from ~30-200 ms to ~10 ms without it (bench concurrency). dfo's replies are small.
    """
    return ConnectionPool.from_url(
        url, parser_class=_AsyncRESP2Parser, socket_connect_timeout=CONNECT_TIMEOUT_S
    )


async def connect(settings: Settings, *, start: bool = True) -> aioredis.Redis:
    """A client that has answered PING (retrying per the connect policy)."""
    url, _ = await redis_url(settings, start=start)
    return await _answering(aioredis.Redis.from_pool(connection_pool(url)), url, settings)


async def connect_queue(settings: Settings) -> ArqRedis:
    """An arq pool on dfo's Redis (starting the embedded one if needed), with the retry policy.

    For workers: arq's Worker calls ArqRedis's own methods. Clients use `connect`, and arq is
    imported here only, as importing any part of it loads all of it (~30 ms a command).
    """
    from arq.connections import ArqRedis

    url, _ = await redis_url(settings)
    client = ArqRedis(connection_pool(url), default_queue_name=settings.queue)
    client.auto_close_connection_pool = True  # as `Redis.from_pool`: closing it closes the pool
    return await _answering(client, url, settings)


async def _answering(client: _Client, url: str, settings: Settings) -> _Client:
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
