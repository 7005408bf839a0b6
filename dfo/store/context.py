"""The pipeline's context phase reads everything about a task in one place."""

from __future__ import annotations

from dfo.models import TaskContext
from dfo.store import memories, tasks
from dfo.store.conn import Connection


async def load_task_context(conn: Connection, code: str) -> TaskContext:
    task = await tasks.get_task(conn, code)
    items = await tasks.list_items(conn, task.id)
    return TaskContext(
        task=task,
        items=items,
        items_pending=[item for item in items if not item.is_completed],
        dependencies=await tasks.dependencies(conn, task.id),
        memories=await memories.relevant_to(conn, task),
    )
