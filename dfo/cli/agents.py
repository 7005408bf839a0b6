"""`dfo agent add/list/show`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dfo.cli import output
from dfo.cli.runtime import checked, fail, open_store, run
from dfo.errors import ExitCode
from dfo.models import AgentKind, TaskContext, parse_agent_name, parse_task_code
from dfo.settings import Settings

app = typer.Typer(help="Agents: the executors that work on tasks.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Agent name, e.g. claude or demo-fast.")],
    kind: Annotated[AgentKind, typer.Option(help="demo, command or openai.")],
    config: Annotated[
        str,
        typer.Option(help='JSON object, e.g. \'{"delay": 0.5}\' or \'{"argv": ["my-agent"]}\'.'),
    ] = "{}",
    json_: JsonOpt = False,
) -> None:
    """Register an agent with its kind and JSON configuration.

    Example: dfo agent add fast --kind demo --config '{"delay": 0.1}'
    """
    agent_name = checked(parse_agent_name, name)
    try:
        parsed = json.loads(config)
    except json.JSONDecodeError as exc:
        fail(f"--config is not valid JSON: {exc.msg} at column {exc.colno}", ExitCode.USAGE)
    if not isinstance(parsed, dict):
        fail("--config must be a JSON object", ExitCode.USAGE)
    from dfo.agents.config import validate

    checked(lambda _: validate(kind.value, parsed), "")

    async def go(settings: Settings) -> None:
        from dfo.store import agents

        async with open_store(settings) as store, store.transaction() as conn:
            agent = await agents.add_agent(conn, agent_name, kind.value, parsed)
        if json_:
            output.emit_json(agent)
        else:
            output.line("created agent", agent.name, f"({agent.kind})")

    run(go)


@app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """List agents.

    Example: dfo agent list
    """

    async def go(settings: Settings) -> None:
        from dfo.store import agents

        async with open_store(settings) as store, store.read() as conn:
            rows = await agents.list_agents(conn)
        if json_:
            output.emit_json(rows)
            return
        output.table(
            ["NAME", "KIND", "ACTIVE", "CONFIG"],
            [(a.name, a.kind, "yes" if a.is_active else "no", json.dumps(a.config)) for a in rows],
        )

    run(go)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Agent name.")], json_: JsonOpt = False) -> None:
    """Show one agent.

    Example: dfo agent show demo --json
    """
    agent_name = checked(parse_agent_name, name)

    async def go(settings: Settings) -> None:
        from dfo.store import agents

        async with open_store(settings) as store, store.read() as conn:
            agent = await agents.get_agent(conn, agent_name)
        if json_:
            output.emit_json(agent)
            return
        output.line(agent.name, f"({agent.kind})", "active" if agent.is_active else "inactive")
        output.stdout.print(output.block(json.dumps(agent.config, indent=2)))

    run(go)


class _PrintSink:
    """Prints what the agent emits; writes nothing anywhere (a dry run)."""

    def __init__(self, json_: bool) -> None:
        self.json = json_

    def _emit(self, kind: str, **fields: object) -> None:
        if self.json:
            output.emit_json({"kind": kind, **fields})
        else:
            detail = " ".join(f"{k}={v}" for k, v in fields.items())
            output.line(output.literal(f"{kind}: {detail}", 300))

    async def item_done(self, item_id: int, result: str | None = None) -> None:
        self._emit("item_done", item_id=item_id, result=result)

    async def progress(self, percent: float, message: str) -> None:
        self._emit("progress", percent=percent, message=message)

    async def log(self, line: str, level: str = "info") -> None:
        self._emit("log", line=line, level=level)

    async def memory(self, content: str, summary: str | None, importance: float) -> None:
        self._emit("memory", content=content, summary=summary, importance=importance)


@app.command("test")
def test_(
    name: Annotated[str, typer.Argument(help="Agent name.")],
    task: Annotated[
        str | None, typer.Argument(help="Task code; default: a made-up task with 2 items.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Run an agent once, without the queue, and print what it emits. Nothing is stored:
    items are not marked done and memories are not saved. Use it to wire up a new agent.

    Example: dfo agent test checklist SHOP-101
    """
    agent_name = checked(parse_agent_name, name)
    task_code = checked(parse_task_code, task) if task else None

    async def go(settings: Settings) -> None:
        from dfo.agents import RunInfo, TransientAgentError, build
        from dfo.errors import JobFailed
        from dfo.store import agents
        from dfo.store.context import load_task_context

        async with open_store(settings) as store, store.read() as conn:
            agent = await agents.get_agent(conn, agent_name)
            context = await load_task_context(conn, task_code) if task_code else _sample_context()
        runner = build(agent, RunInfo(job_id="agent-test", request_id="agent-test"))
        try:
            await runner.run(context, _PrintSink(json_))
        except TransientAgentError as exc:
            raise JobFailed(str(exc)) from None

    run(go)


def _sample_context() -> TaskContext:
    from dfo.models import Dependencies, Task, TaskItem

    task = Task(
        id=0,
        code="TEST-1",
        project_id=0,
        project_code="TEST",
        project_name="test",
        epic_name=None,
        sprint_name=None,
        title="A sample task for `dfo agent test`",
        description=None,
        status="pending",
        priority="normal",
        progress=0,
        agent_name=None,
        items_total=2,
        items_completed=0,
    )
    items = [
        TaskItem(
            id=n,
            task_id=0,
            title=f"sample item {n}",
            description=None,
            is_completed=False,
            sort_order=n,
        )
        for n in (1, 2)
    ]
    return TaskContext(
        task=task,
        items=items,
        items_pending=items,
        dependencies=Dependencies(all=[], blockers=[]),
        memories=[],
    )
