"""Plain arq, default settings: the baseline worker (`python -m bench.arq_baseline URL QUEUE`).

Two functions: `noop` does nothing; `started` publishes its job id on `<queue>:started` the way
a dfo job publishes `agent_job_started`, so pickup is measured up to the same hop.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from arq.connections import RedisSettings, create_pool
from arq.worker import Worker


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def started(ctx: dict[str, Any]) -> None:
    await ctx["redis"].publish(ctx["queue"] + ":started", ctx["job_id"])


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings(unix_socket_path=url.removeprefix("unix://"))


async def main(url: str, queue: str, burst: bool) -> None:
    pool = await create_pool(redis_settings(url), default_queue_name=queue)
    worker = Worker(
        functions=[noop, started],
        redis_pool=pool,
        queue_name=queue,
        burst=burst,
        ctx={"queue": queue},
        handle_signals=True,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], "--burst" in sys.argv))
