"""A TCP proxy run as its own process: kill it to cut the database off, start it to restore.

python -m tests.support.proxy LISTEN_PORT TARGET_HOST TARGET_PORT [DELAY_MS]
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float = 0.0
) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


async def main(listen: int, host: str, port: int, delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, server_w, delay), _pipe(server_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def start(listen: int, port: int, delay_ms: int = 0) -> subprocess.Popen[bytes]:
    """The proxy to 127.0.0.1:`port` as a process, returned once it listens on `listen`."""
    args = [str(listen), "127.0.0.1", str(port), str(delay_ms)]
    proxy = subprocess.Popen(
        [sys.executable, "-m", "tests.support.proxy", *args], stdout=subprocess.PIPE
    )
    assert proxy.stdout is not None and proxy.stdout.readline().strip() == b"ready"
    return proxy


def stop(proxy: subprocess.Popen[bytes]) -> None:
    proxy.kill()
    proxy.wait()
    if proxy.stdout:
        proxy.stdout.close()


if __name__ == "__main__":
    delay_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), delay_ms / 1000))
