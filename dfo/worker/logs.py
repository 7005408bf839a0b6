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


def setup(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ArqDelayFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
