"""The `dfo` command: every command group registered in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from dfo import __version__
from dfo.cli import admin, agents, data, demo, jobs, projects, tasks, tui, up, worker

GROUPS: dict[str, typer.Typer] = {
    "project": projects.app,
    "task": tasks.app,
    "agent": agents.app,
    "db": admin.db_app,
}
COMMANDS: dict[str, Callable[..., Any]] = {
    "import": data.import_,
    "blockers": data.blockers,
    "memories": data.memories_,
    "health": admin.health,
    "down": admin.down,
    "worker": worker.worker,
    "enqueue": jobs.enqueue,
    "watch": jobs.watch,
    "jobs": jobs.jobs_,
    "job": jobs.job,
    "cancel": jobs.cancel,
    "retry": jobs.retry,
    "events": jobs.events,
    "demo": demo.demo,
    "up": up.up,
    "tui": tui.tui,
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dfo {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run AI agents on project tasks in the background and watch them live."""


def make_app(only: str | None = None) -> typer.Typer:
    """The whole command line, or with `only` the root and that one command or group.

    Running a command builds only its own Click command: turning all thirty-odd functions'
    signatures into Click commands took ~15 ms of every `dfo enqueue`. What a user sees of
    that command (usage, help, errors, exit codes) is the same either way.
    """
    root = typer.Typer(
        name="dfo",
        help="Run AI agents on project tasks in the background and watch them live.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for name, group in GROUPS.items():
        if only in (None, name):
            root.add_typer(group, name=name)
    for name, function in COMMANDS.items():
        if only in (None, name):
            root.command(name)(function)
    root.callback()(_root)
    return root


app = make_app()
