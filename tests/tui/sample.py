"""Fixed sessions built from fixed messages with the client's pure view functions (the dashboard's
snapshots, tests and benchmark)."""

from __future__ import annotations

from typing import Any

from bridge.client import SessionView
from bridge.protocol.envelope import format_ts

T0 = 1_780_000_000.0  # a fixed clock: 2026-05-28T20:26:40Z
SESSION = "shop-0123456789ab"


def envelope(mtype: str, sender: str, payload: dict[str, Any], ts: float, n: int) -> dict[str, Any]:
    kind = sender.split(":", 1)[0] if ":" in sender else "agent"
    return {
        "protocol": "MPAC",
        "version": "0.1.15",
        "message_type": mtype,
        "message_id": f"m-{n}",
        "session_id": SESSION,
        "ts": format_ts(ts),
        "sender": {
            "principal_id": sender,
            "principal_type": kind,
            "sender_instance_id": f"{sender}#1",
        },
        "payload": payload,
    }


def session_info(me: str, roles: list[str], ts: float = T0) -> dict[str, Any]:
    return envelope(
        "SESSION_INFO",
        "service:coordinator",
        {
            "session_id": SESSION,
            "protocol_version": "0.1.15",
            "granted_roles": roles,
            "security_profile": "open",
            "compliance_profile": "core",
            "execution_model": "post_commit",
            "governance_policy": {"resolution_timeout_sec": 300},
            "liveness_policy": {"heartbeat_interval_sec": 30},
            "state_ref_format": "sha256",
            "extensions": {
                "mpac-bridge": {
                    "state": {
                        "participants": [
                            {
                                "principal_id": me,
                                "principal_type": "human",
                                "display_name": me.split(":")[-1],
                                "roles": roles,
                                "status": "idle",
                                "is_available": True,
                                "connected": True,
                                "last_seen": ts,
                            }
                        ],
                        "intents": [],
                        "conflicts": [],
                        "targets": {},
                        "deferrals": [],
                    }
                }
            },
        },
        ts,
        0,
    )


FILES = [
    "README.md",
    "pyproject.toml",
    "shop/__init__.py",
    "shop/cart.py",
    "shop/checkout.py",
    "shop/pricing.py",
    "shop/tax.py",
    "api/auth.py",
    "api/routes.py",
    "tests/test_cart.py",
    "tests/test_checkout.py",
    "docs/index.md",
]
OBJECTIVES = [
    "Add a discount to checkout",
    "Round totals to cents",
    "Tax rates per country",
    "Harden login",
    "Split cart into modules",
    "Document the API",
    "Speed up pricing",
    "Test the checkout flow",
    "Fix the routes table",
    "Rename tax helpers",
]


def busy_messages(
    agents: int = 3, intents: int = 10, conflict: bool = True, t0: float = T0
) -> list[dict[str, Any]]:
    """HELLOs, announces (one file each, rotating), a commit, a deferral and one conflict."""
    msgs: list[dict[str, Any]] = []
    names = [f"agent:{n}" for n in ("alice", "bob", "carol", "dave", "erin", "frank")][:agents]
    names += [f"agent:a{i:03d}" for i in range(len(names), agents)]
    n = 1
    for i, a in enumerate(names):
        msgs.append(
            envelope(
                "HELLO",
                a,
                {"display_name": a.split(":")[1], "roles": ["contributor"], "capabilities": []},
                t0 + i,
                n,
            )
        )
        n += 1
    for k in range(intents):
        owner = names[k % len(names)]
        path = FILES[k % len(FILES)] if intents <= len(FILES) else f"src/m{k // 50:03d}/f{k:05d}.py"
        msgs.append(
            envelope(
                "INTENT_ANNOUNCE",
                owner,
                {
                    "intent_id": f"intent-{k:05d}",
                    "objective": OBJECTIVES[k % len(OBJECTIVES)],
                    "scope": {"kind": "file_set", "resources": [path]},
                    "ttl_sec": 600 + 30 * k,
                },
                t0 + 10 + k,
                n,
            )
        )
        n += 1
    if intents >= 2:
        msgs.append(
            envelope(
                "OP_COMMIT",
                names[0],
                {
                    "op_id": "op-0001",
                    "intent_id": "intent-00000",
                    "target": FILES[0],
                    "op_kind": "replace",
                    "state_ref_before": "sha256:" + "1" * 64,
                    "state_ref_after": "sha256:" + "2" * 64,
                },
                t0 + 40,
                n,
            )
        )
        n += 1
    if conflict and len(names) >= 2 and intents >= 2:
        msgs.append(
            envelope(
                "INTENT_ANNOUNCE",
                names[1],
                {
                    "intent_id": "intent-auth-b",
                    "objective": "Add OAuth to login",
                    "scope": {"kind": "entity_set", "entities": ["api.auth"]},
                    "ttl_sec": 900,
                },
                t0 + 50,
                n,
            )
        )
        msgs.append(
            envelope(
                "INTENT_ANNOUNCE",
                names[-1],
                {
                    "intent_id": "intent-auth-c",
                    "objective": "Harden login",
                    "scope": {"kind": "entity_set", "entities": ["api.auth"]},
                    "ttl_sec": 900,
                },
                t0 + 51,
                n + 1,
            )
        )
        msgs.append(
            envelope(
                "CONFLICT_REPORT",
                "service:coordinator",
                {
                    "conflict_id": "conflict-0001",
                    "category": "scope_overlap",
                    "severity": "medium",
                    "principal_a": names[1],
                    "principal_b": names[-1],
                    "intent_a": "intent-auth-b",
                    "intent_b": "intent-auth-c",
                    "basis": {"kind": "rule"},
                    "description": "both intents name the entity api.auth",
                },
                t0 + 52,
                n + 2,
            )
        )
        n += 3
    return msgs


def build_view(
    me: str = "human:lead",
    roles: list[str] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> SessionView:
    view = SessionView()
    view.load_session_info(session_info(me, roles or ["arbiter"]))
    for m in messages or []:
        view.apply(m)
    return view


def symbol_messages(t0: float = T0) -> list[dict[str, Any]]:
    """Intents on functions and classes (symbol scopes, issue 19) beside a whole-file one."""

    def scope(*ids: str) -> dict[str, Any]:
        files = sorted({i.split("::", 1)[0] for i in ids})
        return {
            "kind": "entity_set",
            "entities": sorted(ids),
            "canonical_uris": [f"resource://{SESSION}/{f}" for f in files],
        }

    msgs = [
        envelope(
            "HELLO",
            f"agent:{a}",
            {"display_name": a, "roles": ["contributor"], "capabilities": []},
            t0 + i,
            i + 1,
        )
        for i, a in enumerate(("alice", "bob", "carol"))
    ]
    for n, (owner, iid, objective, sc) in enumerate(
        (
            ("agent:alice", "intent-add", "Add a quantity limit", scope("shop/cart.py::Cart.add")),
            (
                "agent:bob",
                "intent-total",
                "Round totals to cents",
                scope("shop/cart.py::Cart.total", "shop/tax.py::rate"),
            ),
            (
                "agent:carol",
                "intent-checkout",
                "Add a discount to checkout",
                {"kind": "file_set", "resources": ["shop/checkout.py"]},
            ),
        )
    ):
        msgs.append(
            envelope(
                "INTENT_ANNOUNCE",
                owner,
                {"intent_id": iid, "objective": objective, "scope": sc, "ttl_sec": 600},
                t0 + 10 + n,
                10 + n,
            )
        )
    return msgs
