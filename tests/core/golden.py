"""A golden record of the coordinator's behaviour, written by one version of the core and checked
against another (tests/core/test_golden.py).

`python -m tests.core.golden` drives a coordinator through seeded random traffic in three sessions
(governance profile with a disk lookup and an audit trail, pre_commit, authenticated) and writes
`tests/core/fixtures/golden.json`: every input, a digest of every call's full result (messages,
recipients, flags, the next deadline), a snapshot taken half-way, and the digests of two futures
from there: the same coordinator, and a coordinator restored from that snapshot and recovered.
The file in the repository was written by the core before it was split into layers (issue 15), so
the test proves that the split changed no byte on the wire, in snapshots or in the audit chain, and
that a snapshot written by the old core restores. Regenerate it only when a behaviour change is
intended, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from bridge.core import Coordinator, CoordinatorConfig, Verdict
from bridge.protocol.envelope import build_envelope

FIXTURE = Path(__file__).parent / "fixtures" / "golden.json"
T0 = 1_800_000_000.0
SESSION = "g1"
STEPS = 600

PRINCIPALS = {  # principal -> roles it asks for
    "agent:a": ["contributor"],
    "agent:b": ["contributor"],
    "agent:c": ["participant"],
    "human:lead": ["arbiter"],
    "human:own": ["owner"],
    "human:rev": ["reviewer"],
    "human:obs": ["observer"],
}
FILES = ["a.py", "./a.py", "b.py", "src/c.py", "src/d.py", "lib/e.py"]
INTENTS = ["i1", "i2", "i3", "i4", "i5"]
OPS = ["o1", "o2", "o3", "o4"]
REFS = [None, "sha256:0", "sha256:1", "sha256:2", "sha256:3"]
WORKTREES = [None, None, None, ("wt2", "feature")]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:16]


def scope(rng: random.Random) -> dict[str, Any]:
    pick = rng.random()
    if pick < 0.7:
        out: dict[str, Any] = {
            "kind": "file_set",
            "resources": rng.sample(FILES, rng.choice([1, 1, 2])),
        }
        if rng.random() < 0.1:
            out["extensions"] = {"impact": [rng.choice(FILES)]}
        return out
    if pick < 0.85:
        return {"kind": "resource_path", "pattern": rng.choice(["src/*", "**", "b.*", "lib/**"])}
    if pick < 0.93:
        return {"kind": "entity_set", "entities": rng.choice([["e1"], ["e1", "e2"]])}
    return {"kind": "task_set", "task_ids": [rng.choice(["t1", "t2"])]}


def with_worktree(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    wt = rng.choice(WORKTREES)
    if wt is not None:
        payload.setdefault("extensions", {})["mpac-bridge"] = {
            "worktree": {"id": wt[0], "branch": wt[1]}
        }
    return payload


KINDS = [  # (message type, weight)
    ("HELLO", 5),
    ("HEARTBEAT", 14),
    ("GOODBYE", 2),
    ("INTENT_ANNOUNCE", 14),
    ("INTENT_UPDATE", 4),
    ("INTENT_WITHDRAW", 3),
    ("INTENT_DEFERRED", 4),
    ("INTENT_CLAIM", 5),
    ("OP_PROPOSE", 4),
    ("OP_COMMIT", 12),
    ("OP_BATCH_COMMIT", 4),
    ("OP_SUPERSEDE", 2),
    ("OP_REJECT", 2),
    ("CONFLICT_REPORT", 1),
    ("CONFLICT_ACK", 3),
    ("CONFLICT_ESCALATE", 2),
    ("RESOLUTION", 4),
    ("PROTOCOL_ERROR", 1),
    ("SESSION_INFO", 1),
]


class Traffic:
    """Seeded random inputs that mostly refer to things that exist: it reads the coordinator's
    outputs (never its state) to learn the live intents, conflicts, commits and claims."""

    def __init__(self, seed: int, close_at: int = -1) -> None:
        self.rng = random.Random(seed)
        self.close_at = close_at
        self.now = T0
        self.n = 0
        self.lamport = 0
        self.intents: dict[str, str] = {}  # live intent -> owner
        self.suspended: set[str] = set()
        self.conflicts: dict[str, list[str]] = {}  # conflict -> related intents
        self.refs: dict[str, str | None] = {}  # target -> last committed ref
        self.bases: dict[str, str | None] = {}  # target -> the ref the last commit started from
        self.targets: dict[str, str] = {}  # committed op -> its target
        self.owners: dict[str, str] = {}  # committed op -> its sender
        self.last_commit: tuple[str, dict[str, Any]] | None = (
            None  # (sender, payload) of the last relayed OP_COMMIT
        )
        self.ops: list[str] = []
        self.proposed: list[str] = []
        self.claims: list[dict[str, Any]] = []
        self.fresh = 0
        self.joined: set[str] = set()
        self.retry: list[
            tuple[str, dict[str, Any]]
        ] = []  # (owner, scope) of intents a resolution rejected
        self.scopes: dict[str, dict[str, Any]] = {}  # intent -> its scope
        self.authorized: list[str] = []  # pre_commit: operations authorized and not completed yet
        self.sent: dict[str, tuple[str, dict[str, Any]]] = {}  # op or batch id -> (sender, payload)

    def new(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def some(self, items: list[str], fallback: list[str]) -> str:
        pool = items if items and self.rng.random() < 0.9 else fallback
        return self.rng.choice(pool)

    def target(self, intent_id: str) -> str:
        """Mostly a file inside the intent's scope."""
        resources = self.scopes.get(intent_id, {}).get("resources")
        if resources and self.rng.random() < 0.85:
            return str(self.rng.choice(resources))
        return self.rng.choice(FILES)

    def own_intent(self, pid: str) -> str:
        mine = sorted(i for i, owner in self.intents.items() if owner == pid)
        return self.some(mine, sorted(self.intents) or ["i-none"])

    def observe(self, result: Any) -> None:
        if result is None:
            return
        for m, to in result["out"]:
            t, p = m["message_type"], m["payload"]
            ext = (p.get("extensions") or {}).get("mpac-bridge") or {}
            if t == "SESSION_INFO":
                self.joined.update(to)
            elif t == "INTENT_ANNOUNCE":
                self.intents[p["intent_id"]] = ext.get("principal_id", m["sender"]["principal_id"])
                self.scopes[p["intent_id"]] = p["scope"]
                self.suspended.discard(p["intent_id"])
            elif t == "INTENT_WITHDRAW":
                self.intents.pop(p["intent_id"], None)
                self.suspended.discard(p["intent_id"])
            elif t == "INTENT_UPDATE" and ext.get("state") == "SUSPENDED":
                self.suspended.add(p["intent_id"])
            elif t == "INTENT_UPDATE" and ext.get("state") == "ACTIVE":
                self.suspended.discard(p["intent_id"])
            elif t == "INTENT_CLAIM_STATUS":
                self.intents.pop(p["original_intent_id"], None)
                if p.get("new_intent_id"):
                    self.intents[p["new_intent_id"]] = ext.get("claimer", "agent:a")
            elif t == "INTENT_CLAIM":
                self.claims.append(p)
            elif t == "CONFLICT_REPORT":
                self.conflicts[p["conflict_id"]] = list(p.get("related_intents") or [])
            elif t == "RESOLUTION":
                self.conflicts.pop(p["conflict_id"], None)
                for ref in (p.get("outcome") or {}).get("rejected") or []:
                    if ref in self.intents and ref in self.scopes:
                        self.retry.append((self.intents[ref], self.scopes[ref]))
            elif t in ("OP_COMMIT", "OP_BATCH_COMMIT"):
                for e in p.get("operations") or [p]:
                    key = e["target"].removeprefix("./")
                    self.bases[key] = e.get("state_ref_before")
                    self.refs[key] = e.get("state_ref_after")
                    self.targets[e["op_id"]] = e["target"]
                    self.owners[e["op_id"]] = m["sender"]["principal_id"]
                if t == "OP_COMMIT":
                    self.last_commit = (m["sender"]["principal_id"], p)
                    self.ops.append(e["op_id"])
            elif t == "OP_PROPOSE":
                self.proposed.append(p["op_id"])
            elif t == "COORDINATOR_STATUS" and p.get("event") == "authorization":
                self.authorized.append(p.get("authorized_batch_id") or p["authorized_op_id"])

    def step(self) -> dict[str, Any]:
        rng = self.rng
        self.now += rng.choice(
            [0.0] * 8 + [1.0] * 6 + [5.0] * 4 + [20.0, 20.0, 40.0, 95.0, 210.0, 320.0]
        )
        self.n += 1
        pick = rng.random()
        body: dict[str, Any] | None = None
        if self.n == self.close_at:
            return {"kind": "close", "now": self.now}
        if pick < 0.06:
            return {"kind": "tick", "now": self.now}
        if pick < 0.08:
            return {
                "kind": "disconnected",
                "now": self.now,
                "principal": rng.choice(list(PRINCIPALS)),
            }
        if pick < 0.12:
            target = rng.choice(FILES).removeprefix("./")
            ref = rng.choice([self.refs.get(target)] * 3 + [self.bases.get(target)] * 2 + REFS)
            return {
                "kind": "disk",
                "now": self.now,
                "target": rng.choice([target, target, f"{target}\0wt2"]),
                "ref": ref,
            }
        if pick < 0.13:
            return {
                "kind": "handle",
                "now": self.now,
                "raw": rng.choice(["{garbage", "[]", '{"protocol": "MPAC"}']),
                "bound": None,
            }
        pid = rng.choice(list(PRINCIPALS))
        mtype = rng.choices([k for k, _w in KINDS], [w for _k, w in KINDS])[0]
        if pid not in self.joined and rng.random() < 0.8:
            mtype = "HELLO"
        elif self.suspended and rng.random() < 0.1:
            mtype = "INTENT_CLAIM"
        elif mtype == "RESOLUTION" and rng.random() < 0.5:
            pid = "human:lead"
        elif (
            self.retry and rng.random() < 0.3
        ):  # announce again what a resolution rejected (backoff)
            pid, again = self.retry.pop()
            mtype, body = (
                "INTENT_ANNOUNCE",
                {"intent_id": self.new("i"), "objective": "again", "scope": again},
            )
        if mtype == "OP_SUPERSEDE" and self.ops and rng.random() < 0.8:
            old = rng.choice(self.ops)
            pid = self.owners.get(old, pid)
        if (
            mtype == "OP_COMMIT" and self.last_commit is not None and rng.random() < 0.3
        ):  # a second commit from the same base
            pid, last = self.last_commit
            body = dict(last, op_id=self.new("o"), state_ref_after=f"sha256:{self.new('')}")
        if (
            self.authorized and rng.random() < 0.2
        ):  # pre_commit: complete an authorized operation or batch
            ident = self.authorized.pop(rng.randrange(len(self.authorized)))
            if ident in self.sent:
                pid, sent = self.sent[ident]
                body = json.loads(json.dumps(sent))
                for e in body.get("operations") or [body]:
                    e["state_ref_before"] = self.refs.get(
                        e["target"].removeprefix("./"), e.get("state_ref_before")
                    )
                    e.setdefault("state_ref_after", f"sha256:{self.new('')}")
                mtype = "OP_BATCH_COMMIT" if "batch_id" in body else "OP_COMMIT"
        self.lamport += 1
        skew = rng.choice([0.0] * 40 + [-400.0])
        mid = f"m{self.n}" if rng.random() < 0.98 else f"m{max(1, self.n - 1)}"
        env = build_envelope(
            mtype,
            {},
            session_id=SESSION if rng.random() < 0.99 else "other",
            now=self.now + skew,
            message_id=mid,
            lamport=self.lamport,
            sender={
                "principal_id": pid,
                "principal_type": pid.split(":")[0],
                "sender_instance_id": f"{pid}#1",
            },
        )
        env["payload"] = body if body is not None else self.payload(mtype, pid)
        if mtype in ("OP_COMMIT", "OP_PROPOSE"):
            self.sent[env["payload"]["op_id"]] = (pid, env["payload"])
        elif mtype == "OP_BATCH_COMMIT":
            self.sent[env["payload"]["batch_id"]] = (pid, env["payload"])
        bound = None
        if rng.random() < 0.15:
            bound = pid if rng.random() < 0.85 else rng.choice(list(PRINCIPALS))
        return {"kind": "handle", "now": self.now, "raw": env, "bound": bound}

    def payload(self, mtype: str, pid: str) -> dict[str, Any]:
        rng = self.rng
        if mtype == "HELLO":
            roles = PRINCIPALS[pid] if rng.random() < 0.9 else ["observer"]
            out: dict[str, Any] = {
                "display_name": pid,
                "roles": roles,
                "capabilities": ["intent.announce"],
            }
            if rng.random() < 0.9:
                out["credential"] = {
                    "type": "bearer_token",
                    "value": rng.choice(["good"] * 6 + ["bad", "arbiter", "other"]),
                }
            if roles == ["observer"] and rng.random() < 0.5:
                out["extensions"] = {"mpac-bridge": {"transient": True}}
            return out
        if mtype == "HEARTBEAT":
            out = {"status": rng.choice(["idle", "working", "working"])}
            if rng.random() < 0.1:
                out["backend_health"] = {
                    "model_id": "m",
                    "provider_status": "operational",
                    "checked_at": "2027-01-15T08:00:00Z",
                }
            return out
        if mtype == "GOODBYE":
            out = {
                "reason": "user_exit",
                "intent_disposition": rng.choice(["withdraw", "transfer", "transfer", "expire"]),
            }
            if rng.random() < 0.3:
                out["active_intents"] = [self.own_intent(pid)]
            return out
        if mtype == "INTENT_ANNOUNCE":
            iid = self.new("i") if rng.random() < 0.9 else self.some(sorted(self.intents), ["i1"])
            out = {
                "intent_id": iid,
                "objective": "work",
                "scope": scope(rng),
                "ttl_sec": rng.choice([60, 300, 3000, 3000]),
            }
            if rng.random() < 0.15:
                out["supersedes_intent_id"] = self.own_intent(pid)
            if rng.random() < 0.3:
                out["priority"] = rng.choice(["low", "normal", "high", "critical"])
            return with_worktree(rng, out)
        if mtype == "INTENT_UPDATE":
            out = {"intent_id": self.own_intent(pid)}
            if rng.random() < 0.7:
                out["scope"] = scope(rng)
            if rng.random() < 0.3:
                out["ttl_sec"] = rng.choice([60, 600])
            if rng.random() < 0.3:
                out["objective"] = "changed"
            return out
        if mtype == "INTENT_WITHDRAW":
            return {"intent_id": self.own_intent(pid), "reason": rng.choice(["done", "abandoned"])}
        if mtype == "INTENT_DEFERRED":
            out = {
                "deferral_id": self.new("d") if rng.random() < 0.8 else "d1",
                "scope": scope(rng),
                "reason": "yielded",
                "ttl_sec": rng.choice([20, 200, 2000, 20000]),
            }
            if rng.random() < 0.6:
                out["observed_intent_ids"] = [
                    self.some(sorted(self.intents), ["i1"]),
                    *rng.sample(list(PRINCIPALS)[:2], rng.randint(0, 1)),
                ]
            if rng.random() < 0.4:
                out["observed_principals"] = [rng.choice(list(PRINCIPALS)[:3])]
            return out
        if mtype == "INTENT_CLAIM":
            if self.claims and rng.random() < 0.35:  # an owner or arbiter decides a pending claim
                c = rng.choice(self.claims)
                decided = {
                    k: c[k]
                    for k in (
                        "claim_id",
                        "original_intent_id",
                        "original_principal_id",
                        "new_intent_id",
                        "objective",
                        "scope",
                    )
                }
                decided["extensions"] = {
                    "mpac-bridge": {
                        "decision": rng.choice(["approved", "approved", "rejected"]),
                        "reason": "decided",
                    }
                }
                return decided
            orig = self.some(sorted(self.suspended), sorted(self.intents) or ["i1"])
            out = {
                "claim_id": self.new("c"),
                "original_intent_id": orig,
                "original_principal_id": self.intents.get(orig, "agent:a"),
                "new_intent_id": self.new("n"),
                "objective": "take over",
                "scope": self.scopes[orig]
                if orig in self.scopes and rng.random() < 0.85
                else scope(rng),
            }
            return with_worktree(rng, out)
        if mtype == "OP_PROPOSE":
            iid = self.own_intent(pid)
            return {
                "op_id": self.new("p"),
                "intent_id": iid,
                "target": self.target(iid),
                "op_kind": "replace",
            }
        if mtype == "OP_COMMIT":
            iid = self.own_intent(pid)
            target = self.target(iid)
            key = target.removeprefix("./")
            before = rng.choice(
                [self.refs.get(key)] * 7 + [self.bases.get(key)] * 2 + [rng.choice(REFS)]
            )
            op_id = (
                self.new("o")
                if rng.random() < 0.85
                else self.some(self.proposed + self.ops, ["o1"])
            )
            return {
                "op_id": op_id,
                "intent_id": iid,
                "target": target,
                "op_kind": "replace",
                "state_ref_before": before,
                "state_ref_after": f"sha256:{self.new('')}",
            }
        if mtype == "OP_BATCH_COMMIT":
            entries = []
            iid = self.own_intent(pid)
            for _ in range(rng.randint(1, 3)):
                target = self.target(iid)
                entries.append(
                    {
                        "op_id": self.new("x"),
                        "target": target,
                        "op_kind": "replace",
                        "state_ref_before": self.refs.get(target.removeprefix("./"))
                        if rng.random() < 0.7
                        else rng.choice(REFS),
                        "state_ref_after": f"sha256:{self.new('')}",
                    }
                )
            return {
                "batch_id": self.new("b") if rng.random() < 0.8 else "b1",
                "intent_id": iid,
                "atomicity": rng.choice(["all_or_nothing", "best_effort"]),
                "operations": entries,
            }
        if mtype == "OP_SUPERSEDE":
            old = self.some(self.ops, ["o1"])
            iid = self.own_intent(pid)
            return {
                "op_id": self.new("s"),
                "supersedes_op_id": old,
                "intent_id": iid,
                "target": self.targets.get(old, FILES[0])
                if rng.random() < 0.8
                else self.target(iid),
                "op_kind": "replace",
                "state_ref_after": f"sha256:{self.new('')}",
            }
        if mtype == "OP_REJECT":
            return {"op_id": self.some(self.proposed, ["o1"]), "reason": "no"}
        if mtype == "CONFLICT_REPORT":
            related = rng.sample(
                sorted(self.intents) or ["i1", "i2"], min(2, len(self.intents) or 2)
            )
            if rng.random() < 0.3:  # the reference client's shape (D9)
                return {
                    "conflict_id": self.new("r"),
                    "category": "scope_overlap",
                    "severity": "low",
                    "intent_a": related[0],
                    "principal_a": self.intents.get(related[0], "agent:a"),
                }
            return {
                "conflict_id": self.new("r"),
                "related_intents": related,
                "related_ops": self.ops[-1:],
                "category": "scope_overlap",
                "severity": "medium",
                "basis": {"kind": "human_report"},
                "based_on_watermark": {"kind": "lamport_clock", "value": self.lamport},
                "description": "seen by a human",
            }
        cids = sorted(self.conflicts)
        if mtype == "CONFLICT_ACK":
            return {
                "conflict_id": self.some(cids, ["conflict-x"]),
                "ack_type": rng.choice(["seen", "accepted", "disputed"]),
            }
        if mtype == "CONFLICT_ESCALATE":
            return {
                "conflict_id": self.some(cids, ["conflict-x"]),
                "escalate_to": rng.choice(["human:lead", "human:own", "agent:a"]),
                "reason": "stuck",
            }
        if mtype == "RESOLUTION":
            cid = self.some(cids, ["conflict-x"])
            related = self.conflicts.get(cid, []) + self.proposed[-2:] + self.ops[-1:]
            out = {
                "conflict_id": cid,
                "decision": rng.choice(["approved", "rejected", "dismissed", "human_override"]),
                "rationale": "r",
                "outcome": {"rejected": rng.sample(related, min(len(related), rng.randint(0, 2)))},
            }
            if rng.random() < 0.3:
                out["outcome"]["rollback"] = "revert"
            if rng.random() < 0.5:
                out["resolution_id"] = self.new("res")
            return out
        if mtype == "PROTOCOL_ERROR":
            return {"error_code": "MALFORMED_MESSAGE", "description": "your message was odd"}
        if mtype == "SESSION_INFO":  # coordinator-only
            return {}
        raise AssertionError(mtype)


def verifier(credential: dict[str, Any] | None, session_id: str) -> Verdict:
    value = (credential or {}).get("value")
    if value == "good":
        return Verdict(True)
    if value == "arbiter":
        return Verdict(True, "", ("arbiter", "contributor"))
    if value == "other":
        return Verdict(True, "", None, "agent:someone-else")
    return Verdict.reject("unknown token")


RUNS: dict[str, tuple[int, dict[str, Any]]] = {  # name -> (seed, config)
    "governance": (
        1,
        {
            "unavailability_timeout_sec": 90.0,
            "resolution_timeout_sec": 200.0,
            "compliance_profile": "governance",
        },
    ),
    "core_pre_commit": (
        2,
        {
            "execution_model": "pre_commit",
            "compliance_profile": "core",
            "claim_grace_sec": 10.0,
            "session_ttl_sec": 7000.0,
            "history_limit": 40,
            "file_limit": 4,
        },
    ),
    "core_auto": (
        4,
        {
            "compliance_profile": "core",
            "unavailability_timeout_sec": 60.0,
            "claim_approval": "auto",
            "resolution_timeout_sec": 100.0,
            "frozen_phase2_sec": 30.0,
            "frozen_phase3_sec": 60.0,
        },
    ),
    "governance_claims": (
        5,
        {
            "claim_approval": "governance",
            "unavailability_timeout_sec": 40.0,
            "commit_landing_grace_sec": 60.0,
        },
    ),
    "authenticated": (
        3,
        {
            "security_profile": "authenticated",
            "replay_window_sec": 300.0,
            "role_policy": {
                "*": ["contributor", "observer"],
                "human:lead": ["arbiter", "owner", "contributor"],
            },
        },
    ),
}


class Driver:
    """One coordinator, its disk, and its audit lines."""

    def __init__(
        self, coord: Coordinator | None, config: CoordinatorConfig, disk: dict[str, str | None]
    ) -> None:
        self.disk = disk
        self.audit: list[str] = []
        self.config = config
        self.coord = (
            coord
            if coord is not None
            else Coordinator(config, SESSION, T0, self.lookup, verifier, self.audit.append)
        )

    def lookup(self, key: str) -> str | None:
        return self.disk.get(key)

    def restore(self, snap: dict[str, Any], now: float) -> tuple[Driver, list[Any]]:
        other = Driver.__new__(Driver)
        other.disk, other.audit, other.config = dict(self.disk), [], self.config
        other.coord = Coordinator.restore(
            snap,
            self.config,
            state_ref_lookup=other.lookup,
            credential_verifier=verifier,
            audit=other.audit.append,
        )
        return other, outbound(other.coord.recover(now))

    def step(self, s: dict[str, Any]) -> Any:
        kind, now = s["kind"], s["now"]
        if kind == "disk":
            self.disk[s["target"]] = s["ref"]
            return None
        if kind == "tick":
            t = self.coord.tick(now)
            result: Any = {"out": outbound(t.outbound), "changed": t.changed}
        elif kind == "close":
            result = {"out": outbound(self.coord.close(now, "manual"))}
        elif kind == "disconnected":
            t = self.coord.disconnected(s["principal"], now)
            result = {"out": outbound(t.outbound), "changed": t.changed}
        else:
            r = self.coord.handle(s["raw"], now, bound_principal=s["bound"])
            result = {
                "out": outbound(r.outbound),
                "accepted": r.accepted,
                "admitted": r.admitted,
                "changed": r.changed,
                "socket": r.reply_to_socket,
            }
        result["deadline"] = self.coord.next_deadline()
        result["audit"], self.audit[:] = list(self.audit), []
        return result


def outbound(items: list[Any]) -> list[Any]:
    return [
        [o.message, list(o.to.principals) if o.to.principals is not None else "all"] for o in items
    ]


def summary(result: Any) -> str:
    """A readable trace of one result: the message types (and error codes) it sent."""
    if result is None:
        return ""
    msgs = [m for m, _to in result["out"]] + list(result.get("socket", []))
    return " ".join(
        m["message_type"]
        + (f":{m['payload']['error_code']}" if m["message_type"] == "PROTOCOL_ERROR" else "")
        for m in msgs
    )


def entry(step: dict[str, Any], result: Any) -> str:
    """One step of the record: the input's digest, the result's digest, and the summary."""
    return f"{digest(step)[:8]} {digest(result)} {summary(result)}".rstrip()


def record(
    run: str, steps: int = STEPS, restore_from: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one session on seeded traffic; returns what the fixture records. The traffic reads the
    outputs, so a behaviour change shows at the first step whose result differs, before the inputs
    can drift apart; each input's digest is kept too, so a change of the traffic itself is told apart.
    `restore_from`: the half-way snapshot to restore (default: the one this run just took)."""
    seed, overrides = RUNS[run]
    config = CoordinatorConfig(**overrides)
    traffic = Traffic(seed, close_at=steps - 8 if run == "governance" else -1)
    drv = Driver(None, config, {})
    first = []
    for _ in range(steps // 2):
        s = traffic.step()
        r = drv.step(s)
        traffic.observe(r)
        first.append(entry(s, r))
    snap = json.loads(canonical(drv.coord.snapshot()))
    resume = traffic.now
    restored, recovered = drv.restore(json.loads(canonical(restore_from or snap)), resume)
    futures: dict[str, Any] = {"same": [], "restored": []}
    for _ in range(steps - steps // 2):
        s = traffic.step()
        for name, d in (("same", drv), ("restored", restored)):
            r = d.step(s)
            if name == "same":
                traffic.observe(r)
            futures[name].append(entry(s, r) if name == "same" else digest(r))
    return {
        "config": config.to_json(),
        "first_half": first,
        "snapshot": snap,
        "resume_at": resume,
        "recovered": [digest(recovered), [m["message_type"] for m, _to in recovered]],
        "futures": futures,
        "final": {
            "same": digest(drv.coord.snapshot()),
            "restored": digest(restored.coord.snapshot()),
        },
    }


def generate() -> dict[str, Any]:
    return {run: record(run) for run in RUNS}


if __name__ == "__main__":
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(
        json.dumps(generate(), sort_keys=True, indent=0, separators=(",", ":")) + "\n"
    )
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size} bytes)")
