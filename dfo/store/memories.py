"""Memories: notes that earlier work left behind, found again by the words they share with a
query. Every write of a memory's content or summary goes through this module, which keeps its
words in `memory_words` (`index`); a memory deleted takes its words along (ON DELETE CASCADE)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Dialect, Row, bindparam, delete, func, select

from dfo.models import Memory, Task
from dfo.store.conn import Connection
from dfo.store.schema import memories, memory_words, utcnow
from dfo.store.search import rank, terms, words

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
    now = utcnow()
    result = await conn.execute(
        memories.insert().values(
            project_id=project_id,
            task_id=task_id,
            content=content,
            summary=summary,
            importance=importance,
            tags=json.dumps(tags or []),
            content_hash=digest,
            created_at=now,
            updated_at=now,
        )
    )
    memory_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    await _add_words(conn, [_Text(memory_id, content, summary, project_id, importance, now)])
    return memory_id, True


# IGNORE: two searches may catch up the same new memory at once (see `_catch_up`).
_INSERT_WORD = (
    memory_words.insert()
    .prefix_with("OR IGNORE", dialect="sqlite")
    .prefix_with("IGNORE", dialect="mysql")
)
_TEXTS = select(
    memories.c.id,
    memories.c.content,
    memories.c.summary,
    memories.c.project_id,
    memories.c.importance,
    memories.c.created_at,
)
INDEX_BATCH = 2000


class _Text(NamedTuple):
    id: int
    content: str
    summary: str | None
    project_id: int | None
    importance: float
    created_at: datetime


async def _add_words(conn: Connection, texts: Iterable[Sequence[Any]]) -> None:
    # Tens of rows per memory, millions in a bulk (re)index: the statement is compiled once
    # and rows go to the driver as tuples, each memory's values converted once (SQLAlchemy's
    # per-row parameter handling was most of the time).
    dialect = await conn.run_sync(lambda sync: sync.dialect)
    sql, order, convert = _compiled_insert(dialect)
    rows: list[tuple[Any, ...]] = []
    for t in map(_Text._make, texts):
        values = {
            "memory_id": t.id,
            "project_id": t.project_id,
            "importance": t.importance,
            "created_at": convert(t.created_at),
        }
        rows.extend(
            tuple(word if name == "word" else values[name] for name in order)
            for word in words(t.content, t.summary)
        )
    if rows:
        rows.sort(key=lambda row: row[order.index("word")])  # index order: fewer page splits
        await conn.exec_driver_sql(sql, rows)


@functools.lru_cache(maxsize=8)  # per engine's dialect: a process has one or two
def _compiled_insert(dialect: Dialect) -> tuple[str, tuple[str, ...], Callable[[Any], Any]]:
    compiled = _INSERT_WORD.compile(dialect=dialect)
    assert compiled.positiontup is not None  # both drivers take positional parameters
    created_at = memory_words.c.created_at.type.dialect_impl(dialect)
    convert = created_at.bind_processor(dialect) or (lambda value: value)
    return compiled.string, tuple(compiled.positiontup), convert


async def index(conn: Connection, ids: Sequence[int]) -> None:
    """(Re)write the words of memories `ids` from their current content and summary."""
    for start in range(0, len(ids), INDEX_BATCH):
        batch = list(ids[start : start + INDEX_BATCH])
        await conn.execute(delete(memory_words).where(memory_words.c.memory_id.in_(batch)))
        await _add_words(conn, await conn.execute(_TEXTS.where(memories.c.id.in_(batch))))


_NEWEST_INDEXED = select(func.coalesce(func.max(memory_words.c.memory_id), 0)).scalar_subquery()
_UNINDEXED = (
    _TEXTS.where(memories.c.id > _NEWEST_INDEXED).order_by(memories.c.id).limit(INDEX_BATCH)
)


async def _catch_up(conn: Connection) -> None:
    """Index memories newer than any indexed one: written straight into the table by another
    program sharing the database (dfo's own writes index at once). Costs two index look-ups."""
    await _add_words(conn, await conn.execute(_UNINDEXED))


async def index_all(conn: Connection) -> int:
    """Rewrite every memory's words (a migration, a bulk load); how many memories there are."""
    await conn.execute(delete(memory_words))
    done, after = 0, 0
    while True:
        page = _TEXTS.where(memories.c.id > after).order_by(memories.c.id).limit(INDEX_BATCH)
        texts = list(await conn.execute(page))
        if not texts:
            return done
        await _add_words(conn, texts)
        done, after = done + len(texts), int(texts[-1][0])


async def search(
    conn: Connection,
    query: str,
    *,
    project_id: int | None = None,
    limit: int = CONTEXT_LIMIT,
    task_id: int | None = None,
) -> list[Memory]:
    """Best matches first: relevance, then importance, then recency.

    Relevance is the number of distinct query words a memory contains (a count, so that
    importance and recency break ties; full-text engines' scores are continuous).
    With `task_id`, memories written for that task count as matching one more word and are
    candidates even when no word of the query matches them. With `project_id`, that project's
    memories and global ones.

    The ranking is one SQL statement (`search.rank`); then the chosen rows are read.
    """
    tokens = terms(query)
    if not tokens and task_id is None:
        return []
    await _catch_up(conn)
    ranked = await rank(conn, tokens, project_id=project_id, task_id=task_id, limit=limit)
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


async def relevant_to(conn: Connection, task: Task) -> list[Memory]:
    """The top-10 memories for a task, from its project or global."""
    return await search(
        conn,
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
