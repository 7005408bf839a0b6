"""The demo agent: completes each pending item after `delay` seconds. For demos and benchmarks.

Config: `delay` (seconds per item, 0 allowed), `fail_rate` (0..1: chance that an attempt fails
with a transient error before its first item), `fail_times` (the first N attempts of a job fail:
a deterministic way to show retries), `memory` (true: leave a memory about the run).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from dfo.agents.base import AgentSink, TransientAgentError
from dfo.errors import InvalidInput
from dfo.models import TaskContext


@dataclass
class DemoAgent:
    name: str
    delay: float = 0.5
    fail_rate: float = 0.0
    fail_times: int = 0
    attempt: int = 1
    memory: bool = False

    @classmethod
    def from_config(cls, name: str, config: dict[str, object], *, attempt: int = 1) -> DemoAgent:
        try:
            delay = float(config.get("delay", 0.5))  # type: ignore[arg-type]
            fail_rate = float(config.get("fail_rate", 0.0))  # type: ignore[arg-type]
            fail_times = int(config.get("fail_times", 0))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise InvalidInput(
                f"agent {name}: delay, fail_rate, fail_times must be numbers"
            ) from None
        if delay < 0 or not 0 <= fail_rate <= 1 or fail_times < 0:
            raise InvalidInput(
                f"agent {name}: need delay >= 0, 0 <= fail_rate <= 1, fail_times >= 0"
            )
        return cls(name, delay, fail_rate, fail_times, attempt, bool(config.get("memory", False)))

    async def run(self, context: TaskContext, sink: AgentSink) -> None:
        await sink.log(
            f"demo agent {self.name}: no real work is done, items complete after {self.delay}s"
        )
        if self.attempt <= self.fail_times or random.random() < self.fail_rate:
            raise TransientAgentError(f"demo agent {self.name}: simulated failure")
        pending = context.items_pending
        for item in pending:
            await asyncio.sleep(self.delay)
            await sink.item_done(item.id, f"done by demo agent {self.name}")
        if not pending:
            await sink.log("nothing pending")
        if self.memory:
            await sink.memory(
                f"demo agent {self.name} completed {len(pending)} items of {context.task.code}",
                f"{context.task.code} demo run",
                0.3,
            )
