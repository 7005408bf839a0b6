"""Store contract: projects, tasks, items, dependencies. Runs on SQLite and MariaDB."""

from __future__ import annotations

import asyncio

import pytest

from dfo.errors import DependencyCycle, InvalidInput, NotFound
from dfo.models import DependencyType
from dfo.store import Store, agents, projects, tasks
from dfo.store.context import load_task_context
from dfo.store.schema import epics, task_items
from tests.store import helpers


async def test_project_roundtrip_and_duplicate(store: Store) -> None:
    async with store.transaction() as conn:
        created = await projects.add_project(conn, "DFO", "Demo", "about it")
    async with store.read() as conn:
        assert (await projects.get_project(conn, "DFO")).id == created.id
        listed = await projects.list_projects(conn)
    assert [(p.code, p.name, n) for p, n in listed] == [("DFO", "Demo", 0)]
    with pytest.raises(InvalidInput, match="already exists"):
        async with store.transaction() as conn:
            await projects.add_project(conn, "DFO", "Again")
    with pytest.raises(NotFound, match="unknown project NOPE"):
        async with store.read() as conn:
            await projects.get_project(conn, "NOPE")


async def test_task_has_names_and_item_counts(store: Store) -> None:
    async with store.transaction() as conn:
        proj = await helpers.project(conn)
        await conn.execute(epics.insert().values(project_id=proj.id, name="Engine"))
        epic_id = await projects.epic_id(conn, proj.id, "Engine")
        agent = await agents.add_agent(conn, "demo", "demo", {"delay": 0})
        await tasks.add_task(
            conn,
            code="DFO-7",
            project_id=proj.id,
            title="Build it",
            epic_id=epic_id,
            agent_id=agent.id,
            items=["first", "second", "third"],
        )
        await conn.execute(
            task_items.update().where(task_items.c.title == "second").values(is_completed=True)
        )
    async with store.read() as conn:
        task = await tasks.get_task(conn, "DFO-7")
        items = await tasks.list_items(conn, task.id)
    assert (task.project_code, task.project_name, task.epic_name, task.sprint_name) == (
        "DFO",
        "Demo",
        "Engine",
        None,
    )
    assert (task.agent_name, task.items_total, task.items_completed) == ("demo", 3, 1)
    assert [(i.sort_order, i.title, i.is_completed) for i in items] == [
        (1, "first", False),
        (2, "second", True),
        (3, "third", False),
    ]


async def test_next_task_code_follows_the_highest(store: Store) -> None:
    async with store.transaction() as conn:
        proj = await helpers.project(conn)
        assert await tasks.next_task_code(conn, proj.id, "DFO") == "DFO-1"
        await helpers.task(conn, "DFO-41")
        await helpers.task(conn, "DFO-9")
        assert await tasks.next_task_code(conn, proj.id, "DFO") == "DFO-42"


async def test_hostile_text_is_stored_literally(store: Store) -> None:
    title = "'; DROP TABLE tasks;-- [b]x[/b] \x1b[31mred"
    async with store.transaction() as conn:
        await helpers.project(conn)
        await helpers.task(conn, "DFO-1", title=title)
    async with store.read() as conn:
        assert (await tasks.get_task(conn, "DFO-1")).title == title
        assert len(await tasks.list_tasks(conn)) == 1


async def test_blockers_are_blocks_into_this_task_from_unfinished_sources(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        for n in range(1, 6):
            await helpers.task(conn, f"DFO-{n}")
        await helpers.blocks(conn, "DFO-1", "DFO-3")  # active blocker
        await helpers.blocks(conn, "DFO-2", "DFO-3")  # source completed below: not a blocker
        await helpers.blocks(conn, "DFO-3", "DFO-4")  # DFO-3 is the source: not its blocker
        await tasks.add_dependency(
            conn,
            await tasks.get_task(conn, "DFO-5"),
            await tasks.get_task(conn, "DFO-3"),
            DependencyType.RELATES,
        )
        await helpers.set_status(conn, "DFO-2", "completed")
    async with store.read() as conn:
        deps = await tasks.dependencies(conn, (await tasks.get_task(conn, "DFO-3")).id)
    assert len(deps.all) == 4
    assert [(d.source_task_code, d.source_task_status) for d in deps.blockers] == [
        ("DFO-1", "pending")
    ]


async def test_self_dependency_and_cycles_are_rejected_with_the_cycle_named(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        for n in range(1, 4):
            await helpers.task(conn, f"DFO-{n}")
        await helpers.blocks(conn, "DFO-1", "DFO-2")
        await helpers.blocks(conn, "DFO-2", "DFO-3")
    with pytest.raises(DependencyCycle) as caught:
        async with store.transaction() as conn:
            await helpers.blocks(conn, "DFO-3", "DFO-1")
    assert str(caught.value) == "dependency cycle: DFO-3 -> DFO-1 -> DFO-2 -> DFO-3"
    with pytest.raises(InvalidInput, match="cannot depend on itself"):
        async with store.transaction() as conn:
            await helpers.blocks(conn, "DFO-2", "DFO-2")
    async with store.transaction() as conn:
        # `relates` never forms a blocking cycle; a repeated dependency is not duplicated.
        t3, t1 = await tasks.get_task(conn, "DFO-3"), await tasks.get_task(conn, "DFO-1")
        assert await tasks.add_dependency(conn, t3, t1, DependencyType.RELATES) is True
        assert await tasks.add_dependency(conn, t3, t1, DependencyType.RELATES) is False


async def test_task_context_loads_everything(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)
        await helpers.task(conn, "DFO-1", title="Store layer")
        await helpers.task(conn, "DFO-2", title="Worker pipeline phases", items=["a", "b"])
        await helpers.blocks(conn, "DFO-1", "DFO-2")
        from dfo.store import memories

        await memories.add_memory(
            conn, project_id=1, content="The worker pipeline has four phases", importance=0.9
        )
    async with store.read() as conn:
        ctx = await load_task_context(conn, "DFO-2")
    assert ctx.task.code == "DFO-2"
    assert [i.title for i in ctx.items_pending] == ["a", "b"]
    assert [d.source_task_code for d in ctx.dependencies.blockers] == ["DFO-1"]
    assert [m.content for m in ctx.memories] == ["The worker pipeline has four phases"]


async def test_concurrent_writers_all_succeed(store: Store) -> None:
    async with store.transaction() as conn:
        await helpers.project(conn)

    async def add(n: int) -> None:
        async with store.transaction() as conn:
            await helpers.task(conn, f"DFO-{n}", items=["x"])

    await asyncio.gather(*(add(n) for n in range(1, 21)))
    async with store.read() as conn:
        assert len(await tasks.list_tasks(conn)) == 20
