"""Detail modals for an intent and a conflict, and small prompts (text, choice)."""

from __future__ import annotations

import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static

from tui.model import escape


class DetailScreen(ModalScreen[None]):
    """A read-only detail view; Escape or Enter closes it."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Label(f"[b]{escape(self.title_text)}[/]", id="detail-title")
            with VerticalScroll():
                yield Static(self.body, id="detail-body")
            yield Label("[dim]Esc to close[/]")


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text (None when cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(escape(self.question))
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("[dim]Enter to confirm, Esc to cancel[/]")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(ModalScreen[str | None]):
    """Pick one of a few options (None when cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, options: list[str]) -> None:
        super().__init__()
        self.question, self.options = question, options

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(escape(self.question))
            yield OptionList(*self.options, id="prompt-options")
            yield Label("[dim]Enter to choose, Esc to cancel[/]")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


def dump(value: Any) -> str:
    return escape(json.dumps(value, indent=1, sort_keys=True, default=str))
