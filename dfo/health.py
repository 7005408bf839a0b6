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


async def check(settings: Settings) -> dict[str, Any]:
    # Report the state now: one connect attempt each, no waiting out the retry policy.
    settings = settings.model_copy(update={"connect_retries": 1})
    database = await check_database(settings)
    redis = await check_redis(settings)
    return {
        "ok": bool(database["ok"] and redis["ok"]),
        "home": str(settings.home),
        "database": database,
        "redis": redis,
    }
