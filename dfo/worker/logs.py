"""Structured (JSON) log lines for the worker, carrying each job's context."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

job_context: ContextVar[dict[str, Any] | None] = ContextVar("dfo_job_context", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(job_context.get() or {})
        if record.exc_info and record.exc_info[0] is not None:
            doc["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(doc, ensure_ascii=False, default=str)


_ARQ_DELAYED = re.compile(r" delayed=[0-9.]+s")


class ArqDelayFilter(logging.Filter):
    """arq reports a job's wait from its queue score; dfo's priority offsets make that figure
    meaningless (years), so it is dropped from arq's lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("arq"):
            message = record.getMessage()
            if " delayed=" in message:
                record.msg, record.args = _ARQ_DELAYED.sub("", message), ()
        return True


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, message, then the job context."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        context = job_context.get() or {}
        fields = " ".join(
            f"{k}={v}"
            for k, v in context.items()
            if k in ("task_code", "job_id", "attempt", "agent") and v is not None
        )
        line = f"{stamp} {record.levelname.lower():7} {record.getMessage()}"
        return f"{line}  [{fields}]" if fields else line


def setup(level: str, log_format: str = "auto") -> None:
    """JSON lines (one object per line) unless stderr is a terminal, or as `log_format` says."""
    handler = logging.StreamHandler(sys.stderr)
    text = log_format == "text" or (log_format == "auto" and sys.stderr.isatty())
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    handler.addFilter(ArqDelayFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
