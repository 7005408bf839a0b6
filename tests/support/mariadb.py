"""A private MariaDB server for one test session: own datadir, free port, stopped at the end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

# A password that needs URL quoting, so tests also prove it is masked everywhere.
PASSWORD = "s3cr3t-p@ss word!"
USER = "dfo"


def find_binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for d in ("/usr/sbin", "/usr/bin") if (p := Path(d) / name).is_file()), None
        )
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MariaDB:
    datadir: Path
    port: int
    process: subprocess.Popen[bytes]
    log: BinaryIO

    @property
    def socket(self) -> Path:
        return self.datadir / "mysqld.sock"

    def sql(self, statement: str) -> str:
        client = find_binary("mariadb", "mysql")
        assert client, "mariadb client missing"
        result = subprocess.run(
            [client, "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-e", statement],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb: {result.stderr.strip()}")
        return result.stdout

    def url(self, database: str, *, password: str = PASSWORD, port: int | None = None) -> str:
        return (
            f"mysql+aiomysql://{USER}:{quote(password, safe='')}@127.0.0.1:"
            f"{port or self.port}/{database}"
        )

    def create_database(self, name: str) -> str:
        self.sql(
            f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        return self.url(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start(base: Path, *, buffer_pool: str = "64M") -> MariaDB:
    """A private server; `buffer_pool` 64M keeps test servers small (MariaDB's default: 128M)."""
    mariadbd = find_binary("mariadbd", "mysqld")
    install = find_binary("mariadb-install-db", "mysql_install_db")
    if not mariadbd or not install:
        raise FileNotFoundError("mariadbd not installed (apt-get install mariadb-server)")
    datadir = base / "data"
    datadir.mkdir(parents=True)
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={datadir}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            *as_root,
        ],
        capture_output=True,
        check=True,
    )
    port = free_port()
    log = open(base / "mariadbd.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={datadir / 'mysqld.sock'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={datadir / 'mariadbd.pid'}",
            "--skip-name-resolve",
            "--skip-log-bin",
            f"--innodb-buffer-pool-size={buffer_pool}",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--max-connections=500",
            *as_root,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = MariaDB(datadir, port, process, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited: see {base / 'mariadbd.log'}")
        try:
            server.sql("SELECT 1")
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)
    pw = PASSWORD.replace("'", "''")
    server.sql(
        f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{pw}'; "
        f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%'; FLUSH PRIVILEGES"
    )
    return server
