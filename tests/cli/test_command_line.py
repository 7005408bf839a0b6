"""`dfo NAME ...` runs on a command line holding only NAME (faster to build): it must look and
behave exactly as the whole one does for that command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dfo.cli.main import COMMANDS, GROUPS, app, make_app

NAMES = sorted([*COMMANDS, *GROUPS])


@pytest.mark.parametrize("name", NAMES)
def test_one_command_line_is_the_whole_one_for_its_command(name: str) -> None:
    runner = CliRunner()
    for args in ([name, "--help"], [name, "--no-such-option"]):
        whole = runner.invoke(app, args, prog_name="dfo", env={"COLUMNS": "100"})
        alone = runner.invoke(make_app(only=name), args, prog_name="dfo", env={"COLUMNS": "100"})
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
        assert whole.output.startswith(f"Usage: dfo {name} ")


def test_the_whole_command_line_lists_every_command() -> None:
    shown = CliRunner().invoke(app, ["--help"], prog_name="dfo", env={"COLUMNS": "100"}).output
    assert all(f" {name} " in shown for name in NAMES)
