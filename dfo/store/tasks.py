"""Tasks, their items and their dependencies."""

from __future__ import annotations

import functools
from collections import deque

from sqlalchemy import Row, Select, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from dfo.errors import DependencyCycle, InvalidInput, NotFound
from dfo.models import Dependencies, Dependency, DependencyType, Task, TaskItem, TaskStatus
from dfo.store.conn import Connection
from dfo.store.schema import (
    agents,
    epics,
    projects,
    sprints,
    task_dependencies,
    task_items,
    tasks,
    utcnow,
)

_items_total = (
    select(func.count()).select_from(task_items).where(task_items.c.task_id == tasks.c.id)
).scalar_subquery()
_items_completed = (
    select(func.count())
    .select_from(task_items)
    .where(task_items.c.task_id == tasks.c.id, task_items.c.is_completed.is_(True))
).scalar_subquery()


@functools.cache
def _task_select() -> Select[tuple[object, ...]]:
    """Seed 004's task query: the task with project/epic/sprint names and item counts."""
    return select(
        tasks,
        projects.c.code.label("project_code"),
        projects.c.name.label("project_name"),
        epics.c.name.label("epic_name"),
        sprints.c.name.label("sprint_name"),
        agents.c.name.label("agent_name"),
        _items_total.label("items_total"),
        _items_completed.label("items_completed"),
    ).select_from(
        tasks.join(projects, tasks.c.project_id == projects.c.id)
        .outerjoin(epics, tasks.c.epic_id == epics.c.id)
        .outerjoin(sprints, tasks.c.sprint_id == sprints.c.id)
        .outerjoin(agents, tasks.c.assigned_agent_id == agents.c.id)
    )


@functools.cache
def _find_task() -> Select[tuple[object, ...]]:
    return _task_select().where(tasks.c.code == bindparam("b_code"))


def _task(row: Row[tuple[object, ...]]) -> Task:
    m = row._mapping
    return Task(
        id=m["id"],
        code=m["code"],
        project_id=m["project_id"],
        project_code=m["project_code"],
        project_name=m["project_name"],
        epic_name=m["epic_name"],
        sprint_name=m["sprint_name"],
        title=m["title"],
        description=m["description"],
        status=m["status"],
        priority=m["priority"],
        progress=m["progress"],
        agent_name=m["agent_name"],
        items_total=int(m["items_total"] or 0),
        items_completed=int(m["items_completed"] or 0),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        completed_at=m["completed_at"],
    )


def _item(row: Row[tuple[object, ...]]) -> TaskItem:
    m = row._mapping
    return TaskItem(
        id=m["id"],
        task_id=m["task_id"],
        title=m["title"],
        description=m["description"],
        is_completed=bool(m["is_completed"]),
        sort_order=m["sort_order"],
        completed_at=m["completed_at"],
        result=m["result"],
    )


async def find_task(conn: Connection, code: str) -> Task | None:
    row = (await conn.execute(_find_task(), {"b_code": code})).first()
    return _task(row) if row else None


async def get_task(conn: Connection, code: str) -> Task:
    task = await find_task(conn, code)
    if task is None:
        raise NotFound(f"unknown task {code}")
    return task


async def list_tasks(
    conn: Connection, *, project_id: int | None = None, status: str | None = None
) -> list[Task]:
    stmt = _task_select().order_by(projects.c.code, tasks.c.id)
    if project_id is not None:
        stmt = stmt.where(tasks.c.project_id == project_id)
    if status is not None:
        stmt = stmt.where(tasks.c.status == status)
    return [_task(row) for row in await conn.execute(stmt)]


_LIST_ITEMS = (
    select(task_items)
    .where(task_items.c.task_id == bindparam("b_task_id"))
    .order_by(task_items.c.sort_order, task_items.c.id)
)


async def list_items(conn: Connection, task_id: int) -> list[TaskItem]:
    return [_item(row) for row in await conn.execute(_LIST_ITEMS, {"b_task_id": task_id})]


async def next_task_code(conn: Connection, project_id: int, project_code: str) -> str:
    """`PROJ-<n+1>` where n is the highest number used in the project (1 for the first)."""
    codes = await conn.execute(select(tasks.c.code).where(tasks.c.project_id == project_id))
    numbers = [int(code.rsplit("-", 1)[1]) for (code,) in codes if code.rsplit("-", 1)[1].isdigit()]
    return f"{project_code}-{max(numbers, default=0) + 1}"


async def add_task(
    conn: Connection,
    *,
    code: str,
    project_id: int,
    title: str,
    description: str | None = None,
    epic_id: int | None = None,
    sprint_id: int | None = None,
    agent_id: int | None = None,
    priority: str = "normal",
    items: list[str] | None = None,
) -> int:
    try:
        result = await conn.execute(
            tasks.insert().values(
                code=code,
                project_id=project_id,
                title=title,
                description=description,
                epic_id=epic_id,
                sprint_id=sprint_id,
                assigned_agent_id=agent_id,
                priority=priority,
                status=TaskStatus.PENDING.value,
                progress=0,
            )
        )
    except IntegrityError:
        raise InvalidInput(f"task {code} already exists") from None
    task_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if items:
        await conn.execute(
            task_items.insert(),
            [
                {"task_id": task_id, "title": title_, "sort_order": n, "is_completed": False}
                for n, title_ in enumerate(items, start=1)
            ],
        )
    return task_id


_source = tasks.alias("source")
_target = tasks.alias("target")
_DEPENDENCIES = (
    select(
        task_dependencies,
        _source.c.code.label("source_code"),
        _source.c.status.label("source_status"),
        _target.c.code.label("target_code"),
        _target.c.status.label("target_status"),
    )
    .select_from(
        task_dependencies.join(_source, task_dependencies.c.source_task_id == _source.c.id).join(
            _target, task_dependencies.c.target_task_id == _target.c.id
        )
    )
    .where(
        or_(
            task_dependencies.c.source_task_id == bindparam("b_task_id"),
            task_dependencies.c.target_task_id == bindparam("b_task_id"),
        )
    )
    .order_by(task_dependencies.c.id)
)


async def dependencies(conn: Connection, task_id: int) -> Dependencies:
    """All dependencies touching the task, and its active blockers.

    A blocker is a `blocks` dependency whose target is this task and whose source task is not
    completed (seed 004's filter).
    """
    found: list[Dependency] = []
    for row in await conn.execute(_DEPENDENCIES, {"b_task_id": task_id}):
        m = row._mapping
        found.append(
            Dependency(
                id=m["id"],
                source_task_id=m["source_task_id"],
                source_task_code=m["source_code"],
                source_task_status=m["source_status"],
                target_task_id=m["target_task_id"],
                target_task_code=m["target_code"],
                target_task_status=m["target_status"],
                dependency_type=m["dependency_type"],
            )
        )
    blockers = [
        d
        for d in found
        if d.dependency_type == DependencyType.BLOCKS
        and d.target_task_id == task_id
        and d.source_task_status != TaskStatus.COMPLETED
    ]
    return Dependencies(all=found, blockers=blockers)


async def blocks_edges(conn: Connection) -> dict[str, set[str]]:
    """Every `blocks` edge as source code -> target codes."""
    source = tasks.alias("source")
    target = tasks.alias("target")
    stmt = (
        select(source.c.code, target.c.code)
        .select_from(
            task_dependencies.join(source, task_dependencies.c.source_task_id == source.c.id).join(
                target, task_dependencies.c.target_task_id == target.c.id
            )
        )
        .where(task_dependencies.c.dependency_type == DependencyType.BLOCKS.value)
    )
    edges: dict[str, set[str]] = {}
    for src, dst in await conn.execute(stmt):
        edges.setdefault(src, set()).add(dst)
    return edges


def find_cycle(edges: dict[str, set[str]], source: str, target: str) -> list[str] | None:
    """The cycle that a new edge source -> target would close, as a list of codes, or None."""
    if source == target:
        return [source, source]
    parent: dict[str, str | None] = {target: None}
    queue = deque([target])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges.get(node, ())):
            if nxt in parent:
                continue
            parent[nxt] = node
            if nxt == source:
                path = [nxt]
                back: str | None = node
                while back is not None:
                    path.append(back)
                    back = parent[back]
                path.reverse()  # target ... source
                return [source, *path]
            queue.append(nxt)
    return None


async def add_dependency(
    conn: Connection, source: Task, target: Task, dependency_type: DependencyType
) -> bool:
    """Record `source <type> target`; False when it already existed."""
    if source.id == target.id:
        raise InvalidInput(f"a task cannot depend on itself ({source.code})")
    if dependency_type is DependencyType.BLOCKS:
        cycle = find_cycle(await blocks_edges(conn), source.code, target.code)
        if cycle:
            raise DependencyCycle(cycle)
    exists = (
        await conn.execute(
            select(task_dependencies.c.id).where(
                and_(
                    task_dependencies.c.source_task_id == source.id,
                    task_dependencies.c.target_task_id == target.id,
                    task_dependencies.c.dependency_type == dependency_type.value,
                )
            )
        )
    ).first()
    if exists:
        return False
    await conn.execute(
        task_dependencies.insert().values(
            source_task_id=source.id,
            target_task_id=target.id,
            dependency_type=dependency_type.value,
        )
    )
    return True


async def set_state(
    conn: Connection, task_id: int, *, status: str, progress: int | None = None
) -> None:
    params = {
        "b_task_id": task_id,
        "v_status": status,
        "v_completed_at": utcnow() if status == TaskStatus.COMPLETED else None,
    }
    if progress is not None:
        params["v_progress"] = progress
    await conn.execute(_set_state(progress is not None), params)


@functools.cache
def _set_state(with_progress: bool) -> Update:
    names = ["status", "completed_at"] + (["progress"] if with_progress else [])
    return (
        update(tasks)
        .where(tasks.c.id == bindparam("b_task_id"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )


async def complete_item(conn: Connection, task_id: int, item_id: int, result: str | None) -> bool:
    """Mark an item done once; False if it was done already or is not this task's."""
    params = {"b_item_id": item_id, "b_task_id": task_id, "b_now": utcnow(), "b_result": result}
    outcome = await conn.execute(_COMPLETE_ITEM, params)
    return outcome.rowcount == 1


_COMPLETE_ITEM = (
    update(task_items)
    .where(
        task_items.c.id == bindparam("b_item_id"),
        task_items.c.task_id == bindparam("b_task_id"),
        task_items.c.is_completed.is_(False),
    )
    .values(is_completed=True, completed_at=bindparam("b_now"), result=bindparam("b_result"))
)


_ITEM_COUNTS = select(_items_completed.label("done"), _items_total.label("total")).where(
    tasks.c.id == bindparam("b_task_id")
)


async def item_counts(conn: Connection, task_id: int) -> tuple[int, int]:
    """(completed, total) items of a task."""
    row = (await conn.execute(_ITEM_COUNTS, {"b_task_id": task_id})).one()
    return int(row.done), int(row.total)


_BLOCKED_BY = (
    select(_target.c.code)
    .select_from(
        task_dependencies.join(_target, task_dependencies.c.target_task_id == _target.c.id)
    )
    .where(
        task_dependencies.c.source_task_id == bindparam("b_task_id"),
        task_dependencies.c.dependency_type == DependencyType.BLOCKS.value,
    )
    .order_by(_target.c.id)
)


async def blocked_by(conn: Connection, task_id: int) -> list[str]:
    """Codes of the tasks that `task_id` blocks."""
    rows = await conn.execute(_BLOCKED_BY, {"b_task_id": task_id})
    return [code for (code,) in rows]
