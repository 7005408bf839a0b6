"""`dfo demo`: the pipeline's rules, live, in under a minute, on the embedded default."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated

import typer

from dfo.cli import live, output
from dfo.cli.background import start_worker
from dfo.cli.runtime import run
from dfo.errors import ExitCode
from dfo.events import Event, EventType
from dfo.settings import Settings

if TYPE_CHECKING:
    from dfo.client import Client


def demo(
    json_: Annotated[bool, typer.Option("--json", help="NDJSON events, then a summary.")] = False,
) -> None:
    """Run demo agents on a small DEMO project and show every rule of the pipeline live:
    a blocked task released when its blocker completes, a failure retried, a cancel, a
    high-priority job starting first. Starts its own worker; takes about 20 seconds.

    Example: dfo demo
    """

    async def go(settings: Settings) -> ExitCode:
        from dfo import importer, samples
        from dfo.client import Client

        client = await Client.open(settings)
        worker: subprocess.Popen[bytes] | None = None
        try:
            async with client.store.transaction() as conn:
                await importer.import_document(conn, samples.demo_document(), "dfo demo")
                await samples.reset(conn)
            events = client.watch(None)
            first = asyncio.ensure_future(anext(events))  # subscribed before anything happens
            await asyncio.sleep(0)
            job_of: dict[str, str] = {}
            for code in samples.SCRIPT:  # all queued first, so the priority is visible
                priority = "high" if code == samples.HIGH_PRIORITY else "normal"
                queued = await client.enqueue(
                    code, priority=priority, rerun=True, requested_by="dfo demo"
                )
                job_of[code] = queued.job_id
            worker = start_worker(settings, "demo-worker.log", "--concurrency", "2")
            display = live.display_for(json_)
            outcomes = await _show(client, events, first, display, job_of)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                await asyncio.to_thread(worker.wait)
            await client.close()
        return _report(outcomes, json_)

    raise typer.Exit(int(run(go)))


async def _show(
    client: Client,
    events: AsyncIterator[Event],
    first: asyncio.Future[Event],
    display: live.Display,
    job_of: dict[str, str],
) -> dict[str, list[str]]:
    from dfo import samples

    outcomes: dict[str, list[str]] = {code: [] for code in samples.SCRIPT}
    cancelled = False

    def finished() -> bool:
        return all(o and o[-1] in ("completed", "cancelled") for o in outcomes.values())

    try:
        async with asyncio.timeout(120):
            event = await first
            while True:
                if event.project == samples.DEMO_CODE:
                    display.event(event)
                    if event.terminal or event.type == EventType.RETRYING:
                        outcomes[event.task_code].append(event.type.removeprefix("agent_job_"))
                        if finished():
                            break
                    if (
                        not cancelled
                        and event.task_code == samples.CANCELLED
                        and event.message.startswith("item 2/")
                    ):
                        cancelled = True
                        await client.cancel(
                            job_of[samples.CANCELLED], reason="cancelled on purpose by the demo"
                        )
                event = await anext(events)
    except TimeoutError:
        output.error("the demo did not finish within 120 s (see demo-worker.log in DFO_HOME)")
    finally:
        display.close()
    return outcomes


def _report(outcomes: dict[str, list[str]], json_: bool) -> ExitCode:
    from dfo import samples

    as_designed = all(
        (outcomes[code] or ["-"])[-1] == expected for code, (_, expected) in samples.SCRIPT.items()
    )
    rows = [
        (
            code,
            " -> ".join(outcomes[code]) or "-",
            shows,
            "ok" if (outcomes[code] or ["-"])[-1] == expected else f"expected {expected}",
        )
        for code, (shows, expected) in samples.SCRIPT.items()
    ]
    if json_:
        output.emit_json(
            {
                "outcomes": {code: outcomes[code] for code in samples.SCRIPT},
                "as_designed": as_designed,
            }
        )
    else:
        output.table(["TASK", "OUTCOME", "SHOWS", ""], rows, title="dfo demo")
    return ExitCode.OK if as_designed else ExitCode.FAILED
