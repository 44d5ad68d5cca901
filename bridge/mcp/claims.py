"""begin_task's symbol claims (issue 19): the symbols named `path::Qualified.name` are checked
against their files before they are announced. A file that does not parse, or whose language has
no parser here, is claimed whole (`path::*`), and the result says why; a name the file does not
have yet is claimed as a new symbol, with a note. Every file of the claim is kept in the base
store, so a stale write based on it can be merged later."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bridge.client.scope import is_symbol_id, split_symbol
from bridge.mcp.context import ToolContext
from bridge.workspace import Repo
from bridge.workspace.bases import BaseStore, read_small
from bridge.workspace.symbols import extract_symbols, language_for, name_covers


@dataclass
class SymbolClaim:
    symbols: list[str] = field(
        default_factory=list
    )  # symbol ids to announce (path::name or path::*)
    hints: list[str] = field(default_factory=list)  # bare names: affects_symbols only
    files: list[str] = field(default_factory=list)  # the files the symbols are in
    notes: list[str] = field(default_factory=list)


def _check(
    repo: Repo | None,
    store: BaseStore | None,
    files: list[str],
    ids: list[tuple[str, str]],
    check: bool,
) -> tuple[list[str], list[str]]:
    """(symbol ids to announce, notes). Reads each file once; keeps it as a base. Blocking."""
    contents: dict[str, bytes | None] = {}
    for path in dict.fromkeys([*files, *(p for p, _ in ids)]):
        data = read_small(repo.root / path, path) if repo is not None else None
        contents[path] = data
        if data is not None and store is not None:
            store.put(data)
    out: list[str] = []
    notes: list[str] = []
    whole: set[str] = set()
    for path, name in ids:
        if path in whole:
            continue
        data = contents.get(path)
        if not check or repo is None:
            out.append(f"{path}::{name}")
            continue
        if (
            data is None
        ):  # a new file (or one too large to parse: the coordinator still compares names)
            if language_for(path) is None:
                whole.add(path)
                notes.append(
                    f"{path}: no symbol parser for this kind of file; claimed as a whole file"
                )
            else:
                out.append(f"{path}::{name}")
            continue
        found = extract_symbols(path, data)
        if not found.parses:
            whole.add(path)
            notes.append(f"{path}: {found.reason}; claimed as a whole file ({path}::*)")
            continue
        if name != "*" and not any(name_covers(name, s.name) for s in found.symbols):
            notes.append(f"{name} is not in {path} yet: claimed as a new symbol")
        out.append(f"{path}::{name}")
    out = [s for s in out if s.split("::", 1)[0] not in whole] + [f"{p}::*" for p in sorted(whole)]
    return list(dict.fromkeys(out)), notes


async def resolve_claim(
    ctx: ToolContext, files: list[str], symbols: list[str], granularity: str
) -> SymbolClaim:
    """The claim of begin_task's `symbols` beside its (resolved) `files`. Raises ValueError on a
    malformed symbol id and PathRefused on a symbol's file that may not be claimed."""
    claim = SymbolClaim()
    raw: list[tuple[str, str]] = []
    for s in symbols:
        if is_symbol_id(s):
            raw.append(split_symbol(s))
        elif s.strip():
            claim.hints.append(s.strip())
    paths = await ctx.resolve(list(dict.fromkeys(p for p, _ in raw))) if raw else []
    by_raw = dict(zip(dict.fromkeys(p for p, _ in raw), paths, strict=True))
    ids = [(by_raw[p], n) for p, n in raw]
    claim.files = list(dict.fromkeys(by_raw.values()))
    repo = ctx.repo if ctx.url is None else None
    store = BaseStore.for_repo(repo) if repo is not None else None
    announced, claim.notes = await asyncio.to_thread(
        _check, repo, store, files, ids, granularity == "symbol"
    )
    claim.symbols = announced
    return claim
