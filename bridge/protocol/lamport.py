"""Lamport clock and the per-sender-incarnation frontier used for monotonicity and replay checks."""

from __future__ import annotations

from typing import Any


class LamportClock:
    __slots__ = ("value",)

    def __init__(self, value: int = 0) -> None:
        self.value = value

    def tick(self) -> int:
        """Send rule: advance, then stamp."""
        self.value += 1
        return self.value

    def receive(self, remote: int | None) -> int:
        """Receive rule: max(local, remote) + 1. A missing remote value still advances the clock."""
        self.value = max(self.value, remote or 0) + 1
        return self.value

    def observe(self, remote: int) -> None:
        """Raise the clock to at least `remote` without a receive step (restore)."""
        self.value = max(self.value, remote)


class SenderFrontier:
    """(principal_id, sender_instance_id) -> (last ts, last Lamport value)."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, tuple[float, int | None]] = {}

    @staticmethod
    def key(principal_id: str, instance_id: str) -> str:
        return f"{principal_id}|{instance_id}"

    def check(self, principal_id: str, instance_id: str, lamport: int | None) -> bool:
        """True when `lamport` is strictly above the last value seen from this incarnation."""
        last = self._seen.get(self.key(principal_id, instance_id))
        if last is None or lamport is None or last[1] is None:
            return True
        return lamport > last[1]

    def record(self, principal_id: str, instance_id: str, ts: float, lamport: int | None) -> None:
        self._seen[self.key(principal_id, instance_id)] = (ts, lamport)

    def forget_principal(self, principal_id: str) -> None:
        prefix = f"{principal_id}|"
        for k in [k for k in self._seen if k.startswith(prefix)]:
            del self._seen[k]

    def to_json(self) -> dict[str, Any]:
        return {k: {"last_ts": ts, "last_lamport": lam} for k, (ts, lam) in self._seen.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SenderFrontier:
        out = cls()
        for k, v in (data or {}).items():
            out._seen[k] = (float(v.get("last_ts", 0.0)), v.get("last_lamport"))
        return out
