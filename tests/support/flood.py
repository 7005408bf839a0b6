"""Publish events for existing jobs at a fixed rate: `python -m tests.support.flood REDIS_URL
RATE SECONDS JOB_ID...`. Prints the number published so far to stdout every 0.1 s, then `done N`.
Each job's last event is `agent_job_completed` at 100 %."""

from __future__ import annotations

import asyncio
import sys
import time

import redis.asyncio as aioredis

from dfo.bus import Bus
from dfo.events import Event


async def main(url: str, rate: int, seconds: float, job_ids: list[str]) -> None:
    client = aioredis.Redis.from_url(url)
    bus = Bus(client)
    total = int(rate * seconds)
    per_job = total // len(job_ids)
    started = time.monotonic()
    sent = 0
    last_report = 0.0
    for step in range(per_job):
        for job_id in job_ids:
            final = step == per_job - 1
            progress = 100 if final else min(99, 20 + step * 70 // per_job)
            await bus.publish(
                Event(
                    type="agent_job_completed" if final else "agent_job_progress",
                    job_id=job_id,
                    task_code="FL-1",
                    project="FL",
                    agent="demo",
                    status="completed" if final else "active",
                    phase="execution",
                    progress=progress,
                    message=f"step {step}",
                )
            )
            sent += 1
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
            if time.monotonic() - last_report >= 0.1:
                last_report = time.monotonic()
                print(sent, flush=True)
    print(f"done {sent}", flush=True)
    await bus.close()
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]))
