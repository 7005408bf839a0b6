"""Every Redis key and channel dfo uses, in one place."""

from __future__ import annotations

DEFAULT_QUEUE = "dfo:queue"

#: Pub/sub channel with the events of every job.
EVENTS_ALL = "dfo:events"

#: arq's own keys that dfo writes, reads or repairs (push, reaper, reconciler, cancel). Spelled
#: here rather than imported from `arq.constants`: importing any part of arq loads all of it
#: (~30 ms), and `dfo enqueue` needs none of it. tests/test_keys.py checks they are arq's.
ARQ_ABORT = "arq:abort"
ARQ_JOB_PREFIX = "arq:job:"
ARQ_IN_PROGRESS_PREFIX = "arq:in-progress:"
ARQ_RESULT_PREFIX = "arq:result:"


def events_job(job_id: str) -> str:
    """Pub/sub channel with the events of one job."""
    return f"dfo:events:job:{job_id}"


def replay_log(job_id: str) -> str:
    """List of every event of one job, in seq order (index = seq - 1)."""
    return f"dfo:job:{job_id}:log"


def seq(job_id: str) -> str:
    return f"dfo:job:{job_id}:seq"


def heartbeat(job_id: str) -> str:
    """Set with a short TTL by the worker running the job; gone = the worker died."""
    return f"dfo:job:{job_id}:heartbeat"


def failures(job_id: str) -> str:
    """How many attempts of the job failed with a transient error."""
    return f"dfo:job:{job_id}:failures"


def worker(worker_id: str) -> str:
    """A live worker's registration (TTL-refreshed)."""
    return f"dfo:worker:{worker_id}"


WORKERS_PATTERN = "dfo:worker:*"


def wake(queue: str) -> str:
    """Pub/sub channel that wakes the queue's idle workers: a job is ready, or one was aborted."""
    return f"{queue}:wake"


def reconcile_lock(queue: str) -> str:
    """One reconciler per queue at a time."""
    return f"{queue}:lock:reconcile"


def arq_job(job_id: str) -> str:
    return ARQ_JOB_PREFIX + job_id


def arq_in_progress(job_id: str) -> str:
    return ARQ_IN_PROGRESS_PREFIX + job_id


def arq_result(job_id: str) -> str:
    return ARQ_RESULT_PREFIX + job_id
