"""The OpenAI-compatible agent: one chat completion per pending item (httpx, streaming).

Works with hosted endpoints and local servers (Ollama, vLLM, llama.cpp). The prompt carries the
task, its items (done and pending), blockers and memories; streamed tokens reach the job's log
(throttled); the answer is stored on the item and as a memory. 429/5xx and connection errors are
retried with backoff (honouring Retry-After); other 4xx fail at once. The API key is read from
the environment variable the config names and never logged or stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from typing import Any

import httpx

from dfo.agents.base import AgentError, AgentSink, RunInfo, TransientAgentError
from dfo.models import TaskContext, TaskItem
from dfo.redact import scrub

LOG_EVERY_S = 0.5
MAX_BACKOFF_S = 30.0


class OpenAIAgent:
    def __init__(self, name: str, config: dict[str, Any], run: RunInfo) -> None:
        self.name = name
        self.config = config
        self.info = run
        self.url = str(config["base_url"]).rstrip("/") + "/chat/completions"

    def _key(self) -> str | None:
        variable = self.config.get("api_key_env")
        if not variable:
            return None
        key = os.environ.get(variable)
        if not key:
            raise AgentError(f"agent {self.name}: environment variable {variable} is not set")
        return key

    async def run(self, context: TaskContext, sink: AgentSink) -> None:
        key = self._key()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = httpx.Timeout(float(self.config["request_timeout"]), connect=10.0)
        async with httpx.AsyncClient(timeout=timeout, headers=headers) as http:
            for item in context.items_pending:
                answer = await self._ask(http, context, item, sink, key)
                await sink.item_done(item.id, answer)
                await sink.memory(answer, f"{context.task.code}: {item.title}"[:200], 0.5)

    def _messages(self, context: TaskContext, item: TaskItem) -> list[dict[str, str]]:
        task = context.task
        lines = [f"Task {task.code}: {task.title}"]
        if task.description:
            lines.append(task.description)
        lines.append("Checklist:")
        lines += [f"- [{'x' if i.is_completed else ' '}] {i.title}" for i in context.items]
        if context.dependencies.blockers:
            lines.append(
                "Blocked by: "
                + ", ".join(b.source_task_code for b in context.dependencies.blockers)
            )
        if context.memories:
            lines.append("Notes from earlier work:")
            lines += [f"- {m.summary or ''}: {m.content}" for m in context.memories]
        lines.append(f"Now do this item and answer with the result: {item.title}")
        return [
            {"role": "system", "content": str(self.config["system_prompt"])},
            {"role": "user", "content": "\n".join(lines)},
        ]

    async def _ask(
        self,
        http: httpx.AsyncClient,
        context: TaskContext,
        item: TaskItem,
        sink: AgentSink,
        key: str | None,
    ) -> str:
        body: dict[str, Any] = {
            "model": self.config["model"],
            "messages": self._messages(context, item),
            "stream": bool(self.config["stream"]),
        }
        for field in ("temperature", "max_tokens"):
            if self.config.get(field) is not None:
                body[field] = self.config[field]
        retries = int(self.config["max_retries"])
        for attempt in range(retries + 1):
            try:
                return await self._request(http, body, item, sink)
            except _Retryable as exc:
                if attempt == retries:
                    raise TransientAgentError(
                        scrub(f"agent {self.name}: {exc.reason} (after {attempt + 1} tries)", [key])
                    ) from None
                delay = exc.retry_after or min(MAX_BACKOFF_S, 0.5 * 2**attempt)
                delay *= 1 + random.random() * 0.1
                await sink.log(f"{exc.reason}; retrying in {delay:.1f}s")
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _request(
        self, http: httpx.AsyncClient, body: dict[str, Any], item: TaskItem, sink: AgentSink
    ) -> str:
        try:
            async with http.stream("POST", self.url, json=body) as response:
                if response.status_code == 429 or response.status_code >= 500:
                    await response.aread()
                    raise _Retryable(
                        f"HTTP {response.status_code}",
                        _retry_after(response.headers.get("retry-after")),
                    )
                if response.status_code >= 400:
                    text = (await response.aread()).decode(errors="replace")[:300]
                    raise AgentError(
                        f"agent {self.name}: HTTP {response.status_code} from {self.url}: {text}"
                    )
                if body["stream"]:
                    return await self._read_stream(response, item, sink)
                doc = json.loads(await response.aread())
                return str(doc["choices"][0]["message"]["content"] or "")
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}", None) from None
        except (KeyError, IndexError, ValueError) as exc:
            raise AgentError(f"agent {self.name}: unexpected response: {exc}") from None

    async def _read_stream(self, response: httpx.Response, item: TaskItem, sink: AgentSink) -> str:
        parts: list[str] = []
        logged, last_log = 0, time.monotonic()
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            delta = chunk["choices"][0].get("delta", {}).get("content") or ""
            parts.append(delta)
            if time.monotonic() - last_log >= LOG_EVERY_S:
                text = "".join(parts)
                await sink.log(f"{item.title}: …{text[logged:][-200:]}")
                logged, last_log = len(text), time.monotonic()
        return "".join(parts)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(float(value), MAX_BACKOFF_S))
    except ValueError:
        return None
