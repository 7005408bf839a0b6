"""The event bus: Redis pub/sub for live delivery plus a per-job replay log for late watchers.

Publishing is one Lua script: the job's seq is incremented, the event appended to its replay log
and published on both channels, all atomically, so log order = seq order = publish order.
Pub/sub is at-most-once; a watcher therefore subscribes first, catches up from the log, and
fills any gap it sees (a seq jump, or the job's seq counter ahead of what it has) from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dfo import keys, scripts
from dfo.events import Event, decode
from dfo.models import evolve
from dfo.multiplex import SharedConnection
from dfo.scripts import Lua

log = logging.getLogger(__name__)

_PUBLISH = Lua("""
local seq = redis.call('INCR', KEYS[1])
local event = ARGV[1] .. seq .. ARGV[2]
redis.call('RPUSH', KEYS[2], event)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', KEYS[3], event)
redis.call('PUBLISH', KEYS[4], event)
return seq
""")
#: For callers staging a publish in their own pipeline (`Bus.stage`, `scripts.execute`).
SCRIPTS = [_PUBLISH]

LIVE_RETENTION_S = 7 * 24 * 3600
_flushing: set[asyncio.Task[None]] = set()  # strong references to in-flight flushes
FULL_BATCH = 8
IDLE_CHECK_S = 1.0


def _background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(work)
    _flushing.add(task)
    task.add_done_callback(_flushing.discard)


class Bus:
    def __init__(self, redis: aioredis.Redis, *, retention_s: int = 24 * 3600) -> None:
        self.redis = redis
        self.retention_s = retention_s
        self._pending: list[tuple[Event, asyncio.Future[int]]] = []
        self._link = SharedConnection(redis.connection_pool)

    async def close(self) -> None:
        """Close the publishing connection (the pool is the caller's to close)."""
        await self._link.close()

    async def publish(self, event: Event) -> Event:
        """Publish `event`; returns it with its seq.

        Events published in the same loop iteration go out in one pipeline (one round trip, a
        fraction of the per-command cost). A job awaits each publish before its next one, so
        its events never share a batch and keep their order. The first publisher of a batch
        sends it after one loop turn, from its own task (a task per batch cost as much as the
        rest of the publish).
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((event, future))
        if len(self._pending) >= FULL_BATCH:
            # Sent by this publisher now: in a burst (hundreds of jobs ready at once) the
            # leader would only send after every one of them had taken its turn.
            await self._send_pending(future)
        elif len(self._pending) == 1:
            try:
                await asyncio.sleep(0)  # this turn's other publishes join the batch
            except asyncio.CancelledError:
                self._pending = [(e, f) for e, f in self._pending if f is not future]
                if self._pending:
                    _background(self._flush())  # the others' events still go out
                raise
            if self._pending and self._pending[0][1] is future:  # not sent as a full batch
                await self._send_pending(future)
        seq = await future
        return evolve(event, seq=seq)

    async def _send_pending(self, own: asyncio.Future[int]) -> None:
        batch, self._pending = self._pending, []
        try:
            await self._send(batch)
        except asyncio.CancelledError:
            # The others' events still go out (some perhaps twice: never lost).
            others = [(e, f) for e, f in batch if f is not own and not f.done()]
            if others:
                _background(self._send(others))
            raise

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            await self._send(batch)
        except asyncio.CancelledError:  # the loop is closing: so are its publishers
            for _, future in batch:
                future.cancel()
            raise

    async def _send(self, batch: list[tuple[Event, asyncio.Future[int]]]) -> None:
        if not batch:
            return
        commands = [_PUBLISH.command(*self._arguments(event)) for event, _ in batch]
        try:
            results = await scripts.execute_shared(self._link, self.redis, commands, SCRIPTS)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(int(result))

    def stage(self, pipe: Pipeline, event: Event) -> None:
        """Add the publish of `event` to `pipe`; its result there is the event's seq."""
        _PUBLISH.stage(pipe, *self._arguments(event))

    def _arguments(self, event: Event) -> tuple[list[str], list[str | int | bytes]]:
        head, tail = event.encode_without_seq()
        ttl = self.retention_s if event.terminal else LIVE_RETENTION_S
        channels = [
            keys.seq(event.job_id),
            keys.replay_log(event.job_id),
            keys.events_job(event.job_id),
            keys.EVENTS_ALL,
        ]
        return channels, [head, tail, ttl]

    async def history(self, job_id: str, after_seq: int = 0) -> list[Event]:
        raw: list[bytes] = await self.redis.lrange(  # type: ignore[misc]
            keys.replay_log(job_id), after_seq, -1
        )
        return [decode(item) for item in raw]

    async def last_seq(self, job_id: str) -> int:
        value = await self.redis.get(keys.seq(job_id))
        return int(value) if value else 0

    async def watch(
        self, job_ids: Iterable[str] | None = None, *, since: dict[str, int] | None = None
    ) -> AsyncIterator[Event]:
        """Events in seq order per job, with no gap and no duplicate, until the caller stops.

        `job_ids=None` follows every job (jobs first seen mid-way are backfilled from their log).
        `since` gives, per job, the seq already known (e.g. from a snapshot).
        """
        wanted = list(job_ids) if job_ids is not None else None
        last: dict[str, int] = dict(since or {})
        channels = [keys.events_job(j) for j in wanted] if wanted is not None else [keys.EVENTS_ALL]
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(*channels)
                # Subscribed first, then caught up: nothing can fall in between.
                for job_id in wanted if wanted is not None else list(last):
                    for event in await self._fill(job_id, last):
                        yield event
                backoff = 0.1
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=IDLE_CHECK_S
                    )
                    if message is None:
                        for job_id in wanted if wanted is not None else list(last):
                            if await self.last_seq(job_id) > last.get(job_id, 0):
                                for event in await self._fill(job_id, last):
                                    yield event
                        continue
                    if message.get("type") != "message":
                        continue
                    try:
                        event = decode(message["data"])
                    except (ValueError, KeyError):
                        log.warning("ignoring a malformed event on %s", message.get("channel"))
                        continue
                    known = last.get(event.job_id, 0)
                    if event.seq <= known:
                        continue
                    if event.seq == known + 1:
                        last[event.job_id] = event.seq
                        yield event
                    else:
                        for missed in await self._fill(event.job_id, last):
                            yield missed
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("event stream interrupted (%s); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _fill(self, job_id: str, last: dict[str, int]) -> list[Event]:
        events = [e for e in await self.history(job_id, last.get(job_id, 0))]
        out: list[Event] = []
        for event in events:
            if event.seq == last.get(job_id, 0) + 1:
                last[job_id] = event.seq
                out.append(event)
        return out
