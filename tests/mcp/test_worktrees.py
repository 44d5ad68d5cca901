"""Issue 13.4: two worktrees of one repository on different branches, an agent in each, one sidecar.
Each commit is checked against the committing agent's own worktree, with state refs kept per
worktree; intents stay visible across worktrees, and the same path claimed in two worktrees is an
advisory conflict naming the branches (a future merge conflict, not a lost write)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.workspace import (
    ensure_sidecar,
    find_repo,
    read_runtime,
    runtime_path,
    state_ref_of_bytes,
)

pytestmark = pytest.mark.e2e


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def wt2(repo_path: Path) -> Iterator[Path]:
    """`git worktree add -b feature ../wt2`, with a.py changed and committed on the feature branch."""
    path = repo_path.parent / "wt2"
    git(repo_path, "worktree", "add", "-q", "-b", "feature", str(path))
    (path / "a.py").write_text("x = 100  # feature\n")
    git(path, "commit", "-qam", "feature a")
    yield path


async def test_each_worktree_commits_against_its_own_files(repo_path: Path, wt2: Path) -> None:
    main = ToolContext(repo=find_repo(repo_path), principal_id="agent:main")
    side = ToolContext(repo=find_repo(wt2), principal_id="agent:side")
    try:
        on_main = await tools.begin_task(
            main, "edit b on main", ["b.py"]
        )  # main starts the sidecar
        assert on_main.status == "ok"
        assert read_runtime(runtime_path(find_repo(repo_path))).workspace == str(
            repo_path.resolve()
        )
        on_a = await tools.begin_task(side, "edit a on feature", ["a.py"])
        assert on_a.status == "ok", on_a

        # a.py differs between the checkouts: wt2's own file is what counts.
        state = await tools.get_file_state(side, "a.py")
        assert state.state_ref == state_ref_of_bytes(b"x = 100  # feature\n")
        res = await tools.submit_change(
            side, on_a.intent_id or "", "a.py", state.state_ref, "x = 101  # feature\n"
        )
        assert res.status == "success", res
        assert (wt2 / "a.py").read_text() == "x = 101  # feature\n"
        assert (repo_path / "a.py").read_text() == "x = 1\n"
        again = await tools.get_file_state(side, "a.py")
        assert (
            await tools.submit_change(
                side, on_a.intent_id or "", "a.py", again.state_ref, "x = 102\n"
            )
        ).status == "success"

        # main commits b.py; wt2's untouched b.py is not stale for that.
        b_main = await tools.get_file_state(main, "b.py")
        done = await tools.submit_change(
            main, on_main.intent_id or "", "b.py", b_main.state_ref, "y = 3  # main\n"
        )
        assert done.status == "success", done
        assert (await tools.yield_task(main, on_main.intent_id or "")).status == "ok"
        on_b = await tools.begin_task(side, "edit b on feature", ["b.py"])
        assert on_b.status == "ok", on_b
        b_side = await tools.get_file_state(side, "b.py")
        assert b_side.state_ref == state_ref_of_bytes(b"y = 2\n")
        res = await tools.submit_change(
            side, on_b.intent_id or "", "b.py", b_side.state_ref, "y = 4  # feature\n"
        )
        assert res.status == "success", res
        assert (wt2 / "b.py").read_text() == "y = 4  # feature\n" and (
            repo_path / "b.py"
        ).read_text() == "y = 3  # main\n"
        # ...and stale refs are still refused within a worktree.
        stale = await tools.submit_change(
            side, on_b.intent_id or "", "b.py", b_side.state_ref, "y = 5\n"
        )
        assert stale.status == "stale" and stale.current_state_ref == state_ref_of_bytes(
            b"y = 4  # feature\n"
        )

        # Intents stay visible across worktrees, with their worktree and branch.
        who = await tools.who_is_working(main)
        theirs = [i for i in who.intents if i.principal_id == "agent:side"]
        assert theirs and {(i.worktree, i.branch) for i in theirs} == {("wt2", "feature")}
        # The per-worktree record: main's view of b.py is main's commit, wt2's is wt2's.
        assert (await tools.get_file_state(main, "b.py")).last_commit_by == "agent:main"
        assert (await tools.get_file_state(side, "b.py")).last_commit_by == "agent:side"
    finally:
        await main.close()
        await side.close()


async def test_the_same_path_in_two_worktrees_is_advisory_and_one_worktree_still_locks(
    repo_path: Path, wt2: Path
) -> None:
    side = ToolContext(
        repo=find_repo(wt2), principal_id="agent:side"
    )  # wt2 starts the sidecar this time
    main = ToolContext(repo=find_repo(repo_path), principal_id="agent:main")
    side2 = ToolContext(repo=find_repo(wt2), principal_id="agent:side2")
    try:
        held = await tools.begin_task(side, "a on feature", ["a.py"])
        assert held.status == "ok"
        assert ensure_sidecar(find_repo(wt2)).workspace == str(wt2.resolve())
        other = await tools.begin_task(main, "a on main", ["a.py"])
        assert other.status == "ok", other
        assert other.conflicts and "feature" in other.conflicts[0].description
        # Both sides are told, and the report names both branches.
        seen = await tools.who_is_working(side)
        assert [c for c in seen.conflicts if "feature" in c.description and "main" in c.description]
        overlap = await tools.check_overlap(main, ["a.py"])
        assert overlap.overlaps[0].kind == "worktree" and overlap.overlaps[0].branch == "feature"
        assert (await tools.get_file_state(main, "a.py")).held_by == []  # not held in this checkout
        blocked = await tools.begin_task(side2, "a on feature too", ["a.py"])
        assert blocked.status == "blocked" and blocked.holders[0].principal_id == "agent:side"
        # The main checkout's a.py is checked against the main checkout, though wt2 started the sidecar.
        state = await tools.get_file_state(main, "a.py")
        res = await tools.submit_change(
            main, other.intent_id or "", "a.py", state.state_ref, "x = 2  # main\n"
        )
        assert res.status == "success", res
        assert (repo_path / "a.py").read_text() == "x = 2  # main\n" and (
            wt2 / "a.py"
        ).read_text() == "x = 100  # feature\n"
    finally:
        await side.close()
        await main.close()
        await side2.close()
