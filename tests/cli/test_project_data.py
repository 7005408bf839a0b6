"""Project data from the shell, on both backends: import, blockers, memories, add/list/show."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.conftest import EXAMPLE, Dfo


def test_import_blockers_and_memories(dfo: Dfo) -> None:
    first = dfo("import", str(EXAMPLE), "--json")
    assert first.code == 0, first.stderr
    assert first.json()["summary"]["tasks"]["created"] == 22
    again = dfo("import", str(EXAMPLE), "--json")
    assert all(c["created"] == c["updated"] == 0 for c in again.json()["summary"].values())

    blockers = dfo("blockers", "shop-306", "--json")
    assert blockers.code == 0, blockers.stderr
    assert blockers.json()["blocked"] is True
    assert sorted(b["code"] for b in blockers.json()["blockers"]) == ["SHOP-301", "SHOP-305"]
    free = dfo("blockers", "SHOP-101", "--json")
    assert free.json() == {"task": "SHOP-101", "blocked": False, "blockers": []}

    hostile = dfo("memories", "SHOP-202", "--search", "C++ (bob@example.com", "--json")
    assert hostile.code == 0, hostile.stderr
    assert [m["summary"] for m in hostile.json()["memories"]] == ["legacy C++ engine"]
    context = dfo("memories", "SHOP-202", "--json")
    assert context.code == 0 and 0 < len(context.json()["memories"]) <= 10
    summaries = {m["summary"] for m in context.json()["memories"]}
    assert {"3DS timeout", "decline messages", "authorise vs capture"} <= summaries
    searched = dfo("memories", "--search", "idempotency", "--project", "SHOP", "--json")
    assert [m["summary"] for m in searched.json()["memories"]] == ["idempotency keys"]


def test_add_list_show_and_depend(dfo: Dfo) -> None:
    assert dfo("project", "add", "web", "Website", "--description", "the site").code == 0
    assert dfo("agent", "add", "fast", "--kind", "demo", "--config", '{"delay": 0}').code == 0
    one = dfo(
        "task",
        "add",
        "WEB",
        "Landing page",
        "-i",
        "hero",
        "-i",
        "footer",
        "--agent",
        "fast",
        "--json",
    )
    assert one.code == 0, one.stderr
    assert (one.json()["code"], one.json()["items_total"]) == ("WEB-1", 2)
    assert dfo("task", "add", "WEB", "Pricing page").code == 0
    assert dfo("task", "depend", "WEB-1", "--blocks", "WEB-2").code == 0

    shown = dfo("task", "show", "WEB-2", "--json").json()
    assert [d["source_task_code"] for d in shown["dependencies"]["blockers"]] == ["WEB-1"]
    listed = dfo("task", "list", "--project", "web", "--json").json()
    assert [t["code"] for t in listed] == ["WEB-1", "WEB-2"]
    assert dfo("project", "list", "--json").json()[0]["tasks"] == 2
    assert dfo("project", "show", "WEB", "--json").json()["tasks"][0]["code"] == "WEB-1"
    assert dfo("agent", "show", "fast", "--json").json()["config"] == {"delay": 0}

    cycle = dfo("task", "depend", "WEB-2", "--blocks", "WEB-1")
    assert cycle.code == 2
    assert cycle.stderr.strip() == "dfo: error: dependency cycle: WEB-2 -> WEB-1 -> WEB-2"


def test_user_text_is_printed_literally(dfo: Dfo) -> None:
    dfo("project", "add", "WEB", "Website")
    title = "[bold]x[/bold] [@click=app.quit] \x1b]0;pwned\x07 \u202eevil"
    assert dfo("task", "add", "WEB", title).code == 0
    listed = dfo("task", "list")
    assert "[bold]x[/bold] [@click=app.quit]" in listed.stdout
    assert (
        "\x1b" not in listed.stdout
        and "\u202e" not in listed.stdout
        and "pwned" not in listed.stdout
    )
    as_json = dfo("task", "show", "WEB-1", "--json").json()
    assert as_json["title"] == title  # data stays data in JSON


def test_invalid_import_file_reports_the_path_and_writes_nothing(dfo: Dfo, tmp_path: Path) -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["tasks"][3]["items"][0] = {"done": True}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    result = dfo("import", str(bad))
    assert result.code == 2
    assert result.stderr.splitlines()[0] == f"dfo: error: {bad}: tasks[3].items[0].title: required"
    assert dfo("project", "list", "--json").json() == []
