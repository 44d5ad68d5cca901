"""Merge decisions for stale writes: merged, conflict, breaks_parsing, out_of_scope."""

from __future__ import annotations

import ast
import textwrap

import pytest

from bridge.workspace.merge import LineRange
from bridge.workspace.merge_decide import decide_merge
from bridge.workspace.state import state_ref_of_bytes

BASE = textwrap.dedent(
    """\
    import os


    def alpha():
        return 1


    def beta():
        return 2


    class Gamma:
        def one(self):
            return 1

        def two(self):
            return 2


    CONFIG = {"debug": False}
    """
)


def sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_merged_when_the_changes_are_in_different_symbols() -> None:
    current = sub(BASE, "return 2\n\n\nclass", "return 22\n\n\nclass")  # someone changed beta
    ours = sub(
        sub(BASE, "    return 1\n\n\ndef beta", "    return 11\n\n\ndef beta"),
        "import os\n",
        "import os\nimport sys\n",
    )
    d = decide_merge("pkg/m.py", BASE, current, ours, ["alpha"])
    assert d.outcome == "merged", d.reason
    assert (
        "return 11" in d.text and "return 22" in d.text and "import sys" in d.text
    )  # the import is allowed
    ast.parse(d.text)
    assert d.merged_state_ref == state_ref_of_bytes(d.text.encode())
    assert (d.base_state_ref, d.current_state_ref, d.ours_state_ref) == tuple(
        state_ref_of_bytes(t.encode()) for t in (BASE, current, ours)
    )
    assert [(h.base, h.result) for h in d.applied] == [
        (LineRange(2, 0), LineRange(2, 1)),
        (LineRange(5, 1), LineRange(6, 1)),
    ]
    doc = d.to_json()
    assert (
        doc["outcome"] == "merged"
        and len(doc["applied"]) == 2
        and doc["conflicts"] == []
        and doc["outside"] == []
    )


def test_a_claimed_method_and_a_new_claimed_function() -> None:
    current = sub(
        BASE, "        return 1\n\n    def two", "        return 100\n\n    def two"
    )  # Gamma.one changed
    ours = sub(
        BASE,
        "        return 2\n\n\nCONFIG",
        "        return 20\n\n\ndef delta():\n    return 4\n\n\nCONFIG",
    )
    # `delta` is new: the agent claimed it, so adding it is in scope
    assert decide_merge("m.py", BASE, current, ours, ["Gamma.two", "delta"]).outcome == "merged"
    # without the claim it is out of scope, and the result names the hunk and the symbol it touches
    d = decide_merge("m.py", BASE, current, ours, ["Gamma.two"])
    assert d.outcome == "out_of_scope" and d.text is None
    assert [h.symbols for h in d.outside] == [("delta",)]
    assert "Gamma.two" in d.reason and "delta" in d.reason
    # claiming the class covers its methods
    assert (
        decide_merge(
            "m.py",
            BASE,
            sub(BASE, "return 2\n\n\nclass", "return 3\n\n\nclass"),
            ours,
            ["Gamma", "delta"],
        ).outcome
        == "merged"
    )


def test_conflict_when_both_changed_the_same_lines() -> None:
    current = sub(BASE, "return 2\n\n\nclass", "return 22\n\n\nclass")
    ours = sub(BASE, "return 2\n\n\nclass", "return 23\n\n\nclass")
    d = decide_merge("m.py", BASE, current, ours, ["beta"])
    assert (
        d.outcome == "conflict"
        and d.text is None
        and "overlaps changes made since you read" in d.reason
    )
    (c,) = d.conflicts
    assert (c.base, c.current_text, c.ours_text) == (
        LineRange(9, 1),
        "    return 22\n",
        "    return 23\n",
    )
    assert d.to_json()["conflicts"][0]["base"] == {"start": 9, "end": 9, "count": 1}


def test_breaks_parsing_when_the_merge_does_not_parse() -> None:
    base = "class A:\n    def m(self):\n        pass\n\n    n = 1\n"
    current = "class A:\n\n    n = 1\n"  # parses: the method went
    ours = "class A:\n    def m(self):\n        pass\n\n"  # parses: the attribute went
    d = decide_merge("m.py", base, current, ours, None)  # together: a class with an empty body
    assert d.outcome == "breaks_parsing" and "syntax error" in d.reason and d.text is None
    assert d.applied  # what would have been applied is still shown
    # an agent's own version that does not parse cannot be merged into a file that parses
    mine = decide_merge("m.py", base, current, base.replace("n = 1", "n = (1"), None)
    assert mine.outcome == "breaks_parsing"


def test_a_current_file_that_does_not_parse_is_not_held_against_the_merge() -> None:
    base = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    current = sub(base, "return 2", "return (2")  # someone left it broken
    ours = sub(base, "return 1", "return 11")
    assert decide_merge("m.py", base, current, ours, None).outcome == "merged"


def test_out_of_scope_changes() -> None:
    current = sub(BASE, "return 2\n\n\nclass", "return 22\n\n\nclass")
    # a change in a symbol the agent did not claim
    d = decide_merge("m.py", BASE, current, sub(BASE, '"debug": False', '"debug": True'), ["alpha"])
    assert d.outcome == "out_of_scope" and [h.symbols for h in d.outside] == [("CONFIG",)]
    assert d.outside[0].base == LineRange(20, 1)
    # a module-level statement outside every symbol
    d = decide_merge("m.py", BASE, current, BASE + "print('hi')\n", ["alpha"])
    assert (
        d.outcome == "out_of_scope"
        and d.outside[0].symbols == ()
        and "outside every symbol" in d.reason
    )
    # blank lines anywhere are fine
    assert decide_merge("m.py", BASE, current, BASE + "\n\n", ["alpha"]).outcome == "merged"
    # a whole-file claim is never out of scope
    assert decide_merge("m.py", BASE, current, BASE + "print('hi')\n", None).outcome == "merged"
    assert (
        decide_merge("m.py", BASE, current, BASE + "print('hi')\n", ["alpha", "*"]).outcome
        == "merged"
    )


def test_symbols_unknown_means_out_of_scope_for_a_symbol_claim() -> None:
    base, current, ours = "a\nb\nc\nd\n", "A\nb\nc\nd\n", "a\nb\nc\nD\n"
    d = decide_merge("notes.txt", base, current, ours, ["alpha"])
    assert (
        d.outcome == "out_of_scope"
        and "claim the whole file" in d.reason
        and "no symbol parser" in d.reason
    )
    assert (
        decide_merge("notes.txt", base, current, ours, None).outcome == "merged"
    )  # no parser: nothing to check
    broken = decide_merge("m.py", "def f(:\n\n\n", "def f(:\n\n\n# x\n", "def g(:\n\n\n", ["f"])
    assert broken.outcome == "out_of_scope" and "syntax error" in broken.reason


LANGS = {
    "svc.ts": (
        "function alpha(): number {\n  return 1;\n}\n\nfunction beta(): number {\n  return 2;\n}\n",
        "return 1;",
        "return 11;",
        "return 2;",
        "return 22;",
        "return (2;",
    ),
    "lib.js": (
        "export function alpha() {\n  return 1;\n}\n\nexport function beta() {\n  return 2;\n}\n",
        "return 1;",
        "return 11;",
        "return 2;",
        "return 22;",
        "return (2;",
    ),
    "main.go": (
        "package main\n\nfunc alpha() int {\n\treturn 1\n}\n\nfunc beta() int {\n\treturn 2\n}\n",
        "return 1",
        "return 11",
        "return 2",
        "return 22",
        "return (2",
    ),
    "lib.rs": (
        "fn alpha() -> i32 {\n    1\n}\n\nfn beta() -> i32 {\n    2\n}\n",
        "    1\n",
        "    11\n",
        "    2\n",
        "    22\n",
        "    (2\n",
    ),
    "App.java": (
        "class App {\n    int alpha() {\n        return 1;\n    }\n\n    int beta() {\n        return 2;\n    }\n}\n",
        "return 1;",
        "return 11;",
        "return 2;",
        "return 22;",
        "return (2;",
    ),
}


@pytest.mark.parametrize("path", sorted(LANGS))
def test_decisions_in_every_language(path: str) -> None:
    base, a_old, a_new, b_old, b_new, b_broken = LANGS[path]
    current = sub(base, a_old, a_new)  # someone changed alpha
    ours = sub(base, b_old, b_new)  # we changed beta
    beta = "App.beta" if path.endswith(".java") else "beta"
    alpha = "App.alpha" if path.endswith(".java") else "alpha"
    d = decide_merge(path, base, current, ours, [beta])
    assert d.outcome == "merged", d.reason
    assert a_new in d.text and b_new in d.text
    assert decide_merge(path, base, current, ours, [alpha]).outcome == "out_of_scope"
    assert (
        decide_merge(
            path, base, current, sub(base, a_old, a_new.replace("1", "9")), [alpha]
        ).outcome
        == "conflict"
    )
    broken = decide_merge(path, base, current, sub(base, b_old, b_broken), [beta])
    assert broken.outcome == "breaks_parsing" and "syntax error" in broken.reason
