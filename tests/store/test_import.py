"""`dfo import`: validation with paths, nothing written on error, idempotent re-import."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from dfo import importer
from dfo.errors import ImportFileError
from dfo.store import Store, memories, tasks
from dfo.store.schema import metadata, task_items

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop.yaml"


def example() -> dict[str, Any]:
    loaded = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(loaded, dict)
    return loaded


async def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for before/after comparisons."""
    async with store.read() as conn:
        return {
            name: [
                tuple(row) for row in await conn.execute(select(table).order_by(*table.primary_key))
            ]
            for name, table in metadata.tables.items()
        }


async def counts(store: Store) -> dict[str, int]:
    async with store.read() as conn:
        return {
            name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
            for name, table in metadata.tables.items()
            if name != "dfo_schema_migrations"
        }


async def run_import(store: Store, document: Any) -> dict[str, dict[str, int]]:
    async with store.transaction() as conn:
        return await importer.import_document(conn, document, "test.yaml")


async def test_example_imports_and_reimport_changes_nothing(store: Store) -> None:
    first = await run_import(store, example())
    assert first["tasks"]["created"] >= 20
    assert first["memories"]["created"] >= 30
    assert first["epics"]["created"] >= 3
    before = await snapshot(store)
    second = await run_import(store, example())
    assert all(c["created"] == 0 and c["updated"] == 0 for c in second.values()), second
    assert await snapshot(store) == before


async def test_example_blocking_chains(store: Store) -> None:
    await run_import(store, example())
    async with store.read() as conn:
        rollout = await tasks.get_task(conn, "SHOP-306")
        deps = await tasks.dependencies(conn, rollout.id)
        done = await tasks.get_task(conn, "SHOP-107")
    assert sorted(d.source_task_code for d in deps.blockers) == ["SHOP-301", "SHOP-305"]
    assert (done.status, done.progress, done.items_completed) == ("completed", 100, 2)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["tasks"][3]["items"].__setitem__(0, {"done": True}),
            "tasks[3].items[0].title: required",
        ),
        (lambda d: d["tasks"][0].__setitem__("titel", "x"), "tasks[0].titel: unknown field"),
        (lambda d: d["tasks"][2].__setitem__("code", "nope"), "tasks[2].code: invalid task code"),
        (lambda d: d["tasks"][2].__setitem__("code", "OTHER-1"), "does not belong to project SHOP"),
        (
            lambda d: d["tasks"][1].__setitem__("blocked_by", ["SHOP-999"]),
            "tasks[1].blocked_by[0]: unknown task",
        ),
        (lambda d: d["tasks"][1].__setitem__("epic", "Nope"), "tasks[1].epic: unknown epic 'Nope'"),
        (lambda d: d["tasks"][1].__setitem__("status", "done"), "tasks[1].status: input should be"),
        (
            lambda d: d["memories"][0].__setitem__("importance", 7),
            "memories[0].importance: input should be less",
        ),
        (
            lambda d: d["tasks"][0].__setitem__("blocked_by", ["SHOP-308"]),
            "dependency cycle: SHOP-306 -> SHOP-308 -> SHOP-101 -> ",
        ),
        (lambda d: d.pop("project"), "project: required"),
    ],
)
async def test_invalid_file_names_the_path_and_writes_nothing(
    store: Store, mutate: Any, expected: str
) -> None:
    document = copy.deepcopy(example())
    mutate(document)
    before = await counts(store)
    with pytest.raises(ImportFileError) as caught:
        await run_import(store, document)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert await counts(store) == before


async def test_reimport_keeps_work_done_since(store: Store) -> None:
    await run_import(store, example())
    async with store.transaction() as conn:
        task = await tasks.get_task(conn, "SHOP-101")
        await conn.execute(
            task_items.update().where(task_items.c.task_id == task.id).values(is_completed=True)
        )
    result = await run_import(store, example())
    assert result["items"]["updated"] == 0
    async with store.read() as conn:
        assert (await tasks.get_task(conn, "SHOP-101")).items_completed == 3


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("project: {code: X\n  name: [\n")
    with pytest.raises(ImportFileError, match="line"):
        importer.read_file(bad_yaml)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"project": ')
    with pytest.raises(ImportFileError, match="line 1"):
        importer.read_file(bad_json)
    with pytest.raises(ImportFileError, match="expected a mapping"):
        importer.parse(["a", "list"], "x.yaml")


async def test_reimported_memory_changes_reach_search(store: Store) -> None:
    document = example()
    await run_import(store, document)
    first = document["memories"][0]
    first["summary"] = "zanzibar checklist"
    first["importance"] = 0.01
    await run_import(store, document)
    async with store.read() as conn:
        found = await memories.search(conn, "zanzibar")
    assert [(m.content, m.summary) for m in found] == [(first["content"], "zanzibar checklist")]
    assert found[0].importance == pytest.approx(0.01)
