"""arq's Worker, woken by a publish instead of waiting for its next poll.

arq polls its queue every `poll_delay`: a job enqueued just after a poll waits that long, and
polling faster burns CPU on every idle worker. Here every push (and abort) also publishes on
`<queue>:wake`; an idle worker waits for that message or `poll_delay`, whichever comes first,
then runs arq's own poll iteration unchanged (same WATCH/in-progress claim, abort handling,
health check), so arq's guarantees hold and a lost message costs at most one poll period.
A finished job also wakes the loop, so a free slot is refilled at once from a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.connections import ArqRedis
from arq.utils import timestamp_ms
from arq.worker import Worker
from redis.exceptions import RedisError

from dfo import keys
from dfo.scripts import Lua

log = logging.getLogger("dfo.worker")

_CLAIM = Lua("""
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
redis.call('PSETEX', KEYS[1], ARGV[3], '1')
return score
""")


class WakeableWorker(Worker):
    def __init__(self, *args: Any, poll_delay: float, **kwargs: Any) -> None:
        # arq's own loop only yields between iterations; the waiting happens in _poll_iteration.
        super().__init__(*args, poll_delay=0, **kwargs)
        self.idle_poll_s = poll_delay
        self.woken = asyncio.Event()
        self._polled = False

    async def _poll_iteration(self) -> None:
        if self._polled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), self.idle_poll_s)
        self._polled = True
        self.woken.clear()  # before polling: a wake-up arriving during the poll is kept
        await super()._poll_iteration()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's `start_jobs` with its claim (WATCH in-progress key, EXISTS, ZSCORE, MULTI,
        PSETEX, EXEC: four round trips) done by one script with the same checks, atomically."""
        for job_id_b in job_ids:
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return
            self.job_counter += 1
            job_id = job_id_b.decode()
            score = await _CLAIM(
                self.pool,
                [keys.arq_in_progress(job_id), self.queue_name],
                [job_id, timestamp_ms(), int(self.in_progress_timeout_s * 1000)],
            )
            if score is None:  # running elsewhere, finished, or deferred meanwhile
                self.job_counter -= 1
                self.sem.release()
                continue
            task = self.loop.create_task(self.run_job(job_id, int(float(score))))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        self.woken.set()


async def listen(pool: ArqRedis, queue: str, worker: WakeableWorker) -> None:
    """Set `worker.woken` on every wake-up message, resubscribing after a Redis error."""
    backoff = 0.1
    while True:
        pubsub = pool.pubsub()
        try:
            await pubsub.subscribe(keys.wake(queue))
            backoff = 0.1
            worker.woken.set()  # anything pushed while we were not subscribed
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    worker.woken.set()
        except (RedisError, OSError) as exc:
            log.debug("wake-up channel interrupted (%s); polling meanwhile", exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
