"""One Redis connection shared by every publisher of a process: commands are written the moment
they are given, replies are read in order by one reader task.

A pooled connection is held from the write until its reply has been read, which, in a worker
running hundreds of jobs, is a whole event-loop turn later: a burst of publishes then needs a
connection each, the pool grows, and redis-py connects new ones while holding the pool's lock,
so every publish queues behind those handshakes (bench concurrency: event delivery p99 up to
70 ms). Here a publish never waits for a connection, a lock or another publish's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

Command = Sequence[str | int | bytes]


class SharedConnection:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._connection: AbstractConnection | None = None
        self._connecting = asyncio.Lock()
        self._waiting: deque[tuple[int, asyncio.Future[list[Any]]]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._reading: AbstractConnection | None = None  # what `_reader` reads
        # Resolved when replies are awaited again: the reader stays, idle, between commands
        # (a new reader task per command cost as much as the rest of a publish).
        self._more: asyncio.Future[None] | None = None

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """The replies to `commands`, in order; an error reply is returned in its place (like a
        pipeline's `raise_on_error=False`). A lost connection raises for every caller waiting
        on it; the next call connects again."""
        connection = self._connection or await self._connect()
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((len(commands), future))
        try:
            # Written at once: with no socket timeout set, redis-py writes synchronously.
            await connection.send_packed_command(
                connection.pack_commands(commands), check_health=False
            )
        except BaseException as exc:
            self._lost(connection, exc)
            raise
        if self._reader is None or self._reader.done() or self._reading is not connection:
            # (A reader of a lost connection may not have noticed yet: it ends on its own.)
            self._reading = connection
            self._reader = asyncio.ensure_future(self._read(connection))
        else:
            self._wake_reader()
        # A caller cancelled meanwhile only drops its replies: the reader still consumes them.
        return await future

    async def _connect(self) -> AbstractConnection:
        async with self._connecting:
            if self._connection is None:
                # redis-py leaves these two unannotated.
                connection: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
                await connection.connect()  # type: ignore[no-untyped-call]
                self._connection = connection
            return self._connection

    def _wake_reader(self) -> None:
        if self._more is not None and not self._more.done():
            self._more.set_result(None)

    async def _read(self, connection: AbstractConnection) -> None:
        try:
            while self._connection is connection:
                if not self._waiting:
                    self._more = asyncio.get_running_loop().create_future()
                    await self._more
                    continue
                count, future = self._waiting[0]
                replies: list[Any] = []
                for _ in range(count):
                    try:
                        replies.append(await connection.read_response())
                    except ResponseError as error:
                        replies.append(error)
                self._waiting.popleft()
                if not future.done():
                    future.set_result(replies)
        except BaseException as exc:
            self._lost(connection, exc)
            if not isinstance(exc, Exception):
                raise

    def _lost(self, connection: AbstractConnection, exc: BaseException) -> None:
        """Fail every caller still waiting on `connection` and drop it."""
        if self._connection is not connection:
            return
        self._connection = None
        self._wake_reader()  # an idle reader of `connection` ends
        while self._waiting:
            _, future = self._waiting.popleft()
            if not future.done():
                future.set_exception(RedisConnectionError(f"redis connection lost: {exc!r}"))
        with contextlib.suppress(Exception):
            # The socket alone, without awaiting (we may be inside a write).
            connection._close()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        connection = self._connection
        if connection is not None:
            self._lost(connection, RedisConnectionError("closed"))
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
