"""The three-way merge: hunks, conflicts with their ranges, and agreement with `git merge-file`."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.workspace.merge import LineRange, MergeError, merge3, split_lines

BASE = "".join(f"line {n}\n" for n in range(1, 11))  # line 1 .. line 10


def edit(text: str, **repl: str) -> str:
    lines = split_lines(text)
    for key, new in repl.items():
        n = int(key.removeprefix("l"))
        lines[n - 1] = new
    return "".join(lines)


def git_merge_file(base: str, current: str, ours: str) -> tuple[bool, str]:
    """What `git merge-file -p current base ours` says: (clean, text)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in (("current", current), ("base", base), ("ours", ours)):
            (root / name).write_bytes(text.encode())
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        out = subprocess.run(
            ["git", "merge-file", "-p", "current", "base", "ours"],
            cwd=root,
            capture_output=True,
            env=env,
        )
    assert 0 <= out.returncode < 128, out.stderr
    return out.returncode == 0, out.stdout.decode()


def test_split_lines_splits_on_newline_only() -> None:
    assert split_lines("") == []
    assert split_lines("a\nb") == ["a\n", "b"]
    assert split_lines("a\r\nb\x0c\n\n") == [
        "a\r\n",
        "b\x0c\n",
        "\n",
    ]  # \r and form feed stay inside lines


def test_clean_merge_applies_both_sides_and_reports_our_hunks() -> None:
    current = edit(BASE, l2="line 2 (theirs)\n")
    ours = edit(BASE, l8="line 8 (ours)\n").replace("line 5\n", "line 5\nadded a\nadded b\n")
    m = merge3(BASE, current, ours)
    assert m.clean and not m.conflicts
    assert m.text == edit(BASE, l2="line 2 (theirs)\n", l8="line 8 (ours)\n").replace(
        "line 5\n", "line 5\nadded a\nadded b\n"
    )
    assert [(h.base, h.result, h.removed, h.added) for h in m.applied] == [
        (
            LineRange(6, 0),
            LineRange(6, 2),
            "",
            "added a\nadded b\n",
        ),  # an insertion before base line 6
        (
            LineRange(8, 1),
            LineRange(10, 1),
            "line 8\n",
            "line 8 (ours)\n",
        ),  # shifted by the insertion
    ]
    assert m.applied[0].to_json() == {
        "base": {"start": 6, "end": 5, "count": 0},
        "result": {"start": 6, "end": 7, "count": 2},
        "removed": "",
        "added": "added a\nadded b\n",
        "same_as_current": False,
    }
    assert len(m.ours_changes) == 2 and len(m.current_changes) == 1


def test_conflict_reports_the_region_in_every_version() -> None:
    current = edit(BASE, l5="five (theirs)\n").replace(
        "line 1\n", "line 0\nline 1\n"
    )  # shifts current by one
    ours = edit(BASE, l5="five (ours)\n", l6="six (ours)\n")
    m = merge3(BASE, current, ours)
    assert not m.clean and len(m.conflicts) == 1 and m.applied == ()
    c = m.conflicts[0]
    assert (c.base, c.current, c.ours) == (LineRange(5, 2), LineRange(6, 2), LineRange(5, 2))
    assert (c.base_text, c.current_text, c.ours_text) == (
        "line 5\nline 6\n",
        "five (theirs)\nline 6\n",
        "five (ours)\nsix (ours)\n",
    )
    assert (
        "<<<<<<< current\nfive (theirs)\nline 6\n||||||| base\nline 5\nline 6\n=======\nfive (ours)\nsix (ours)\n>>>>>>> yours\n"
        in m.text
    )
    assert c.to_json()["current"] == {"start": 6, "end": 7, "count": 2}


def test_changes_on_adjacent_lines_conflict_as_in_git() -> None:
    current, ours = edit(BASE, l4="four\n"), edit(BASE, l5="five\n")
    m = merge3(BASE, current, ours)
    assert not m.clean
    assert git_merge_file(BASE, current, ours)[0] is False


def test_identical_changes_merge_cleanly() -> None:
    both = edit(BASE, l3="three\n")
    m = merge3(BASE, both, both.replace("line 9\n", "nine\n"))
    assert m.clean and m.text == both.replace("line 9\n", "nine\n")
    assert [h.same_as_current for h in m.applied] == [True, False]


def test_insertions_at_one_place_conflict_unless_equal() -> None:
    cur = BASE.replace("line 3\n", "line 3\nX\n")
    assert not merge3(BASE, cur, BASE.replace("line 3\n", "line 3\nY\n")).clean
    assert merge3(BASE, cur, cur).clean


@pytest.mark.parametrize(
    ("base", "current", "ours", "expected"),
    [
        ("", "", "new file\n", "new file\n"),  # a file the agent creates (base absent)
        ("a\nb\n", "a\nb\n", "a\nB\n", "a\nB\n"),  # nothing changed since the read
        ("a\nb\n", "a\nB\n", "a\nB\n", "a\nB\n"),  # the same change already landed
        ("a\nb\nc\nd", "A\nb\nc\nd", "a\nb\nc\nD", "A\nb\nc\nD"),  # no newline at the end
        (
            "a\r\nb\r\nc\r\nd\r\n",
            "A\r\nb\r\nc\r\nd\r\n",
            "a\r\nb\r\nc\r\nD\r\n",
            "A\r\nb\r\nc\r\nD\r\n",
        ),  # CRLF
        ("a\nb\nc\nd\ne\n", "b\nc\nd\ne\n", "a\nb\nc\nd\n", "b\nc\nd\n"),  # deletions at both ends
    ],
)
def test_edge_cases(base: str, current: str, ours: str, expected: str) -> None:
    m = merge3(base, current, ours)
    assert m.clean and m.text == expected
    assert git_merge_file(base, current, ours) == (True, expected)


def test_merge_error_when_git_cannot_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git here
    with pytest.raises(MergeError, match="git diff could not run"):
        merge3("a\n", "b\n", "c\n")


LINES = st.sampled_from(["a\n", "b\n", "c\n", "\n", "}\n", "x = 1\n", "def f():\n", "    pass\n"])


@st.composite
def three_versions(draw: st.DrawFn) -> tuple[str, str, str]:
    base = draw(st.lists(LINES, max_size=12))

    def mutate() -> list[str]:
        lines = list(base)
        for _ in range(draw(st.integers(0, 3))):
            k = draw(st.integers(0, len(lines)))
            op = draw(st.sampled_from(["insert", "delete", "replace"]))
            if op == "insert":
                lines.insert(k, draw(LINES | st.sampled_from(["n1\n", "n2\n"])))
            elif lines:
                k = min(k, len(lines) - 1)
                if op == "delete":
                    del lines[k]
                else:
                    lines[k] = draw(st.sampled_from(["m1\n", "m2\n", "a\n"]))
        if lines and draw(st.booleans()):
            lines[-1] = lines[-1].rstrip("\n")  # sometimes no newline at the end
        return lines

    return "".join(base), "".join(mutate()), "".join(mutate())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(three_versions())
def test_agrees_with_git_merge_file(versions: tuple[str, str, str]) -> None:
    """Same verdict as `git merge-file`, and the same text whenever it is clean."""
    base, current, ours = versions
    m = merge3(base, current, ours)
    clean, text = git_merge_file(base, current, ours)
    assert m.clean == clean
    if clean:
        assert m.text == text
    else:
        assert m.conflicts
