"""The results table: one line per check, the figure next to its baseline and the ratio."""

from __future__ import annotations

from typing import Any


def table(results: list[dict[str, Any]]) -> str:
    header = ("scenario", "check", "value", "target", "baseline", "ratio", "")
    rows: list[tuple[str, ...]] = [header]
    for result in results:
        for n, check in enumerate(result["checks"]):
            base = result["baseline"].get(check["name"])
            ratio = result["ratios"].get(check["name"].removesuffix("_ms"))
            rows.append(
                (
                    result["scenario"] if n == 0 else "",
                    check["name"],
                    _fmt(check["value"]),
                    f"{check['op']} {_fmt(check['limit'])}",
                    _fmt(base) if isinstance(base, int | float) else "",
                    f"{ratio:.2f}x" if ratio is not None else "",
                    "ok" if check["met"] else "MISSED",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
