"""User text is shown literally; secrets never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dfo.errors import InvalidInput
from dfo.models import parse_project_code, parse_task_code
from dfo.redact import mask_url, scrub
from dfo.settings import Settings
from dfo.store.tasks import find_cycle
from dfo.text import clean, one_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain [b]markup[/b]", "plain [b]markup[/b]"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("title\x1b]0;pwned\x07 after", "title after"),
        ("osc8 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "osc8 link"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("nul\x00bell\x07", "nul bell "),
        ("c1 \x9b31m", "c1  31m"),
    ],
)
def test_clean_strips_what_a_terminal_would_interpret(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_can_keep_newlines_and_one_line_cuts() -> None:
    assert clean("a\nb\tc\x1b[1m", keep_newlines=True) == "a\nb\tc"
    assert one_line("a\n\n b   c") == "a b c"
    assert one_line("abcdef", 4) == "abc…"


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("mysql+aiomysql://dfo:p%40ss@db:3306/dfo?charset=utf8mb4") == (
        "mysql+aiomysql://dfo:***@db:3306/dfo?charset=utf8mb4"
    )
    assert mask_url("redis://:secret@host/0") == "redis://:***@host/0"
    assert mask_url("sqlite+aiosqlite:////tmp/x.db") == "sqlite+aiosqlite:////tmp/x.db"
    assert scrub("error for secret123 here", ["secret123", None]) == "error for *** here"


def test_settings_repr_masks_passwords(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        database_url="mysql+aiomysql://u:hunter22@h/db",
        redis_url="redis://:redispw@r:6379/0",
    )
    for text in (repr(settings), str(settings), str(settings.describe())):
        assert "hunter22" not in text and "redispw" not in text
        assert "u:***@h" in text


def test_settings_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings()
    assert settings.home == tmp_path / "dfo"
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'dfo' / 'dfo.db'}"
    assert settings.embedded_redis and settings.connect_retries == 10
    assert settings.connect_retry_delay == 5.0


def test_codes_are_normalised_or_rejected() -> None:
    assert parse_task_code(" shop-12 ") == "SHOP-12"
    assert parse_project_code("web2") == "WEB2"
    for bad in ["", "SHOP", "SHOP-", "-1", "SHOP-1-2", "1AB-3", "SH OP-1", "'; DROP--"]:
        with pytest.raises(InvalidInput):
            parse_task_code(bad)


def test_find_cycle_names_the_path() -> None:
    edges = {"A": {"B"}, "B": {"C"}, "C": set()}
    assert find_cycle(edges, "C", "A") == ["C", "A", "B", "C"]
    assert find_cycle(edges, "A", "C") is None
    assert find_cycle(edges, "A", "A") == ["A", "A"]
