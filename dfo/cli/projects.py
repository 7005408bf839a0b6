"""`dfo project add/list/show`."""

from __future__ import annotations

from typing import Annotated

import typer

from dfo.cli import output
from dfo.cli.runtime import checked, open_store, run
from dfo.models import parse_project_code
from dfo.settings import Settings

app = typer.Typer(help="Projects: add, list and show.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("add")
def add(
    code: Annotated[
        str, typer.Argument(help="Project code, e.g. DFO (task codes become DFO-1...).")
    ],
    name: Annotated[str, typer.Argument(help="Human-readable name.")],
    description: Annotated[str | None, typer.Option(help="What the project is about.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Create a project.

    Example: dfo project add SHOP "Checkout rebuild" --description "New checkout"
    """
    code = checked(parse_project_code, code)

    async def go(settings: Settings) -> None:
        from dfo.store import projects

        async with open_store(settings) as store, store.transaction() as conn:
            project = await projects.add_project(conn, code, name, description)
        if json_:
            output.emit_json(project)
        else:
            output.line("created project", project.code)

    run(go)


@app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """List projects with their task counts.

    Example: dfo project list --json
    """

    async def go(settings: Settings) -> None:
        from dfo.store import projects

        async with open_store(settings) as store, store.read() as conn:
            rows = await projects.list_projects(conn)
        if json_:
            output.emit_json([{**output.plain(p), "tasks": n} for p, n in rows])
            return
        output.table(
            ["CODE", "NAME", "TASKS"], [(p.code, output.literal(p.name, 60), n) for p, n in rows]
        )

    run(go)


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Project code.")],
    json_: JsonOpt = False,
) -> None:
    """Show a project: epics, sprints and tasks with status and progress.

    Example: dfo project show SHOP
    """
    code = checked(parse_project_code, code)

    async def go(settings: Settings) -> None:
        from dfo.store import projects, tasks

        async with open_store(settings) as store, store.read() as conn:
            project = await projects.get_project(conn, code)
            names = await projects.project_names(conn, project.id)
            task_list = await tasks.list_tasks(conn, project_id=project.id)
        if json_:
            output.emit_json(
                {
                    **output.plain(project),
                    **names,
                    "tasks": [
                        {
                            "code": t.code,
                            "title": t.title,
                            "status": t.status,
                            "progress": t.progress,
                            "epic": t.epic_name,
                        }
                        for t in task_list
                    ],
                }
            )
            return
        output.line(project.code, output.literal(project.name))
        if project.description:
            output.stdout.print(output.block(project.description))
        output.line("epics:", ", ".join(names["epics"]) or "-")
        output.line("sprints:", ", ".join(names["sprints"]) or "-")
        output.table(
            ["TASK", "STATUS", "PROGRESS", "TITLE"],
            [
                (t.code, t.status, output.progress_bar(t.progress), output.literal(t.title, 70))
                for t in task_list
            ],
        )

    run(go)
