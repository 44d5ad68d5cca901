"""The diagnostics store: one list of diagnostics per (source, uri), merged per uri for publishing.

Pure: it never talks to the client. The server asks `pending()` which uris changed since their
last publish, publishes `merged(uri)` and calls `published(uri)`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from lsprotocol import types


class DiagnosticStore:
    """Diagnostics keyed by (source, uri). A source is one cause (intent, conflict, stale...)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], list[types.Diagnostic]] = {}
        self._last: dict[str, list[types.Diagnostic]] = {}

    def set(self, source: str, uri: str, diagnostics: Iterable[types.Diagnostic]) -> None:
        diags = list(diagnostics)
        if diags:
            self._by_key[(source, uri)] = diags
        else:
            self._by_key.pop((source, uri), None)

    def get(self, source: str, uri: str) -> list[types.Diagnostic]:
        return list(self._by_key.get((source, uri), []))

    def clear(self, uri: str, source: str | None = None) -> None:
        """Drop one source's diagnostics for `uri`, or all of them."""
        for key in [k for k in self._by_key if k[1] == uri and (source is None or k[0] == source)]:
            del self._by_key[key]

    def merged(self, uri: str) -> list[types.Diagnostic]:
        """Every source's diagnostics for `uri`, in a stable order (severity, then source)."""
        out: list[types.Diagnostic] = []
        for key in sorted(k for k in self._by_key if k[1] == uri):
            out.extend(self._by_key[key])
        out.sort(key=lambda d: int(d.severity or types.DiagnosticSeverity.Hint))
        return out

    def uris(self) -> builtins.set[str]:  # plain `set` here names the method above
        """Every uri with diagnostics now or at its last publish."""
        return {k[1] for k in self._by_key} | set(self._last)

    def pending(self, uri: str) -> bool:
        """True when `merged(uri)` differs from what was last published for it."""
        return self.merged(uri) != self._last.get(uri, [])

    def published(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        if diagnostics:
            self._last[uri] = list(diagnostics)
        else:
            self._last.pop(uri, None)

    def forget(self, uri: str) -> None:
        """Forget `uri` entirely (after its empty list was published)."""
        self.clear(uri)
        self._last.pop(uri, None)
