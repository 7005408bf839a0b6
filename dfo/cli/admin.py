"""`dfo db upgrade`, `dfo health`, `dfo down`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from dfo import health as health_checks
from dfo.cli import output
from dfo.cli.runtime import run
from dfo.errors import ExitCode
from dfo.redact import mask_url
from dfo.services import redis_client
from dfo.settings import Settings
from dfo.store import Store, migrations

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(json_: JsonOpt = False) -> None:
    """Apply pending schema migrations (safe to run again; one migrator at a time)."""

    async def go(settings: Settings) -> None:
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
    """Check the database and Redis (starting the embedded Redis if needed). Exit 6 if down."""

    async def go(settings: Settings) -> dict[str, object]:
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
    if not report["ok"]:
        raise typer.Exit(int(ExitCode.UNAVAILABLE))


def down(json_: JsonOpt = False) -> None:
    """Stop the embedded Redis that dfo started (queued jobs are kept on disk)."""

    async def go(settings: Settings) -> dict[str, object]:
        if not settings.embedded_redis:
            return {"stopped": False, "reason": "DFO_REDIS_URL is set: Redis is not dfo's to stop"}
        server = redis_client.embedded(settings)
        stopped = await asyncio.to_thread(server.stop)
        return {"stopped": stopped, "socket": str(server.socket_path)}

    doc = run(go)
    if json_:
        output.emit_json(doc)
    elif doc["stopped"]:
        output.line("stopped the embedded Redis")
    else:
        output.line(str(doc.get("reason", "the embedded Redis was not running")))
