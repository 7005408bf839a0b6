"""What an agent is to the pipeline: something that works through pending items and reports."""

from __future__ import annotations

from typing import Protocol

from dfo.errors import InvalidInput
from dfo.models import Agent, AgentKind, TaskContext


class TransientAgentError(Exception):
    """A failure worth retrying (a flaky endpoint, a crashed agent process)."""


class AgentSink(Protocol):
    """How an agent reports; the execution phase implements it (store + events)."""

    async def item_done(self, item_id: int, result: str | None = None) -> None: ...

    async def progress(self, percent: float, message: str) -> None: ...

    async def log(self, line: str) -> None: ...

    async def memory(self, content: str, summary: str | None, importance: float) -> None: ...


class AgentRunner(Protocol):
    name: str

    async def run(self, context: TaskContext, sink: AgentSink) -> None:
        """Work through `context.items_pending`; raise TransientAgentError to be retried."""
        ...


def build(agent: Agent, *, attempt: int = 1) -> AgentRunner:
    if agent.kind == AgentKind.DEMO:
        from dfo.agents.demo import DemoAgent

        return DemoAgent.from_config(agent.name, agent.config, attempt=attempt)
    raise InvalidInput(f"agent {agent.name}: kind {agent.kind!r} is not available yet")
