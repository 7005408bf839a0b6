"""`dfo db upgrade`, `dfo health`, `dfo down`."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from dfo.cli import output
from dfo.cli.runtime import run
from dfo.errors import ExitCode
from dfo.redact import mask_url
from dfo.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(json_: JsonOpt = False) -> None:
    """Apply pending schema migrations (safe to run again; one migrator at a time).

    Example: DFO_DATABASE_URL=mysql+aiomysql://dfo:pw@db/dfo dfo db upgrade
    """

    async def go(settings: Settings) -> None:
        from dfo.store import Store, migrations

        store = await Store.open(settings, check_schema=False)
        try:
            applied = await migrations.upgrade(store.engine, store.dialect)
            version = await migrations.current_version(store.engine)
        finally:
            await store.close()
        doc = {"database": mask_url(store.url), "applied": applied, "version": version}
        if json_:
            output.emit_json(doc)
        elif applied:
            output.line("applied migrations", ", ".join(map(str, applied)), f"(now at {version})")
        else:
            output.line("schema is up to date", f"(version {version})")

    run(go)


def health(json_: JsonOpt = False) -> None:
    """Check the database, Redis, live workers and the queue (starting the embedded Redis if
    needed). Exit 0 healthy, 1 degraded (jobs wait and no worker is alive), 6 unreachable.

    Example: dfo health --json
    """

    async def go(settings: Settings) -> dict[str, object]:
        from dfo import health as health_checks

        return await health_checks.check(settings)

    report = run(go)
    if json_:
        output.emit_json(report)
    else:
        for name in ("database", "redis"):
            part = report[name]
            assert isinstance(part, dict)
            state = "ok" if part["ok"] else "DOWN"
            detail = part.get("error") or part.get("version") or part.get("dialect") or ""
            output.line(f"{name}:", state, part.get("url", ""), detail)
        work = report.get("work")
        if isinstance(work, dict):
            age = work["oldest_queued_age_s"]
            output.line(
                "workers:",
                str(work["live_workers"]),
                "· queued:",
                str(work["queued"]),
                f"(oldest {age:g}s)" if age is not None else "",
            )
        output.line("status:", str(report["status"]))
    status = report["status"]
    if status == "degraded":
        raise typer.Exit(int(ExitCode.FAILED))
    if status != "ok":
        raise typer.Exit(int(ExitCode.UNAVAILABLE))


def _stop_up(settings: Settings) -> bool:
    """Stop a running `dfo up` (it stops its worker); False when none runs."""
    import signal
    import time

    from dfo.services.redis_server import process_alive

    marker = settings.home / "up.pid"
    try:
        pid = int(marker.read_text().strip())
    except (OSError, ValueError):
        return False
    if not process_alive(pid):
        marker.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.shutdown_grace + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def down(json_: JsonOpt = False) -> None:
    """Stop what `dfo up` started and the embedded Redis (queued jobs are kept on disk).

    Example: dfo down
    """

    async def go(settings: Settings) -> dict[str, object]:
        from dfo.services import redis_client

        doc: dict[str, object] = {"up_stopped": await asyncio.to_thread(_stop_up, settings)}
        if not settings.embedded_redis:
            doc.update(stopped=False, reason="DFO_REDIS_URL is set: Redis is not dfo's to stop")
            return doc
        server = redis_client.embedded(settings)
        doc.update(stopped=await asyncio.to_thread(server.stop), socket=str(server.socket_path))
        return doc

    doc = run(go)
    if json_:
        output.emit_json(doc)
    elif doc["stopped"]:
        output.line("stopped the embedded Redis" + (" and dfo up" if doc["up_stopped"] else ""))
    else:
        output.line(str(doc.get("reason", "the embedded Redis was not running")))
