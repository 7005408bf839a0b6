"""`dfo health`: can dfo reach its database and its Redis, and in what state are they?"""

from __future__ import annotations

import time
from typing import Any

from dfo.errors import DfoError
from dfo.redact import mask_url, scrub
from dfo.services import redis_client
from dfo.settings import Settings
from dfo.store import Store, migrations


async def check_database(settings: Settings) -> dict[str, Any]:
    url = settings.effective_database_url
    report: dict[str, Any] = {"url": mask_url(url), "ok": False}
    started = time.perf_counter()
    try:
        store = await Store.open(settings, check_schema=False)
    except DfoError as exc:
        report["error"] = scrub(str(exc), settings.secrets)
        return report
    try:
        report["dialect"] = store.dialect
        if store.dialect == "sqlite":
            await store.ensure_schema(upgrade=True)
        report["schema_version"] = await migrations.current_version(store.engine)
        report["schema_latest"] = migrations.LATEST
        report["ok"] = report["schema_version"] == migrations.LATEST
        if not report["ok"]:
            report["error"] = "schema outdated: run 'dfo db upgrade'"
    except DfoError as exc:
        report["error"] = scrub(str(exc), settings.secrets)
    finally:
        await store.close()
    report["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


async def check_redis(settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"embedded": settings.embedded_redis, "ok": False}
    started = time.perf_counter()
    try:
        url, launched = await redis_client.redis_url(settings)
        report["url"] = mask_url(url)
        report["started_now"] = launched
        client = await redis_client.connect(settings, start=False)
        try:
            info = await client.info("server")
            report["version"] = info.get("redis_version")
            report["ok"] = True
        finally:
            await client.aclose()
        if settings.embedded_redis:
            report.update(redis_client.embedded(settings).status())
    except DfoError as exc:
        report["error"] = scrub(str(exc), settings.secrets)
    report["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


async def check_work(settings: Settings) -> dict[str, Any]:
    """Live workers of this queue (from their registrations) and what waits in it."""
    import json
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from dfo import keys
    from dfo.store.schema import agent_jobs

    now = time.time()
    client = await redis_client.connect(settings, start=False)
    try:
        workers = []
        async for key in client.scan_iter(match=keys.WORKERS_PATTERN):
            raw = await client.get(key)
            if raw:
                info = json.loads(raw)
                if info.get("queue") != settings.queue:
                    continue  # a worker pool of another queue does not serve these jobs
                info["last_seen_s"] = round(now - float(info.pop("seen_at", now)), 1)
                workers.append(info)
    finally:
        await client.aclose()
    store = await Store.open(settings)
    try:
        async with store.read() as conn:
            rows = await conn.execute(
                select(agent_jobs.c.priority, func.count(), func.min(agent_jobs.c.created_at))
                .where(agent_jobs.c.status == "queued")
                .group_by(agent_jobs.c.priority)
            )
            by_priority: dict[str, int] = {}
            oldest: datetime | None = None
            for priority, count, first in rows:
                by_priority[priority] = int(count)
                oldest = first if oldest is None or (first and first < oldest) else oldest
    finally:
        await store.close()
    queued = sum(by_priority.values())
    age = None
    if oldest is not None:
        age = round(now - oldest.replace(tzinfo=UTC).timestamp(), 1)
    return {
        "workers": sorted(workers, key=lambda w: str(w.get("worker_id"))),
        "live_workers": len(workers),
        "queued": queued,
        "queued_by_priority": by_priority,
        "oldest_queued_age_s": age,
    }


async def check(settings: Settings) -> dict[str, Any]:
    """`status`: ok, degraded (jobs wait and no worker is alive) or unavailable."""
    # Report the state now: one connect attempt each, no waiting out the retry policy.
    settings = settings.model_copy(update={"connect_retries": 1})
    database = await check_database(settings)
    redis = await check_redis(settings)
    report: dict[str, Any] = {
        "ok": bool(database["ok"] and redis["ok"]),
        "status": "unavailable",
        "home": str(settings.home),
        "database": database,
        "redis": redis,
    }
    if report["ok"]:
        try:
            report["work"] = await check_work(settings)
        except DfoError as exc:
            report["ok"] = False
            report["error"] = scrub(str(exc), settings.secrets)
            return report
        degraded = report["work"]["queued"] > 0 and report["work"]["live_workers"] == 0
        report["status"] = "degraded" if degraded else "ok"
        report["ok"] = not degraded
    return report
