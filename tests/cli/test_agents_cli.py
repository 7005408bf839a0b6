"""`dfo agent add` validates configs; `dfo agent test` runs an agent once and prints it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Dfo

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_agent_configs_are_validated_naming_the_field(dfo: Dfo, tmp_path: Path) -> None:
    for kind, config, message in [
        ("command", "{}", "dfo: error: config.argv: required"),
        ("command", '{"argv": ["x"], "shell": true}', "dfo: error: config.shell: unknown field"),
        ("openai", '{"model": "m"}', "dfo: error: config.base_url: required"),
        (
            "demo",
            '{"delay": -1}',
            "dfo: error: config.delay: input should be greater than or equal to 0",
        ),
    ]:
        result = dfo("agent", "add", "a1", "--kind", kind, "--config", config)
        assert result.code == 2 and result.stderr.strip() == message, result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "project: {code: AG, name: x}\nagents:\n  - {name: c, kind: command, config: {}}\n"
    )
    result = dfo("import", str(bad))
    assert result.code == 2
    assert result.stderr.splitlines()[0].endswith("agents[0].config.argv: required")


def test_agent_test_prints_what_the_agent_emits(dfo: Dfo) -> None:
    argv = [sys.executable, str(ROOT / "examples/agents/checklist_agent.py")]
    assert (
        dfo(
            "agent", "add", "checklist", "--kind", "command", "--config", json.dumps({"argv": argv})
        ).code
        == 0
    )
    result = dfo("agent", "test", "checklist", "--json")
    assert result.code == 0, result.stderr
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert kinds.count("item_done") == 2 and "memory" in kinds
    assert (
        dfo(
            "agent",
            "add",
            "broken",
            "--kind",
            "command",
            "--config",
            '{"argv": ["/nonexistent/agent"]}',
        ).code
        == 0
    )
    failed = dfo("agent", "test", "broken")
    assert failed.code == 1 and "executable not found" in failed.stderr
