"""`mpac-bridge smoke`: end-to-end checks on a scratch copy of a repository, each with its own sidecar."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bridge.cliargs import add_workspace

HELP = "Run the end-to-end smoke checks on a scratch copy of a repository."
NAMES = ("milestone0", "tools", "commit", "governance", "takeover")


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Each check copies the repository to a temporary directory, starts its own sidecar there, "
        "runs, and cleans up. Your repository and its sidecar are never touched."
    )
    p.add_argument("check", choices=[*NAMES, "all"], help="which check")
    add_workspace(p, "repository to copy (default: the current directory)", Path("."))


class SmokeFailed(Exception):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise SmokeFailed(what)


async def _milestone0(ctx, other, say) -> None:  # two independent clients share one coordinator
    from bridge.client import SessionClient

    third = SessionClient(other.url, "agent:smoke-c", session_id=other.session_id)
    await third.connect()
    try:
        r1 = await other.announce(
            "milestone0: entity work", scope={"kind": "entity_set", "entities": ["smoke.api"]}
        )
        r2 = await third.announce(
            "milestone0: same entity", scope={"kind": "entity_set", "entities": ["smoke.api"]}
        )
        expect(r1.ok and r2.ok, "both announces should be accepted")
        ok = await other.wait_until(lambda v: len(v.conflicts) >= 1, 10)
        expect(ok, "no conflict was reported")
        say(
            f"two clients, one coordinator: {len(other.view.intents)} intents, {len(other.view.conflicts)} conflict(s) seen by both"
        )
    finally:
        await third.close()


async def _tools(ctx, other, say) -> None:
    from bridge.mcp import tools

    files = _some_file(ctx)
    held = await other.announce("smoke: external holder", [files])
    expect(held.ok, "external announce failed")
    begun = await tools.begin_task(ctx, "smoke: mcp wants the same file", [files])
    expect(begun.status == "blocked", f"begin_task should be blocked, got {begun.status}")
    overlap = await tools.check_overlap(ctx, [files])
    expect(overlap.has_overlap, "check_overlap missed the holder")
    say(f"begin_task on {files} → blocked by {begun.holders[0].principal_id}; check_overlap agrees")


async def _commit(ctx, other, say) -> None:
    from bridge.mcp import tools

    target = _some_file(ctx)
    begun = await tools.begin_task(ctx, "smoke: commit", [target])
    expect(begun.status == "ok", begun.message)
    state = await tools.get_file_state(ctx, target)
    res = await tools.submit_change(
        ctx, begun.intent_id or "", target, state.state_ref, (state.content or "") + "\n# smoke\n"
    )
    expect(res.status == "success", res.message)
    expect(
        (ctx.repo.root / target).read_text().endswith("# smoke\n"),
        "the file on disk did not change",
    )
    expect((await tools.yield_task(ctx, begun.intent_id or "")).status == "ok", "yield failed")
    say(
        f"begin → submit_change ({state.state_ref[:15]}… → {(res.state_ref_after or '')[:15]}…) → file on disk changed → yield"
    )


async def _governance(ctx, other, say) -> None:
    from bridge.client import SessionClient
    from bridge.mcp import tools

    arbiter = SessionClient(
        other.url, "human:smoke-arbiter", session_id=other.session_id, roles=["arbiter"]
    )
    await arbiter.connect()
    try:
        await other.announce(
            "smoke: entity", scope={"kind": "entity_set", "entities": ["smoke.gov"]}
        )
        begun = await tools.begin_task(ctx, "smoke: entity too", [_some_file(ctx)])
        expect(begun.status == "ok", begun.message)
        r = await ctx.client.announce(
            "smoke: entity", scope={"kind": "entity_set", "entities": ["smoke.gov"]}
        )
        expect(r.ok, r.description)
        ok = await ctx.client.wait_until(lambda v: bool(v.conflicts), 10)
        expect(ok, "no conflict")
        cid = next(iter(ctx.client.view.conflicts))
        expect((await tools.ack_conflict(ctx, cid)).status == "ok", "ack failed")
        expect((await tools.escalate_conflict(ctx, cid, "smoke")).status == "ok", "escalate failed")
        res = await arbiter.resolve(cid, "dismissed", "smoke")
        expect(res.ok, res.description)
        say(f"conflict {cid}: ack → escalate to human:smoke-arbiter → resolved")
    finally:
        await arbiter.close()


async def _takeover(ctx, other, say) -> None:
    from bridge.mcp import tools

    target = _some_file(ctx)
    r = await other.announce("smoke: will leave", [target], intent_id="smoke-leaver")
    expect(r.ok, r.description)
    await other.close(disposition="transfer")
    ok = await ctx.client.wait_until(
        lambda v: v.intents.get("smoke-leaver", {}).get("state") == "SUSPENDED", 10
    )
    expect(ok, "the intent was not suspended")
    claim = await tools.take_over_task(ctx, "smoke-leaver")
    expect(claim.status == "approved", f"take_over_task: {claim.status} {claim.message}")
    expect(
        ctx.client.view.intents.get(claim.new_intent_id or "", {}).get("state") == "ACTIVE",
        "replacement not ACTIVE",
    )
    say(f"GOODBYE transfer → SUSPENDED → take_over_task → {claim.new_intent_id} ACTIVE")


def _some_file(ctx) -> str:
    for path in sorted(ctx.repo.root.rglob("*")):
        rel = path.relative_to(ctx.repo.root).as_posix()
        if (
            path.is_file()
            and not rel.startswith(".git")
            and "/." not in rel
            and not rel.startswith(".")
        ):
            return rel
    (ctx.repo.root / "smoke.txt").write_text("smoke\n")
    return "smoke.txt"


CHECKS: dict[str, Callable[..., Awaitable[None]]] = {
    "milestone0": _milestone0,
    "tools": _tools,
    "commit": _commit,
    "governance": _governance,
    "takeover": _takeover,
}


async def run_check(name: str, source: Path) -> float:
    from bridge.client import SessionClient
    from bridge.demo.cli import make_scratch
    from bridge.mcp.context import ToolContext
    from bridge.workspace import ensure_sidecar, find_repo

    start = time.monotonic()
    repo = find_repo(make_scratch(source))
    info = ensure_sidecar(repo)  # the default configuration, as the MCP server starts it
    ctx = ToolContext(repo=repo, principal_id="agent:smoke-mcp")
    other = SessionClient(info.url, "agent:smoke-other", session_id=info.session_id)
    try:
        await ctx.connected()
        await other.connect()
        await asyncio.wait_for(CHECKS[name](ctx, other, lambda text: print(f"  {text}")), 60)
    finally:
        await other.close()
        await ctx.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
        shutil.rmtree(repo.root.parent, ignore_errors=True)
    return time.monotonic() - start


def run(args: argparse.Namespace) -> int:
    names = NAMES if args.check == "all" else (args.check,)
    failed = 0
    for name in names:
        print(f"smoke {name}")
        try:
            took = asyncio.run(run_check(name, args.workspace.resolve()))
            print(f"  PASS ({took:.1f} s)")
        except (TimeoutError, SmokeFailed, Exception) as exc:
            failed += 1
            print(f"  FAIL: {type(exc).__name__}: {exc}")
    print(
        "all smoke checks passed" if not failed else f"{failed} smoke check(s) failed",
        file=sys.stderr if failed else sys.stdout,
    )
    return 1 if failed else 0
