"""`dfo agent add/list/show`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dfo.cli import output
from dfo.cli.runtime import checked, fail, open_store, run
from dfo.errors import ExitCode
from dfo.models import AgentKind, parse_agent_name
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
