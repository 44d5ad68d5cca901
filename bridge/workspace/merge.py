"""Three-way merge of text files: base (what the agent read), current (the file now) and ours (the
agent's new content).

The line diffs come from git (`git diff --no-index`, Myers without the indent heuristic: the same
diff `git merge-file` computes), both sides in one subprocess. The merge over the two hunk lists is
the classic diff3 rule that `git merge-file` applies: hunks of the two sides that overlap or touch in
the base form one region; a region changed by one side takes that side, a region changed by both
sides identically takes that text, anything else is a conflict. Tests check the verdict and the
text against `git merge-file` itself. Everything is reported with line ranges, so an agent can see
exactly which of its hunks were applied where, or which ones collided with whose.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
MARKER = 7


class MergeError(Exception):
    """git could not be run or answered something unexpected; the caller treats the write as stale."""


def split_lines(text: str) -> list[str]:
    """Lines as git sees them: split on newline only, each keeping its newline (the last may lack it)."""
    if not text:
        return []
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """Base lines [a0, a1) replaced by the other side's lines [b0, b1) (0-based, half-open)."""

    a0: int
    a1: int
    b0: int
    b1: int


@dataclass(frozen=True, slots=True)
class LineRange:
    """`count` lines starting at 1-based `start`; an empty range marks an insertion before `start`."""

    start: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.count - 1

    def to_json(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end, "count": self.count}


def _range(i0: int, i1: int) -> LineRange:
    return LineRange(i0 + 1, i1 - i0)


@dataclass(frozen=True, slots=True)
class AppliedHunk:
    """One of the agent's changes as it landed: `base` lines replaced, now at `result` in the merge."""

    base: LineRange
    result: LineRange
    removed: str
    added: str
    same_as_current: bool = False  # the current file already had exactly this change

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base.to_json(),
            "result": self.result.to_json(),
            "removed": self.removed,
            "added": self.added,
            "same_as_current": self.same_as_current,
        }


@dataclass(frozen=True, slots=True)
class ConflictHunk:
    """A base region both sides changed differently, with where it is in each version."""

    base: LineRange
    current: LineRange
    ours: LineRange
    base_text: str
    current_text: str
    ours_text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base.to_json(),
            "current": self.current.to_json(),
            "ours": self.ours.to_json(),
            "base_text": self.base_text,
            "current_text": self.current_text,
            "ours_text": self.ours_text,
        }


@dataclass(frozen=True, slots=True)
class MergeResult:
    """`text` is the merge; when there are conflicts it holds diff3-style markers instead."""

    clean: bool
    text: str
    applied: tuple[AppliedHunk, ...]
    conflicts: tuple[ConflictHunk, ...]
    ours_changes: tuple[Change, ...]  # base -> ours, for the scope check
    current_changes: tuple[Change, ...]  # base -> current


def _parse_diff(out: str) -> dict[str, list[Change]]:
    changes: dict[str, list[Change]] = {}
    current: list[Change] | None = None
    for line in out.splitlines():
        if line.startswith("diff --git "):
            current = changes.setdefault(line.rsplit("/", 1)[-1], [])
            continue
        m = _HUNK.match(line)
        if m is None or current is None:
            continue
        a, b = int(m[1]), int(m[3])
        ac, bc = (1 if m[2] is None else int(m[2])), (1 if m[4] is None else int(m[4]))
        a0 = a if ac == 0 else a - 1  # an empty side names the line after which it sits
        b0 = b if bc == 0 else b - 1
        current.append(Change(a0, a0 + ac, b0, b0 + bc))
    return changes


def diff_both(base: str, current: str, ours: str) -> tuple[list[Change], list[Change]]:
    """(base -> current, base -> ours) line changes, computed by one `git diff --no-index` run."""
    with tempfile.TemporaryDirectory(prefix="mpac-merge-") as tmp:
        root = Path(tmp)
        for side, text in (
            ("a/current", base),
            ("a/ours", base),
            ("b/current", current),
            ("b/ours", ours),
        ):
            (root / side).parent.mkdir(exist_ok=True)
            (root / side).write_bytes(text.encode("utf-8", "surrogatepass"))
        cmd = [
            "git",
            "diff",
            "--no-index",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            "--text",
            "-U0",
            "--no-indent-heuristic",
            "--diff-algorithm=myers",
            "a",
            "b",
        ]
        try:
            out = subprocess.run(
                cmd,
                cwd=root,
                capture_output=True,
                env={**os.environ, **_GIT_ENV},
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MergeError(f"git diff could not run: {exc}") from exc
    if out.returncode not in (0, 1):
        raise MergeError(
            f"git diff failed ({out.returncode}): {out.stderr.decode(errors='replace').strip()[:300]}"
        )
    found = _parse_diff(out.stdout.decode("utf-8", "surrogateescape"))
    return found.get("current", []), found.get("ours", [])


def _apply(base: list[str], side: list[str], changes: list[Change], r0: int, r1: int) -> list[str]:
    """The side's version of base[r0:r1], given its changes that lie in the region."""
    out: list[str] = []
    pos = r0
    for c in changes:
        out.extend(base[pos : c.a0])
        out.extend(side[c.b0 : c.b1])
        pos = c.a1
    out.extend(base[pos:r1])
    return out


def merge3(base: str, current: str, ours: str) -> MergeResult:
    """Merge ours into current over base. Never writes anything; raises MergeError if git fails."""
    cur_changes, our_changes = (
        ([], []) if base == current == ours else diff_both(base, current, ours)
    )
    b_lines, c_lines, o_lines = split_lines(base), split_lines(current), split_lines(ours)
    tagged = sorted(
        [(c.a0, c.a1, 0, c) for c in cur_changes] + [(c.a0, c.a1, 1, c) for c in our_changes],
        key=lambda t: (t[0], t[1], t[2]),
    )
    out: list[str] = []
    applied: list[AppliedHunk] = []
    conflicts: list[ConflictHunk] = []
    pos = 0  # next base line to copy
    d_cur = d_ours = 0  # line offset of current / ours against base before the region
    i = 0
    while i < len(tagged):
        r0, r1 = tagged[i][0], tagged[i][1]
        members = [tagged[i]]
        i += 1
        while i < len(tagged) and tagged[i][0] <= r1:  # overlapping or touching: one region
            r1 = max(r1, tagged[i][1])
            members.append(tagged[i])
            i += 1
        out.extend(b_lines[pos:r0])
        cur = [t[3] for t in members if t[2] == 0]
        mine = [t[3] for t in members if t[2] == 1]
        cur_text = _apply(b_lines, c_lines, cur, r0, r1) if cur else None
        our_text = _apply(b_lines, o_lines, mine, r0, r1) if mine else None
        start = len(out)
        c0, o0 = r0 + d_cur, r0 + d_ours
        d_cur += sum((c.b1 - c.b0) - (c.a1 - c.a0) for c in cur)
        d_ours += sum((c.b1 - c.b0) - (c.a1 - c.a0) for c in mine)
        if our_text is None:
            out.extend(cur_text or [])
        elif cur_text is None or cur_text == our_text:
            out.extend(our_text)
            applied.append(
                AppliedHunk(
                    _range(r0, r1),
                    _range(start, len(out)),
                    "".join(b_lines[r0:r1]),
                    "".join(our_text),
                    same_as_current=cur_text is not None,
                )
            )
        else:
            conflicts.append(
                ConflictHunk(
                    _range(r0, r1),
                    _range(c0, r1 + d_cur),
                    _range(o0, r1 + d_ours),
                    "".join(b_lines[r0:r1]),
                    "".join(cur_text),
                    "".join(our_text),
                )
            )
            out.extend(_markers(b_lines[r0:r1], cur_text, our_text))
        pos = r1
    out.extend(b_lines[pos:])
    return MergeResult(
        not conflicts,
        "".join(out),
        tuple(applied),
        tuple(conflicts),
        tuple(our_changes),
        tuple(cur_changes),
    )


def _markers(base: list[str], cur: list[str], ours: list[str]) -> list[str]:
    def block(lines: list[str]) -> list[str]:
        return [*lines[:-1], lines[-1] + "\n"] if lines and not lines[-1].endswith("\n") else lines

    return [
        "<" * MARKER + " current\n",
        *block(cur),
        "|" * MARKER + " base\n",
        *block(base),
        "=" * MARKER + "\n",
        *block(ours),
        ">" * MARKER + " yours\n",
    ]
