"""Store contract: memories and their word search on both dialects, hostile input included."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from dfo.store import Store, memories
from dfo.store.schema import memories as memories_table
from dfo.store.schema import memory_words, utcnow
from dfo.store.schema import projects as projects_table
from dfo.store.search import MAX_TERMS, MAX_WORD_LEN, terms, words
from tests.store import helpers

HOSTILE = [
    "C++",
    "bob@example.com",
    "well-known",
    "(bug",
    '"x',
    "a:b",
    "AND",
    "OR NOT",
    "*foo",
    "+-x",
    "'; DROP TABLE tasks;--",
    "x" * 10_000,
    " ".join(f"word{n}" for n in range(5_000)),
    "",
    "   ",
    "!!! ??? ...",
    "a b",
    "NEAR(one two)",
    "col:val^2",
    '"""',
    "\\'\\\"",
    "%_%",
    "\x00\x1b[31m",
    "ünïcödé — 日本語",
]


async def _seed(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn, "DFO")
        await helpers.project(conn, "OTH", "Other")
        for content, summary, project_id in [
            ("Contact bob@example.com about the C++ build of the worker", "build contact", 1),
            ("Use a well-known retry pattern for database connections", "retries", 1),
            ("Global note: the worker pipeline has four phases", "pipeline", None),
            ("Other project: worker deployment runbook", "runbook", 2),
            ("Café décor for the ünïcödé test", None, 1),
        ]:
            await memories.add_memory(conn, project_id=project_id, content=content, summary=summary)


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_queries_never_error(store: Store, query: str) -> None:
    await _seed(store)
    async with store.read() as conn:
        found = await memories.search(conn, query, project_id=1)
    assert isinstance(found, list)
    assert all(m.project_id in (1, None) for m in found)


async def test_punctuated_terms_find_their_words(store: Store) -> None:
    await _seed(store)
    async with store.read() as conn:
        by_email = await memories.search(conn, "C++ (bob@example.com")
        by_hyphen = await memories.search(conn, "well-known")
        by_accent = await memories.search(conn, "café")
    assert [m.summary for m in by_email] == ["build contact"]
    assert [m.summary for m in by_hyphen] == ["retries"]
    assert [m.content for m in by_accent] == ["Café décor for the ünïcödé test"]


async def test_project_scope_includes_global_and_excludes_other_projects(store: Store) -> None:
    await _seed(store)
    async with store.read() as conn:
        scoped = await memories.search(conn, "worker", project_id=1)
        everywhere = await memories.search(conn, "worker")
    assert {m.summary for m in scoped} == {"build contact", "pipeline"}
    assert {m.summary for m in everywhere} == {"build contact", "pipeline", "runbook"}


async def test_context_memories_rank_relevance_then_importance_then_recency(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        task = await helpers.task(conn, "DFO-5", title="Tune queue latency now")
        now = utcnow()
        # Equal relevance (one matching word each): importance, then recency decide.
        for n, (importance, age) in enumerate([(0.2, 0), (0.9, 5), (0.9, 1), (0.6, 0)]):
            mid, _ = await memories.add_memory(
                conn,
                project_id=1,
                content=f"note {chr(65 + n)} about latency",
                importance=importance,
            )
            await conn.execute(
                update(memories_table)
                .where(memories_table.c.id == mid)
                .values(created_at=now - timedelta(hours=age))
            )
        # More matching words: more relevant, despite the lowest importance.
        await memories.add_memory(
            conn, project_id=1, content="queue latency tune DFO-5 notes", importance=0.0
        )
        for n in range(12):
            await memories.add_memory(conn, project_id=1, content=f"filler {chr(97 + n)} latency")
    async with store.read() as conn:
        top = await memories.relevant_to(conn, task)
    assert len(top) == 10
    assert top[0].content == "queue latency tune DFO-5 notes"
    assert [m.content for m in top[1:4]] == [
        "note C about latency",
        "note B about latency",
        "note D about latency",
    ]


async def test_same_content_is_stored_once_per_project(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        first = await memories.add_memory(conn, project_id=1, content="same")
        again = await memories.add_memory(conn, project_id=1, content="same")
        global_ = await memories.add_memory(conn, project_id=None, content="same")
    assert first[1] is True and again == (first[0], False) and global_[1] is True


async def test_changed_text_is_searchable_once_reindexed(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        mid, _ = await memories.add_memory(conn, project_id=1, content="old words")
        await conn.execute(
            update(memories_table).where(memories_table.c.id == mid).values(content="fresh text")
        )
        await memories.index(conn, [mid])
    async with store.read() as conn:
        assert await memories.search(conn, "old") == []
        assert [m.id for m in await memories.search(conn, "fresh")] == [mid]


async def test_a_memory_another_program_inserted_is_found(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        await memories.add_memory(conn, project_id=1, content="written by dfo")
        # Straight into the table, as another tool sharing the database would.
        await conn.execute(
            insert(memories_table).values(
                project_id=1, content="written elsewhere", content_hash="x" * 64
            )
        )
    async with store.transaction() as conn:
        found = await memories.search(conn, "elsewhere")
        again = await memories.search(conn, "written")
    assert [m.content for m in found] == ["written elsewhere"]
    assert {m.content for m in again} == {"written by dfo", "written elsewhere"}


async def test_deleted_memories_take_their_words_along(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        await helpers.project(conn, "OTH", "Other")
        await memories.add_memory(conn, project_id=2, content="doomed note")
        await memories.add_memory(conn, project_id=1, content="kept note")
        await conn.execute(delete(projects_table).where(projects_table.c.id == 2))
    async with store.read() as conn:
        left = (await conn.execute(select(memory_words.c.word))).scalars().all()
        found = await memories.search(conn, "note")
    assert sorted(left) == ["kept", "note"]
    assert [m.content for m in found] == ["kept note"]


def test_terms_are_words_only() -> None:
    assert terms("C++ (bob@example.com") == ["c", "bob", "example"]
    assert terms("AND OR *foo the") == ["and", "foo"]  # or, the: stopwords
    assert terms("Café DÉCOR naïve") == ["cafe", "decor", "naive"]
    assert terms("x" * 100) == ["x" * MAX_WORD_LEN]
    assert len(terms(" ".join(f"w{n}" for n in range(1000)))) == MAX_TERMS
    assert words("Retry the DB", "retry policy") == ["retry", "db", "policy"]


async def test_context_includes_memories_written_for_the_task(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        task = await helpers.task(conn, "DFO-8", title="Payments")
        other = await helpers.task(conn, "DFO-9", title="Other")
        await memories.add_memory(conn, project_id=1, content="no shared words", task_id=task.id)
        await memories.add_memory(conn, project_id=1, content="unrelated", task_id=other.id)
        await memories.add_memory(conn, project_id=1, content="payments in general")
    async with store.read() as conn:
        top = await memories.relevant_to(conn, task)
    assert [m.content for m in top] == ["payments in general", "no shared words"]


async def test_word_rows_store_times_exactly_as_the_memory_row(store: Store) -> None:
    # The index is written through the driver directly: its times must be stored the way
    # SQLAlchemy stores them in `memories` (on SQLite: text that sorts right).
    async with store.transaction() as conn:
        await helpers.project(conn)
        mid, _ = await memories.add_memory(conn, project_id=1, content="timed note")
        await conn.execute(
            update(memories_table)
            .where(memories_table.c.id == mid)
            .values(created_at=datetime(2026, 1, 2, 3, 4, 5))  # no microseconds
        )
        await memories.index(conn, [mid])
        raw = await conn.exec_driver_sql(
            "SELECT m.created_at, w.created_at FROM memories m "
            "JOIN memory_words w ON w.memory_id = m.id"
        )
        pairs = raw.all()
    assert len(pairs) == 2 and all(a == b for a, b in pairs), pairs
