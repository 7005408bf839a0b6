"""`dfo import`, `dfo blockers`, `dfo memories`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dfo.cli import output
from dfo.cli.runtime import checked, fail, open_store, run
from dfo.errors import ExitCode
from dfo.models import Memory, parse_project_code, parse_task_code
from dfo.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def import_(
    file: Annotated[Path, typer.Argument(help="YAML or JSON project file (see README).")],
    json_: JsonOpt = False,
) -> None:
    """Import a project with epics, sprints, agents, tasks, items, dependencies and memories.

    The file is checked completely before anything is written; re-importing it changes nothing.

    Example: dfo import examples/shop.yaml
    """

    async def go(settings: Settings) -> None:
        from dfo import importer

        document = importer.read_file(file)
        async with open_store(settings) as store, store.transaction() as conn:
            summary = await importer.import_document(conn, document, str(file))
        if json_:
            output.emit_json({"file": str(file), "summary": summary})
            return
        for kind, counts in summary.items():
            output.line(
                f"{kind}:",
                f"{counts['created']} created,",
                f"{counts['updated']} updated,",
                f"{counts['unchanged']} unchanged",
            )

    run(go)


def blockers(
    task: Annotated[str, typer.Argument(help="Task code, e.g. DFO-12.")],
    json_: JsonOpt = False,
) -> None:
    """List the tasks that must complete before TASK can run.

    Example: dfo blockers SHOP-306 --json
    """
    code = checked(parse_task_code, task)

    async def go(settings: Settings) -> None:
        from dfo.store import tasks

        async with open_store(settings) as store, store.read() as conn:
            found = await tasks.get_task(conn, code)
            deps = await tasks.dependencies(conn, found.id)
            titles = {
                d.source_task_code: (await tasks.get_task(conn, d.source_task_code)).title
                for d in deps.blockers
            }
        rows = [
            {
                "code": d.source_task_code,
                "title": titles[d.source_task_code],
                "status": d.source_task_status,
                "dependency_type": d.dependency_type,
            }
            for d in deps.blockers
        ]
        if json_:
            output.emit_json({"task": code, "blocked": bool(rows), "blockers": rows})
            return
        if not rows:
            output.line(code, "has no active blockers")
            return
        output.table(
            ["BLOCKER", "STATUS", "TITLE"],
            [(r["code"], r["status"], output.literal(r["title"], 70)) for r in rows],
            title=f"{code} is blocked by",
        )

    run(go)


def memories_(
    task: Annotated[
        str | None, typer.Argument(help="Task code: its top-10 relevant memories.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Words to search for (any text).")
    ] = None,
    project: Annotated[
        str | None, typer.Option(help="With --search: this project and global.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most results shown.")] = 10,
    json_: JsonOpt = False,
) -> None:
    """Memories relevant to a task, or matching a search.

    Any text is a valid query: it is split into words, so `C++ (bob@example.com` works.

    Example: dfo memories --search "retry policy" --project SHOP
    """
    if task is None and search is None:
        fail("give a TASK, or --search QUERY", ExitCode.USAGE)
    if task is not None and project is not None:
        fail("--project goes with --search alone (a task implies its project)", ExitCode.USAGE)
    code = checked(parse_task_code, task) if task else None
    project_code = checked(parse_project_code, project) if project else None

    async def go(settings: Settings) -> None:
        from dfo.store import memories, projects, tasks

        async with open_store(settings) as store, store.read() as conn:
            if code is not None:
                found = await tasks.get_task(conn, code)
                query = search if search is not None else memories.context_query(found)
                rows = await memories.search(
                    conn,
                    query,
                    project_id=found.project_id,
                    limit=limit,
                    # The task's own context: memories written for it count too.
                    task_id=found.id if search is None else None,
                )
            else:
                project_id = (
                    (await projects.get_project(conn, project_code)).id if project_code else None
                )
                query = search or ""
                rows = await memories.search(conn, query, project_id=project_id, limit=limit)
        if json_:
            output.emit_json({"task": code, "query": query, "memories": rows})
            return
        _print_memories(rows)

    run(go)


def _print_memories(rows: list[Memory]) -> None:
    if not rows:
        output.line("no matching memories")
        return
    output.table(
        ["ID", "IMPORTANCE", "SUMMARY", "CONTENT"],
        [
            (
                m.id,
                f"{m.importance:.2f}",
                output.literal(m.summary or "", 40),
                output.literal(m.content, 80),
            )
            for m in rows
        ],
    )
