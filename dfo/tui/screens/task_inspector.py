"""Task inspector: items, the dependency tree with active blockers, memories with search."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, Tree

from dfo.models import Dependencies, Memory
from dfo.text import one_line

if TYPE_CHECKING:
    from dfo.tui.app import DfoApp


class TaskInspectorScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "enqueue", "Enqueue"),
        Binding("slash", "search", "Search memories", key_display="/"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    @property
    def dfo(self) -> DfoApp:
        return cast("DfoApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="task-head")
        with Horizontal():
            with Vertical():
                yield DataTable[Text](id="task-items")
                yield Tree[str]("dependencies", id="task-deps")
            with Vertical():
                yield Input(placeholder="search memories (any text)", id="memory-search")
                yield DataTable[Text](id="task-memories")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "enqueue" and self.dfo.readonly)

    def on_mount(self) -> None:
        self.sub_title = f"task {self.code}"
        items = self.query_one("#task-items", DataTable)
        items.add_columns("#", "done", "item")
        items.cursor_type = "row"
        memories = self.query_one("#task-memories", DataTable)
        memories.add_columns("importance", "summary", "content")
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        task, items, deps, found = await self.dfo.task_details(self.code)
        head = Text()
        head.append(f"{task.code} ", style="bold")
        head.append(one_line(task.title, 80))
        head.append(
            f"   {task.status}  {task.progress}%  items {task.items_completed}/"
            f"{task.items_total}  agent {task.agent_name or '-'}",
            style="dim",
        )
        self.query_one("#task-head", Static).update(head)
        table = self.query_one("#task-items", DataTable)
        table.clear()
        for item in items:
            table.add_row(
                Text(str(item.sort_order)),
                Text("x" if item.is_completed else " "),
                Text(one_line(item.title, 80)),
            )
        self.show_dependencies(deps)
        self.show_memories(found)

    def show_dependencies(self, deps: Dependencies) -> None:
        tree = self.query_one("#task-deps", Tree)
        tree.clear()
        tree.root.expand()
        blocker_ids = {d.id for d in deps.blockers}
        waits = tree.root.add("waits for", expand=True)
        unblocks = tree.root.add("blocks / relates to", expand=True)
        for dep in deps.all:
            if dep.target_task_code == self.code:
                label = Text(
                    f"{dep.source_task_code} ({dep.dependency_type}, {dep.source_task_status})"
                )
                if dep.id in blocker_ids:
                    label.stylize("bold red")
                    label.append("  BLOCKING", style="bold red")
                waits.add_leaf(label, data=dep.source_task_code)
            else:
                unblocks.add_leaf(
                    Text(
                        f"{dep.target_task_code} ({dep.dependency_type}, {dep.target_task_status})"
                    ),
                    data=dep.target_task_code,
                )

    def show_memories(self, found: list[Memory]) -> None:
        table = self.query_one("#task-memories", DataTable)
        table.clear()
        for memory in found:
            table.add_row(
                Text(f"{memory.importance:.2f}"),
                Text(one_line(memory.summary or "", 30)),
                Text(one_line(memory.content, 80)),
            )

    @on(Tree.NodeSelected, "#task-deps")
    def jump(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data:
            self.app.push_screen(TaskInspectorScreen(event.node.data))

    def action_search(self) -> None:
        self.query_one("#memory-search", Input).focus()

    @on(Input.Submitted, "#memory-search")
    def search(self, event: Input.Submitted) -> None:
        self.run_search(event.value)

    @work(exclusive=True, group="search")
    async def run_search(self, query: str) -> None:
        if query.strip():
            self.show_memories(await self.dfo.search_memories(self.code, query))
        else:
            _, _, _, found = await self.dfo.task_details(self.code)
            self.show_memories(found)

    def action_enqueue(self) -> None:
        from dfo.tui.screens.jobs import JobsScreen

        jobs = next((s for s in self.app.screen_stack if isinstance(s, JobsScreen)), None)
        if jobs is not None:
            jobs.action_enqueue(self.code)
