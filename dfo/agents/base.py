"""What an agent is to the pipeline: something that works through pending items and reports.

A new kind is one module with a runner class and a config model (see `config.py`), registered
in `build`. Cancel is cooperative through asyncio: a cancelled run must stop what it started
(the command agent stops its process group) and re-raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dfo.errors import DfoError
from dfo.models import Agent, AgentKind, TaskContext


class TransientAgentError(Exception):
    """A failure worth retrying (a flaky endpoint, a crashed agent process)."""


class AgentError(DfoError):
    """A failure that retrying cannot fix (missing executable, HTTP 401, bad request)."""


@dataclass(frozen=True)
class RunInfo:
    """Which job the agent works for (passed on to agents: env vars, stdin, prompts)."""

    job_id: str = ""
    request_id: str = ""
    attempt: int = 1


class AgentSink(Protocol):
    """How an agent reports; the execution phase implements it (store + events)."""

    async def item_done(self, item_id: int, result: str | None = None) -> None: ...

    async def progress(self, percent: float, message: str) -> None: ...

    async def log(self, line: str, level: str = "info") -> None: ...

    async def memory(self, content: str, summary: str | None, importance: float) -> None: ...


class AgentRunner(Protocol):
    name: str

    async def run(self, context: TaskContext, sink: AgentSink) -> None:
        """Work through `context.items_pending`; raise TransientAgentError to be retried."""
        ...


def build(agent: Agent, run: RunInfo | None = None) -> AgentRunner:
    from dfo.agents.config import validate

    run = run or RunInfo()
    config = validate(agent.kind, agent.config, where=f"agent {agent.name}: config")
    if agent.kind == AgentKind.DEMO:
        from dfo.agents.demo import DemoAgent

        return DemoAgent.from_config(agent.name, config, attempt=run.attempt)
    if agent.kind == AgentKind.COMMAND:
        from dfo.agents.command import CommandAgent

        return CommandAgent(agent.name, config, run)
    from dfo.agents.openai import OpenAIAgent

    runner: AgentRunner = OpenAIAgent(agent.name, config, run)
    return runner
