"""`dfo up`: the embedded services, a worker, and the dashboard in one command.

On a terminal the dashboard is `dfo tui`; piped (or with --json) the live view is one line (or
one NDJSON object) per event. `dfo down` (from any shell) stops what `dfo up` started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from typing import Annotated

import typer

from dfo.cli import live, output
from dfo.cli.background import start_worker
from dfo.cli.runtime import run
from dfo.errors import ExitCode, InvalidInput
from dfo.settings import Settings


def up(
    concurrency: Annotated[int | None, typer.Option(min=1, help="Jobs run at once.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="NDJSON events, no dashboard.")] = False,
    readonly: Annotated[
        bool, typer.Option("--readonly", help="Dashboard without actions.")
    ] = False,
) -> None:
    """Start the embedded Redis (if no DFO_REDIS_URL), migrate the database, run a worker, and
    open the dashboard (on a terminal) until you quit it, Ctrl-C, or `dfo down`.

    Example: dfo up --concurrency 8
    """

    async def go(settings: Settings) -> ExitCode:
        from dfo.client import Client
        from dfo.services.redis_server import process_alive
        from dfo.store import Store, migrations

        marker = settings.home / "up.pid"
        if marker.exists():
            other = int(marker.read_text().strip() or 0)
            if other and process_alive(other):
                raise InvalidInput(f"dfo up is already running (pid {other}); 'dfo down' stops it")
        store = await Store.open(settings, check_schema=False)
        try:
            await migrations.upgrade(store.engine, store.dialect)
        finally:
            await store.close()
        client = await Client.open(settings)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{os.getpid()}\n")
        args = ["--concurrency", str(concurrency)] if concurrency else []
        worker = start_worker(settings, "worker.log", *args)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        output.warn(
            f"dfo up: worker pid {worker.pid} (log: {settings.home / 'worker.log'});"
            " Ctrl-C or 'dfo down' stops it"
        )
        try:
            if sys.stdout.isatty() and not json_:
                return await _dashboard(settings, readonly, stop, worker)
            display = live.display_for(json_)
            follow = asyncio.create_task(live.follow(client.watch(None), display, [], None))
            stopping = asyncio.create_task(stop.wait())
            dead = asyncio.create_task(asyncio.to_thread(worker.wait))
            done, _ = await asyncio.wait(
                {follow, stopping, dead}, return_when=asyncio.FIRST_COMPLETED
            )
            follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follow
            if dead in done:
                output.error(f"the worker exited with {worker.returncode}: see worker.log")
                return ExitCode.FAILED
            return ExitCode.OK
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                await asyncio.to_thread(worker.wait)
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
            await client.close()

    raise typer.Exit(int(run(go)))


async def _dashboard(
    settings: Settings, readonly: bool, stop: asyncio.Event, worker: subprocess.Popen[bytes]
) -> ExitCode:
    """The TUI until the user quits, `dfo down` signals us, or the worker dies."""
    from dfo.tui.app import DfoApp

    app = DfoApp(settings, readonly=readonly)

    async def watch_outside() -> None:
        stopped = asyncio.create_task(stop.wait())
        died = asyncio.create_task(asyncio.to_thread(worker.wait))
        await asyncio.wait({stopped, died}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        app.exit()

    watcher = asyncio.create_task(watch_outside())
    try:
        await app.run_async()
    finally:
        watcher.cancel()
    if worker.poll() is not None:
        output.error(f"the worker exited with {worker.returncode}: see worker.log")
        return ExitCode.FAILED
    return ExitCode.OK
