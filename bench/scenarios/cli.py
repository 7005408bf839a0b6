"""cli: `dfo enqueue TASK --json` as a cold process, wall time, against `python -c "import redis"`.

Both commands run alternately, so machine noise hits them alike. The `-X importtime` top
entries of one `dfo enqueue` show where the start-up time goes.

dfo is timed as installed: with its modules' bytecode compiled, as pip does when it installs a
wheel. A source checkout installed editable, under PYTHONDONTWRITEBYTECODE (this sandbox sets
it), would otherwise compile every dfo module on every run (~60 ms), as no user's install does.
"""

from __future__ import annotations

import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import ROOT, Check, Env, Result, env_vars, opened_store, seed_tasks

NAME = "cli"
WHAT = "`dfo enqueue TASK --json` in a cold process, wall time (SQLite, embedded Redis running)"
TARGET = "<= 3x `python -c 'import redis'`"


def dfo_command() -> list[str]:
    script = Path(sys.executable).with_name("dfo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dfo"]


async def run(env: Env, full: bool) -> Result:
    runs, reps = (10, 3) if full else (2, 1)
    result = Result(NAME, WHAT, TARGET)
    settings = env.settings("sqlite")
    async with opened_store(settings) as store:
        codes = await seed_tasks(store, "CLI", runs * reps + 1, items=1)
    environment = env_vars(settings)
    compileall.compile_dir(ROOT / "dfo", quiet=1)
    baseline_cmd = [sys.executable, "-c", "import redis"]
    for rep in range(reps):
        dfo_times, base_times = [], []
        for n in range(runs):
            code = codes[rep * runs + n]
            dfo_times.append(_timed([*dfo_command(), "enqueue", code, "--json"], environment))
            base_times.append(_timed(baseline_cmd, environment))
        result.repetitions.append(
            {
                "rep": rep + 1,
                "runs": runs,
                "dfo_ms": round(statistics.median(dfo_times) * 1000, 1),
                "baseline_ms": round(statistics.median(base_times) * 1000, 1),
            }
        )
    dfo_ms = statistics.median(r["dfo_ms"] for r in result.repetitions)
    base_ms = statistics.median(r["baseline_ms"] for r in result.repetitions)
    result.metrics = {"wall_ms": dfo_ms}
    result.baseline = {"name": "python -c 'import redis'", "wall_ms": base_ms}
    result.ratios = {"wall_ms": dfo_ms / base_ms}
    result.checks = [Check("wall_ms", dfo_ms, round(3 * base_ms, 1))]
    result.notes.append(f"median of {runs} runs per repetition, {reps} repetitions")
    result.notes.append("dfo's bytecode compiled first, as a pip install does")
    result.baseline["importtime_top"] = _importtime(codes[-1], environment)
    return result


def _timed(command: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[-3:]} exited {done.returncode}: {done.stderr[-500:]!r}")
    if command[-1] == "--json":
        json.loads(done.stdout)  # the command's contract: JSON on stdout
    return elapsed


def _importtime(code: str, environment: dict[str, str]) -> list[dict[str, object]]:
    """The ten packages whose import costs most (cumulative ms, wherever first imported) in
    one `dfo enqueue`, and the total."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dfo", "enqueue", code, "--json"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    packages: dict[str, int] = {}
    total = 0
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name, cumulative = parts[2].strip(), int(parts[1])
        if len(parts[2]) - len(parts[2].lstrip()) == 1:  # a top-level import
            total += cumulative
        if "." not in name and not name.startswith("_"):
            packages[name] = max(packages.get(name, 0), cumulative)
    top = sorted(packages.items(), key=lambda item: item[1], reverse=True)[:10]
    return [{"module": "(all imports)", "cumulative_ms": total / 1000}] + [
        {"module": name, "cumulative_ms": us / 1000} for name, us in top
    ]
