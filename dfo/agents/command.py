"""The command agent: any program, run without a shell, speaking a line protocol.

The context goes to the program's stdin as one JSON document; `DFO_JOB_ID`, `DFO_TASK_CODE`,
`DFO_REQUEST_ID`, `DFO_ITEM_IDS` and `DFO_ITEM_COUNT` are set in its environment. Each stdout
line that is a JSON object with a `"dfo"` key is a message:

    {"dfo": "progress", "percent": 40, "message": "..."}
    {"dfo": "item_done", "item_id": 12, "result": "..."}
    {"dfo": "memory", "content": "...", "summary": "...", "importance": 0.7}
    {"dfo": "log", "message": "..."}

Any other line is a log line; stderr lines are logged as warnings. Exit 0 is success. The
program runs in its own process group: cancel and timeout stop the whole group (SIGTERM, then
SIGKILL after `grace` seconds), so nothing it started is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections import deque
from dataclasses import asdict
from typing import Any

from dfo.agents.base import AgentError, AgentSink, RunInfo, TransientAgentError
from dfo.models import TaskContext

MAX_LINE = 16_384
STDERR_TAIL = 10


def context_document(context: TaskContext, run: RunInfo) -> dict[str, Any]:
    """What an agent is told about its job (also the basis of the openai agent's prompt)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    document: dict[str, Any] = plain(
        {
            "job": {"id": run.job_id, "request_id": run.request_id, "attempt": run.attempt},
            "task": asdict(context.task),
            "items": [asdict(i) for i in context.items],
            "items_pending": [asdict(i) for i in context.items_pending],
            "blockers": [asdict(d) for d in context.dependencies.blockers],
            "dependencies": [asdict(d) for d in context.dependencies.all],
            "memories": [asdict(m) for m in context.memories],
        }
    )
    return document


def _decode(raw: bytes) -> str:
    """One output line as text: invalid UTF-8 replaced, over-long lines cut."""
    text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
    if len(text) > MAX_LINE:
        text = text[:MAX_LINE] + f"… [cut: {len(text) - MAX_LINE} more characters]"
    return text


async def _lines(stream: asyncio.StreamReader) -> Any:
    """Lines of any length without StreamReader's line limit (long ones are cut later)."""
    pending = b""
    while chunk := await stream.read(65_536):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line
        if len(pending) > 4 * MAX_LINE:  # a huge line without a newline: flush what we have
            yield pending
            pending = b""
    if pending:
        yield pending


class CommandAgent:
    def __init__(self, name: str, config: dict[str, Any], run: RunInfo) -> None:
        self.name = name
        self.argv: list[str] = list(config["argv"])
        self.cwd: str | None = config.get("cwd")
        self.env: dict[str, str] = dict(config.get("env") or {})
        self.grace = float(config.get("grace", 5.0))
        self.info = run

    async def run(self, context: TaskContext, sink: AgentSink) -> None:
        env = {
            **os.environ,
            **self.env,
            "DFO_JOB_ID": self.info.job_id,
            "DFO_REQUEST_ID": self.info.request_id,
            "DFO_TASK_CODE": context.task.code,
            "DFO_ITEM_IDS": ",".join(str(i.id) for i in context.items_pending),
            "DFO_ITEM_COUNT": str(len(context.items_pending)),
        }
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=env,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise AgentError(f"agent {self.name}: executable not found: {self.argv[0]}") from None
        except (PermissionError, NotADirectoryError) as exc:
            raise AgentError(f"agent {self.name}: cannot run {self.argv[0]}: {exc}") from None
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        try:
            await self._feed(process, context)
            assert process.stdout is not None and process.stderr is not None
            await asyncio.gather(
                self._read_stdout(process.stdout, sink),
                self._read_stderr(process.stderr, sink, stderr_tail),
            )
            code = await process.wait()
        finally:
            await self._stop(process)
        if code != 0:
            tail = " | ".join(stderr_tail) or "no stderr output"
            raise TransientAgentError(f"agent {self.name} exited with {code}: {tail}")

    async def _feed(self, process: asyncio.subprocess.Process, context: TaskContext) -> None:
        assert process.stdin is not None
        document = json.dumps(context_document(context, self.info)).encode() + b"\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.write(document)
            await process.stdin.drain()
        process.stdin.close()

    async def _read_stdout(self, stream: asyncio.StreamReader, sink: AgentSink) -> None:
        async for raw in _lines(stream):
            line = _decode(raw)
            message = _message(line)
            if message is None:
                await sink.log(line)
            else:
                await _dispatch(message, sink, line)

    async def _read_stderr(
        self, stream: asyncio.StreamReader, sink: AgentSink, tail: deque[str]
    ) -> None:
        async for raw in _lines(stream):
            line = _decode(raw)
            tail.append(line[:300])
            await sink.log(f"stderr: {line}", "warning")

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after the grace period."""
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(process.wait()), self.grace)
        # Children may outlive the leader: the group gets a SIGKILL in any case.
        _signal_group(process.pid, signal.SIGKILL)
        if process.returncode is None:
            await asyncio.shield(process.wait())


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _message(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and "dfo" in doc else None


async def _dispatch(message: dict[str, Any], sink: AgentSink, line: str) -> None:
    kind = message.get("dfo")
    try:
        if kind == "progress":
            await sink.progress(float(message.get("percent", 0)), str(message.get("message", "")))
        elif kind == "item_done":
            result = message.get("result")
            await sink.item_done(int(message["item_id"]), None if result is None else str(result))
        elif kind == "memory":
            await sink.memory(
                str(message["content"]),
                _opt(message.get("summary")),
                float(message.get("importance", 0.5)),
            )
        elif kind == "log":
            await sink.log(str(message.get("message", "")))
        else:
            await sink.log(f"unknown dfo message {kind!r}: {line}")
    except (KeyError, TypeError, ValueError):
        await sink.log(f"malformed dfo message: {line}")


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)
