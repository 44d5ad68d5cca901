"""SessionView: a participant's local picture of the session, built from the compact state in
SESSION_INFO and the messages that follow. Pure: no I/O, no clock."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from bridge.client.scope import Overlap, coverage, file_probe
from bridge.protocol.constants import EXT
from bridge.protocol.stamps import parse_ts

LIVE = ("ACTIVE", "SUSPENDED")


def _ext(payload: dict[str, Any]) -> dict[str, Any]:
    ext = payload.get("extensions")
    return ext.get(EXT, {}) if isinstance(ext, dict) and isinstance(ext.get(EXT), dict) else {}


def _key(p: dict[str, Any], name: str) -> str:
    """A string id field of a payload ("" when absent or not a string, which no record has)."""
    v = p.get(name)
    return v if isinstance(v, str) else ""


def _worktree(ext: dict[str, Any]) -> str | None:
    """The linked worktree a commit names (None: the main worktree; docs/protocol.md "Worktrees")."""
    wt = ext.get("worktree")
    wid = wt.get("id") if isinstance(wt, dict) else None
    return wid if isinstance(wid, str) and wid else None


def _branch(ext: dict[str, Any]) -> str | None:
    wt = ext.get("worktree")
    branch = wt.get("branch") if isinstance(wt, dict) else None
    return branch if isinstance(branch, str) else None


@dataclass
class SessionView:
    session_id: str = ""
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)  # live intents only
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # open conflicts only
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # the main worktree's files
    worktree_targets: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=dict
    )  # linked worktree id -> its files
    deferrals: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    granted_roles: list[str] = field(default_factory=list)
    epoch: int = 0
    coordinator: dict[str, Any] = field(
        default_factory=dict
    )  # payload of the last COORDINATOR_STATUS
    connection: str = (
        "disconnected"  # set by the client: connecting | connected | reconnecting | closed
    )
    coordinator_available: bool = (
        True  # false after 2 x heartbeat interval without COORDINATOR_STATUS
    )
    granularity: str = (
        ""  # SESSION_INFO's extensions["mpac-bridge"].symbol_granularity ("" when not said)
    )

    def load_session_info(self, info: dict[str, Any]) -> None:
        p = info["payload"]
        self.session_id = p.get("session_id", self.session_id)
        self.granted_roles = list(p.get("granted_roles", []))
        self.epoch = info.get("coordinator_epoch") or self.epoch
        self.policies = {
            k: p.get(k)
            for k in (
                "security_profile",
                "compliance_profile",
                "execution_model",
                "governance_policy",
                "liveness_policy",
                "state_ref_format",
            )
        }
        g = _ext(p).get("symbol_granularity")
        self.granularity = g if isinstance(g, str) else ""
        state = _ext(p).get("state")
        if not isinstance(state, dict):
            return
        self.participants = {q["principal_id"]: dict(q) for q in state.get("participants", [])}
        self.intents = {}
        for i in state.get("intents", []):
            i = dict(i)
            i["expires_at"] = parse_ts(i.get("expires_at")) or 0.0
            i["received_at"] = parse_ts(i.get("received_at")) or 0.0  # floats, like live announces
            self.intents[i["intent_id"]] = i
        self.conflicts = {c["conflict_id"]: dict(c) for c in state.get("conflicts", [])}
        self.targets = {t: dict(v) for t, v in state.get("targets", {}).items()}
        self.worktree_targets = {
            w: {t: dict(v) for t, v in files.items()}
            for w, files in (state.get("worktree_targets") or {}).items()
        }
        self.deferrals = {d["deferral_id"]: dict(d) for d in state.get("deferrals", [])}

    def apply(self, m: dict[str, Any], now: float | None = None) -> bool:
        """Fold one inbound message into the view (unknown shapes are ignored, never raised).

        Digest 10.4: a coordinator-authored message from a lower `coordinator_epoch` than the one
        we joined (or have since seen) is stale: it is not applied and False is returned. Relayed
        participant messages carry no epoch and are always applied."""
        if not isinstance(m, dict):
            return False
        epoch = m.get("coordinator_epoch")
        if isinstance(epoch, int) and not isinstance(epoch, bool):
            if epoch < self.epoch:
                return False
            self.epoch = epoch
        with contextlib.suppress(KeyError, TypeError, AttributeError, ValueError):
            self._apply(m, now)
        return True

    def _apply(self, m: dict[str, Any], now: float | None) -> None:
        t = m.get("message_type")
        p = m.get("payload") or {}
        sender = (m.get("sender") or {}).get("principal_id", "")
        ext = _ext(p)
        if t == "HELLO":
            # A live HELLO is a participant arriving; a late-join replay carries the coordinator's
            # record of its presence in the envelope's extensions (in the payload's for a
            # reference-dialect recipient, see docs/protocol.md).
            presence = {**_ext(m), **ext}
            old = self.participants.get(sender, {})
            self.participants[sender] = {
                **old,
                "principal_id": sender,
                "principal_type": m["sender"].get("principal_type"),
                "display_name": p.get("display_name", sender),
                "roles": p.get("roles", []),
                "status": presence.get("status", "idle"),
                "is_available": presence.get("is_available", True),
                "connected": presence.get("connected", True),
            }
        elif t == "GOODBYE":
            if sender in self.participants:
                self.participants[sender].update(
                    connected=False, is_available=False, status="offline"
                )
        elif t == "INTENT_ANNOUNCE":
            owner = ext.get("principal_id") or sender
            ttl = p.get("ttl_sec") or 300
            received = parse_ts(m.get("ts")) or now or 0.0
            self.intents[p["intent_id"]] = {
                "intent_id": p["intent_id"],
                "principal_id": owner,
                "objective": p.get("objective", ""),
                "scope": p.get("scope", {}),
                "state": "ACTIVE",
                "priority": p.get("priority", "normal"),
                "received_at": received,
                "expires_at": received + ttl,
                "deferred_by": [],
                "worktree": _worktree(ext),
                "branch": _branch(ext),
            }
        elif t == "INTENT_UPDATE":
            intent = self.intents.get(_key(p, "intent_id"))
            if intent is None:
                return
            if "state" in ext:
                intent["state"] = ext["state"]
            for k in ("objective", "scope"):
                if k in p:
                    intent[k] = p[k]
            if p.get("ttl_sec") is not None:
                intent["expires_at"] = (parse_ts(m.get("ts")) or now or 0.0) + p["ttl_sec"]
        elif t == "INTENT_WITHDRAW":
            self.intents.pop(_key(p, "intent_id"), None)
        elif t == "INTENT_DEFERRED":
            if p.get("status"):
                d = self.deferrals.pop(_key(p, "deferral_id"), None)
                if d:
                    for iid in d.get("observed_intent_ids", []):
                        if (
                            iid in self.intents
                            and d["principal_id"] in self.intents[iid]["deferred_by"]
                        ):
                            self.intents[iid]["deferred_by"].remove(d["principal_id"])
            else:
                self.deferrals[p["deferral_id"]] = dict(p)
                for iid in p.get("observed_intent_ids", []):
                    if (
                        iid in self.intents
                        and p.get("principal_id") not in self.intents[iid]["deferred_by"]
                    ):
                        self.intents[iid]["deferred_by"].append(p.get("principal_id"))
        elif t == "INTENT_CLAIM_STATUS" and p.get("decision") == "approved":
            self.intents.pop(_key(p, "original_intent_id"), None)
            claim = _ext(p)
            new = p.get("new_intent_id")
            if new:
                self.intents[new] = {
                    "intent_id": new,
                    "principal_id": claim.get("claimer", ""),
                    "objective": claim.get("objective", ""),
                    "scope": claim.get("scope", {}),
                    "state": "ACTIVE",
                    "priority": "normal",
                    "received_at": now or 0.0,
                    "expires_at": (now or 0.0) + 300,
                    "deferred_by": [],
                    "worktree": _worktree(claim),
                    "branch": _branch(claim),
                }
        elif t == "OP_COMMIT":
            self.targets_of(_worktree(ext))[p["target"]] = {
                "state_ref": p.get("state_ref_after"),
                "op_id": p["op_id"],
                "principal_id": sender,
            }
        elif t == "OP_BATCH_COMMIT":
            files = self.targets_of(_worktree(ext))
            for e in p.get("operations", []):
                files[e["target"]] = {
                    "state_ref": e.get("state_ref_after"),
                    "op_id": e["op_id"],
                    "principal_id": sender,
                }
        elif t == "CONFLICT_REPORT":
            related = list(
                p.get("related_intents") or [x for x in (p.get("intent_a"), p.get("intent_b")) if x]
            )
            principals = [x for x in (p.get("principal_a"), p.get("principal_b")) if x]
            self.conflicts[p["conflict_id"]] = {
                "conflict_id": p["conflict_id"],
                "category": p.get("category"),
                "severity": p.get("severity"),
                "state": "OPEN",
                "related_intents": related,
                "related_ops": p.get("related_ops", []),
                "principals": principals,
                "description": p.get("description", ""),
                "created_at": parse_ts(m.get("ts")) or now or 0.0,
                "escalated_to": None,
            }
        elif t == "CONFLICT_ACK":
            c = self.conflicts.get(_key(p, "conflict_id"))
            if c and p.get("ack_type") != "disputed" and c["state"] == "OPEN":
                c["state"] = "ACKED"
        elif t == "CONFLICT_ESCALATE":
            c = self.conflicts.get(_key(p, "conflict_id"))
            if c:
                c.update(state="ESCALATED", escalated_to=p.get("escalate_to"))
        elif t == "RESOLUTION":
            self.conflicts.pop(_key(p, "conflict_id"), None)
        elif t == "COORDINATOR_STATUS":
            self.coordinator = dict(p)
            seen = ext.get("presence")
            if isinstance(seen, dict) and seen.get("principal_id") in self.participants:
                self.participants[seen["principal_id"]].update(
                    {k: seen[k] for k in ("connected", "is_available", "status") if k in seen}
                )
        elif t == "PROTOCOL_ERROR" and p.get("error_code") == "PARTICIPANT_UNAVAILABLE":
            pid = ext.get("principal_id")
            if pid in self.participants:
                self.participants[pid]["is_available"] = False

    # --- queries -----------------------------------------------------------------------------

    def targets_of(self, worktree: str | None) -> dict[str, dict[str, Any]]:
        """The last commit of each file of one worktree (None: the main worktree)."""
        return self.targets if not worktree else self.worktree_targets.setdefault(worktree, {})

    def live_intents(self) -> list[dict[str, Any]]:
        return sorted(self.intents.values(), key=lambda i: i.get("received_at") or 0)

    def intents_of(self, principal_id: str) -> list[dict[str, Any]]:
        return [i for i in self.live_intents() if i["principal_id"] == principal_id]

    def overlapping(
        self, files: list[str], exclude_principal: str | None = None
    ) -> list[tuple[dict[str, Any], Overlap]]:
        """Live intents of others whose scope overlaps these files, with the overlap (the typed
        form, for front-ends, is `Session.holders`)."""
        probe = file_probe(files)
        out = []
        for intent in self.live_intents():
            if exclude_principal and intent["principal_id"] == exclude_principal:
                continue
            ov = coverage(probe, intent.get("scope"))
            if ov is not None:
                out.append((intent, ov))
        return out

    def conflicts_of(self, intent_id: str) -> list[dict[str, Any]]:
        return [c for c in self.conflicts.values() if intent_id in c.get("related_intents", [])]

    def summary(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "participants": sorted(self.participants.values(), key=lambda p: p["principal_id"]),
            "intents": self.live_intents(),
            "conflicts": list(self.conflicts.values()),
            "targets": dict(self.targets),
            "worktree_targets": {
                w: dict(files) for w, files in self.worktree_targets.items() if files
            },
        }
