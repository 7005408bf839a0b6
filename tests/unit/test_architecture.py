"""The import-linter contract covers every core module (new ones cannot slip past it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import dfo

ROOT = Path(dfo.__file__).parent
UI = {"cli", "tui"}


def test_every_core_module_is_under_the_contract() -> None:
    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    core = {
        f"dfo.{p.stem if p.is_file() else p.name}"
        for p in ROOT.iterdir()
        if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
        or (p.is_dir() and (p / "__init__.py").exists() and p.name not in UI)
    }
    core_contracts = [c for c in contracts if c["name"].startswith("The core never")]
    assert len(core_contracts) == 2
    for contract in core_contracts:
        assert core <= set(contract["source_modules"]), contract["name"]


def test_scripted_commands_do_not_import_the_tui_rich_or_arq() -> None:
    """`dfo enqueue ... --json` in CI must not pay for Textual, Rich or arq (~50 ms together),
    nor the CLI for --help: the store."""
    import subprocess
    import sys

    probe = (
        "import sys; import dfo.cli.main, dfo.cli.jobs, dfo.client, dfo.store;"
        "print(sorted(m for m in ('textual', 'rich', 'arq') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    help_probe = "import sys; import dfo.cli.main; print('sqlalchemy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", help_probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
