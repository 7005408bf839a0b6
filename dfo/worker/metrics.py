"""Prometheus metrics of a worker (`dfo worker --metrics-port P`).

With `--processes N` the launcher serves one coherent view: the children write to a shared
multiprocess directory (`PROMETHEUS_MULTIPROC_DIR`, set by the launcher before they start) and
the launcher aggregates it. Labels are bounded: at most `MAX_LABEL_VALUES` agents and projects
are named, the rest count as `other`.
"""

from __future__ import annotations

import functools
import os
import threading
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

MAX_LABEL_VALUES = 50
_seen: dict[str, set[str]] = {"agent": set(), "project": set()}
_lock = threading.Lock()

JOBS_FINISHED = Counter(
    "dfo_jobs_finished_total", "Jobs that ended, by final status.", ["status", "agent", "project"]
)
JOB_DURATION = Histogram(
    "dfo_job_duration_seconds",
    "Time of one attempt, start to end.",
    ["agent"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
PHASE_DURATION = Histogram(
    "dfo_phase_duration_seconds",
    "Time spent in each phase.",
    ["phase"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600),
)
ACTIVE = Gauge("dfo_active_jobs", "Jobs running now.", multiprocess_mode="livesum")
QUEUE_DEPTH = Gauge(
    "dfo_queue_depth",
    "Queued jobs by priority (from the store).",
    ["priority"],
    multiprocess_mode="max",
)
RETRIES = Counter("dfo_retries_total", "Attempts that failed and will be retried.", ["agent"])
STALLS = Counter("dfo_stalls_recovered_total", "Jobs handed on after their worker died.")
EVENTS = Counter("dfo_events_published_total", "Events this worker published.", ["type"])
HEARTBEAT = Gauge(
    "dfo_worker_heartbeat_timestamp_seconds",
    "Last reaper pass of the worker.",
    multiprocess_mode="max",
)


def label(kind: str, value: str | None) -> str:
    """`value`, or `other` once MAX_LABEL_VALUES distinct ones were seen (bounded cardinality)."""
    value = value or "-"
    with _lock:
        seen = _seen[kind]
        if value in seen:
            return value
        if len(seen) < MAX_LABEL_VALUES:
            seen.add(value)
            return value
    return "other"


# Label values from fixed sets (event types, phases): each labelled child looked up once
# (`labels()` takes a lock and validates its arguments on every call; a job emits ~10 events).
@functools.cache
def _event_counter(kind: str) -> Counter:
    return EVENTS.labels(kind)


@functools.cache
def _phase_histogram(phase: str) -> Histogram:
    return PHASE_DURATION.labels(phase)


def event_published(kind: str) -> None:
    _event_counter(kind).inc()


def phase_ended(phase: str, seconds: float) -> None:
    _phase_histogram(phase).observe(seconds)


def serve(port: int) -> None:
    """Serve /metrics on `port`: this process's metrics, or, in multiprocess mode, all of them."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(port, registry=registry)
    else:
        start_http_server(port)


def beat() -> None:
    HEARTBEAT.set(time.time())
