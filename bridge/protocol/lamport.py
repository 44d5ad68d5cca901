"""Lamport clock and the per-sender-incarnation frontier used for monotonicity and replay checks."""

from __future__ import annotations

from typing import Any


class LamportClock:
    """One Lamport counter (digest 5.2): `tick` before a send, `receive` on every accepted message."""

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


def _lamport_or_none(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


class SenderFrontier:
    """(principal_id, sender_instance_id) -> (last ts, last Lamport value).

    Keys are ``"principal_id|sender_instance_id"``, as in a snapshot's ``anti_replay.sender_frontier``.
    Every process run is a new incarnation (a hook call is one), so only the `limit` most recently
    heard ones are kept; the least recently heard is forgotten first.
    """

    __slots__ = ("_seen", "limit")

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: dict[str, tuple[float, int | None]] = {}
        self.limit = max(1, limit)

    @staticmethod
    def key(principal_id: str, instance_id: str) -> str:
        return f"{principal_id}|{instance_id}"

    def check(self, principal_id: str, instance_id: str, lamport: int | None) -> bool:
        """True when `lamport` is strictly above the last value seen from this incarnation (rule 6).

        A message without a Lamport value, or the first one of an incarnation, always passes."""
        last = self._seen.get(self.key(principal_id, instance_id))
        if last is None or lamport is None or last[1] is None:
            return True
        return lamport > last[1]

    def record(self, principal_id: str, instance_id: str, ts: float, lamport: int | None) -> None:
        """Remember the latest message of an incarnation. A missing Lamport value keeps the last one."""
        k = self.key(principal_id, instance_id)
        prev = self._seen.pop(k, None)  # re-inserted last: the dict is ordered by recency
        if lamport is None:
            lamport = prev[1] if prev is not None else None
        self._seen[k] = (ts, lamport)
        if len(self._seen) > self.limit:
            del self._seen[next(iter(self._seen))]

    def last(self, principal_id: str, instance_id: str) -> tuple[float, int | None] | None:
        """(last ts, last Lamport value) of an incarnation, or None when it was never seen."""
        return self._seen.get(self.key(principal_id, instance_id))

    def forget_principal(self, principal_id: str) -> None:
        prefix = f"{principal_id}|"
        for k in [k for k in self._seen if k.startswith(prefix)]:
            del self._seen[k]

    def __len__(self) -> int:
        return len(self._seen)

    def to_json(self) -> dict[str, Any]:
        """The snapshot shape: ``{key: {"last_ts": RFC 3339 string, "last_lamport": int | null}}``."""
        from bridge.protocol.stamps import format_ts  # lazily

        return {
            k: {"last_ts": format_ts(ts), "last_lamport": lam}
            for k, (ts, lam) in self._seen.items()
        }

    @classmethod
    def from_json(cls, data: Any, limit: int = 10_000) -> SenderFrontier:
        """Inverse of `to_json`. Also takes numeric `last_ts` (older snapshots); bad entries are skipped."""
        from bridge.protocol.stamps import parse_ts

        out = cls(limit)
        if not isinstance(data, dict):
            return out
        for k, v in data.items():
            if not isinstance(k, str) or "|" not in k or not isinstance(v, dict):
                continue
            raw_ts = v.get("last_ts")
            if isinstance(raw_ts, (int, float)) and not isinstance(raw_ts, bool):
                ts: float | None = float(raw_ts)
            else:
                ts = parse_ts(raw_ts)
            out._seen[k] = (
                ts if ts is not None and ts == ts else 0.0,
                _lamport_or_none(v.get("last_lamport")),
            )
        while len(out._seen) > out.limit:  # a snapshot from a sidecar with a larger cap
            del out._seen[next(iter(out._seen))]
        return out
