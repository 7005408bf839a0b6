"""Plain data shared by every layer: enums, value checks and records. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from dfo.errors import InvalidInput

_Frozen = TypeVar("_Frozen")


def evolve(obj: _Frozen, **changes: Any) -> _Frozen:
    """`dataclasses.replace` for dfo's frozen dataclasses (plain `__dict__`, no `__post_init__`)
    at a fifth of its cost: a worker copies each job and event about ten times per job."""
    fields = vars(obj)
    if not changes.keys() <= fields.keys():
        raise TypeError(f"{type(obj).__name__} has no field {sorted(changes - fields.keys())}")
    copy = object.__new__(type(obj))
    vars(copy).update(fields, **changes)
    return copy


class TaskStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    COMPLETED = "completed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


class DependencyType(StrEnum):
    BLOCKS = "blocks"
    RELATES = "relates"


class AgentKind(StrEnum):
    DEMO = "demo"
    COMMAND = "command"
    OPENAI = "openai"


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PROJECT_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
TASK_CODE_RE = re.compile(r"^([A-Z][A-Z0-9]{1,15})-([0-9]{1,9})$")
AGENT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def parse_project_code(raw: str) -> str:
    code = raw.strip().upper()
    if not PROJECT_CODE_RE.match(code):
        raise InvalidInput(
            f"invalid project code {raw!r}: expected 2-16 letters/digits starting with a letter,"
            " e.g. DFO"
        )
    return code


def parse_task_code(raw: str) -> str:
    code = raw.strip().upper()
    if not TASK_CODE_RE.match(code):
        raise InvalidInput(f"invalid task code {raw!r}: expected PROJECT-NUMBER, e.g. DFO-12")
    return code


def project_of(task_code: str) -> str:
    return task_code.rsplit("-", 1)[0]


def parse_agent_name(raw: str) -> str:
    name = raw.strip()
    if not AGENT_NAME_RE.match(name):
        raise InvalidInput(
            f"invalid agent name {raw!r}: use letters, digits, '.', '_' or '-' (max 64)"
        )
    return name


@dataclass(frozen=True)
class Project:
    id: int
    code: str
    name: str
    description: str | None
    created_at: datetime | None = None


@dataclass(frozen=True)
class TaskItem:
    id: int
    task_id: int
    title: str
    description: str | None
    is_completed: bool
    sort_order: int
    completed_at: datetime | None = None
    result: str | None = None


@dataclass(frozen=True)
class Dependency:
    id: int
    source_task_id: int
    source_task_code: str
    source_task_status: str
    target_task_id: int
    target_task_code: str
    target_task_status: str
    dependency_type: str


@dataclass(frozen=True)
class Memory:
    id: int
    project_id: int | None
    task_id: int | None
    content: str
    summary: str | None
    importance: float
    tags: list[str]
    created_at: datetime | None
    relevance: float = 0.0


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    kind: str
    config: dict[str, object]
    is_active: bool
    created_at: datetime | None = None


@dataclass(frozen=True)
class Task:
    id: int
    code: str
    project_id: int
    project_code: str
    project_name: str
    epic_name: str | None
    sprint_name: str | None
    title: str
    description: str | None
    status: str
    priority: str
    progress: int
    agent_name: str | None
    items_total: int
    items_completed: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None


LIVE_JOB_STATUSES = (JobStatus.QUEUED.value, JobStatus.ACTIVE.value)


@dataclass(frozen=True)
class Job:
    """One run of one agent on one task (a row of `agent_jobs`)."""

    job_id: str
    task_id: int
    task_code: str
    project_id: int
    project_code: str
    agent_id: int | None
    agent_name: str | None
    status: str
    priority: str
    phase: str | None
    progress: int
    attempts: int
    max_tries: int
    seq: int
    request_id: str | None
    requested_by: str | None
    worker_id: str | None
    retry_of: str | None
    queue_job_id: str | None
    cancel_reason: str | None
    cancel_requested_at: datetime | None
    result: dict[str, object] | None
    last_error: str | None
    execution_time_ms: int | None
    created_at: datetime | None
    started_at: datetime | None
    heartbeat_at: datetime | None
    completed_at: datetime | None

    @property
    def live(self) -> bool:
        return self.status in LIVE_JOB_STATUSES


@dataclass(frozen=True)
class Dependencies:
    all: list[Dependency]
    blockers: list[Dependency]


@dataclass(frozen=True)
class TaskContext:
    """Everything the pipeline's context phase loads for one task (seed 004's TaskContext)."""

    task: Task
    items: list[TaskItem]
    dependencies: Dependencies
    memories: list[Memory]
    items_pending: list[TaskItem] = field(default_factory=list)
