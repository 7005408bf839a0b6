"""search: memory search and context load with 100,000 memories, and a task of 200 items and
50 dependencies, on SQLite and on MariaDB. Baseline: a primary-key lookup on the same table.

Memories are 20-40 words drawn uniformly from a 3,000-word vocabulary, so every query word
matches about 1,000 memories: the word index and the ranking both have real work to do.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from typing import Any

from sqlalchemy import bindparam, select

from bench.harness import Check, Env, Result, opened_store, percentile
from dfo.store import Store, memories, projects, tasks
from dfo.store.context import load_task_context
from dfo.store.schema import memories as memories_table
from dfo.store.schema import task_dependencies, utcnow

NAME = "search"
WHAT = "memory search and context load: 100,000 memories, a task of 200 items / 50 dependencies"
TARGET = "search p50 <= 20 ms on SQLite and on MariaDB"


async def run(env: Env, full: bool) -> Result:
    count, queries, reps = (100_000, 60, 3) if full else (500, 5, 1)
    result = Result(NAME, WHAT, TARGET)
    rng = random.Random(42)
    vocabulary = [_word(rng) for _ in range(3000)]
    for backend in ("sqlite", "mariadb"):
        settings = env.settings(backend)
        async with opened_store(settings) as store:
            started = time.perf_counter()
            project_id, code = await _seed(store, rng, vocabulary, count)
            seeded_s = time.perf_counter() - started
            rows = []
            for rep in range(reps):
                rows.append(await _measure(store, rng, vocabulary, project_id, code, queries))
                rows[-1].update(rep=rep + 1, backend=backend)
            result.repetitions.extend(rows)
        for key in ("search_p50_ms", "context_p50_ms", "pk_p50_ms"):
            result.metrics[f"{backend}_{key}"] = statistics.median(r[key] for r in rows)
        result.metrics[f"{backend}_search_p99_ms"] = statistics.median(
            r["search_p99_ms"] for r in rows
        )
        result.notes.append(f"{backend}: {count} memories inserted in {seeded_s:.1f} s")
    result.baseline = {"name": "primary-key lookup on memories"}
    for backend in ("sqlite", "mariadb"):
        pk = result.metrics[f"{backend}_pk_p50_ms"]
        for key in (f"{backend}_search_p50_ms", f"{backend}_context_p50_ms"):
            result.baseline[key] = pk
            result.ratios[key] = result.metrics[key] / pk
    result.checks = [
        Check("sqlite_search_p50_ms", result.metrics["sqlite_search_p50_ms"], 20.0),
        Check("mariadb_search_p50_ms", result.metrics["mariadb_search_p50_ms"], 20.0),
    ]
    result.notes.append(f"{queries} searches, {queries // 5} context loads and {queries} lookups")
    return result


def _word(rng: random.Random) -> str:
    syllables = ["ka", "lo", "mi", "ru", "te", "sa", "no", "vi", "de", "po", "xa", "ber", "gul"]
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))


async def _seed(
    store: Store, rng: random.Random, vocabulary: list[str], count: int
) -> tuple[int, str]:
    async with store.transaction() as conn:
        project = await projects.add_project(conn, "SR", "Search bench")
        code = "SR-1"
        big = await tasks.add_task(
            conn,
            code=code,
            project_id=project.id,
            title=" ".join(rng.sample(vocabulary, 5)),
            items=[f"item {n}" for n in range(1, 201)],
        )
        blockers = []
        for n in range(2, 52):
            blockers.append(
                await tasks.add_task(
                    conn, code=f"SR-{n}", project_id=project.id, title=f"blocker {n}"
                )
            )
        await conn.execute(
            task_dependencies.insert(),
            [
                {"source_task_id": b, "target_task_id": big, "dependency_type": "blocks"}
                for b in blockers
            ],
        )
    now = utcnow()
    for start in range(0, count, 5000):
        batch: list[dict[str, Any]] = []
        for n in range(start, min(count, start + 5000)):
            content = " ".join(rng.choices(vocabulary, k=rng.randint(20, 40)))
            batch.append(
                {
                    "project_id": project.id,
                    "task_id": None,
                    "content": content,
                    "summary": " ".join(rng.choices(vocabulary, k=4)),
                    "importance": round(rng.random(), 2),
                    "tags": "[]",
                    "content_hash": hashlib.sha256(f"{n}:{content}".encode()).hexdigest(),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with store.transaction() as conn:
            await conn.execute(memories_table.insert(), batch)
    async with store.transaction() as conn:
        await memories.index_all(conn)  # rows inserted in bulk, not through add_memory
    return project.id, code


_BY_ID = select(memories_table).where(memories_table.c.id == bindparam("b_id"))


async def _measure(
    store: Store,
    rng: random.Random,
    vocabulary: list[str],
    project_id: int,
    code: str,
    queries: int,
) -> dict[str, Any]:
    search_s, context_s, pk_s = [], [], []
    async with store.read() as conn:
        top = (await conn.execute(select(memories_table.c.id).limit(1000))).scalars().all()
    for _ in range(queries):
        query = " ".join(rng.sample(vocabulary, 4))
        async with store.read() as conn:
            t0 = time.perf_counter()
            found = await memories.search(conn, query, project_id=project_id)
            search_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            (await conn.execute(_BY_ID, {"b_id": rng.choice(top)})).one()
            pk_s.append(time.perf_counter() - t0)
        if not found:
            raise RuntimeError(f"no memory found for {query!r}: the index is not working")
    for _ in range(max(1, queries // 5)):
        async with store.read() as conn:
            t0 = time.perf_counter()
            context = await load_task_context(conn, code)
            context_s.append(time.perf_counter() - t0)
        if len(context.items) != 200 or len(context.dependencies.blockers) != 50:
            raise RuntimeError("the context of the big task is incomplete")
    return {
        "search_p50_ms": percentile(search_s, 50) * 1000,
        "search_p99_ms": percentile(search_s, 99) * 1000,
        "context_p50_ms": percentile(context_s, 50) * 1000,
        "pk_p50_ms": percentile(pk_s, 50) * 1000,
    }
