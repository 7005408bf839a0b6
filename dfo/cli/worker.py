"""`dfo worker`: run agent jobs."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from dfo.cli.runtime import fail, load_settings, run
from dfo.errors import ExitCode
from dfo.settings import Settings


def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once per process (default 5).")
    ] = None,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes under one launcher.")] = 1,
    queue: Annotated[str | None, typer.Option(help="Queue name (default dfo:queue).")] = None,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once the queue is empty (CI, batch runs).")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Serve Prometheus metrics on this port (/metrics)."),
    ] = None,
) -> None:
    """Run agent jobs from the queue until SIGTERM/SIGINT (or, with --burst, until it is empty).

    On SIGTERM running jobs get DFO_SHUTDOWN_GRACE seconds to finish, then go back on the queue.
    A second signal stops at once (jobs still go back on the queue). Logs are JSON lines on stderr.

    Example: dfo worker --concurrency 10 --processes 4
    """
    base = load_settings()
    if processes > 1:
        from dfo.worker.launcher import launch

        args = [
            "--concurrency",
            str(concurrency or base.concurrency),
            "--queue",
            queue or base.queue,
        ] + (["--burst"] if burst else [])
        code = asyncio.run(launch(processes, args, metrics_port))
        raise typer.Exit(code)

    from dfo.worker import logs
    from dfo.worker.app import serve

    logs.setup(base.log_level, base.log_format)

    async def go(settings: Settings) -> None:
        await serve(
            settings,
            concurrency=concurrency or settings.concurrency,
            queue_name=queue or settings.queue,
            burst=burst,
            metrics_port=metrics_port,
        )

    try:
        run(go, configure_logging=False, fast_loop=True)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)
