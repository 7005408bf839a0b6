"""Agents: the executors that work through a task's items. `build(agent)` picks the kind."""

from dfo.agents.base import (
    AgentError,
    AgentRunner,
    AgentSink,
    RunInfo,
    TransientAgentError,
    build,
)

__all__ = [
    "AgentError",
    "AgentRunner",
    "AgentSink",
    "RunInfo",
    "TransientAgentError",
    "build",
]
