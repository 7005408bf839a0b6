"""Agents: the executors that work through a task's items. `build(agent)` picks the kind."""

from dfo.agents.base import AgentRunner, AgentSink, TransientAgentError, build

__all__ = ["AgentRunner", "AgentSink", "TransientAgentError", "build"]
