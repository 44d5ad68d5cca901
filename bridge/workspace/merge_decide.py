"""Whether a stale write may be merged and committed, and why not when it may not.

`decide_merge` runs the three-way merge and the checks a merged result must pass before the
bridge commits it on an agent's behalf, in this order:

1. `conflict`: the merge has conflicting hunks (returned, so the agent can redo its change);
2. `breaks_parsing`: the current file parses but the merge does not (a merge must not turn a file
   that parsed into one that does not);
3. `out_of_scope`: the agent's own changes (base -> ours) leave its claimed symbols: a changed or
   removed base line must lie in a claimed symbol's range in the base, an added line in a claimed
   symbol's range in the agent's version (so a new function it claimed may be added). Blank lines
   and import statements are allowed anywhere: changing a function often needs an import.
   A whole-file claim (`claimed=None`) is never out of scope;
4. otherwise `merged`, with the merged text and the agent's hunks as they landed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from bridge.workspace.merge import AppliedHunk, Change, ConflictHunk, LineRange, merge3, split_lines
from bridge.workspace.state import state_ref_of_bytes
from bridge.workspace.symbols import (
    DEFAULT_CACHE,
    FileSymbols,
    SymbolCache,
    extract_symbols,
    merge_spans,
)

Outcome = Literal["merged", "conflict", "breaks_parsing", "out_of_scope"]


@dataclass(frozen=True, slots=True)
class OutsideHunk:
    """One of the agent's changes that leaves its claimed symbols; `symbols` are the ones it touches
    (empty when it touches lines outside every symbol)."""

    base: LineRange
    ours: LineRange
    removed: str
    added: str
    symbols: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base.to_json(),
            "ours": self.ours.to_json(),
            "removed": self.removed,
            "added": self.added,
            "symbols": list(self.symbols),
        }


@dataclass(frozen=True, slots=True)
class MergeDecision:
    outcome: Outcome
    reason: str
    base_state_ref: str
    current_state_ref: str
    ours_state_ref: str
    text: str | None = None  # the merged content (outcome "merged")
    merged_state_ref: str | None = None
    applied: tuple[AppliedHunk, ...] = ()
    conflicts: tuple[ConflictHunk, ...] = ()
    outside: tuple[OutsideHunk, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "base_state_ref": self.base_state_ref,
            "current_state_ref": self.current_state_ref,
            "ours_state_ref": self.ours_state_ref,
            "merged_state_ref": self.merged_state_ref,
            "applied": [h.to_json() for h in self.applied],
            "conflicts": [h.to_json() for h in self.conflicts],
            "outside": [h.to_json() for h in self.outside],
        }


def _ref(text: str) -> str:
    return state_ref_of_bytes(text.encode("utf-8", "surrogatepass"))


class _Refs(TypedDict):
    """The three inputs' state_refs, which every MergeDecision carries."""

    base_state_ref: str
    current_state_ref: str
    ours_state_ref: str


def decide_merge(
    path: str,
    base: str,
    current: str,
    ours: str,
    claimed: Iterable[str] | None,
    *,
    cache: SymbolCache | None = DEFAULT_CACHE,
) -> MergeDecision:
    """Decide for the agent's write of `ours` over `current`, read as `base`. `claimed` are the
    qualified symbol names of `path` the agent's intent holds (None or `*`: the whole file). Raises
    MergeError only when git cannot be run."""
    if claimed is not None and "*" in set(claimed):  # `path::*`: the whole file is claimed
        claimed = None
    refs: _Refs = {
        "base_state_ref": _ref(base),
        "current_state_ref": _ref(current),
        "ours_state_ref": _ref(ours),
    }
    m = merge3(base, current, ours)
    if not m.clean:
        n = len(m.conflicts)
        return MergeDecision(
            "conflict",
            f"{n} of your change{'s' if n > 1 else ''} overlap{'' if n > 1 else 's'} "
            "changes made since you read the file",
            conflicts=m.conflicts,
            applied=m.applied,
            **refs,
        )
    now = extract_symbols(path, current, state_ref=refs["current_state_ref"], cache=cache)
    merged_ref = _ref(m.text)
    if now.parses:
        after = extract_symbols(path, m.text, state_ref=merged_ref, cache=cache)
        if not after.parses:
            return MergeDecision(
                "breaks_parsing",
                f"the file parses now but the merge would not: {after.reason}",
                applied=m.applied,
                **refs,
            )
    if claimed is not None:
        names = set(claimed)
        before = extract_symbols(path, base, state_ref=refs["base_state_ref"], cache=cache)
        mine = extract_symbols(path, ours, state_ref=refs["ours_state_ref"], cache=cache)
        for version, syms in (("the version you read", before), ("your version", mine)):
            if not syms.parses:
                return MergeDecision(
                    "out_of_scope",
                    f"cannot tell which symbols you changed: {version} of {path} has no "
                    f"symbols ({syms.reason}); claim the whole file",
                    applied=m.applied,
                    **refs,
                )
        outside = changes_outside(
            m.ours_changes, split_lines(base), split_lines(ours), before, mine, names
        )
        if outside:
            touched = sorted({s for h in outside for s in h.symbols})
            where = f" (touching {', '.join(touched)})" if touched else " (outside every symbol)"
            return MergeDecision(
                "out_of_scope",
                f"{len(outside)} of your changes lie outside the symbols you claimed "
                f"({', '.join(sorted(names)) or 'none'}){where}",
                applied=m.applied,
                outside=tuple(outside),
                **refs,
            )
    return MergeDecision(
        "merged",
        f"merged {len(m.applied)} of your change(s) into the current file",
        text=m.text,
        merged_state_ref=merged_ref,
        applied=m.applied,
        **refs,
    )


class _Lines:
    """Line numbers allowed to change: claimed symbol ranges and import statements."""

    def __init__(self, syms: FileSymbols, names: set[str]) -> None:
        merged = merge_spans(syms.ranges(names) + list(syms.imports))
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]

    def __contains__(self, line: int) -> bool:
        i = bisect_right(self.starts, line) - 1
        return i >= 0 and line <= self.ends[i]


def changes_outside(
    changes: Iterable[Change],
    base_lines: list[str],
    our_lines: list[str],
    before: FileSymbols,
    mine: FileSymbols,
    names: set[str],
) -> list[OutsideHunk]:
    """The agent's changes (base -> ours) that touch lines outside its claimed symbols."""
    ok_before, ok_mine = _Lines(before, names), _Lines(mine, names)
    out: list[OutsideHunk] = []
    for c in changes:
        bad_base = [
            n for n in range(c.a0 + 1, c.a1 + 1) if n not in ok_before and base_lines[n - 1].strip()
        ]
        bad_ours = [
            n for n in range(c.b0 + 1, c.b1 + 1) if n not in ok_mine and our_lines[n - 1].strip()
        ]
        if bad_base or bad_ours:
            touched = {s.name for n in bad_base if (s := before.at(n))} | {
                s.name for n in bad_ours if (s := mine.at(n))
            }
            out.append(
                OutsideHunk(
                    LineRange(c.a0 + 1, c.a1 - c.a0),
                    LineRange(c.b0 + 1, c.b1 - c.b0),
                    "".join(base_lines[c.a0 : c.a1]),
                    "".join(our_lines[c.b0 : c.b1]),
                    tuple(sorted(touched)),
                )
            )
    return out
