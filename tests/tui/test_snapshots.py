"""Snapshot tests of the main screens at a fixed size with fixed data (pytest-textual-snapshot).

The app runs without connecting; a subclass answers the detail queries with fixed records, the
way the real App answers them from the store. Update after a deliberate change with
`pytest tests/tui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from dfo.events import Event
from dfo.models import Dependencies, Dependency, Job, Memory, Task, TaskItem
from dfo.settings import Settings
from dfo.tui.app import DfoApp
from dfo.tui.model import JobView

SIZE = (150, 32)
T0 = datetime(2026, 11, 22, 10, 0, 0)


def view(
    n: int, code: str, title: str, status: str, phase: str, progress: int, message: str
) -> JobView:
    return JobView(
        job_id=f"{n:08x}" + "0" * 24,
        task_code=code,
        title=title,
        agent="demo",
        status=status,
        phase=phase,
        progress=progress,
        message=message,
        attempt=1,
        requested_by="alice",
        request_id="req-1",
        created=1_000_000.0 - n,
    )


BOARD = [
    view(
        1,
        "SHOP-101",
        "Cart service data model",
        "active",
        "execution",
        67,
        "item 2/3 done: Write the migration",
    ),
    view(2, "SHOP-102", "Cart REST API", "queued", "", 0, "queued (normal)"),
    view(
        3,
        "SHOP-103",
        "Price rules engine",
        "completed",
        "finalization",
        100,
        "3/3 items done, task completed",
    ),
    view(
        4,
        "SHOP-104",
        "Tax calculation per region",
        "blocked",
        "validation",
        20,
        "TASK_BLOCKED: blocked by SHOP-103",
    ),
    view(
        5,
        "SHOP-105",
        "[/] [@click=app.quit]x \x1b[31mred",
        "failed",
        "execution",
        43,
        "TransientAgentError: demo agent: simulated failure (after 3 attempts)",
    ),
]


class FixedApp(DfoApp):
    def __init__(self) -> None:
        super().__init__(Settings(home=Path("/nonexistent")), connect=False)
        for item in BOARD:
            self.board.jobs[item.job_id] = item
            self.board.titles[item.task_code] = item.title
        self.workers_alive = 2
        self.connected = True

    async def job(self, job_id: str) -> tuple[Job, list[Event]]:
        job = Job(
            job_id=job_id,
            task_id=1,
            task_code="SHOP-101",
            project_id=1,
            project_code="SHOP",
            agent_id=1,
            agent_name="demo",
            status="active",
            priority="normal",
            phase="execution",
            progress=67,
            attempts=1,
            max_tries=3,
            seq=5,
            request_id="req-1",
            requested_by="alice",
            worker_id="w1",
            retry_of=None,
            queue_job_id=None,
            cancel_reason=None,
            cancel_requested_at=None,
            result=None,
            last_error=None,
            execution_time_ms=None,
            created_at=T0,
            started_at=T0,
            heartbeat_at=T0,
            completed_at=None,
        )
        kinds = [
            ("agent_job_queued", None, 0, "queued (normal)"),
            ("agent_job_started", "context", 0, "started on w1 (attempt 1)"),
            ("agent_job_progress", "context", 5, "context loaded: 3 items"),
            ("agent_job_progress", "validation", 20, "no active blockers"),
            ("agent_job_progress", "execution", 67, "item 2/3 done: Write the migration"),
        ]
        events = [
            Event(
                type=t,
                job_id=job_id,
                task_code="SHOP-101",
                project="SHOP",
                agent="demo",
                status="active",
                phase=p,
                progress=pr,
                message=m,
                seq=n,
                ts=f"2026-11-22T10:00:0{n}.000Z",
            )
            for n, (t, p, pr, m) in enumerate(kinds, start=1)
        ]
        return job, events

    async def task_details(
        self, code: str
    ) -> tuple[Task, list[TaskItem], Dependencies, list[Memory]]:
        task = Task(
            id=4,
            code="SHOP-104",
            project_id=1,
            project_code="SHOP",
            project_name="Checkout",
            epic_name="Cart",
            sprint_name="Sprint 1",
            title="Tax calculation per region",
            description=None,
            status="blocked",
            priority="normal",
            progress=0,
            agent_name="demo",
            items_total=2,
            items_completed=1,
        )
        items = [
            TaskItem(
                id=1,
                task_id=4,
                title="EU VAT tables",
                description=None,
                is_completed=True,
                sort_order=1,
            ),
            TaskItem(
                id=2,
                task_id=4,
                title="Rounding rules",
                description=None,
                is_completed=False,
                sort_order=2,
            ),
        ]
        blocker = Dependency(
            id=1,
            source_task_id=3,
            source_task_code="SHOP-103",
            source_task_status="in_progress",
            target_task_id=4,
            target_task_code="SHOP-104",
            target_task_status="blocked",
            dependency_type="blocks",
        )
        after = Dependency(
            id=2,
            source_task_id=4,
            source_task_code="SHOP-104",
            source_task_status="blocked",
            target_task_id=9,
            target_task_code="SHOP-305",
            target_task_status="pending",
            dependency_type="blocks",
        )
        memory = Memory(
            id=1,
            project_id=1,
            task_id=4,
            content="Round tax per line, half-even.",
            summary="tax rounding",
            importance=0.7,
            tags=[],
            created_at=T0,
        )
        return task, items, Dependencies(all=[blocker, after], blockers=[blocker]), [memory]


def test_jobs_screen(snap_compare: Any) -> None:
    assert snap_compare(FixedApp(), terminal_size=SIZE)


def test_job_detail_screen(snap_compare: Any) -> None:
    assert snap_compare(FixedApp(), press=["enter", "_"], terminal_size=SIZE)


def test_task_inspector_screen(snap_compare: Any) -> None:
    assert snap_compare(FixedApp(), press=["down", "down", "down", "t", "_"], terminal_size=SIZE)


def test_enqueue_dialog(snap_compare: Any) -> None:
    assert snap_compare(FixedApp(), press=["e", "S", "H", "_"], terminal_size=SIZE)


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(FixedApp(), press=["question_mark", "_"], terminal_size=SIZE)
