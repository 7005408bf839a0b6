"""Projects, epics and sprints."""

from __future__ import annotations

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError

from dfo.errors import InvalidInput, NotFound
from dfo.models import Project
from dfo.store.conn import Connection
from dfo.store.schema import epics, projects, sprints, tasks


def _project(row: Row[tuple[object, ...]]) -> Project:
    m = row._mapping
    return Project(
        id=m["id"],
        code=m["code"],
        name=m["name"],
        description=m["description"],
        created_at=m["created_at"],
    )


async def add_project(
    conn: Connection, code: str, name: str, description: str | None = None
) -> Project:
    try:
        await conn.execute(projects.insert().values(code=code, name=name, description=description))
    except IntegrityError:
        raise InvalidInput(f"project {code} already exists") from None
    return await get_project(conn, code)


async def find_project(conn: Connection, code: str) -> Project | None:
    row = (await conn.execute(select(projects).where(projects.c.code == code))).first()
    return _project(row) if row else None


async def get_project(conn: Connection, code: str) -> Project:
    project = await find_project(conn, code)
    if project is None:
        raise NotFound(f"unknown project {code}")
    return project


async def list_projects(conn: Connection) -> list[tuple[Project, int]]:
    """Projects with their task counts."""
    count = (
        select(func.count()).select_from(tasks).where(tasks.c.project_id == projects.c.id)
    ).scalar_subquery()
    rows = await conn.execute(select(projects, count.label("task_count")).order_by(projects.c.code))
    return [(_project(row), int(row._mapping["task_count"])) for row in rows]


async def epic_id(conn: Connection, project_id: int, name: str) -> int | None:
    return (
        await conn.execute(
            select(epics.c.id).where(epics.c.project_id == project_id, epics.c.name == name)
        )
    ).scalar()


async def sprint_id(conn: Connection, project_id: int, name: str) -> int | None:
    return (
        await conn.execute(
            select(sprints.c.id).where(sprints.c.project_id == project_id, sprints.c.name == name)
        )
    ).scalar()


async def project_names(conn: Connection, project_id: int) -> dict[str, list[str]]:
    """Epic and sprint names of a project, for `dfo project show`."""
    epic_rows = await conn.execute(
        select(epics.c.name)
        .where(epics.c.project_id == project_id)
        .order_by(epics.c.sort_order, epics.c.id)
    )
    sprint_rows = await conn.execute(
        select(sprints.c.name).where(sprints.c.project_id == project_id).order_by(sprints.c.id)
    )
    return {
        "epics": [r[0] for r in epic_rows],
        "sprints": [r[0] for r in sprint_rows],
    }
