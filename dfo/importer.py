"""`dfo import FILE`: a project with its epics, sprints, agents, tasks, items, dependencies and
memories, from YAML or JSON.

The whole file is checked first and every problem is reported by its path
(`tasks[3].items[0].title: required`); nothing is written unless the file is valid. Writing is one
transaction and matches existing rows by their natural keys (project code, epic/sprint name,
agent name, task code, item position, memory content), so re-importing a file changes nothing.
Fields the file leaves out keep what the database has: a re-import never undoes work.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import CursorResult, select, update

from dfo.errors import ImportFileError, InvalidInput
from dfo.models import (
    PROJECT_CODE_RE,
    TASK_CODE_RE,
    AgentKind,
    DependencyType,
    Priority,
    TaskStatus,
    project_of,
)
from dfo.store import memories as memory_store
from dfo.store import tasks as task_store
from dfo.store.conn import Connection
from dfo.store.schema import (
    agents,
    epics,
    memories,
    projects,
    sprints,
    task_items,
    tasks,
    utcnow,
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProjectSpec(_Spec):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None


class AgentSpec(_Spec):
    name: str = Field(min_length=1, max_length=64)
    kind: AgentKind
    config: dict[str, Any] = Field(default_factory=dict)


class EpicSpec(_Spec):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    status: str | None = None


class SprintSpec(_Spec):
    name: str = Field(min_length=1, max_length=255)
    goal: str | None = None
    status: str | None = None
    start_date: str | None = None
    end_date: str | None = None


class ItemSpec(_Spec):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    done: bool | None = None


class TaskSpec(_Spec):
    code: str = Field(min_length=1)
    title: str = Field(min_length=1, max_length=500)
    description: str | None = None
    epic: str | None = None
    sprint: str | None = None
    agent: str | None = None
    status: TaskStatus | None = None
    priority: Priority | None = None
    items: list[ItemSpec] = Field(default_factory=list)
    blocked_by: list[str] = Field(default_factory=list)
    relates_to: list[str] = Field(default_factory=list)

    @field_validator("items", mode="before")
    @classmethod
    def _items_as_titles(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"title": v} if isinstance(v, str) else v for v in value]
        return value


class MemorySpec(_Spec):
    content: str = Field(min_length=1)
    summary: str | None = None
    importance: float = Field(default=0.5, ge=0, le=1)
    tags: list[str] = Field(default_factory=list)
    task: str | None = None
    scope: Literal["project", "global"] = "project"


class ImportSpec(_Spec):
    version: Literal[1] = 1
    project: ProjectSpec
    agents: list[AgentSpec] = Field(default_factory=list)
    epics: list[EpicSpec] = Field(default_factory=list)
    sprints: list[SprintSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    memories: list[MemorySpec] = Field(default_factory=list)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    msg = str(error["msg"])
    return msg[:1].lower() + msg[1:]


def read_file(path: Path) -> Any:
    """The parsed document (YAML is a superset of JSON; `.json` files get the JSON parser)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(raw)
        return yaml.safe_load(raw)
    except json.JSONDecodeError as exc:
        raise ImportFileError(str(path), [f"line {exc.lineno}: {exc.msg}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ImportFileError(str(path), [f"{where}: {problem}"]) from None


def parse(document: Any, source: str) -> ImportSpec:
    if not isinstance(document, dict):
        raise ImportFileError(source, ["(file): expected a mapping with a 'project' key"])
    try:
        return ImportSpec.model_validate(document)
    except ValidationError as exc:
        problems = [f"{_path(e['loc'])}: {_message(e)}" for e in exc.errors()]
        raise ImportFileError(source, problems) from None


async def check(conn: Connection, spec: ImportSpec, source: str) -> list[str]:
    """Every problem the file has against itself and the database."""
    problems: list[str] = []
    code = spec.project.code.upper()
    if not PROJECT_CODE_RE.match(code):
        problems.append(f"project.code: invalid project code {spec.project.code!r}")
    file_codes = [t.code.upper() for t in spec.tasks]
    existing = {c for (c,) in await conn.execute(select(tasks.c.code))}
    known_tasks = existing | set(file_codes)
    epic_names = {e.name for e in spec.epics} | await _names(conn, epics, code)
    sprint_names = {s.name for s in spec.sprints} | await _names(conn, sprints, code)
    agent_names = {a.name for a in spec.agents} | {
        n for (n,) in await conn.execute(select(agents.c.name))
    }

    for kind, names in (
        ("epics", [e.name for e in spec.epics]),
        ("sprints", [s.name for s in spec.sprints]),
        ("agents", [a.name for a in spec.agents]),
    ):
        for name, count in Counter(names).items():
            if count > 1:
                problems.append(f"{kind}: {name!r} appears {count} times")
    from dfo.agents.config import validate

    for n, agent in enumerate(spec.agents):
        try:
            validate(agent.kind.value, agent.config, where=f"agents[{n}].config")
        except InvalidInput as exc:
            problems.append(str(exc))
    seen: set[str] = set()
    for n, task in enumerate(spec.tasks):
        where = f"tasks[{n}]"
        tcode = task.code.upper()
        if not TASK_CODE_RE.match(tcode):
            problems.append(
                f"{where}.code: invalid task code {task.code!r} (expected {code}-<number>)"
            )
        elif project_of(tcode) != code:
            problems.append(f"{where}.code: {task.code} does not belong to project {code}")
        if tcode in seen:
            problems.append(f"{where}.code: {task.code} appears twice")
        seen.add(tcode)
        if task.epic is not None and task.epic not in epic_names:
            problems.append(f"{where}.epic: unknown epic {task.epic!r}")
        if task.sprint is not None and task.sprint not in sprint_names:
            problems.append(f"{where}.sprint: unknown sprint {task.sprint!r}")
        if task.agent is not None and task.agent not in agent_names:
            problems.append(f"{where}.agent: unknown agent {task.agent!r}")
        for field in ("blocked_by", "relates_to"):
            for m, other in enumerate(getattr(task, field)):
                if other.upper() not in known_tasks:
                    problems.append(f"{where}.{field}[{m}]: unknown task {other!r}")
                elif other.upper() == tcode:
                    problems.append(f"{where}.{field}[{m}]: a task cannot depend on itself")
    for n, memory in enumerate(spec.memories):
        if memory.task is not None and memory.task.upper() not in known_tasks:
            problems.append(f"memories[{n}].task: unknown task {memory.task!r}")
    if not problems:
        problems.extend(await _cycles(conn, spec))
    return problems


async def _names(conn: Connection, table: Any, project_code: str) -> set[str]:
    rows = await conn.execute(
        select(table.c.name)
        .join(projects, table.c.project_id == projects.c.id)
        .where(projects.c.code == project_code)
    )
    return {name for (name,) in rows}


async def _cycles(conn: Connection, spec: ImportSpec) -> list[str]:
    edges = await task_store.blocks_edges(conn)
    for n, task in enumerate(spec.tasks):
        target = task.code.upper()
        for m, blocker in enumerate(task.blocked_by):
            source = blocker.upper()
            if target in edges.get(source, set()):
                continue
            cycle = task_store.find_cycle(edges, source, target)
            if cycle:
                return [f"tasks[{n}].blocked_by[{m}]: dependency cycle: " + " -> ".join(cycle)]
            edges.setdefault(source, set()).add(target)
    return []


class _Tally:
    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def add(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            kind: {o: c[o] for o in ("created", "updated", "unchanged")}
            for kind, c in self.counts.items()
        }


async def _upsert(
    conn: Connection, table: Any, where: Any, values: dict[str, Any], tally: _Tally, kind: str
) -> int:
    """Insert `values` or update the differing ones of the row matched by `where`; its id."""
    row = (await conn.execute(select(table).where(where))).first()
    if row is None:
        result = await conn.execute(
            table.insert().values(**{k: v for k, v in values.items() if v is not None})
        )
        tally.add(kind, "created")
        return _new_id(result)
    current = row._mapping
    changes = {k: v for k, v in values.items() if v is not None and current[k] != v}
    if changes:
        await conn.execute(update(table).where(table.c.id == current["id"]).values(**changes))
    tally.add(kind, "updated" if changes else "unchanged")
    return int(current["id"])


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def write(conn: Connection, spec: ImportSpec) -> dict[str, dict[str, int]]:
    tally = _Tally()
    code = spec.project.code.upper()
    p = spec.project
    project_id = await _upsert(
        conn,
        projects,
        projects.c.code == code,
        {"code": code, "name": p.name, "description": p.description},
        tally,
        "projects",
    )
    agent_ids: dict[str, int] = {}
    for a in spec.agents:
        agent_ids[a.name] = await _upsert(
            conn,
            agents,
            agents.c.name == a.name,
            {"name": a.name, "kind": a.kind.value, "config": json.dumps(a.config, sort_keys=True)},
            tally,
            "agents",
        )
    for n, e in enumerate(spec.epics, start=1):
        await _upsert(
            conn,
            epics,
            (epics.c.project_id == project_id) & (epics.c.name == e.name),
            {
                "project_id": project_id,
                "name": e.name,
                "description": e.description,
                "status": e.status,
                "sort_order": n,
            },
            tally,
            "epics",
        )
    for s in spec.sprints:
        await _upsert(
            conn,
            sprints,
            (sprints.c.project_id == project_id) & (sprints.c.name == s.name),
            {
                "project_id": project_id,
                "name": s.name,
                "goal": s.goal,
                "status": s.status,
                "start_date": s.start_date,
                "end_date": s.end_date,
            },
            tally,
            "sprints",
        )
    epic_ids = await _ids(conn, epics, project_id)
    sprint_ids = await _ids(conn, sprints, project_id)
    agent_ids.update({n: i for i, n in await conn.execute(select(agents.c.id, agents.c.name))})
    task_ids: dict[str, int] = {}
    for t in spec.tasks:
        tcode = t.code.upper()
        task_ids[tcode] = await _upsert(
            conn,
            tasks,
            tasks.c.code == tcode,
            {
                "code": tcode,
                "project_id": project_id,
                "title": t.title,
                "description": t.description,
                "epic_id": epic_ids.get(t.epic) if t.epic else None,
                "sprint_id": sprint_ids.get(t.sprint) if t.sprint else None,
                "assigned_agent_id": agent_ids.get(t.agent) if t.agent else None,
                "status": t.status.value if t.status else None,
                "priority": t.priority.value if t.priority else None,
            },
            tally,
            "tasks",
        )
        if await _write_items(conn, task_ids[tcode], t.items, tally):
            await _refresh_progress(conn, task_ids[tcode])
    task_ids.update({c: i for i, c in await conn.execute(select(tasks.c.id, tasks.c.code))})
    for t in spec.tasks:
        target = await task_store.get_task(conn, t.code.upper())
        for kind, others in (
            (DependencyType.BLOCKS, t.blocked_by),
            (DependencyType.RELATES, t.relates_to),
        ):
            for other in others:
                source = await task_store.get_task(conn, other.upper())
                created = await task_store.add_dependency(conn, source, target, kind)
                tally.add("dependencies", "created" if created else "unchanged")
    for mem in spec.memories:
        owner = None if mem.scope == "global" else project_id
        digest = memory_store.content_hash(owner, mem.content)
        memory_id = await _upsert(
            conn,
            memories,
            memories.c.content_hash == digest,
            {
                "project_id": owner,
                "content": mem.content,
                "content_hash": digest,
                "summary": mem.summary,
                "importance": mem.importance,
                "tags": json.dumps(mem.tags),
                "task_id": task_ids.get(mem.task.upper()) if mem.task else None,
            },
            tally,
            "memories",
        )
        await memory_store.index(conn, [memory_id])  # its summary may have changed
    return tally.as_dict()


async def _ids(conn: Connection, table: Any, project_id: int) -> dict[str, int]:
    rows = await conn.execute(
        select(table.c.name, table.c.id).where(table.c.project_id == project_id)
    )
    return {name: int(id_) for name, id_ in rows}


async def _write_items(
    conn: Connection, task_id: int, items: list[ItemSpec], tally: _Tally
) -> bool:
    """Items matched by position; True when a completion flag changed."""
    existing = {i.sort_order: i for i in await task_store.list_items(conn, task_id)}
    flags_changed = False
    for position, item in enumerate(items, start=1):
        current = existing.get(position)
        if current is None:
            await conn.execute(
                task_items.insert().values(
                    task_id=task_id,
                    title=item.title,
                    description=item.description,
                    sort_order=position,
                    is_completed=bool(item.done),
                    completed_at=utcnow() if item.done else None,
                )
            )
            tally.add("items", "created")
            flags_changed = flags_changed or bool(item.done)
            continue
        changes: dict[str, Any] = {}
        if current.title != item.title:
            changes["title"] = item.title
        if item.description is not None and current.description != item.description:
            changes["description"] = item.description
        if item.done is not None and current.is_completed != item.done:
            changes["is_completed"] = item.done
            changes["completed_at"] = utcnow() if item.done else None
            flags_changed = True
        if changes:
            await conn.execute(
                update(task_items).where(task_items.c.id == current.id).values(**changes)
            )
        tally.add("items", "updated" if changes else "unchanged")
    return flags_changed


async def _refresh_progress(conn: Connection, task_id: int) -> None:
    items = await task_store.list_items(conn, task_id)
    done = sum(1 for i in items if i.is_completed)
    progress = round(100 * done / len(items)) if items else 0
    await conn.execute(update(tasks).where(tasks.c.id == task_id).values(progress=progress))


async def import_document(
    conn: Connection, document: Any, source: str
) -> dict[str, dict[str, int]]:
    """Validate and write; raises ImportFileError (nothing written) when the file has problems."""
    spec = parse(document, source)
    problems = await check(conn, spec, source)
    if problems:
        raise ImportFileError(source, problems)
    return await write(conn, spec)
