"""The command agent with real programs: protocol, output handling, exits, process groups."""

from __future__ import annotations

import asyncio
import re
import sys
import textwrap
from pathlib import Path

import pytest

from dfo.agents import AgentError, RunInfo, TransientAgentError, build
from dfo.cli.agents import _sample_context
from dfo.models import Agent
from tests.agents.recording import RecordingSink


def agent_for(tmp_path: Path, source: str, **config: object) -> Agent:
    script = tmp_path / "agent.py"
    script.write_text(textwrap.dedent(source))
    return Agent(
        id=1,
        name="cmd",
        kind="command",
        is_active=True,
        config={"argv": [sys.executable, str(script)], **config},
    )


async def run(agent: Agent) -> RecordingSink:
    sink = RecordingSink()
    await build(agent, RunInfo("job-1", "req-1", 1)).run(_sample_context(), sink)
    return sink


def alive(pid: int) -> bool:
    from dfo.services.redis_server import process_alive

    return process_alive(pid)


async def test_protocol_messages_env_and_stdin(tmp_path: Path) -> None:
    agent = agent_for(
        tmp_path,
        """
        import json, os, sys
        context = json.load(sys.stdin)
        print("plain output line")
        print('{"not": "a dfo message"}')
        print(json.dumps({"dfo": "progress", "percent": 50, "message": "half"}))
        for item in context["items_pending"]:
            print(json.dumps({"dfo": "item_done", "item_id": item["id"], "result": "ok"}))
        print(json.dumps({"dfo": "memory", "content": "learned", "summary": "s", "importance": 0.9}))
        print(json.dumps({"dfo": "log", "message": os.environ["DFO_TASK_CODE"] + " "
                          + os.environ["DFO_JOB_ID"] + " " + os.environ["DFO_ITEM_IDS"]
                          + " " + context["job"]["request_id"]}))
        print(json.dumps({"dfo": "item_done"}))
        print(json.dumps({"dfo": "dance"}))
    """,
    )
    sink = await run(agent)
    assert sink.done == [(1, "ok"), (2, "ok")]
    assert sink.progress_seen == [(50.0, "half")]
    assert sink.memories == [("learned", "s", 0.9)]
    assert "plain output line" in sink.logs and '{"not": "a dfo message"}' in sink.logs
    assert "TEST-1 job-1 1,2 req-1" in sink.logs
    assert any(line.startswith("malformed dfo message") for line in sink.logs)
    assert any(line.startswith("unknown dfo message 'dance'") for line in sink.logs)


async def test_stderr_and_non_zero_exit(tmp_path: Path) -> None:
    agent = agent_for(
        tmp_path,
        """
        import sys
        print("about to fail", file=sys.stderr)
        print("disk is full", file=sys.stderr)
        sys.exit(3)
    """,
    )
    with pytest.raises(
        TransientAgentError, match=re.escape("exited with 3: about to fail | disk is full")
    ):
        await run(agent)


async def test_missing_executable_is_not_transient(tmp_path: Path) -> None:
    agent = Agent(
        id=1,
        name="cmd",
        kind="command",
        is_active=True,
        config={"argv": [str(tmp_path / "no-such-agent")]},
    )
    with pytest.raises(AgentError, match="executable not found"):
        await run(agent)


async def test_huge_and_binary_output_is_cut_and_escaped(tmp_path: Path) -> None:
    agent = agent_for(
        tmp_path,
        """
        import sys
        sys.stdout.write("x" * 200000 + "\\n")
        sys.stdout.buffer.write(b"bad bytes \\xff\\xfe here\\n")
        sys.stdout.flush()
    """,
    )
    sink = await run(agent)
    assert any("[cut:" in line and len(line) < 20_000 for line in sink.logs)
    assert "bad bytes \ufffd\ufffd here" in sink.logs


async def test_cancel_stops_the_whole_group_even_a_child_ignoring_sigterm(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    agent = agent_for(
        tmp_path,
        f"""
        import signal, subprocess, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(["sleep", "300"])
        open({str(pids)!r}, "w").write(f"{{__import__('os').getpid()}} {{child.pid}}")
        print("started", flush=True)
        time.sleep(300)
    """,
        grace=0.5,
    )
    sink = RecordingSink()
    runner = build(agent, RunInfo())
    task = asyncio.create_task(runner.run(_sample_context(), sink))
    async with asyncio.timeout(10):
        while "started" not in sink.logs:
            await asyncio.sleep(0.02)
    leader, child = map(int, pids.read_text().split())
    assert alive(leader) and alive(child)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5):
        while alive(leader) or alive(child):
            await asyncio.sleep(0.05)


async def test_bad_config_names_the_field() -> None:
    agent = Agent(id=1, name="cmd", kind="command", is_active=True, config={"argv": []})
    with pytest.raises(Exception, match=r"config\.argv"):
        build(agent)
