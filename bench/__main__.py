"""`python -m bench [NAME ...] [--json] [--smoke] [--out FILE]`: run scenarios, print a table.

Without NAME every scenario runs. The table goes to stderr when `--json` prints the results
(machine info, versions, every repetition) on stdout; otherwise they are written to `--out`
(default `bench/results/latest.json`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import Env, Result, machine
from bench.report import table

SCENARIOS = ["pickup", "throughput", "concurrency", "fanout", "cli", "tui", "search"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(SCENARIOS)}")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the code runs")
    parser.add_argument("--out", type=Path, help="write the JSON results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})")
    names = args.names or SCENARIOS
    out = args.out or (None if args.json else Path(__file__).parent / "results" / "latest.json")
    report = run(names, full=not args.smoke, keep=args.keep)
    text = table(report["results"])
    print(text, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report, indent=2))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {out}", file=sys.stderr)
    return 0 if all(r["met"] for r in report["results"]) else 1


def run(names: list[str], *, full: bool, keep: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    results = []
    for name in names:
        module = importlib.import_module(f"bench.scenarios.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        # Fresh services per scenario: one must not pay for what an earlier one left behind
        # (a Redis holding 20,000 jobs' events rewrites its append-only file meanwhile).
        env = Env(keep=keep)
        try:
            t0 = time.monotonic()
            result: Result = asyncio.run(module.run(env, full))
            result.seconds = time.monotonic() - t0
        finally:
            env.close()
        results.append(result.as_dict())
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": "full" if full else "smoke",
        "seconds": round(time.monotonic() - started, 1),
        "machine": machine(),
        "results": results,
    }


if __name__ == "__main__":
    sys.exit(main())
