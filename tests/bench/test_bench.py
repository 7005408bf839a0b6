"""The benchmark suite runs and reports well-formed results (tiny sizes; the full runs are
`make bench`, not part of the tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SCENARIOS
from bench.harness import Check, percentile
from bench.report import table

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.mariadb
def test_every_scenario_produces_well_formed_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Exit 1 means a target was missed, which tiny sizes may do; anything else is a crash.
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert json.loads(out.read_text()) == report
    assert report["size"] == "smoke"
    assert report["machine"]["cpus"] >= 1 and report["machine"]["versions"]["arq"]
    assert [r["scenario"] for r in report["results"]] == SCENARIOS
    for result in report["results"]:
        assert result["checks"], result["scenario"]
        assert result["repetitions"], result["scenario"]
        for check in result["checks"]:
            assert isinstance(check["value"], int | float) and check["op"] in ("<=", ">=")
            assert check["met"] == (
                check["value"] <= check["limit"]
                if check["op"] == "<="
                else check["value"] >= check["limit"]
            )
        for name, ratio in result["ratios"].items():
            assert ratio > 0 and name in result["baseline"], (result["scenario"], name)
        assert result["met"] == all(c["met"] for c in result["checks"])
        # The table names every scenario and every check.
        assert result["scenario"] in done.stderr
    assert (done.returncode == 0) == all(r["met"] for r in report["results"])


def test_unknown_scenario_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown scenario nope" in done.stderr


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_table_shows_value_target_baseline_and_ratio() -> None:
    result = {
        "scenario": "pickup",
        "checks": [Check("p50_ms", 1.5, 2.0).as_dict(), Check("idle_cpu_pct", 3.0, 1.0).as_dict()],
        "metrics": {"p50_ms": 1.5, "idle_cpu_pct": 3.0, "extra_ms": 4.0},
        "baseline": {"p50_ms": 150.0, "extra_ms": 2.0},
        "ratios": {"p50_ms": 0.01, "extra_ms": 2.0},
    }
    lines = table([result]).splitlines()
    assert lines[0].split() == ["scenario", "check", "value", "target", "baseline", "ratio"]
    assert lines[2].split() == ["pickup", "p50_ms", "1.5", "<=", "2", "150", "0.01x", "ok"]
    assert lines[3].split() == ["idle_cpu_pct", "3", "<=", "1", "MISSED"]
    assert lines[4].split() == ["extra_ms", "4", "2", "2.00x"]
