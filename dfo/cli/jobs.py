"""`dfo enqueue`, `watch`, `jobs`, `job`, `cancel`, `retry`, `events`: jobs from the shell.

Heavy modules (the client: arq, redis, SQLAlchemy) are imported inside the commands, so that
`dfo --help` and the other commands start fast.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dfo.cli import live, output
from dfo.cli.runtime import checked, fail, run
from dfo.errors import ExitCode
from dfo.models import JobStatus, Priority, parse_project_code, parse_task_code
from dfo.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from dfo.client import Client
    from dfo.enqueue import Enqueued

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON / NDJSON).")]


async def _client(settings: Settings) -> Client:
    from dfo.client import Client

    return await Client.open(settings)


def enqueue(
    task_codes: Annotated[list[str], typer.Argument(metavar="TASK...", help="Task codes.")],
    agent: Annotated[str | None, typer.Option(help="Agent to use instead of the task's.")] = None,
    priority: Annotated[Priority, typer.Option(help="high, normal or low.")] = Priority.NORMAL,
    rerun: Annotated[bool, typer.Option("--rerun", help="Run even a completed task.")] = False,
    request_id: Annotated[str | None, typer.Option(help="Trace id carried by the jobs.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the jobs to the end.")] = False,
    timeout: Annotated[
        float | None,
        typer.Option(min=0, help="With --wait: stop waiting after S seconds (exit 5)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Queue an agent job for each task; with --wait, follow them live to the end.

    The exit code with --wait is the worst outcome: 1 failed, 4 cancelled, 3 blocked,
    5 timeout reached (the jobs keep running), else 0. Ctrl-C stops waiting, not the jobs (130).

    Example: dfo enqueue SHOP-101 SHOP-102 --priority high --wait
    """
    codes = [checked(parse_task_code, code) for code in task_codes]

    async def go(settings: Settings) -> ExitCode:
        from dfo.store import tasks

        client = await _client(settings)
        try:
            async with client.store.read() as conn:
                for code in codes:  # every task exists before anything is queued
                    await tasks.get_task(conn, code)
            results = [
                await client.enqueue(
                    code,
                    agent=agent,
                    priority=priority.value,
                    rerun=rerun,
                    request_id=request_id,
                    requested_by=_who(),
                )
                for code in codes
            ]
            if not wait:
                _print_enqueued(results, json_)
                return ExitCode.OK
            if not json_:
                _print_enqueued(results, False, output.stderr)
            waiting = [r.job_id for r in results if not r.from_cache]
            outcomes, unfinished = await live.follow(
                client.watch(waiting), live.display_for(json_), waiting, timeout
            )
            for cached in (r for r in results if r.from_cache):
                outcomes[cached.job_id or cached.task_code] = live.Outcome(
                    cached.job_id, cached.task_code, "completed", "from cache"
                )
            worst = live.exit_code(outcomes, unfinished)
            live.summary(outcomes, unfinished, json_, worst)
            if unfinished:
                output.error(
                    f"timeout after {timeout:g}s: {len(unfinished)} job(s) still "
                    "running (they continue)"
                )
            return worst
        finally:
            await client.close()

    raise typer.Exit(int(run(go)))


def _who() -> str:
    import getpass

    try:
        return f"{getpass.getuser()} (cli)"
    except Exception:  # no user name in some containers
        return "cli"


def _print_enqueued(results: list[Enqueued], json_: bool, console: Console | None = None) -> None:
    docs = [r.as_dict() for r in results]
    if json_:
        output.emit_json({"jobs": docs})
        return
    for doc in docs:
        note = " (existing live job)" if doc["existing"] else ""
        note = " (from cache: already completed)" if doc["from_cache"] else note
        line = f"{doc['task_code']} job {doc['job_id']} {doc['status']}{note}"
        (console or output.stdout).print(output.literal(line))


def watch(
    jobs: Annotated[list[str] | None, typer.Argument(metavar="[JOB...]", help="Job ids.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every job, until Ctrl-C.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Follow jobs live from any moment (their history first), until they end.

    Example: dfo watch 3f2a9c1e   ·   dfo watch --all
    """
    if bool(jobs) == all_:
        fail("give JOB ids or --all", ExitCode.USAGE)

    async def go(settings: Settings) -> ExitCode:
        client = await _client(settings)
        try:
            ids = [(await client.resolve(ref)).job_id for ref in jobs or []]
            outcomes, unfinished = await live.follow(
                client.watch(ids or None), live.display_for(json_), ids, None
            )
            code = live.exit_code(outcomes, unfinished)
            if ids:
                live.summary(outcomes, unfinished, json_, code)
            return code
        finally:
            await client.close()

    raise typer.Exit(int(run(go)))


def jobs_(
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this status.")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project's jobs.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most jobs listed.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List jobs, newest first.

    Example: dfo jobs --status failed --project SHOP
    """
    project_code = checked(parse_project_code, project) if project else None

    async def go(settings: Settings) -> None:
        from dfo.cli.runtime import open_store
        from dfo.store import jobs, projects

        async with open_store(settings) as store, store.read() as conn:
            project_id = (
                (await projects.get_project(conn, project_code)).id if project_code else None
            )
            rows = await jobs.list_jobs(
                conn,
                statuses=[status.value] if status else None,
                project_id=project_id,
                limit=limit,
            )
        if json_:
            output.emit_json(rows)
            return
        output.table(
            ["JOB", "TASK", "STATUS", "PHASE", "PROGRESS", "AGENT", "TRIES", "CREATED"],
            [
                (
                    j.job_id[:12],
                    j.task_code,
                    live.status_text(j.status),
                    j.phase or "-",
                    output.progress_bar(j.progress),
                    j.agent_name or "-",
                    j.attempts,
                    j.created_at.strftime("%m-%d %H:%M:%S") if j.created_at else "",
                )
                for j in rows
            ],
        )

    run(go)


def job(
    ref: Annotated[str, typer.Argument(metavar="JOB", help="Job id (or a unique prefix).")],
    json_: JsonOpt = False,
) -> None:
    """Show one job: its row, result or error, and its event history.

    Example: dfo job 3f2a9c1e --json
    """

    async def go(settings: Settings) -> None:
        client = await _client(settings)
        try:
            found = await client.resolve(ref)
            history = await client.history(found.job_id)
        finally:
            await client.close()
        if json_:
            output.emit_json({**output.plain(found), "events": [e.as_dict() for e in history]})
            return
        for key in (
            "job_id",
            "task_code",
            "status",
            "phase",
            "progress",
            "agent_name",
            "priority",
            "attempts",
            "request_id",
            "requested_by",
            "retry_of",
            "cancel_reason",
            "last_error",
            "execution_time_ms",
            "created_at",
            "started_at",
            "completed_at",
        ):
            value = getattr(found, key)
            if value is not None:
                output.line(f"{key}:", str(value))
        if found.result:
            output.line("result:", json.dumps(found.result, ensure_ascii=False))
        for event in history:
            output.line(
                f"  {event.seq:>3}",
                event.ts[11:23],
                event.type.removeprefix("agent_job_"),
                f"{event.progress}%",
                output.literal(event.message, 100),
            )

    run(go)


def cancel(
    ref: Annotated[str, typer.Argument(metavar="JOB", help="Job id (or a unique prefix).")],
    reason: Annotated[str, typer.Option(help="Why; stored with the job.")] = "cancelled by user",
    json_: JsonOpt = False,
) -> None:
    """Cancel a queued or running job (from any host). Items already done stay done.

    Example: dfo cancel 3f2a9c1e --reason "wrong task"
    """

    async def go(settings: Settings) -> None:
        client = await _client(settings)
        try:
            found = await client.resolve(ref)
            after = await client.cancel(found.job_id, reason=reason)
        finally:
            await client.close()
        if json_:
            output.emit_json(after)
        else:
            state = (
                "cancelled" if after.status == "cancelled" else "cancelling (the worker stops it)"
            )
            output.line(after.job_id, state)

    run(go)


def retry(
    ref: Annotated[str, typer.Argument(metavar="JOB", help="A failed, cancelled or blocked job.")],
    json_: JsonOpt = False,
) -> None:
    """Run a failed, cancelled or blocked job's task again, as a new job.

    Example: dfo retry 3f2a9c1e
    """

    async def go(settings: Settings) -> None:
        client = await _client(settings)
        try:
            found = await client.resolve(ref)
            again = await client.retry(found.job_id)
        finally:
            await client.close()
        if json_:
            output.emit_json({**again.as_dict(), "retry_of": found.job_id})
        else:
            output.line(
                again.task_code, "job", again.job_id, again.status, f"(retry of {found.job_id})"
            )

    run(go)


def events(
    job_ref: Annotated[
        str | None, typer.Option("--job", help="Only this job (history first).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Stream bus events: one NDJSON object per line with --json. Runs until Ctrl-C (or, with
    --job, until that job ends).

    Example: dfo events --json | jq -c 'select(.type == "agent_job_failed")'
    """

    async def go(settings: Settings) -> None:
        client = await _client(settings)
        try:
            ids = [(await client.resolve(job_ref)).job_id] if job_ref else []
            display = live.JsonLines() if json_ else live.PlainLines()
            await live.follow(client.watch(ids or None), display, ids, None)
        finally:
            await client.close()

    run(go)
    sys.stdout.flush()
