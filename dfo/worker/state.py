"""What a worker process shares with its jobs."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

from arq.connections import ArqRedis

from dfo.bus import Bus
from dfo.settings import Settings
from dfo.store import Store


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkerState:
    settings: Settings
    store: Store
    pool: ArqRedis
    bus: Bus
    queue: str
    worker_id: str = field(default_factory=new_worker_id)
    #: Set when SIGTERM's grace period is over: a job cancelled now goes back on the queue.
    requeue_on_cancel: bool = False
    draining: bool = False
    #: Jobs running here, whose heartbeat `heartbeat.beat` refreshes.
    beating: set[str] = field(default_factory=set)
