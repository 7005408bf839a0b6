"""Run `dfo` as a user does: a real subprocess with its own DFO_HOME and database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dfo.store import migrations

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop.yaml"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Dfo = Callable[..., Result]


@pytest.fixture
def dfo_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFO_")}
    env.update(
        DFO_HOME=str(tmp_path / "home"),
        DFO_DATABASE_URL=database_url,
        DFO_CONNECT_RETRIES="1",
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


@pytest.fixture
def dfo(dfo_env: dict[str, str], tmp_path: Path) -> Dfo:
    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "dfo", *args],
            env={**dfo_env, **(env or {})},
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    if dfo_env["DFO_DATABASE_URL"].startswith("mysql"):
        # As an operator would: a MariaDB database is migrated explicitly, once.
        upgraded = run("db", "upgrade", "--json")
        assert upgraded.code == 0, upgraded.stderr
        assert upgraded.json()["applied"] == [m.version for m in migrations.MIGRATIONS]
    return run
