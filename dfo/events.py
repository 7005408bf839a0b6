"""The event contract (DESIGN.md section 3): schema v1, encoding, types.

Events are JSON objects published on `dfo:events` and `dfo:events:job:<id>` and appended to the
job's replay log. `seq` starts at 1 per job and grows by 1; it is assigned by the bus when the
event is published, atomically with the append and the publish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1


class EventType(StrEnum):
    QUEUED = "agent_job_queued"
    STARTED = "agent_job_started"
    PROGRESS = "agent_job_progress"
    LOG = "agent_job_log"
    BLOCKED = "agent_job_blocked"
    RETRYING = "agent_job_retrying"
    COMPLETED = "agent_job_completed"
    FAILED = "agent_job_failed"
    CANCELLED = "agent_job_cancelled"


TERMINAL = frozenset(
    {EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED, EventType.BLOCKED}
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    type: str
    job_id: str
    task_code: str
    project: str
    agent: str | None
    status: str
    phase: str | None
    progress: int
    message: str = ""
    request_id: str | None = None
    requested_by: str | None = None
    attempt: int = 0
    seq: int = 0
    ts: str = field(default_factory=now_iso)
    data: dict[str, Any] = field(default_factory=dict)
    v: int = SCHEMA_VERSION

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "v": self.v,
            "seq": self.seq,
            "ts": self.ts,
            "type": self.type,
            "job_id": self.job_id,
            "task_code": self.task_code,
            "project": self.project,
            "agent": self.agent,
            "status": self.status,
            "phase": self.phase,
            "progress": self.progress,
            "message": self.message,
            "request_id": self.request_id,
            "requested_by": self.requested_by,
            "attempt": self.attempt,
        }
        if self.data:
            doc["data"] = self.data
        return doc

    def encode_without_seq(self) -> tuple[str, str]:
        """The JSON text around the seq number: the bus splices the number in atomically."""
        doc = self.as_dict()
        doc.pop("v")
        doc.pop("seq")
        rest = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        return f'{{"v":{self.v},"seq":', "," + rest[1:]


def decode(raw: str | bytes) -> Event:
    doc = json.loads(raw)
    if not isinstance(doc, dict) or doc.get("v") != SCHEMA_VERSION:
        raise ValueError("not a dfo v1 event")
    return Event(
        type=doc["type"],
        job_id=doc["job_id"],
        task_code=doc["task_code"],
        project=doc["project"],
        agent=doc.get("agent"),
        status=doc["status"],
        phase=doc.get("phase"),
        progress=int(doc.get("progress", 0)),
        message=doc.get("message", ""),
        request_id=doc.get("request_id"),
        requested_by=doc.get("requested_by"),
        attempt=int(doc.get("attempt", 0)),
        seq=int(doc["seq"]),
        ts=doc["ts"],
        data=doc.get("data") or {},
    )
