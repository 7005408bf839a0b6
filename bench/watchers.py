"""`python -m bench.watchers JOB_ID...`: one `Client.watch` per job id given (repeat an id for
more watchers), settings from DFO_* variables. Prints `ready` once every watcher is subscribed
and caught up, then one JSON line: per watcher its seqs' gaps and its delivery latencies."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from datetime import datetime

from dfo.client import Client
from dfo.events import EventType


async def follow(client: Client, job_id: str, ready: asyncio.Queue[str]) -> dict[str, object]:
    seqs: list[int] = []
    latencies: list[float] = []
    async for event in client.watch([job_id]):
        seqs.append(event.seq)
        if event.type == EventType.QUEUED:
            await ready.put(job_id)
            continue
        sent = datetime.fromisoformat(event.ts.replace("Z", "+00:00")).timestamp()
        latencies.append(round((time.time() - sent) * 1000, 2))
    gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)
    return {
        "job_id": job_id,
        "events": len(seqs),
        "gaps": gaps + (seqs[:1] != [1]),
        "ms": latencies,
    }


async def main(job_ids: list[str]) -> None:
    client = await Client.open()
    ready: asyncio.Queue[str] = asyncio.Queue()
    tasks = [asyncio.create_task(follow(client, job_id, ready)) for job_id in job_ids]
    for _ in job_ids:
        await ready.get()
    print("ready", flush=True)
    results = await asyncio.gather(*tasks)
    await client.close()
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
