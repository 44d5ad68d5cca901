"""Messages the dashboard posts to itself (small classes, one event each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class SessionEvent(Message):
    """A message from the coordinator (already folded into the client's view)."""

    msg: dict[str, Any]


@dataclass
class ConnectionChanged(Message):
    """The client's connection state: connected, reconnecting, disconnected, closed."""

    state: str


@dataclass
class FilesChanged(Message):
    """The repository's file list changed on disk (full list of tracked and untracked files)."""

    files: list[str]


@dataclass
class ActionAnswered(Message):
    """The coordinator's answer to an action taken from the keyboard."""

    action: str
    ok: bool
    text: str
