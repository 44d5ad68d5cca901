"""The demo's narrator: one line per step, coloured when the terminal allows it."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

COLORS = {
    "agent:alice": "cyan",
    "agent:bob": "magenta",
    "agent:carol": "green",
    "agent:dave": "red",
    "human:lead": "yellow",
    "disk": "blue",
}


class DemoFailed(Exception):
    """The coordinator answered something the scenario did not expect."""


class Narrator:
    def __init__(self, color: bool = True) -> None:
        self.console = Console(no_color=not color, highlight=False, soft_wrap=True)
        self.steps = 0

    def chapter(self, title: str) -> None:
        self.console.print()
        self.console.rule(f"[bold]{title}")

    def say(self, who: str, what: str, answer: str = "", ok: bool = True) -> None:
        self.steps += 1
        style = COLORS.get(who, "white")
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        tail = f"  [dim]→[/] {answer}" if answer else ""
        self.console.print(f"{mark} [{style}]{who:<12}[/] {what}{tail}")

    def note(self, text: str) -> None:
        self.console.print(f"  [dim]{text}[/]")

    def expect(self, cond: bool, what: str) -> None:
        if not cond:
            raise DemoFailed(what)

    def summary(self, view: Any, commits: list[tuple[str, str, str]]) -> None:
        table = Table(title="Session at the end", show_lines=False)
        for col in ("principal", "live intents", "files"):
            table.add_column(col)
        for pid in sorted(view.participants):
            mine = view.intents_of(pid)
            files = sorted({f for i in mine for f in (i.get("scope") or {}).get("resources", [])})
            table.add_row(
                pid, ", ".join(i["intent_id"] for i in mine) or "-", ", ".join(files) or "-"
            )
        self.console.print(table)
        commit_table = Table(title="Commits that reached the disk")
        for col in ("by", "file", "state ref after"):
            commit_table.add_column(col)
        for who, path, ref in commits:
            commit_table.add_row(who, path, ref[:23] + "…")
        self.console.print(commit_table)
