"""`dfo worker --processes N`: N worker processes under one launcher (seed 004's start.js).

Each child's output lines are prefixed with `[wN]`; SIGTERM/SIGINT are forwarded to every child;
if one child dies, the others are stopped too and the launcher exits with the child's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile


async def launch(processes: int, worker_args: list[str], metrics_port: int | None = None) -> int:
    env = dict(os.environ)
    metrics_dir = None
    if metrics_port is not None:
        # One coherent view: the children write to a shared directory, the launcher serves it.
        metrics_dir = tempfile.mkdtemp(prefix="dfo-metrics-")
        env["PROMETHEUS_MULTIPROC_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        from dfo.worker import metrics

        metrics.serve(metrics_port)
    children: list[asyncio.subprocess.Process] = []
    for _ in range(processes):
        children.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "dfo",
                "worker",
                *worker_args,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env=env,
            )
        )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def forward(sig: signal.Signals) -> None:
        stopping.set()
        for child in children:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(sig)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, forward, sig)
    pumps = [
        asyncio.create_task(_pump(stream, f"[w{n}] ", out))
        for n, child in enumerate(children, start=1)
        for stream, out in ((child.stdout, sys.stdout), (child.stderr, sys.stderr))
        if stream is not None
    ]
    waiters = {asyncio.create_task(child.wait()): child for child in children}
    exit_code = 0
    pending = set(waiters)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            code = task.result()
            if code != 0 and not stopping.is_set():
                exit_code = exit_code or code
                print(
                    f"dfo: worker process {waiters[task].pid} exited with {code}; "
                    "stopping the others",
                    file=sys.stderr,
                    flush=True,
                )
                forward(signal.SIGTERM)
            elif code != 0 and exit_code == 0 and code not in (-signal.SIGTERM, -signal.SIGINT):
                exit_code = code
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
    await asyncio.gather(*pumps, return_exceptions=True)
    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return exit_code


async def _pump(stream: asyncio.StreamReader, prefix: str, out: object) -> None:
    write = out.write  # type: ignore[attr-defined]
    flush = out.flush  # type: ignore[attr-defined]
    async for raw in stream:
        write(prefix + raw.decode(errors="replace"))
        flush()
