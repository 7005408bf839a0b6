"""The demo project `dfo demo` runs: each task shows one rule of the pipeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from dfo.store.conn import Connection
from dfo.store.schema import projects, task_items, tasks

DEMO_CODE = "DEMO"

#: task code -> what the demo shows with it (and the outcome it expects).
SCRIPT = {
    "DEMO-1": ("a normal run", "completed"),
    "DEMO-2": ("blocked by DEMO-1, released when it completes", "completed"),
    "DEMO-3": ("fails once, succeeds on retry", "completed"),
    "DEMO-4": ("cancelled while running", "cancelled"),
    "DEMO-5": ("waits behind the high-priority job", "completed"),
    "DEMO-6": ("waits behind the high-priority job", "completed"),
    "DEMO-7": ("enqueued last with --priority high, starts first", "completed"),
}
HIGH_PRIORITY = "DEMO-7"
CANCELLED = "DEMO-4"


def demo_document() -> dict[str, Any]:
    def task(code: str, title: str, agent: str, items: list[str], **extra: Any) -> dict[str, Any]:
        return {"code": code, "title": title, "agent": agent, "items": items, **extra}

    return {
        "version": 1,
        "project": {
            "code": DEMO_CODE,
            "name": "dfo demo",
            "description": "Demo agents on a small project: no real work is done.",
        },
        "agents": [
            {"name": "demo", "kind": "demo", "config": {"delay": 0.4}},
            {"name": "demo-flaky", "kind": "demo", "config": {"delay": 0.3, "fail_times": 1}},
            {"name": "demo-slow", "kind": "demo", "config": {"delay": 0.7}},
        ],
        "tasks": [
            task(
                "DEMO-1",
                "Design the public API",
                "demo",
                ["List the endpoints", "Write the schema", "Review with the team"],
            ),
            task(
                "DEMO-2",
                "Build the API",
                "demo",
                ["Handlers", "Validation", "Tests", "Docs"],
                blocked_by=["DEMO-1"],
            ),
            task(
                "DEMO-3",
                "Connect the payment sandbox",
                "demo-flaky",
                ["Credentials", "First charge", "Refund"],
            ),
            task(
                "DEMO-4",
                "Migrate the legacy data",
                "demo-slow",
                [f"Batch {n}" for n in range(1, 9)],
            ),
            task("DEMO-5", "Write the changelog", "demo", ["Collect changes", "Write"]),
            task("DEMO-6", "Update the docs", "demo", ["Guides", "Reference"]),
            task(
                "DEMO-7",
                "Fix the login outage",
                "demo",
                ["Find the cause", "Ship the fix"],
                priority="high",
            ),
        ],
        "memories": [
            {
                "content": "The demo agent completes items after a delay and does no real work.",
                "summary": "about the demo agent",
                "importance": 0.2,
            },
        ],
    }


async def reset(conn: Connection) -> None:
    """Put the demo tasks back to the start (so `dfo demo` can run again)."""
    project_id = (
        await conn.execute(select(projects.c.id).where(projects.c.code == DEMO_CODE))
    ).scalar_one()
    task_ids = select(tasks.c.id).where(tasks.c.project_id == project_id).scalar_subquery()
    await conn.execute(
        update(task_items)
        .where(task_items.c.task_id.in_(task_ids))
        .values(is_completed=False, completed_at=None, result=None)
    )
    await conn.execute(
        update(tasks)
        .where(tasks.c.project_id == project_id)
        .values(status="pending", progress=0, completed_at=None)
    )
