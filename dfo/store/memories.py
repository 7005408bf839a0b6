"""Memories: notes that earlier work left behind, found again by full-text relevance."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import Row, bindparam, select

from dfo.models import Memory, Task
from dfo.store.conn import Connection
from dfo.store.schema import memories
from dfo.store.search import rank, terms

CONTEXT_LIMIT = 10


def content_hash(project_id: int | None, content: str) -> str:
    return hashlib.sha256(f"{project_id or 0}\x00{content}".encode()).hexdigest()


def _memory(row: Row[tuple[object, ...]], relevance: float = 0.0) -> Memory:
    m = row._mapping
    return Memory(
        id=m["id"],
        project_id=m["project_id"],
        task_id=m["task_id"],
        content=m["content"],
        summary=m["summary"],
        importance=float(m["importance"]),
        tags=list(json.loads(m["tags"] or "[]")),
        created_at=m["created_at"],
        relevance=relevance,
    )


async def add_memory(
    conn: Connection,
    *,
    project_id: int | None,
    content: str,
    summary: str | None = None,
    importance: float = 0.5,
    tags: list[str] | None = None,
    task_id: int | None = None,
) -> tuple[int, bool]:
    """Store a memory; (id, created). The same content in the same project is stored once."""
    digest = content_hash(project_id, content)
    existing = (
        await conn.execute(select(memories.c.id).where(memories.c.content_hash == digest))
    ).scalar()
    if existing is not None:
        return int(existing), False
    result = await conn.execute(
        memories.insert().values(
            project_id=project_id,
            task_id=task_id,
            content=content,
            summary=summary,
            importance=importance,
            tags=json.dumps(tags or []),
            content_hash=digest,
        )
    )
    return int(result.inserted_primary_key[0]), True  # type: ignore[index]


async def search(
    conn: Connection,
    dialect: str,
    query: str,
    *,
    project_id: int | None = None,
    limit: int = CONTEXT_LIMIT,
    task_id: int | None = None,
) -> list[Memory]:
    """Best matches first: relevance, then importance, then recency.

    Relevance is the number of distinct query words a memory contains, found by one full-text
    look-up per word (rank the same on both dialects; the engines' own scores, bm25 and
    InnoDB's, are continuous and favour short texts, so importance would never break a tie).
    With `task_id`, memories written for that task count as matching one more word and are
    candidates even when no word of the query matches them. With `project_id`, that project's
    memories and global ones.

    The ranking is one SQL statement (`search.rank`); then the chosen rows are read.
    """
    tokens = terms(query, dialect)
    if not tokens and task_id is None:
        return []
    ranked = await rank(conn, dialect, tokens, project_id=project_id, task_id=task_id, limit=limit)
    if not ranked:
        return []
    relevance = dict(ranked)
    rows = await conn.execute(_BY_IDS, {"b_ids": list(relevance)})
    found = {row._mapping["id"]: row for row in rows}
    return [_memory(found[mid], float(n)) for mid, n in ranked if mid in found]


_BY_IDS = select(memories).where(memories.c.id.in_(bindparam("b_ids", expanding=True)))


def context_query(task: Task) -> str:
    """Seed 004's search terms: task code + project code + first 3 words of the title."""
    return " ".join([task.code, task.project_code, *task.title.split()[:3]])


async def relevant_to(conn: Connection, dialect: str, task: Task) -> list[Memory]:
    """The top-10 memories for a task, from its project or global."""
    return await search(
        conn,
        dialect,
        context_query(task),
        project_id=task.project_id,
        limit=CONTEXT_LIMIT,
        task_id=task.id,
    )


async def for_task(conn: Connection, task_id: int) -> list[Memory]:
    """Memories written while working on the task, most important first."""
    stmt = (
        select(memories)
        .where(memories.c.task_id == task_id)
        .order_by(memories.c.importance.desc(), memories.c.created_at.desc())
    )
    return [_memory(row) for row in await conn.execute(stmt)]
