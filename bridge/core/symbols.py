"""The coordinator's part of symbol scopes (issue 19), kept apart from the layers that call it.

- `granular`: at `file` granularity every symbol of a scope is read as its whole file
  (`a.py::f` as `a.py::*`), so two claims in one file collide as file claims do;
- `holder_entry`: a race-lock refusal's `holders[]` entry names the files and, for symbol claims,
  the symbols;
- `symbol_target`: whether an operation's target is a file the intent's symbols are in.

The overlap rules themselves are `bridge.protocol.symbols`, applied by `scope.overlap`; the wire
form and the decisions are in docs/protocol.md, "Symbol scopes (issue 19)".
"""

from __future__ import annotations

from typing import Any

from bridge.protocol.scope import SEPARATOR, NormScope, Overlap
from bridge.protocol.symbols import whole_files

GRANULARITIES = ("symbol", "file")


def granular(norm: NormScope, granularity: str) -> NormScope:
    """The scope as a session at this granularity compares it."""
    return whole_files(norm) if granularity == "file" and norm.symbol_files else norm


def holder_entry(
    intent_id: str, principal_id: str, objective: str, expires_at: str, ov: Overlap
) -> dict[str, Any]:
    """One `holders[]` entry of a STALE_INTENT refusal: `files` are the shared files (a symbol's
    file for a symbol), `symbols` the shared symbol ids (only when symbols are shared)."""
    files = [s for s in ov.shared if SEPARATOR not in s]
    symbols = [s for s in ov.shared if SEPARATOR in s]
    if symbols:
        files = sorted({*files, *(s.split(SEPARATOR, 1)[0] for s in symbols)})
    entry: dict[str, Any] = {
        "intent_id": intent_id,
        "principal_id": principal_id,
        "objective": objective,
        "files": files,
    }
    if symbols:
        entry["symbols"] = symbols
    entry["expires_at"] = expires_at
    return entry


def symbol_target(norm: NormScope, target: NormScope) -> bool | None:
    """For an intent whose scope is symbols (and files) only: whether the operation's target file is
    one of its files. None when the scope is not a pure symbol scope (the other rules decide)."""
    if not norm.symbol_files or norm.tasks or norm.opaque:
        return None
    if sum(len(names) for _, names in norm.symbol_map) != len(norm.entities):
        return None  # plain entities too: not checkable against a path
    return bool(target.paths & norm.symbol_files)
