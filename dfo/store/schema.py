"""The one table definition, for SQLite and MariaDB/MySQL alike.

Column names follow the DFO database of seed 004 (`tasks.code/status/progress`,
`task_items.is_completed/sort_order`, `task_dependencies.source_task_id/target_task_id/
dependency_type`, `memories.content/summary/importance`, `agent_jobs.job_result/last_error/...`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

# MariaDB's DATETIME keeps whole seconds unless asked; job timing needs microseconds.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# TEXT is 64 KiB on MariaDB; agent output and results can be longer.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def utcnow() -> datetime:
    """Naive UTC: both dialects store DATETIME without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


schema_migrations = Table(
    "dfo_schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", Timestamp, nullable=False, default=utcnow),
    **_MYSQL,
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("description", Text),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    **_MYSQL,
)

epics = Table(
    "epics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text),
    Column("status", String(32), nullable=False, default="open"),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    UniqueConstraint("project_id", "name", name="uq_epics_project_name"),
    **_MYSQL,
)

sprints = Table(
    "sprints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("goal", Text),
    Column("status", String(32), nullable=False, default="planned"),
    Column("start_date", String(10)),
    Column("end_date", String(10)),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    UniqueConstraint("project_id", "name", name="uq_sprints_project_name"),
    **_MYSQL,
)

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("config", Text, nullable=False, default="{}"),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    **_MYSQL,
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("epic_id", Integer, ForeignKey("epics.id", ondelete="SET NULL")),
    Column("sprint_id", Integer, ForeignKey("sprints.id", ondelete="SET NULL")),
    Column("assigned_agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("title", String(500), nullable=False),
    Column("description", Text),
    Column("status", String(32), nullable=False, default="pending"),
    Column("priority", String(16), nullable=False, default="normal"),
    Column("progress", Integer, nullable=False, default=0),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    Column("completed_at", Timestamp),
    Index("ix_tasks_project_status", "project_id", "status"),
    **_MYSQL,
)

task_items = Table(
    "task_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(500), nullable=False),
    Column("description", Text),
    Column("is_completed", Boolean, nullable=False, default=False),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("result", LongText),
    Column("completed_at", Timestamp),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Index("ix_task_items_task_order", "task_id", "sort_order"),
    **_MYSQL,
)

task_dependencies = Table(
    "task_dependencies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("target_task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("dependency_type", String(16), nullable=False, default="blocks"),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    UniqueConstraint(
        "source_task_id", "target_task_id", "dependency_type", name="uq_task_dependencies"
    ),
    Index("ix_task_dependencies_target", "target_task_id"),
    **_MYSQL,
)

memories = Table(
    "memories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE")),
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="SET NULL")),
    Column("content", Text, nullable=False),
    Column("summary", Text),
    Column("importance", Double, nullable=False, default=0.5),
    Column("tags", Text, nullable=False, default="[]"),
    # sha256 of project + content: lets a re-import recognise a memory it already wrote.
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    Index("ix_memories_project", "project_id", "importance"),
    Index("ix_memories_task", "task_id"),  # a task's own memories join its context
    **_MYSQL,
)

# The words of each memory (content and summary, as `search.words` cuts them) with what the
# ranking orders by: a search is one look-up here, the same SQL on both dialects, and never
# reads `memories` to rank. (InnoDB's FULLTEXT took ~11 ms per word on 100,000 memories.)
# `memories.index` rewrites a memory's rows whenever its text or importance changes.
# Binary collation: words are compared exactly as cut.
Word = String(64).with_variant(
    mysql.VARCHAR(64, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
memory_words = Table(
    "memory_words",
    metadata,
    Column("word", Word, primary_key=True),
    Column(
        "memory_id",
        Integer,
        ForeignKey("memories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("project_id", Integer),
    Column("importance", Double, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_memory_words_memory", "memory_id"),
    sqlite_with_rowid=False,  # clustered by (word, memory_id), as InnoDB: one read per word
    **_MYSQL,
)

agent_jobs = Table(
    "agent_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(64), nullable=False, unique=True),
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    # = task_id while the job is queued or active, NULL once it ended: the unique index makes
    # "at most one live job per task" a database guarantee, across processes and hosts.
    Column("live_task_id", Integer, unique=True),
    Column("task_code", String(32), nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("agent_name", String(64)),
    Column("status", String(16), nullable=False, default="queued"),
    Column("priority", String(16), nullable=False, default="normal"),
    Column("phase", String(16)),
    Column("progress", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_tries", Integer, nullable=False, default=3),
    Column("seq", Integer, nullable=False, default=0),
    Column("request_id", String(64)),
    Column("requested_by", String(255)),
    Column("worker_id", String(128)),
    Column("retry_of", String(64)),
    # The arq job id of the current attempt: `<job_id>.<n>`, never reused (arq#485).
    Column("queue_job_id", String(80)),
    Column("cancel_reason", Text),
    Column("cancel_requested_at", Timestamp),
    Column("job_result", LongText),
    Column("last_error", Text),
    Column("execution_time_ms", Integer),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("started_at", Timestamp),
    Column("heartbeat_at", Timestamp),
    Column("completed_at", Timestamp),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    Index("ix_agent_jobs_task_status", "task_id", "status"),
    Index("ix_agent_jobs_status", "status"),
    **_MYSQL,
)
