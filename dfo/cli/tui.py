"""`dfo tui`: the live dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from dfo.cli.runtime import load_settings


def tui(
    readonly: Annotated[
        bool, typer.Option("--readonly", help="Watch only: no enqueue, cancel, retry, rerun.")
    ] = False,
) -> None:
    """Open the live dashboard: jobs with progress bars, job detail, task inspector, actions.

    Press ? for the keys, ctrl+p for the command palette. Needs a worker running
    (`dfo worker`, or use `dfo up`).

    Example: dfo tui --readonly
    """
    from dfo.tui.app import DfoApp

    DfoApp(load_settings(), readonly=readonly).run()
