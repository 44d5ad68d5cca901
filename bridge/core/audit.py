"""A tamper-evident audit trail: JSON Lines where each record carries the hash of the previous one.

The chain is pure: each record goes to a sink (a callable), never into an ever-growing list, as its
JSON line: the canonical text that was hashed, with the hash added as its first key (key order does
not matter to `verify_lines`), so a record is encoded once. Editing,
inserting or deleting any byte of any record breaks every hash after it, and `verify_lines` says
where.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bridge.protocol.codec import encode_sorted

GENESIS = "0" * 64
Sink = Callable[[str], None]  # receives each record's JSON line (no newline)


def canonical(record: dict[str, Any]) -> str:
    return encode_sorted(record).decode()


def _legacy_canonical(record: dict[str, Any]) -> str:
    """The canonical text before issue 17 (the standard library's): it differs from msgspec's only
    in how some floats are spelled (1e+16 for 1e16), so older transcripts still verify."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _chain_hash(prev: str, text: bytes) -> str:
    return hashlib.sha256(prev.encode() + text).hexdigest()


def record_hash(prev: str, body: dict[str, Any]) -> str:
    return _chain_hash(prev, encode_sorted(body))


class AuditChain:
    def __init__(self, sink: Sink | None, seq: int = 0, head: str = GENESIS) -> None:
        self.sink = sink
        self.seq = seq
        self.head = head

    def append(self, body: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        record = {"seq": self.seq, "prev": self.head, **body}
        text = encode_sorted(record)  # hashed and written as is: encoded once
        record["hash"] = self.head = digest = _chain_hash(record["prev"], text)
        if self.sink is not None:
            self.sink(f'{{"hash":"{digest}",{text[1:].decode()}')
        return record

    def state(self) -> dict[str, Any]:
        return {"seq": self.seq, "head": self.head}


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    bad_line: int | None = None  # 1-based line number of the first broken record
    reason: str = ""


def verify_lines(lines: Iterable[str | bytes]) -> Verification:
    """Check every record's hash and its link to the previous one."""
    prev, expected_seq, count = None, None, 0
    for n, line in enumerate(lines, 1):
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            claimed = record.pop("hash")
        except (ValueError, KeyError, AttributeError):
            return Verification(False, count, n, "not a JSON record with a hash")
        if prev is not None and record.get("prev") != prev:
            return Verification(
                False,
                count,
                n,
                "does not link to the previous record (a record was removed or reordered)",
            )
        if expected_seq is not None and record.get("seq") != expected_seq:
            return Verification(
                False, count, n, f"sequence {record.get('seq')} where {expected_seq} was expected"
            )
        prev_hash = record.get("prev", "")
        if record_hash(str(prev_hash), record) != claimed and (
            _chain_hash(str(prev_hash), _legacy_canonical(record).encode()) != claimed
        ):
            return Verification(
                False, count, n, "content does not match its hash (the record was altered)"
            )
        prev, expected_seq, count = claimed, record.get("seq", 0) + 1, count + 1
    return Verification(True, count)
