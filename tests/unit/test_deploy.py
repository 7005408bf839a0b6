"""compose.yaml, Dockerfile and .env.example agree with dfo (no Docker engine here to run them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dfo.cli.main import app
from dfo.settings import Settings

ROOT = Path(__file__).parents[2]
SERVICES = {"redis", "mariadb", "migrate", "worker"}


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def dfo_commands() -> set[str]:
    names = {c.name for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    return {n for n in names if n}


def test_services_healthchecks_and_dependencies() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert "healthcheck" in service, name
    for name in ("migrate", "worker"):
        assert services[name]["healthcheck"]["test"] == ["CMD", "dfo", "health"]
    worker = services["worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["mariadb"]["condition"] == "service_healthy"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["mariadb"]["condition"] == "service_healthy"
    grace = int(re.sub(r"\D", "", worker["stop_grace_period"]))
    assert grace > Settings().shutdown_grace  # the worker's own grace fits in compose's
    assert "--appendonly" in services["redis"]["command"]


def test_environment_names_are_settings() -> None:
    fields = {f"DFO_{name.upper()}" for name in Settings.model_fields}
    for service in compose()["services"].values():
        environment = service.get("environment") or {}
        for name in environment:
            if name.startswith("DFO_"):
                assert name in fields, name
    example = (ROOT / ".env.example").read_text()
    referenced = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    defined = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    assert referenced <= defined, referenced - defined


def test_commands_are_dfo_commands() -> None:
    commands = dfo_commands()
    for service in compose()["services"].values():
        command = service.get("command")
        if command and command[0] == "dfo":
            assert command[1] in commands, command
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \["dfo", "(\w+)"', dockerfile, re.MULTILINE)
    assert cmd and cmd.group(1) in commands
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "slim" in dockerfile.splitlines()[1]
    assert "[dev]" not in dockerfile


def test_readme_names_the_services() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in SERVICES:
        assert f"`{name}`" in readme, name


def test_alert_rules_use_metrics_dfo_exports() -> None:
    from dfo.worker import metrics

    exported = {
        name
        for metric in vars(metrics).values()
        if hasattr(metric, "_name")
        for name in (metric._name, f"{metric._name}_total")
    }
    rules = yaml.safe_load((ROOT / "examples" / "prometheus-alerts.yml").read_text())
    used = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            used |= set(re.findall(r"\b(dfo_[a-z_]+)", rule["expr"]))
    assert used and used <= exported, used - exported
