"""The audit trail: hash-chained JSON Lines; one altered byte is detected (issue 3 acceptance)."""

from __future__ import annotations

import json
from pathlib import Path

from bridge.core import Coordinator, CoordinatorConfig
from bridge.core.audit import AuditChain, verify_lines
from bridge.store.transcript import TranscriptWriter, export_transcript, verify_file

from .helpers import T0, fs, msg


def run_session(path: Path) -> Coordinator:
    writer = TranscriptWriter(path)
    coord = Coordinator(CoordinatorConfig(), "s1", T0, audit=writer)
    coord.handle(
        msg(
            "HELLO",
            "agent:a",
            {"display_name": "a", "credential": {"type": "bearer_token", "value": "secret"}},
        ),
        T0,
    )
    coord.handle(msg("HELLO", "agent:b", {"display_name": "b"}), T0)
    coord.handle(
        msg(
            "INTENT_ANNOUNCE", "agent:a", {"intent_id": "i1", "objective": "o", "scope": fs("a.py")}
        ),
        T0,
    )
    coord.handle(
        msg(
            "INTENT_ANNOUNCE", "agent:b", {"intent_id": "i2", "objective": "o", "scope": fs("a.py")}
        ),
        T0,
    )
    writer.close()
    return coord


def test_transcript_verifies_and_keeps_no_secrets(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    coord = run_session(path)
    result = verify_file(path)
    assert result.ok and result.records >= 6
    text = path.read_text()
    assert "secret" not in text
    kinds = [json.loads(line)["kind"] for line in text.splitlines()]
    assert {"in", "out", "decision"} <= set(kinds)
    export = export_transcript(path, "s1", coord.snapshot())
    lamports = [m["watermark"]["value"] for m in export["messages"] if m.get("watermark")]
    assert lamports == sorted(lamports)


def test_one_altered_byte_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    run_session(path)
    lines = path.read_bytes().splitlines()
    target = 3
    altered = bytearray(lines[target])
    pos = altered.index(b"agent:")
    altered[pos] = ord("b")  # one byte
    lines[target] = bytes(altered)
    result = verify_lines(lines)
    assert not result.ok and result.bad_line == target + 1
    dropped = lines[:2] + lines[3:]
    assert verify_lines(dropped).bad_line == 3


def test_restored_coordinator_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    coord = run_session(path)
    writer = TranscriptWriter(path)
    twin = Coordinator.restore(json.loads(json.dumps(coord.snapshot())), audit=writer)
    twin.handle(msg("INTENT_WITHDRAW", "agent:a", {"intent_id": "i1"}), T0 + 1)
    writer.close()
    assert verify_file(path).ok


def test_transcript_command_verifies_exports_and_names_the_broken_line(
    tmp_path: Path, capsys
) -> None:
    from bridge.cli import main

    path = tmp_path / "s1.jsonl"
    run_session(path)
    assert main(["transcript", "verify", str(path)]) == 0
    assert "intact" in capsys.readouterr().out
    out = tmp_path / "export.json"
    assert main(["transcript", "export", str(path), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["session_id"] == "s1" and len(doc["messages"]) >= 4
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"agent:", b"agent;", 1)
    path.write_bytes(b"".join(lines))
    assert main(["transcript", "verify", str(path)]) == 1
    assert "BROKEN at line 3" in capsys.readouterr().out
    assert main(["transcript", "verify", str(tmp_path / "missing.jsonl")]) == 2


def test_the_sink_gets_the_hashed_text_as_the_line_and_it_verifies() -> None:
    lines: list[str] = []
    chain = AuditChain(lines.append)
    records = [
        chain.append({"at": T0, "kind": "in", "message": {"text": "naïve ✓", "n": n}})
        for n in range(3)
    ]
    assert [json.loads(line) for line in lines] == records  # the same record, encoded once
    assert all(line.startswith('{"hash":"') for line in lines)
    assert verify_lines(lines).ok and verify_lines(lines).records == 3
    lines[1] = lines[1].replace("naïve", "naive")
    assert verify_lines(lines).bad_line == 2
