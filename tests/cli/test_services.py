"""`dfo health` and `dfo down` against the embedded Redis; exit 6 when a service is unreachable."""

from __future__ import annotations

from pathlib import Path

import pytest

from dfo.store import migrations
from tests.cli.conftest import Dfo
from tests.support import mariadb


def test_health_starts_embedded_redis_and_down_stops_it(dfo: Dfo, tmp_path: Path) -> None:
    health = dfo("health", "--json")
    assert health.code == 0, health.stderr
    report = health.json()
    assert report["ok"] is True
    assert (
        report["database"]["ok"] is True
        and report["database"]["schema_version"] == migrations.LATEST
    )
    redis = report["redis"]
    assert redis["embedded"] is True and redis["running"] is True and redis["started_now"] is True
    socket = Path(redis["socket"])
    assert socket.exists()

    again = dfo("health", "--json").json()["redis"]
    assert again["started_now"] is False and again["pid"] == redis["pid"]

    down = dfo("down", "--json")
    assert down.code == 0 and down.json()["stopped"] is True
    assert not socket.exists()
    assert dfo("down", "--json").json()["stopped"] is False


@pytest.mark.parametrize("backend", ["mariadb"])
def test_unreachable_database_exits_6_without_the_password(dfo: Dfo) -> None:
    url = (
        f"mysql+aiomysql://dfo:{mariadb.PASSWORD.replace('@', '%40').replace(' ', '%20')}"
        f"@127.0.0.1:{mariadb.free_port()}/dfo"
    )
    env = {"DFO_DATABASE_URL": url, "DFO_CONNECT_RETRIES": "2", "DFO_CONNECT_RETRY_DELAY": "0.1"}
    result = dfo("task", "list", env=env)
    assert result.code == 6
    assert result.stderr.splitlines()[-1].startswith(
        "dfo: error: database mysql+aiomysql://dfo:***@"
    )
    assert "after 2 attempt(s)" in result.stderr
    health = dfo("health", "--json", env=env)
    assert health.code == 6 and health.json()["database"]["ok"] is False
    for output in (result.stdout, result.stderr, health.stdout, health.stderr):
        assert "s3cr3t" not in output


@pytest.mark.parametrize("backend", ["sqlite"])
def test_external_redis_is_not_stopped(dfo: Dfo) -> None:
    result = dfo("down", "--json", env={"DFO_REDIS_URL": "redis://:pw123@127.0.0.1:1/0"})
    assert result.code == 0 and result.json()["stopped"] is False
    health = dfo("health", "--json", env={"DFO_REDIS_URL": "redis://:pw123@127.0.0.1:1/0"})
    assert health.code == 6
    assert health.json()["redis"]["url"] == "redis://:***@127.0.0.1:1/0"
    assert "pw123" not in health.stdout + health.stderr
