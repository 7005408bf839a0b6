"""The demo agent: completes each pending item after `delay` seconds. For demos and benchmarks.

Config: `delay` (seconds per item, 0 allowed), `fail_rate` (0..1: chance that an attempt fails
with a transient error before its first item), `fail_times` (the first N attempts of a job fail:
a deterministic way to show retries), `memory` (true: leave a memory about the run).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from dfo.agents.base import AgentSink, TransientAgentError
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
    def from_config(cls, name: str, config: dict[str, Any], *, attempt: int = 1) -> DemoAgent:
        """`config` as validated by `dfo.agents.config.DemoConfig`."""
        return cls(
            name,
            float(config["delay"]),
            float(config["fail_rate"]),
            int(config["fail_times"]),
            attempt,
            bool(config["memory"]),
        )

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
