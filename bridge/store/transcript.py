"""The audit transcript on disk: one JSON record per line, appended as it happens and flushed
before the output it records is sent."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from bridge.core.audit import Verification, verify_lines
from bridge.protocol.constants import PROTOCOL_VERSION


class TranscriptWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the session's life
        self._lines: list[str] = []
        self._write_lock = threading.Lock()

    def __call__(self, line: str) -> None:
        """The audit chain's sink. Held back until flush(): the sidecar flushes once per handled
        message, after its journal entry committed and before any of its output is sent (a
        message has three or more records), and discards the records of a call whose journal
        entry could not be written (that call is undone)."""
        self._lines.append(line)

    def flush(self) -> None:
        self.write_lines(self.take())

    def take(self) -> list[str]:
        """The held-back lines, handed to whoever writes them (the sidecar's journal thread)."""
        lines, self._lines = self._lines, []
        return lines

    def write_lines(self, lines: list[str]) -> None:
        """Append `lines` and flush them to the OS (from the loop or the journal's thread)."""
        with self._write_lock:
            if lines:
                self._fh.write("\n".join(lines) + "\n")
            self._fh.flush()

    def discard(self) -> None:
        self._lines.clear()

    def close(self) -> None:
        self.flush()
        self._fh.close()


def verify_file(path: Path) -> Verification:
    with open(path, "rb") as fh:
        return verify_lines(fh)


def export_transcript(
    path: Path, session_id: str, snapshot: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The §9.6.3 export: messages in causal (Lamport) order, tie-broken by sender."""
    messages = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("kind") in ("in", "out"):
                messages.append(rec["message"])

    def order(m: dict[str, Any]) -> tuple:
        wm = m.get("watermark") or {}
        lam = wm.get("value") if wm.get("kind") == "lamport_clock" else wm.get("lamport_value")
        sender = m.get("sender") or {}
        return (
            lam if isinstance(lam, int) else 0,
            sender.get("principal_id", ""),
            sender.get("sender_instance_id", ""),
        )

    messages.sort(key=order)
    return {
        "session_id": session_id,
        "protocol_version": PROTOCOL_VERSION,
        "participants": (snapshot or {}).get("participants", []),
        "messages": messages,
        "final_snapshot": snapshot,
    }
