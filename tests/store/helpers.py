"""Small builders for store tests."""

from __future__ import annotations

from sqlalchemy import update

from dfo.models import DependencyType, Project, Task
from dfo.store import projects, tasks
from dfo.store.conn import Connection
from dfo.store.schema import tasks as tasks_table


async def project(conn: Connection, code: str = "DFO", name: str = "Demo") -> Project:
    return await projects.add_project(conn, code, name, None)


async def task(
    conn: Connection, code: str, title: str = "A task", items: list[str] | None = None
) -> Task:
    proj = await projects.get_project(conn, code.split("-")[0])
    await tasks.add_task(conn, code=code, project_id=proj.id, title=title, items=items or [])
    return await tasks.get_task(conn, code)


async def blocks(conn: Connection, source: str, target: str) -> None:
    await tasks.add_dependency(
        conn,
        await tasks.get_task(conn, source),
        await tasks.get_task(conn, target),
        DependencyType.BLOCKS,
    )


async def set_status(conn: Connection, code: str, status: str) -> None:
    await conn.execute(update(tasks_table).where(tasks_table.c.code == code).values(status=status))
