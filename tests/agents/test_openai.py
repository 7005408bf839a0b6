"""The OpenAI-compatible agent against a local HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from dfo.agents import AgentError, RunInfo, build
from dfo.cli.agents import _sample_context
from dfo.models import Agent
from tests.agents.recording import RecordingSink
from tests.support.fake_llm import ANSWER, FakeLLM

KEY = "sk-test-secret-9876"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM(api_key=KEY)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", KEY)


def agent(llm: FakeLLM, model: str, **config: object) -> Agent:
    return Agent(
        id=1,
        name="llm",
        kind="openai",
        is_active=True,
        config={"base_url": llm.base_url, "model": model, "api_key_env": "TEST_LLM_KEY", **config},
    )


async def run(a: Agent) -> RecordingSink:
    sink = RecordingSink()
    await build(a, RunInfo("job-1", "req-1", 1)).run(_sample_context(), sink)
    return sink


@pytest.mark.parametrize("stream", [True, False])
async def test_answers_are_stored_on_items_and_as_memories(llm: FakeLLM, stream: bool) -> None:
    sink = await run(agent(llm, "stream" if stream else "plain", stream=stream))
    answer = "".join(ANSWER)
    assert sink.done == [(1, answer), (2, answer)]
    assert [m[0] for m in sink.memories] == [answer, answer]
    first = llm.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == f"Bearer {KEY}"
    prompt = first["body"]["messages"][1]["content"]
    assert "TEST-1" in prompt and "sample item 1" in prompt and "- [ ] sample item 2" in prompt
    assert all(KEY not in line for line in sink.logs)


async def test_429_honours_retry_after(llm: FakeLLM) -> None:
    sink = await run(agent(llm, "rate-limited"))
    assert llm.calls["rate-limited"] == 3  # one refused, then one per item
    assert any("HTTP 429; retrying in 0.2" in line for line in sink.logs)
    assert len(sink.done) == 2


async def test_500_then_success(llm: FakeLLM) -> None:
    sink = await run(agent(llm, "flaky"))
    assert llm.calls["flaky"] == 3 and len(sink.done) == 2


async def test_401_fails_clearly_without_retry_or_key(llm: FakeLLM) -> None:
    with pytest.raises(AgentError) as caught:
        await run(agent(llm, "unauthorized"))
    assert "HTTP 401" in str(caught.value) and KEY not in str(caught.value)
    assert llm.calls["unauthorized"] == 1


async def test_missing_key_variable_is_a_clear_error(
    llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_LLM_KEY")
    with pytest.raises(AgentError, match="TEST_LLM_KEY is not set"):
        await run(agent(llm, "stream"))


async def test_slow_stream_cancelled_midway(llm: FakeLLM) -> None:
    sink = RecordingSink()
    task = asyncio.create_task(build(agent(llm, "slow"), RunInfo()).run(_sample_context(), sink))
    async with asyncio.timeout(10):
        while not any("sample item 1: …" in line for line in sink.logs):
            await asyncio.sleep(0.05)
    task.cancel()
    async with asyncio.timeout(5):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sink.done == []


async def test_connection_errors_are_retried_then_transient() -> None:
    from dfo.agents import TransientAgentError
    from tests.support.mariadb import free_port

    closed = Agent(
        id=1,
        name="llm",
        kind="openai",
        is_active=True,
        config={"base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "m", "max_retries": 1},
    )
    sink = RecordingSink()
    with pytest.raises(TransientAgentError, match="after 2 tries"):
        await build(closed, RunInfo()).run(_sample_context(), sink)
    assert any("retrying in" in line for line in sink.logs)
