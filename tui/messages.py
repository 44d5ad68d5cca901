"""Messages the dashboard posts to itself (small classes, one event each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.notifications import SeverityLevel


@dataclass
class SessionEvent(Message):
    """A message from the coordinator (already folded into the client's view)."""

    msg: dict[str, Any]


@dataclass
class ConnectionChanged(Message):
    """The client's connection state: connected, reconnecting, disconnected, closed. `fresh`: the
    source (re)started following the session, so every row is reconciled with the view."""

    state: str
    fresh: bool = False


@dataclass
class SidecarMoved(Message):
    """The repository's sidecar was restarted at a new url (workspace mode)."""

    url: str


@dataclass
class Notice(Message):
    """Something the person should read (a join that failed, a sidecar that cannot start)."""

    text: str
    severity: SeverityLevel = "warning"
    timeout: float = 5.0


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
