"""Unit tests for the pure parts of the language server: store, coalescer, diagnostics, actions."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from bridge.client import Session, SessionView
from lsp.actions import ACK, CLAIM, RELEASE, SHOW_WHO, code_actions, hover_markdown, who_text
from lsp.debounce import Coalescer
from lsp.diagnostics import compute
from lsp.store import DiagnosticStore
from lsp.tracked import Tracked

ME = "human:ann@editor"
T0 = 1_700_000_000.0


def msg(
    mtype: str, sender: str, payload: dict[str, Any], ts: str = "2023-11-14T22:13:20Z"
) -> dict[str, Any]:
    return {
        "message_type": mtype,
        "ts": ts,
        "sender": {"principal_id": sender, "principal_type": sender.split(":")[0]},
        "payload": payload,
    }


def view_with(*messages: dict[str, Any]) -> SessionView:
    v = SessionView()
    for m in messages:
        v.apply(m, T0)
    return v


def at(v: SessionView, me: str = ME) -> Session:
    return Session(v, me)


def announce(
    sender: str, intent_id: str, files: list[str], objective: str = "work"
) -> dict[str, Any]:
    return msg(
        "INTENT_ANNOUNCE",
        sender,
        {
            "intent_id": intent_id,
            "objective": objective,
            "ttl_sec": 60,
            "scope": {"kind": "file_set", "resources": files},
        },
    )


def hello(sender: str, name: str) -> dict[str, Any]:
    return msg("HELLO", sender, {"display_name": name, "roles": ["contributor"]})


def tracked(rel: str = "src/a.py", **kw: Any) -> Tracked:
    return Tracked(uri=f"file:///repo/{rel}", rel=rel, open=True, version=1, **kw)


def test_store_merges_sources_and_tracks_publishing() -> None:
    s = DiagnosticStore()
    uri = "file:///x"
    err = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=0, character=0), end=types.Position(line=0, character=1)
        ),
        message="e",
        severity=types.DiagnosticSeverity.Error,
    )
    warn = types.Diagnostic(range=err.range, message="w", severity=types.DiagnosticSeverity.Warning)
    s.set("intent", uri, [warn])
    s.set("conflict", uri, [err])
    assert [d.message for d in s.merged(uri)] == ["e", "w"]  # errors first
    assert s.pending(uri)
    s.published(uri, s.merged(uri))
    assert not s.pending(uri)
    s.set("intent", uri, [])
    assert s.pending(uri) and [d.message for d in s.merged(uri)] == ["e"]
    s.clear(uri)
    assert s.merged(uri) == [] and s.pending(uri) and uri in s.uris()
    s.published(uri, [])
    assert not s.pending(uri) and uri not in s.uris()


def test_coalescer_bounds_latency_and_coalesces_bursts() -> None:
    c = Coalescer(0.05)
    assert c.mark("a", 10.0) is True
    assert c.mark("a", 10.04) is False  # joins the open window, does not postpone it
    assert c.mark("b", 10.02) is True
    assert c.next_due() == 10.05
    assert c.pop_due(10.049) == []
    assert c.pop_due(10.05) == ["a"]
    assert "b" in c and len(c) == 1
    assert c.pop_due(11) == ["b"] and c.next_due() is None
    assert c.mark("a", 12.0) is True  # a new window after the flush


def test_warning_names_holder_objective_intent_and_expiry() -> None:
    v = view_with(
        hello("agent:bob", "bob"), announce("agent:bob", "i-1", ["src/a.py"], "Refactor parser")
    )
    out = compute(at(v), tracked())
    [d] = out["intent"]
    assert d.severity == types.DiagnosticSeverity.Warning
    assert "bob (agent:bob) is working on this file: Refactor parser" in d.message
    assert "intent i-1" in d.message and "expires 22:14:20 UTC" in d.message
    assert d.data["intent_id"] == "i-1"
    assert out["conflict"] == out["stale"] == out["disk"] == out["uncoordinated"] == []
    # other files, and my own intents, give nothing
    assert compute(at(v), tracked("src/b.py"))["intent"] == []
    assert compute(at(v, "agent:bob"), tracked())["intent"] == []


def test_glob_scope_covers_files_below_it() -> None:
    v = view_with(announce("agent:bob", "i-1", ["src/**"]))
    assert len(compute(at(v), tracked("src/deep/x.py"))["intent"]) == 1


def test_suspended_intent_says_it_can_be_taken_over() -> None:
    v = view_with(
        announce("agent:bob", "i-1", ["src/a.py"]),
        msg(
            "INTENT_UPDATE",
            "service:coordinator",
            {"intent_id": "i-1", "extensions": {"mpac-bridge": {"state": "SUSPENDED"}}},
        ),
    )
    [d] = compute(at(v), tracked())["intent"]
    assert "suspended" in d.message and "taken over" in d.message
    [claim, *_] = code_actions(at(v), tracked())
    assert claim.title.startswith("Claim this file (take over agent:bob's suspended intent")


def test_conflict_is_an_error_and_clears_on_resolution() -> None:
    v = view_with(
        announce("agent:bob", "i-1", ["src/a.py"]),
        announce("agent:eve", "i-2", ["src/a.py"]),
        msg(
            "CONFLICT_REPORT",
            "service:coordinator",
            {
                "conflict_id": "c-1",
                "category": "scope_overlap",
                "severity": "medium",
                "principal_a": "agent:bob",
                "principal_b": "agent:eve",
                "intent_a": "i-1",
                "intent_b": "i-2",
                "description": "both edit a.py",
            },
        ),
    )
    [d] = compute(at(v), tracked())["conflict"]
    assert (
        d.severity == types.DiagnosticSeverity.Error
        and "c-1" in d.message
        and "agent:bob and agent:eve" in d.message
    )
    assert compute(at(v), tracked("src/b.py"))["conflict"] == []
    titles = [
        a.title for a in code_actions(at(v), tracked(), compute(at(v), tracked())["conflict"])
    ]
    assert "Acknowledge conflict c-1" in titles
    v.apply(msg("RESOLUTION", "human:lead", {"conflict_id": "c-1", "decision": "approved"}), T0)
    assert compute(at(v), tracked())["conflict"] == []


def test_stale_information_after_someone_else_commits() -> None:
    v = view_with(
        msg(
            "OP_COMMIT",
            "agent:bob",
            {"op_id": "op-0", "target": "src/a.py", "state_ref_after": "sha256:aa"},
        )
    )
    t = tracked(baseline_op="op-0", buffer_ref="sha256:aa")
    assert compute(at(v), t)["stale"] == []
    v.apply(
        msg(
            "OP_COMMIT",
            "agent:bob",
            {"op_id": "op-1", "target": "src/a.py", "state_ref_after": "sha256:bb"},
        ),
        T0,
    )
    [d] = compute(at(v), t)["stale"]
    assert d.severity == types.DiagnosticSeverity.Information and "op-1" in d.message
    t.buffer_ref = "sha256:bb"  # the editor reloaded the file: the buffer matches the commit
    assert compute(at(v), t)["stale"] == []
    t.buffer_ref, t.open = "sha256:cc", False  # closed buffers are never stale
    assert compute(at(v), t)["stale"] == []
    # my own commits never make my buffer stale
    v.apply(
        msg(
            "OP_COMMIT", ME, {"op_id": "op-2", "target": "src/a.py", "state_ref_after": "sha256:dd"}
        ),
        T0,
    )
    assert compute(at(v), tracked(baseline_op="op-0"))["stale"] == []


def test_disk_change_and_uncoordinated_edit() -> None:
    v = view_with(announce("agent:bob", "i-1", ["src/a.py"]))
    t = tracked(
        disk_change={"holders": ["agent:bob"], "state_ref": "sha256:ee"},
        uncoordinated=["agent:bob"],
    )
    out = compute(at(v), t)
    assert "changed on disk while agent:bob held it" in out["disk"][0].message
    [u] = out["uncoordinated"]
    assert u.severity == types.DiagnosticSeverity.Warning and u.message.startswith(
        "uncoordinated edit: held by agent:bob (intent i-1)"
    )
    v.apply(msg("INTENT_WITHDRAW", "agent:bob", {"intent_id": "i-1"}), T0)
    assert compute(at(v), t)["uncoordinated"] == [] and compute(at(v), t)["intent"] == []


def test_actions_who_and_hover() -> None:
    v = view_with(
        hello("agent:bob", "bob"), announce("agent:bob", "i-1", ["src/a.py"], "Refactor parser")
    )
    actions = code_actions(at(v), tracked())
    assert [a.command.command for a in actions] == [CLAIM, SHOW_WHO]
    assert actions[0].command.arguments == ["file:///repo/src/a.py"]
    v.apply(announce(ME, "i-me", ["src/a.py"]), T0)
    assert [a.command.command for a in code_actions(at(v), tracked())] == [RELEASE, SHOW_WHO]
    text = who_text(at(v), "src/a.py")
    assert "bob (agent:bob): Refactor parser (intent i-1, active" in text and "(you)" in text
    md = hover_markdown(at(v), "src/a.py")
    assert md is not None and "Refactor parser" in md and "`i-1`" in md and "i-me" not in md
    assert hover_markdown(at(v), "src/other.py") is None
    assert "nobody has announced" in who_text(at(v), "src/other.py")
    assert ACK not in [a.command.command for a in code_actions(at(v), tracked())]


APP = "import os\n\n\ndef f():\n    return 1\n\n\nclass Router:\n    def add(self):\n        pass\n"


def test_symbol_intents_cover_the_symbols_lines_and_follow_them() -> None:
    """Issue 19: a claim on symbols gives one Warning per symbol, on its lines in the buffer."""
    from bridge.client.scope import announce_scope
    from bridge.workspace.symbols import extract_symbols

    scope = announce_scope(
        [], ["src/a.py::f", "src/a.py::Router.add", "src/b.py::g"], namespace="s"
    )
    v = view_with(
        hello("agent:bob", "bob"),
        msg(
            "INTENT_ANNOUNCE",
            "agent:bob",
            {"intent_id": "i-s", "objective": "tidy", "ttl_sec": 60, "scope": scope},
        ),
    )
    t = tracked(symbols=extract_symbols("src/a.py", APP))
    ds = compute(at(v), t)["intent"]
    lines = {d.data["symbol"]: (d.range.start.line, d.range.end.line) for d in ds}
    assert lines == {
        "f": (3, 5),
        "Router.add": (8, 10),
    }  # 0-based start, exclusive end: lines 4-5 and 9-10
    assert "bob (agent:bob) is working on Router.add in this file: tidy" in ds[0].message
    moved = "'''A docstring\nover three lines.'''\n" + APP  # two lines inserted above
    t.symbols = extract_symbols("src/a.py", moved)
    assert {d.data["symbol"]: d.range.start.line for d in compute(at(v), t)["intent"]} == {
        "f": 5,
        "Router.add": 10,
    }
    t.symbols = extract_symbols("src/a.py", "import os\n")  # the symbol is gone from the buffer
    [gone, _] = compute(at(v), t)["intent"]
    assert gone.range.start.line == 0 and "(not in this buffer)" in gone.message
    # a whole-file claim keeps the first-line Warning
    v2 = view_with(announce("agent:bob", "i-f", ["src/a.py"]))
    [d] = compute(at(v2), t)["intent"]
    assert d.range.start.line == 0 and "working on this file" in d.message
