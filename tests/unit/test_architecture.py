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
    for contract in contracts:
        assert core <= set(contract["source_modules"]), contract["name"]
