"""The results table: one line per check, the figure next to its baseline and the ratio."""

from __future__ import annotations

from typing import Any


def table(results: list[dict[str, Any]]) -> str:
    header = ("scenario", "check", "value", "target", "baseline", "ratio", "")
    rows: list[tuple[str, ...]] = [header]
    for result in results:
        checked = {check["name"] for check in result["checks"]}
        lines: list[tuple[str, float, str, str]] = [
            (c["name"], c["value"], f"{c['op']} {_fmt(c['limit'])}", "ok" if c["met"] else "MISSED")
            for c in result["checks"]
        ] + [  # figures measured against the baseline without a target of their own
            (name, result["metrics"][name], "", "")
            for name in result["ratios"]
            if name not in checked and name in result["metrics"]
        ]
        for n, (name, value, target, verdict) in enumerate(lines):
            base = result["baseline"].get(name)
            ratio = result["ratios"].get(name)
            rows.append(
                (
                    result["scenario"] if n == 0 else "",
                    name,
                    _fmt(value),
                    target,
                    _fmt(base) if isinstance(base, int | float) else "",
                    f"{ratio:.2f}x" if ratio is not None else "",
                    verdict,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in text)


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
