"""The status summary (lsp.status): the pure counts and lists, then end to end the mpac/status
notification a client asks for with `experimental.mpacStatus` and the mpac.status command."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from bridge.client import Session, SessionClient
from lsp.status import not_joined, summary, wants_status
from tests.lsp.harness import ME, SESSION, Editor
from tests.lsp.test_pure import announce, hello, msg, view_with
from tests.support.sidecar import RunningSidecar


def test_counts_online_agents_live_intents_and_unresolved_conflicts() -> None:
    view = view_with(
        hello("agent:bob", "bob"),
        hello("agent:cy", "cy"),
        hello("agent:gone", "gone"),
        hello(ME, "ann"),
        msg("GOODBYE", "agent:gone", {"reason": "done"}),
        announce("agent:bob", "i-b", ["src/a.py", "src/b.py"], "Refactor"),
        announce(ME, "i-me", ["README.md"], "Docs"),
        msg(
            "CONFLICT_REPORT",
            "service:sidecar",
            {
                "conflict_id": "c-1",
                "category": "scope_overlap",
                "severity": "medium",
                "related_intents": ["i-b", "i-me"],
                "principal_a": "agent:bob",
                "principal_b": ME,
                "description": "both on src",
            },
        ),
    )
    s = summary(Session(view, ME), "connected")
    assert (s["agents"], s["intents"], s["conflicts"]) == (
        2,
        2,
        1,
    )  # agent:gone said GOODBYE; ann is human
    bob = next(h for h in s["holders"] if h["intentId"] == "i-b")
    assert bob == {
        "principalId": "agent:bob",
        "name": "bob (agent:bob)",
        "kind": "agent",
        "intentId": "i-b",
        "objective": "Refactor",
        "state": "active",
        "files": ["src/a.py", "src/b.py"],
        "mine": False,
    }
    assert next(h for h in s["holders"] if h["intentId"] == "i-me")["mine"] is True
    [c] = s["openConflicts"]
    assert (
        c["conflictId"] == "c-1"
        and c["state"] == "open"
        and c["principals"] == ["bob (agent:bob)", "ann (human:ann@editor)"]
    )
    assert s["connection"] == "connected" and s["me"] == ME and s["error"] == ""


def test_unreadable_scope_and_unknown_holder_do_not_break_it() -> None:
    view = view_with(
        msg(
            "INTENT_ANNOUNCE", "agent:x", {"intent_id": "i-x", "objective": "o", "scope": "garbage"}
        )
    )
    [h] = summary(Session(view, ME), "connected")["holders"]
    assert h["files"] == [] and h["kind"] == "agent" and h["name"] == "agent:x"


def test_not_joined_and_the_capability() -> None:
    assert not_joined(ME, "failed", "no repository") == {
        "connection": "failed",
        "sessionId": "",
        "me": ME,
        "agents": 0,
        "intents": 0,
        "conflicts": 0,
        "holders": [],
        "openConflicts": [],
        "error": "no repository",
    }
    assert wants_status({"mpacStatus": True})
    assert (
        not wants_status({"mpacStatus": "yes"}) and not wants_status(None) and not wants_status([])
    )


@pytest.mark.e2e
async def test_status_notification_follows_the_session_and_the_command_returns_it(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = Editor(repo)
    await ed.start(
        {"coordinatorUrl": sidecar.url, "sessionId": SESSION, "watch": "off"},
        experimental={"mpacStatus": True},
    )
    try:
        assert await ed.joined()
        assert await ed.until(
            lambda: bool(ed.statuses) and ed.statuses[-1]["connection"] == "connected"
        )
        assert ed.statuses[-1]["agents"] == 1  # the agent fixture
        assert (await agent.announce("Refactor the app", ["src/app.py"], intent_id="i-s")).ok
        assert await ed.until(lambda: ed.statuses[-1]["intents"] == 1)
        [holder] = ed.statuses[-1]["holders"]
        assert holder["intentId"] == "i-s" and holder["files"] == ["src/app.py"]
        # no notification repeats an unchanged summary
        assert all(a != b for a, b in zip(ed.statuses, ed.statuses[1:], strict=False))
        # the command returns the same summary on demand
        result = await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="mpac.status", arguments=[])
        )
        assert result["intents"] == 1 and result["agents"] == 1 and result["me"] == ME
        assert (await agent.withdraw("i-s")).ok
        assert await ed.until(lambda: ed.statuses[-1]["intents"] == 0)
        # showWho with {"show": false} returns the text without a window/showMessage
        ed.open("src/app.py")
        shown = len(ed.client.messages)
        who = await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="mpac.showWho", arguments=[ed.uri("src/app.py"), {"show": False}]
            )
        )
        assert "nobody has announced an intent" in who["message"]
        assert len(ed.client.messages) == shown
    finally:
        await ed.stop()


@pytest.mark.e2e
async def test_no_status_notification_unless_asked(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = Editor(repo)
    await ed.start({"coordinatorUrl": sidecar.url, "sessionId": SESSION, "watch": "off"})
    try:
        assert await ed.joined()
        ed.open("src/app.py")
        assert (await agent.announce("Refactor", ["src/app.py"], intent_id="i-n")).ok
        assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
        assert ed.statuses == []
    finally:
        await ed.stop()


@pytest.mark.e2e
async def test_status_says_why_joining_was_given_up(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    ed = Editor(plain)  # not a git repository and no coordinator: nothing to join
    await ed.start(
        {"watch": "off"}, env={"MPAC_COORDINATOR_URL": ""}, experimental={"mpacStatus": True}
    )
    try:
        assert await ed.until(
            lambda: bool(ed.statuses) and ed.statuses[-1]["connection"] == "failed"
        )
        assert "not inside a git repository" in ed.statuses[-1]["error"]
    finally:
        await ed.stop()
