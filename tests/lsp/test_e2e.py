"""End to end: the real `mpac-bridge lsp` over stdio (pytest-lsp client), a real sidecar, and a
simulated agent (SessionClient) acting in the same session."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from bridge.client import SessionClient
from tests.lsp.harness import FILES, ME, SESSION, WAIT, Editor
from tests.support.sidecar import RunningSidecar

pytestmark = pytest.mark.e2e


async def open_editor(repo: Path, sidecar: RunningSidecar, **options: object) -> Editor:
    ed = Editor(repo)
    await ed.start(
        {"coordinatorUrl": sidecar.url, "sessionId": SESSION, "watch": "server", **options}
    )
    assert await ed.joined(), [m.message for m in ed.client.log_messages]
    return ed


async def test_warning_appears_on_announce_and_clears_on_withdraw(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await open_editor(repo, sidecar)
    try:
        ed.open("src/app.py")
        assert (
            await agent.announce("Refactor the app entry point", ["src/app.py"], intent_id="i-bob")
        ).ok
        assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
        [d] = ed.diags("src/app.py")
        assert d.severity == types.DiagnosticSeverity.Warning
        assert (
            "bob (agent:bob) is working on this file: Refactor the app entry point (intent i-bob"
            in d.message
        )
        last = [p for _t, p in ed.publishes if p.uri == ed.uri("src/app.py")][-1]
        assert last.version == 1
        # the other file gets nothing (the server publishes only what changed)
        ed.open("src/util.py")
        # hover on the diagnostic's range shows the intent
        hover = await ed.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=ed.uri("src/app.py")),
                position=types.Position(line=0, character=2),
            )
        )
        assert (
            hover is not None
            and "Refactor the app entry point" in hover.contents.value
            and "i-bob" in hover.contents.value
        )
        assert (await agent.withdraw("i-bob")).ok
        assert await ed.until(lambda: ed.diags("src/app.py") == [])
        assert not any(p.uri == ed.uri("src/util.py") for _t, p in ed.publishes)
    finally:
        await ed.stop()


async def test_commit_after_load_is_information_until_reload(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await open_editor(repo, sidecar)
    try:
        ed.open("src/util.py")
        ok = await agent.announce("Bump X", ["src/util.py"], intent_id="i-x")
        assert ok.ok
        assert await ed.until(lambda: ed.codes("src/util.py") == ["intent"])
        new = "X = 2\n"
        (repo / "src/util.py").write_text(new)
        from bridge.workspace import state_ref_of_bytes

        reply = await agent.commit(
            "i-x",
            "src/util.py",
            state_ref_of_bytes(FILES["src/util.py"].encode()),
            state_ref_of_bytes(new.encode()),
            op_id="op-x",
        )
        assert reply.ok, reply.description
        assert await ed.until(lambda: "stale" in ed.codes("src/util.py"))
        [info] = [d for d in ed.diags("src/util.py") if d.code == "stale"]
        assert info.severity == types.DiagnosticSeverity.Information and "op-x" in info.message
        # the editor reloads the file: its buffer now matches the commit, the notice clears
        ed.edit("src/util.py", new)
        assert await ed.until(lambda: "stale" not in ed.codes("src/util.py"))
    finally:
        await ed.stop()


async def test_disk_change_while_held_republishes(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await open_editor(repo, sidecar)
    try:
        ed.open("src/app.py")
        assert (await agent.announce("Rewrite", ["src/app.py"], intent_id="i-w")).ok
        assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
        (repo / "src/app.py").write_text("print('rewritten')\n")
        assert await ed.until(lambda: "changed-on-disk" in ed.codes("src/app.py"))
        [d] = [d for d in ed.diags("src/app.py") if d.code == "changed-on-disk"]
        assert "agent:bob" in d.message
    finally:
        await ed.stop()


async def test_claim_code_action_creates_the_intent_the_agent_sees(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await open_editor(repo, sidecar)
    try:
        ed.open("src/app.py")
        actions = await ed.actions("src/app.py")
        titles = [a.title for a in actions]
        assert titles == ["Claim this file", "Show who is working here"]
        result = await ed.run(actions[0])
        assert result["ok"] is True
        assert await agent.wait_until(
            lambda v: any(
                i["principal_id"] == ME and i["scope"].get("resources") == ["src/app.py"]
                for i in v.intents.values()
            ),
            WAIT,
        )
        # now the editor offers to release it
        actions = await ed.actions("src/app.py")
        assert next(a.title for a in actions) == "Release my claim"
        # the agent announcing on a pattern covering the file makes a conflict: the editor shows an Error
        # (the same exact path would be refused outright: the file is race-locked by the claim)
        assert (await agent.announce("Touch every module", ["src/*.py"], intent_id="i-clash")).ok
        assert await ed.until(lambda: "conflict" in ed.codes("src/app.py"))
        assert ed.diags("src/app.py")[0].severity == types.DiagnosticSeverity.Error
        ack = [
            a for a in await ed.actions("src/app.py") if a.title.startswith("Acknowledge conflict")
        ]
        assert ack and (await ed.run(ack[0]))["ok"] is True
        who = next(
            a for a in await ed.actions("src/app.py") if a.title == "Show who is working here"
        )
        shown = await ed.run(who)
        assert "agent:bob" in shown["message"] and "(you)" in shown["message"]
        # release: the agent sees the intent go
        release = (await ed.actions("src/app.py"))[0]
        assert (await ed.run(release))["ok"] is True
        assert await agent.wait_until(lambda v: not v.intents_of(ME), WAIT)
    finally:
        await ed.stop()


async def test_a_held_symbol_is_marked_on_its_lines_and_followed_as_they_move(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    """Issue 19: the Warning of a symbol claim covers the symbol's lines in the buffer, not the whole
    file, and moves with the symbol while the person edits above it."""
    from bridge.client.scope import announce_scope

    text = "import os\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n"
    (repo / "src/mod.py").write_text(text)
    ed = await open_editor(repo, sidecar)
    try:
        ed.open("src/mod.py")
        scope = announce_scope([], ["src/mod.py::g"], namespace=SESSION)
        assert (await agent.announce("Speed up g", scope=scope, intent_id="i-g")).ok
        assert await ed.until(
            lambda: (
                [(d.range.start.line, d.range.end.line) for d in ed.diags("src/mod.py")] == [(7, 9)]
            )
        )
        [d] = ed.diags("src/mod.py")
        assert (
            "bob (agent:bob) is working on g in this file: Speed up g" in d.message
            and d.data["symbol"] == "g"
        )
        hover = await ed.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=ed.uri("src/mod.py")),
                position=types.Position(line=8, character=4),
            )
        )
        assert hover is not None and "Speed up g" in hover.contents.value
        ed.edit(
            "src/mod.py", "# a comment\n# another\n" + text
        )  # two lines above: the Warning moves down with g
        assert await ed.until(lambda: [d.range.start.line for d in ed.diags("src/mod.py")] == [9])
        ed.edit(
            "src/mod.py", "# a comment\n# another\n" + text + "def broken(:\n"
        )  # mid-edit, does not parse: stays
        ed.edit("src/mod.py", text.replace("def g", "\n\n\n\ndef g"))
        assert await ed.until(lambda: [d.range.start.line for d in ed.diags("src/mod.py")] == [11])
        assert (await agent.withdraw("i-g")).ok
        assert await ed.until(lambda: ed.diags("src/mod.py") == [])
    finally:
        await ed.stop()
