"""`mpac-bridge demo --scenario symbols`: agents claim functions, not whole files, and writes that
do not overlap are merged instead of bouncing (issue 19). Every agent acts through the MCP tools
(`bridge.mcp.tools`), as a coding agent would; every wait is on an answer, never a sleep."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys

from bridge.demo.four_agents import AGENTS, FUNCS, PATH, changed, four_agents, write_cart
from bridge.demo.narrate import DemoFailed, Narrator
from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.mcp.models import SubmitResult
from bridge.workspace import Repo


def _lines(s: SubmitResult) -> str:
    if s.merge is None:
        return "written as is (nobody had changed the file)"
    spans = ", ".join(f"line {h.result.start}" for h in s.merge.applied)
    return f"merged into the current file ({spans}), committed, written"


async def run_symbols(n: Narrator, repo: Repo) -> int:
    write_cart(repo.root)
    subprocess.run(["git", "add", PATH], cwd=repo.root, check=True, capture_output=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.email=demo@mpac-bridge",
            "-c",
            "user.name=demo",
            "commit",
            "-qm",
            "cart",
        ],
        cwd=repo.root,
        check=True,
        capture_output=True,
    )

    n.chapter(f"1. Four agents, four functions of {PATH}, all at once")
    n.note(
        f"each agent calls begin_task(files=[{PATH!r}], symbols=['{PATH}::<its function>']), reads the file, "
        "edits its function and submits, all four at the same time"
    )
    run = await four_agents(repo)
    for who, f, b in zip(AGENTS, FUNCS, run.begun, strict=True):
        n.expect(b.status == "ok", f"{who} should have begun, got {b.status}: {b.message}")
        others = (
            f", {len(b.same_file)} other agent(s) on other functions of the file"
            if b.same_file
            else ""
        )
        n.say(who, f"claims {PATH}::{f}", f"ok (granularity {b.granularity}{others})")
    for f, s in zip(
        FUNCS, run.submitted, strict=True
    ):  # every agent began, so one result per function
        n.expect(
            s.status in ("success", "merged"),
            f"the change of {f} did not land: {s.status} {s.message}",
        )
        n.say(AGENTS[FUNCS.index(f)], f"submits its change of {f}", f"{s.status}: {_lines(s)}")
    text = (repo.root / PATH).read_text()
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import shop.cart as c; print(c.subtotal([1.005, 2]), c.tax(10.555), "
            "c.shipping(1.2), c.discount(200))",
        ],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    n.expect(check.returncode == 0, f"the merged file does not import: {check.stderr}")
    n.say(
        "disk",
        f"{PATH} holds all four changes ({text.count(chr(10))} lines) and imports cleanly",
        f"subtotal, tax, shipping, discount → {check.stdout.strip()}",
    )
    n.note(
        f"{run.proceeded} agents began at once, {run.landed} changes landed in one round ({run.merged} merged). With "
        "`--symbol-granularity file` the same run lets one agent begin and blocks three (mpac-bridge bench symbols)"
    )

    alice, bob, carol = (ToolContext(repo=repo, principal_id=p) for p in AGENTS[:3])
    try:
        n.chapter("2. Two agents, one function: the second is blocked")
        a = await tools.begin_task(alice, "Round the tax", [PATH], symbols=[f"{PATH}::tax"])
        n.expect(a.status == "ok", a.message)
        n.say("agent:alice", f"claims {PATH}::tax", "ok")
        b = await tools.begin_task(bob, "Tax by country", [PATH], symbols=[f"{PATH}::tax"])
        n.expect(b.status == "blocked", f"bob should have been blocked, got {b.status}")
        n.say(
            "agent:bob",
            f"claims {PATH}::tax too",
            f"blocked: held by {b.holders[0].principal_id} ({', '.join(b.holders[0].symbols)})",
        )
        c = await tools.begin_task(carol, "Free shipping", [PATH], symbols=[f"{PATH}::shipping"])
        n.expect(c.status == "ok", c.message)
        n.say(
            "agent:carol",
            f"claims {PATH}::shipping",
            f"ok, with a note: {c.same_file[0].principal_id} works on "
            f"{', '.join(c.same_file[0].symbols)} in the same file",
        )

        n.chapter("3. Edits that overlap are refused with the hunks, and nothing is lost")
        read_a, read_c = await asyncio.gather(
            tools.get_file_state(alice, PATH), tools.get_file_state(carol, PATH)
        )
        mine_a = changed(read_a.content or "", "tax", "round(amount * 0.21, 2)").replace(
            "import math\n", "import math\nimport decimal\n"
        )
        mine_c = changed(read_c.content or "", "shipping", "0").replace(
            "import math\n", "import math\nimport fractions\n"
        )
        ok = await tools.submit_change(alice, a.intent_id or "", PATH, read_a.state_ref, mine_a)
        n.expect(ok.status == "success", ok.message)
        n.say(
            "agent:alice",
            "adds `import decimal` under `import math` and changes tax",
            "success: committed and written",
        )
        stale = await tools.submit_change(carol, c.intent_id or "", PATH, read_c.state_ref, mine_c)
        refused = stale.merge if stale.status == "stale" else None
        if refused is None or refused.outcome != "conflict":
            raise DemoFailed(f"carol's write should have been refused, got {stale.status}")
        hunk = refused.conflicts[0]
        n.say(
            "agent:carol",
            "adds `import fractions` at the same place and changes shipping",
            f"stale: conflict at line {hunk.base.start} (theirs {hunk.current_text.strip()!r}, yours {hunk.ours_text.strip()!r})",
        )
        n.expect((repo.root / PATH).read_text() == mine_a, "alice's write was changed")
        n.note("the file is exactly as alice wrote it; carol re-reads it and redoes her change")
        again = await tools.get_file_state(carol, PATH)
        redo = await tools.submit_change(
            carol,
            c.intent_id or "",
            PATH,
            again.state_ref,
            changed(again.content or "", "shipping", "0"),
        )
        n.expect(redo.status == "success", redo.message)
        n.say("agent:carol", "redoes her change on the current file", "success")
    finally:
        for ctx in (alice, bob, carol):
            with contextlib.suppress(Exception):
                await ctx.close()
    n.chapter("Done")
    n.console.print(f"\n[bold green]demo passed[/]: {n.steps} steps, every answer as expected.")
    return 0
