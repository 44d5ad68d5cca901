"""submit_change's merge step on its own (no sidecar): the base comes from the store, the current
file from disk, and every way it can refuse says why."""

from __future__ import annotations

from pathlib import Path

from bridge.mcp.merging import merge_extension, merge_stale, stale_message
from bridge.workspace import find_repo, state_ref_of_bytes
from bridge.workspace.bases import BaseStore, remember_file
from tests.mcp.conftest import make_repo

BASE = "import os\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n"


def ref(text: str) -> str:
    return state_ref_of_bytes(text.encode())


def test_merge_stale_outcomes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    repo = find_repo(root)
    store = BaseStore.for_repo(repo)
    (root / "m.py").write_text(BASE)
    assert remember_file(repo, "m.py") == ref(BASE)  # what the agent read is kept
    current = BASE.replace("return 1", "return 10")
    (root / "m.py").write_text(current)
    ours = BASE.replace("return 2", "return 20")
    m = merge_stale(repo, store, "m.py", ref(BASE), ref(current), ours, {"g"})
    assert (
        m.ok
        and m.text == current.replace("return 2", "return 20")
        and m.merged_state_ref == ref(m.text)
    )
    assert m.info.outcome == "merged" and [h.result.start for h in m.info.applied] == [9]
    assert store.get(m.merged_state_ref) == m.text.encode()  # the merge is the agent's next base
    # out of scope: the claim is f, the change is in g
    m = merge_stale(repo, store, "m.py", ref(BASE), ref(current), ours, {"f"})
    assert (
        not m.ok
        and m.info.outcome == "out_of_scope"
        and "Claim those symbols" in stale_message(m.info)
    )
    # a whole-file claim (None) is never out of scope
    assert merge_stale(repo, store, "m.py", ref(BASE), ref(current), ours, None).ok
    # conflict: both changed f
    m = merge_stale(
        repo, store, "m.py", ref(BASE), ref(current), BASE.replace("return 1", "return 11"), {"f"}
    )
    assert m.info.outcome == "conflict" and m.info.conflicts[0].current_text == "    return 10\n"
    # the base is unknown, the file is changing, or was deleted: no merge, and why
    m = merge_stale(repo, store, "m.py", ref("never read\n"), ref(current), ours, {"g"})
    assert m.info.outcome == "no_base" and "get_file_state" in m.info.reason
    m = merge_stale(repo, store, "m.py", ref(BASE), ref("something else\n"), ours, {"g"})
    assert m.info.outcome == "no_base" and "changing" in m.info.reason
    (root / "m.py").unlink()
    m = merge_stale(repo, store, "m.py", ref(BASE), "sha256:absent", ours, {"g"})
    assert m.info.outcome == "no_base" and "deleted" in m.info.reason


def test_merge_extension_keeps_the_worktree() -> None:
    from bridge.mcp.merging import Merge, MergeInfo

    merge = Merge(
        MergeInfo(outcome="merged", base_state_ref="sha256:b", current_state_ref="sha256:c"),
        "x",
        "sha256:m",
        2,
    )
    ext = merge_extension(
        {"mpac-bridge": {"worktree": {"id": "wt1"}}}, merge, "sha256:b", "sha256:o", {"g", "f"}
    )
    assert ext == {
        "mpac-bridge": {
            "worktree": {"id": "wt1"},
            "merge": {
                "base_state_ref": "sha256:b",
                "ours_state_ref": "sha256:o",
                "hunks": 2,
                "symbols": ["f", "g"],
            },
        }
    }
    assert (
        merge_extension(None, merge, "sha256:b", "sha256:o", None)["mpac-bridge"]["merge"][
            "symbols"
        ]
        == []
    )
