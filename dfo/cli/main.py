"""The `dfo` command: every command group registered in one place."""

from __future__ import annotations

import typer

from dfo import __version__
from dfo.cli import admin, agents, data, demo, jobs, projects, tasks, tui, up, worker

app = typer.Typer(
    name="dfo",
    help="Run AI agents on project tasks in the background and watch them live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(projects.app, name="project")
app.add_typer(tasks.app, name="task")
app.add_typer(agents.app, name="agent")
app.add_typer(admin.db_app, name="db")
app.command("import")(data.import_)
app.command("blockers")(data.blockers)
app.command("memories")(data.memories_)
app.command("health")(admin.health)
app.command("down")(admin.down)
app.command("worker")(worker.worker)
app.command("enqueue")(jobs.enqueue)
app.command("watch")(jobs.watch)
app.command("jobs")(jobs.jobs_)
app.command("job")(jobs.job)
app.command("cancel")(jobs.cancel)
app.command("retry")(jobs.retry)
app.command("events")(jobs.events)
app.command("demo")(demo.demo)
app.command("up")(up.up)
app.command("tui")(tui.tui)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dfo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run AI agents on project tasks in the background and watch them live."""
