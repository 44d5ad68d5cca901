"""The demo scenario: three agents and a human arbiter on one scratch repository.

Every wait is on an event from the coordinator (a reply to a request, or a broadcast), never a sleep.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from bridge.client import ClaimReply, SessionClient
from bridge.demo.narrate import Narrator
from bridge.protocol.constants import EXT
from bridge.workspace import (
    Repo,
    StaleWrite,
    file_lock,
    read_file_state,
    state_ref_of_bytes,
    write_if_matches,
)

WAIT = 20.0


async def edit(
    n: Narrator,
    repo: Repo,
    who: SessionClient,
    intent_id: str,
    path: str,
    change: Any,
    commits: list[tuple[str, str, str]],
) -> str:
    """Read the file, commit the change with its state refs, then write it with compare-and-swap,
    holding the file lock from the check to the write."""
    with file_lock(repo, path):
        state = read_file_state(repo, path)
        new_text = change(state.content or "")
        after = state_ref_of_bytes(new_text.encode())
        reply = await who.commit(intent_id, path, state.state_ref, after, summary=f"edit {path}")
        n.expect(reply.ok, f"commit of {path} refused: {reply.error_code} {reply.description}")
        write_if_matches(repo, path, state.state_ref, new_text, locked=True)
    commits.append((who.principal_id, path, after))
    n.say(
        who.principal_id,
        f"committed and wrote {path}",
        f"OP_COMMIT accepted ({state.state_ref[:14]}… → {after[:14]}…)",
    )
    return after


async def run_scenario(n: Narrator, repo: Repo, url: str, session_id: str) -> int:
    def client(pid: str, roles: list[str] | None = None) -> SessionClient:
        return SessionClient(url, pid, session_id=session_id, roles=roles or ["contributor"])

    alice, bob, carol = client("agent:alice"), client("agent:bob"), client("agent:carol")
    lead = client("human:lead", ["arbiter"])
    try:
        return await _story(n, repo, alice, bob, carol, lead)
    finally:
        for c in (alice, bob, carol, lead):
            await c.close()


async def _story(
    n: Narrator,
    repo: Repo,
    alice: SessionClient,
    bob: SessionClient,
    carol: SessionClient,
    lead: SessionClient,
) -> int:
    commits: list[tuple[str, str, str]] = []
    for c in (alice, bob, carol, lead):
        info = await c.connect()
        n.say(
            c.principal_id,
            "joined the session",
            f"SESSION_INFO, roles {', '.join(info['payload']['granted_roles'])}",
        )

    n.chapter("1. Two agents want the same file")
    r = await alice.announce(
        "Add a discount to checkout", ["shop/checkout.py"], intent_id="alice-checkout", ttl_sec=600
    )
    n.expect(r.ok, f"alice's announce failed: {r.description}")
    n.say("agent:alice", "begins work on shop/checkout.py", "INTENT_ANNOUNCE accepted")
    r = await bob.announce(
        "Round totals to cents", ["./shop/checkout.py"], intent_id="bob-checkout"
    )
    n.expect(r.error_code == "STALE_INTENT", f"bob should have been blocked, got {r.error_code}")
    holder = r.extensions["holders"][0]
    n.say(
        "agent:bob",
        "tries ./shop/checkout.py (same file, other spelling)",
        f"blocked: STALE_INTENT, held by {holder['principal_id']} ({holder['objective']!r})",
        ok=True,
    )
    r = await bob.defer(
        ["shop/checkout.py"],
        deferral_id="bob-waits",
        reason="yielded_to_active_editor",
        observed_intent_ids=[holder["intent_id"]],
    )
    n.expect(r.ok, f"deferral failed: {r.description}")
    n.say("agent:bob", "defers to alice and waits", "INTENT_DEFERRED broadcast to everyone")
    await edit(
        n,
        repo,
        alice,
        "alice-checkout",
        "shop/checkout.py",
        lambda t: (
            t
            + "\n\ndef total_with_discount(items: list[float], pct: float) -> float:\n    return total(items) * (1 - pct)\n"
        ),
        commits,
    )
    resolved = bob.wait_for(
        lambda m: (
            m.get("message_type") == "INTENT_DEFERRED"
            and m["payload"].get("deferral_id") == "bob-waits"
            and m["payload"].get("status") == "resolved"
        ),
        WAIT,
    )
    r = await alice.withdraw("alice-checkout", "done")
    n.expect(r.ok, "alice could not finish")
    n.say("agent:alice", "finishes and yields shop/checkout.py", "INTENT_WITHDRAW accepted")
    await resolved
    n.say(
        "agent:bob",
        "is told the file is free",
        "INTENT_DEFERRED resolved: observed_intents_terminated",
    )
    r = await bob.announce(
        "Round totals to cents", ["shop/checkout.py"], intent_id="bob-checkout", ttl_sec=600
    )
    n.expect(r.ok, f"bob's second announce failed: {r.description}")
    n.say("agent:bob", "begins work on shop/checkout.py", "INTENT_ANNOUNCE accepted")

    n.chapter("2. A stale write is refused, then retried")
    stale_ref = read_file_state(repo, "shop/checkout.py").state_ref
    (repo.root / "shop/checkout.py").write_text(
        (repo.root / "shop/checkout.py").read_text() + "# a human edited this in their editor\n"
    )
    n.say("disk", "a human saves shop/checkout.py behind bob's back")
    try:
        write_if_matches(repo, "shop/checkout.py", stale_ref, "def total(items):\n    return 0\n")
        n.expect(False, "a stale write went through")
    except StaleWrite:
        n.say(
            "agent:bob",
            "writes with the state ref it read earlier",
            "refused on disk: the file changed (nothing written)",
        )
    r = await bob.commit("bob-checkout", "shop/checkout.py", stale_ref, "sha256:" + "0" * 64)
    n.expect(r.error_code == "STALE_STATE_REF", f"expected STALE_STATE_REF, got {r.error_code}")
    n.say(
        "agent:bob",
        "commits with the old ref anyway",
        f"refused: STALE_STATE_REF, current {r.extensions['current_state_ref'][:20]}…",
    )
    await edit(
        n,
        repo,
        bob,
        "bob-checkout",
        "shop/checkout.py",
        lambda t: t.replace("return sum(", "return round(sum(").replace(
            "for i in items)", "for i in items), 2)"
        ),
        commits,
    )
    n.note("bob re-read the file and retried; the human's line is still there")
    n.expect(
        "a human edited this" in (repo.root / "shop/checkout.py").read_text(),
        "the human's edit was lost",
    )

    n.chapter("3. A conflict is escalated to the human arbiter and resolved")
    r = await carol.announce(
        "Harden login",
        scope={"kind": "entity_set", "entities": ["api.auth"]},
        intent_id="carol-auth",
    )
    n.expect(r.ok, r.description)
    n.say("agent:carol", "works on the entity api.auth", "INTENT_ANNOUNCE accepted")
    report = alice.wait_for(lambda m: m.get("message_type") == "CONFLICT_REPORT", WAIT)
    r = await alice.announce(
        "Add OAuth to login",
        scope={"kind": "entity_set", "entities": ["api.auth"]},
        intent_id="alice-auth",
    )
    n.expect(r.ok, r.description)
    conflict = (await report)["payload"]
    n.say(
        "agent:alice",
        "also works on api.auth",
        f"accepted, with CONFLICT_REPORT {conflict['category']} ({conflict['severity']})",
    )
    r = await carol.ack(conflict["conflict_id"], "seen")
    n.expect(r.ok, r.description)
    n.say("agent:carol", "acknowledges the conflict", "CONFLICT_ACK accepted")
    r = await carol.escalate(conflict["conflict_id"], "human:lead", "both change login")
    n.expect(r.ok, r.description)
    n.say("agent:carol", "escalates to human:lead", "CONFLICT_ESCALATE accepted")
    r = await alice.resolve(conflict["conflict_id"], "approved", "mine")
    n.expect(
        r.error_code == "AUTHORIZATION_FAILED",
        f"alice should not be able to resolve, got {r.error_code}",
    )
    n.say(
        "agent:alice",
        "tries to resolve it herself",
        "refused: AUTHORIZATION_FAILED (it was escalated)",
    )
    r = await lead.resolve(
        conflict["conflict_id"],
        "human_override",
        "hardening first; OAuth next sprint",
        outcome={"accepted": ["carol-auth"], "rejected": ["alice-auth"]},
    )
    n.expect(r.ok, r.description)
    n.say(
        "human:lead",
        "resolves: carol goes first",
        "RESOLUTION accepted; alice's intent is withdrawn",
    )
    ok = await alice.wait_until(lambda v: "alice-auth" not in v.intents, WAIT)
    n.expect(ok, "alice's rejected intent is still live")
    r = await alice.announce(
        "Add OAuth to login",
        scope={"kind": "entity_set", "entities": ["api.auth"]},
        intent_id="alice-auth-2",
    )
    n.expect(r.error_code == "INTENT_BACKOFF", f"expected a backoff, got {r.error_code}")
    n.say(
        "agent:alice",
        "re-announces at once",
        f"refused: INTENT_BACKOFF, retry in {r.payload['extensions']['retry_after_sec']:.0f} s",
    )

    n.chapter("4. An agent crashes and another takes its task over")
    r = await carol.announce(
        "Tax rates per country", ["shop/pricing.py"], intent_id="carol-pricing", ttl_sec=600
    )
    n.expect(r.ok, r.description)
    n.say("agent:carol", "begins work on shop/pricing.py", "INTENT_ANNOUNCE accepted")
    await carol.abort()
    n.say("agent:carol", "crashes (connection dropped, no GOODBYE)")
    suspended = await alice.wait_until(
        lambda v: v.intents.get("carol-pricing", {}).get("state") == "SUSPENDED", WAIT
    )
    n.expect(suspended, "carol's intent was not suspended")
    n.say(
        "agent:alice",
        "sees carol go silent",
        "carol-pricing is SUSPENDED (the arbiter got PARTICIPANT_UNAVAILABLE)",
    )

    def takeover(who: SessionClient, **how: Any) -> Awaitable[ClaimReply]:
        return who.claim(
            "carol-pricing",
            "agent:carol",
            "Finish tax rates per country",
            ["shop/pricing.py"],
            new_intent_id="alice-pricing",
            claim_id="alice-claims",
            **how,
        )

    r = await takeover(alice, wait=False)
    n.expect(r.ok and r.decision == "pending", f"claim failed: {r.description}")
    n.say(
        "agent:alice",
        "claims carol's task",
        "INTENT_CLAIM pending: the governance profile needs an owner or arbiter",
    )
    approved = alice.wait_for(
        lambda m: (
            m.get("message_type") == "INTENT_CLAIM_STATUS"
            and m["payload"].get("claim_id") == "alice-claims"
        ),
        WAIT,
    )
    # The arbiter decides by sending the same claim with its decision (docs/protocol.md).
    r = await takeover(lead, extensions={EXT: {"decision": "approved"}})
    n.expect(r.ok, f"approval failed: {r.description}")
    status = (await approved)["payload"]
    n.expect(status["decision"] == "approved", f"claim not approved: {status}")
    n.say(
        "human:lead",
        "approves the takeover",
        "INTENT_CLAIM_STATUS approved; carol-pricing TRANSFERRED, alice-pricing ACTIVE",
    )
    await edit(
        n,
        repo,
        alice,
        "alice-pricing",
        "shop/pricing.py",
        lambda t: t + '\n\nRATES = {"FR": 0.2, "DE": 0.19}\n',
        commits,
    )

    n.chapter("Done")
    n.summary(lead.view, commits)
    n.console.print(f"\n[bold green]demo passed[/]: {n.steps} steps, every answer as expected.")
    return 0
