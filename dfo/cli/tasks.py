"""`dfo task add/list/show/depend`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from dfo.cli import output
from dfo.cli.runtime import checked, fail, open_store, run
from dfo.errors import ExitCode, NotFound
from dfo.models import (
    DependencyType,
    Priority,
    TaskStatus,
    parse_agent_name,
    parse_project_code,
    parse_task_code,
    project_of,
)
from dfo.settings import Settings

if TYPE_CHECKING:
    from dfo.store.conn import Connection

app = typer.Typer(
    help="Tasks: add, list, show, and dependencies between them.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("add")
def add(
    project: Annotated[str, typer.Argument(help="Project code, e.g. DFO.")],
    title: Annotated[str, typer.Argument(help="Task title.")],
    item: Annotated[
        list[str] | None, typer.Option("--item", "-i", help="A checklist item (repeatable).")
    ] = None,
    code: Annotated[str | None, typer.Option(help="Task code; default: next number.")] = None,
    description: Annotated[str | None, typer.Option(help="Longer description.")] = None,
    epic: Annotated[str | None, typer.Option(help="Epic name (must exist).")] = None,
    sprint: Annotated[str | None, typer.Option(help="Sprint name (must exist).")] = None,
    agent: Annotated[str | None, typer.Option(help="Assigned agent name.")] = None,
    priority: Annotated[Priority, typer.Option(help="Task priority.")] = Priority.NORMAL,
    json_: JsonOpt = False,
) -> None:
    """Create a task with its checklist items.

    Example: dfo task add SHOP "Cart API" -i "Endpoints" -i "Tests" --agent demo
    """
    project_code = checked(parse_project_code, project)
    task_code = checked(parse_task_code, code) if code else None
    if task_code and project_of(task_code) != project_code:
        fail(f"task code {task_code} does not belong to project {project_code}", ExitCode.USAGE)
    agent_name = checked(parse_agent_name, agent) if agent else None
    if not title.strip():
        fail("the task title is empty", ExitCode.USAGE)

    async def go(settings: Settings) -> None:
        from dfo.store import agents, projects, tasks

        async with open_store(settings) as store:
            async with store.transaction() as conn:
                proj = await projects.get_project(conn, project_code)
                epic_id = await _named(conn, projects.epic_id, proj.id, epic, "epic", project_code)
                sprint_id = await _named(
                    conn, projects.sprint_id, proj.id, sprint, "sprint", project_code
                )
                agent_id = (await agents.get_agent(conn, agent_name)).id if agent_name else None
                new_code = task_code or await tasks.next_task_code(conn, proj.id, proj.code)
                await tasks.add_task(
                    conn,
                    code=new_code,
                    project_id=proj.id,
                    title=title.strip(),
                    description=description,
                    epic_id=epic_id,
                    sprint_id=sprint_id,
                    agent_id=agent_id,
                    priority=priority.value,
                    items=item or [],
                )
            async with store.read() as conn:
                created = await tasks.get_task(conn, new_code)
        if json_:
            output.emit_json(created)
        else:
            output.line("created task", created.code, f"({created.items_total} items)")

    run(go)


async def _named(
    conn: Connection,
    lookup: Callable[[Connection, int, str], Awaitable[int | None]],
    project_id: int,
    name: str | None,
    kind: str,
    project_code: str,
) -> int | None:
    if name is None:
        return None
    found = await lookup(conn, project_id, name)
    if found is None:
        raise NotFound(f"unknown {kind} {name!r} in project {project_code}")
    return found


@app.command("list")
def list_(
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    status: Annotated[TaskStatus | None, typer.Option(help="Only tasks in this status.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List tasks with status and progress.

    Example: dfo task list --project SHOP --status pending
    """
    project_code = checked(parse_project_code, project) if project else None

    async def go(settings: Settings) -> None:
        from dfo.store import projects, tasks

        async with open_store(settings) as store, store.read() as conn:
            project_id = (
                (await projects.get_project(conn, project_code)).id if project_code else None
            )
            rows = await tasks.list_tasks(
                conn, project_id=project_id, status=status.value if status else None
            )
        if json_:
            output.emit_json(rows)
            return
        output.table(
            ["TASK", "STATUS", "PROGRESS", "ITEMS", "TITLE"],
            [
                (
                    t.code,
                    t.status,
                    output.progress_bar(t.progress),
                    f"{t.items_completed}/{t.items_total}",
                    output.literal(t.title, 60),
                )
                for t in rows
            ],
        )

    run(go)


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Task code, e.g. DFO-12.")],
    json_: JsonOpt = False,
) -> None:
    """Show a task: items, dependencies, status and progress.

    Example: dfo task show SHOP-101 --json
    """
    task_code = checked(parse_task_code, code)

    async def go(settings: Settings) -> None:
        from dfo.store import tasks

        async with open_store(settings) as store, store.read() as conn:
            task = await tasks.get_task(conn, task_code)
            items = await tasks.list_items(conn, task.id)
            deps = await tasks.dependencies(conn, task.id)
        if json_:
            output.emit_json({**output.plain(task), "items": items, "dependencies": deps})
            return
        output.line(task.code, output.literal(task.title))
        output.line(
            "project:",
            task.project_code,
            "· epic:",
            task.epic_name or "-",
            "· sprint:",
            task.sprint_name or "-",
            "· agent:",
            task.agent_name or "-",
        )
        output.line(
            "status:",
            task.status,
            "· priority:",
            task.priority,
            "·",
            output.progress_bar(task.progress),
        )
        if task.description:
            output.stdout.print(output.block(task.description))
        output.table(
            ["#", "DONE", "ITEM"],
            [
                (i.sort_order, "x" if i.is_completed else " ", output.literal(i.title, 80))
                for i in items
            ],
            title=f"items {task.items_completed}/{task.items_total}",
        )
        blocker_ids = {d.id for d in deps.blockers}
        output.table(
            ["SOURCE", "TYPE", "TARGET", "SOURCE STATUS", ""],
            [
                (
                    d.source_task_code,
                    d.dependency_type,
                    d.target_task_code,
                    d.source_task_status,
                    "BLOCKING" if d.id in blocker_ids else "",
                )
                for d in deps.all
            ],
            title="dependencies",
        )

    run(go)


@app.command("depend")
def depend(
    source: Annotated[str, typer.Argument(help="The task that blocks (or relates to) the other.")],
    blocks: Annotated[
        str | None, typer.Option("--blocks", help="SOURCE must complete before this task.")
    ] = None,
    relates: Annotated[
        str | None, typer.Option("--relates", help="SOURCE relates to this task.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a dependency: `dfo task depend A --blocks B` (B waits for A).

    Example: dfo task depend SHOP-101 --blocks SHOP-102
    """
    if (blocks is None) == (relates is None):
        fail("give exactly one of --blocks TASK or --relates TASK", ExitCode.USAGE)
    kind = DependencyType.BLOCKS if blocks else DependencyType.RELATES
    source_code = checked(parse_task_code, source)
    target_code = checked(parse_task_code, blocks or relates or "")

    async def go(settings: Settings) -> None:
        from dfo.store import tasks

        async with open_store(settings) as store, store.transaction() as conn:
            src = await tasks.get_task(conn, source_code)
            dst = await tasks.get_task(conn, target_code)
            created = await tasks.add_dependency(conn, src, dst, kind)
        doc = {"source": source_code, "target": target_code, "type": kind.value, "created": created}
        if json_:
            output.emit_json(doc)
        else:
            verb = "added" if created else "already present:"
            output.line(verb, source_code, kind.value, target_code)

    run(go)
