"""Lua scripts sent by sha in pipelines: one round trip for several scripted commands.

redis-py's `Script` in a pipeline asks `SCRIPT EXISTS` before every execute (an extra round
trip); here a script is loaded only when Redis answers NOSCRIPT (first use, restart, flush).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError

if TYPE_CHECKING:
    from dfo.multiplex import SharedConnection


class Lua:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(
        self, redis: aioredis.Redis, keys: Sequence[str], args: Sequence[str | int | bytes]
    ) -> Any:
        """Run the script on its own (one round trip once loaded)."""
        try:
            return await redis.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", self.sha, len(keys), *keys, *args
            )
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", self.sha, len(keys), *keys, *args
            )

    def stage(self, pipe: Pipeline, keys: Sequence[str], args: Sequence[str | int | bytes]) -> None:
        pipe.execute_command(*self.command(keys, args))

    def command(
        self, keys: Sequence[str], args: Sequence[str | int | bytes]
    ) -> list[str | int | bytes]:
        """The EVALSHA command's arguments, for a pipeline or a `SharedConnection`."""
        return ["EVALSHA", self.sha, len(keys), *keys, *args]


async def execute(
    redis: aioredis.Redis, stage: Callable[[Pipeline], None], scripts: Sequence[Lua]
) -> list[Any]:
    """Run the commands `stage` adds to a pipeline; errors are returned in place of results."""
    for attempt in (1, 2):
        async with redis.pipeline(transaction=False) as pipe:
            stage(pipe)
            results = list(await pipe.execute(raise_on_error=False))
        if attempt == 2 or not any(isinstance(r, NoScriptError) for r in results):
            return results
        for script in scripts:
            await redis.script_load(script.source)
    raise AssertionError("unreachable")


async def execute_shared(
    link: SharedConnection,
    redis: aioredis.Redis,
    commands: Sequence[Sequence[str | int | bytes]],
    scripts: Sequence[Lua],
) -> list[Any]:
    """As `execute`, over a `SharedConnection`: only the commands Redis answered NOSCRIPT to
    are sent again (the others ran), once the scripts are loaded."""
    results = await link.execute(commands)
    again = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
    if again:  # Redis restarted or its scripts were flushed
        for script in scripts:
            await redis.script_load(script.source)
        retried = await link.execute([commands[i] for i in again])
        for i, result in zip(again, retried, strict=True):
            results[i] = result
    return results
