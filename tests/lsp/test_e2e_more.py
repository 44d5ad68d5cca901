"""More end-to-end behaviour: uncoordinated saves, client-side watching, autoAnnounce, the
repository's own sidecar, closing documents, and an unreachable coordinator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from bridge.client import SessionClient
from bridge.workspace import find_repo, read_runtime, runtime_path
from tests.lsp.harness import ME, SESSION, WAIT, Editor
from tests.support.sidecar import RunningSidecar

pytestmark = pytest.mark.e2e


async def editor(
    repo: Path, sidecar: RunningSidecar, caps: str = "neovim", **options: object
) -> Editor:
    ed = Editor(repo)
    await ed.start({"coordinatorUrl": sidecar.url, "sessionId": SESSION, **options}, caps=caps)
    assert await ed.joined(), [m.message for m in ed.client.log_messages]
    return ed


async def test_saving_a_held_file_is_an_uncoordinated_edit(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await editor(repo, sidecar, watch="off")
    try:
        ed.open("src/app.py")
        assert (await agent.announce("Rename main", ["src/app.py"], intent_id="i-r")).ok
        assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
        ed.edit("src/app.py", "print('mine')\n")
        ed.save("src/app.py", "print('mine')\n")
        assert await ed.until(lambda: "uncoordinated" in ed.codes("src/app.py"))
        [d] = [d for d in ed.diags("src/app.py") if d.code == "uncoordinated"]
        assert d.severity == types.DiagnosticSeverity.Warning and d.message.startswith(
            "uncoordinated edit: held by bob (agent:bob)"
        )
        assert (await agent.withdraw("i-r")).ok
        assert await ed.until(lambda: ed.diags("src/app.py") == [])
    finally:
        await ed.stop()


async def test_client_side_watching_when_the_editor_can_register_it(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await editor(
        repo, sidecar, caps="visual-studio-code"
    )  # dynamic registration: watch "auto" picks the client
    try:
        assert await ed.until(
            lambda: any(
                r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in ed.registrations
            )
        )
        ed.open("src/util.py")
        assert (await agent.announce("Bump", ["src/util.py"], intent_id="i-b")).ok
        assert await ed.until(lambda: ed.codes("src/util.py") == ["intent"])
        (repo / "src/util.py").write_text("X = 3\n")
        ed.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(uri=ed.uri("src/util.py"), type=types.FileChangeType.Changed),
                    types.FileEvent(
                        uri=(repo / ".git" / "index").as_uri(), type=types.FileChangeType.Changed
                    ),
                ]
            )
        )
        assert await ed.until(lambda: "changed-on-disk" in ed.codes("src/util.py"))
        # the editor reloads: the buffer matches the disk again and the notice clears
        ed.edit("src/util.py", "X = 3\n")
        assert await ed.until(lambda: "changed-on-disk" not in ed.codes("src/util.py"))
    finally:
        await ed.stop()


async def test_auto_announce_claims_edited_files_and_withdraws_when_idle(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await editor(repo, sidecar, watch="off", autoAnnounce=True, autoAnnounceIdleSec=0.5)
    try:
        ed.open("src/util.py")
        ed.edit("src/util.py", "X = 10\n")
        assert await agent.wait_until(
            lambda v: any(i["scope"].get("resources") == ["src/util.py"] for i in v.intents_of(ME)),
            WAIT,
        )
        # idle: the intent is withdrawn by itself
        assert await agent.wait_until(lambda v: not v.intents_of(ME), WAIT)
    finally:
        await ed.stop()


async def test_closing_an_untouched_document_clears_it(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient
) -> None:
    ed = await editor(repo, sidecar, watch="off")
    try:
        ed.open("src/app.py")
        assert (await agent.announce("Read-only look", ["src/app.py"], intent_id="i-l")).ok
        assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
        ed.client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=ed.uri("src/app.py"))
            )
        )
        assert await ed.until(lambda: ed.diags("src/app.py") == [])
        last = [p for _t, p in ed.publishes if p.uri == ed.uri("src/app.py")][-1]
        assert last.version is None
    finally:
        await ed.stop()


async def test_unreachable_coordinator_is_reported_not_fatal(repo: Path) -> None:
    ed = Editor(repo)
    await ed.start({"coordinatorUrl": "ws://127.0.0.1:9", "watch": "off", "debounceMs": "fast"})
    try:
        assert await ed.until(lambda: any("cannot join" in m.message for m in ed.client.messages))
        assert any("debounceMs must be a number" in m.message for m in ed.client.log_messages)
        ed.open("src/app.py")  # still serves requests
        hover = await ed.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=ed.uri("src/app.py")),
                position=types.Position(line=0, character=0),
            )
        )
        assert hover is None
    finally:
        await ed.stop()


async def test_joins_the_repository_sidecar_found_from_the_root(repo: Path) -> None:
    ed = Editor(repo)
    await ed.start({"watch": "server"})
    r = find_repo(repo)
    try:
        assert await ed.joined(), [m.message for m in ed.client.log_messages]
        info = read_runtime(runtime_path(r))
        assert info is not None and info.session_id == r.session_id
        agent = SessionClient(info.url, "agent:carol", session_id=info.session_id)
        await agent.connect()
        try:
            assert await agent.wait_until(lambda v: ME in v.participants, WAIT)
            ed.open("src/app.py")
            assert (await agent.announce("Port to v2", ["src/app.py"])).ok
            assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
            assert "agent:carol" in ed.diags("src/app.py")[0].message
        finally:
            await agent.close()
    finally:
        await ed.stop()
        subprocess.run(
            [sys.executable, "-m", "bridge", "stop", "--workspace", str(repo), "--force"],
            capture_output=True,
            timeout=60,
        )


async def test_follows_a_restarted_repository_sidecar(repo: Path) -> None:
    import os
    import signal

    ed = Editor(repo)
    await ed.start({"watch": "off"})
    r = find_repo(repo)
    try:
        assert await ed.joined()
        first = read_runtime(runtime_path(r))
        assert first is not None
        ed.open("src/app.py")
        os.kill(first.pid, signal.SIGKILL)  # the sidecar crashes
        assert await ed.until(
            lambda: any("sidecar is now at" in m.message for m in ed.client.log_messages), 60
        )
        info = read_runtime(runtime_path(r))
        assert info is not None and info.pid != first.pid
        agent = SessionClient(info.url, "agent:dan", session_id=info.session_id)
        await agent.connect()
        try:
            assert await agent.wait_until(
                lambda v: ME in v.participants and v.participants[ME].get("connected", True), WAIT
            )
            assert (await agent.announce("After the crash", ["src/app.py"])).ok
            assert await ed.until(lambda: ed.codes("src/app.py") == ["intent"])
        finally:
            await agent.close()
    finally:
        await ed.stop()
        subprocess.run(
            [sys.executable, "-m", "bridge", "stop", "--workspace", str(repo), "--force"],
            capture_output=True,
            timeout=60,
        )


async def test_claiming_a_suspended_file_takes_it_over(repo: Path, sidecar: RunningSidecar) -> None:
    """mpac.claim on a file whose holder left with its intents transferred: an INTENT_CLAIM (through
    the client's take_over), pending while an owner decides, then the file is the editor's."""
    bob = SessionClient(sidecar.url, "agent:bob", session_id=SESSION, display_name="bob")
    lead = SessionClient(sidecar.url, "human:lead", session_id=SESSION, roles=["owner"])
    await bob.connect()
    await lead.connect()
    ed = await editor(repo, sidecar, watch="off")
    try:
        assert (await bob.announce("Refactor the app", ["src/app.py"], intent_id="i-bob")).ok
        await bob.close(disposition="transfer")
        ed.open("src/app.py")
        assert await ed.until(lambda: any("suspended" in d.message for d in ed.diags("src/app.py")))
        [claim, *_] = await ed.actions("src/app.py")
        assert claim.title == "Claim this file (take over bob (agent:bob)'s suspended intent)"
        relayed = lead.wait_for(lambda m: m.get("message_type") == "INTENT_CLAIM", WAIT)
        result = await ed.run(claim)
        assert (
            result["ok"] is True
            and result["pending"] is True
            and "once approved" in result["message"]
        ), result
        payload = (await relayed)["payload"]
        assert payload["original_intent_id"] == "i-bob" and payload["scope"]["resources"] == [
            "src/app.py"
        ]
        assert payload["new_intent_id"] == result["intent_id"]
        assert (
            await lead.request(
                "INTENT_CLAIM", {**payload, "extensions": {"mpac-bridge": {"decision": "approved"}}}
            )
        ).ok
        assert await lead.wait_until(
            lambda v: v.intents.get(result["intent_id"], {}).get("principal_id") == ME, WAIT
        )
        assert await ed.until(lambda: ed.diags("src/app.py") == [])
        assert (await ed.actions("src/app.py"))[0].title == "Release my claim"
    finally:
        await ed.stop()
        await lead.close()
