"""Bad input: one clear line on stderr, the contract's exit code, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Dfo

# Backend-independent behaviour: one backend is enough.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["blockers", "SHOP-1"], "dfo: error: unknown task SHOP-1"),
        (
            ["blockers", "not a code"],
            "dfo: error: invalid task code 'not a code': expected PROJECT-NUMBER, e.g. DFO-12",
        ),
        (
            ["task", "show", "X-"],
            "dfo: error: invalid task code 'X-': expected PROJECT-NUMBER, e.g. DFO-12",
        ),
        (["memories"], "dfo: error: give a TASK, or --search QUERY"),
        (["project", "show", "NOPE"], "dfo: error: unknown project NOPE"),
        (
            ["agent", "add", "x", "--kind", "demo", "--config", "[1]"],
            "dfo: error: --config must be a JSON object",
        ),
        (["import", "/nonexistent/file.yaml"], "dfo: error: /nonexistent/file.yaml: no such file"),
        (
            ["task", "depend", "A-1"],
            "dfo: error: give exactly one of --blocks TASK or --relates TASK",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(dfo: Dfo, args: list[str], message: str) -> None:
    result = dfo(*args)
    assert result.code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


@SQLITE_ONLY
def test_usage_errors_exit_2(dfo: Dfo) -> None:
    assert dfo("task", "add").code == 2
    assert dfo("task", "list", "--status", "weird").code == 2


@SQLITE_ONLY
def test_invalid_setting_is_named(dfo: Dfo) -> None:
    result = dfo("project", "list", env={"DFO_CONNECT_RETRIES": "many"})
    assert result.code == 2
    assert result.stderr.startswith("dfo: error: invalid setting DFO_CONNECT_RETRIES")


@SQLITE_ONLY
def test_every_command_has_help_with_an_example(dfo: Dfo) -> None:
    assert "Usage: dfo" in dfo("--help").stdout
    for command in [
        ["import"],
        ["blockers"],
        ["memories"],
        ["health"],
        ["down"],
        ["db", "upgrade"],
        ["project", "add"],
        ["project", "list"],
        ["project", "show"],
        ["task", "add"],
        ["task", "list"],
        ["task", "show"],
        ["task", "depend"],
        ["agent", "add"],
        ["agent", "list"],
        ["agent", "show"],
        ["worker"],
        ["enqueue"],
        ["watch"],
        ["jobs"],
        ["job"],
        ["cancel"],
        ["retry"],
        ["events"],
        ["demo"],
        ["up"],
    ]:
        result = dfo(*command, "--help")
        assert result.code == 0, command
        assert "Usage: dfo" in result.stdout, command
        assert "Example: dfo" in result.stdout or "Example: DFO_" in result.stdout, command


@SQLITE_ONLY
def test_settings_from_dfo_toml(dfo: Dfo, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.db"
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "dfo.toml").write_text(f'database_url = "sqlite+aiosqlite:///{other}"\n')
    env = {"DFO_DATABASE_URL": ""}
    assert dfo("project", "add", "TOML", "From toml", env=env, cwd=workdir).code == 0
    assert other.exists()
