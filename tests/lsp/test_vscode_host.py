"""End to end, the client side: the BUILT extension (lsp/vscode/dist/extension.js) activated in a
minimal node host (lsp/vscode/test/host.ts: the vscode API mocked, everything else real), so its
vscode-languageclient starts the real `mpac-bridge lsp` over stdio against a real sidecar while an
agent acts in the same session. What VS Code would show (diagnostics, the status bar, messages,
terminals, quick picks) is read from the host."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.lsp.harness import SESSION
from tests.lsp.vscode_support import Host, entry_point
from tests.support.sidecar import RunningSidecar

pytestmark = pytest.mark.e2e

PLAIN_PATH = (
    "/usr/bin:/bin"  # no mpac-bridge on it: the .venv (or the setting) must be what is found
)


def with_venv(repo: Path) -> Path:
    """Give the repository a .venv whose bin/mpac-bridge is the suite's own console script."""
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "mpac-bridge").symlink_to(entry_point())
    with (repo / ".gitignore").open("a") as fh:
        fh.write(".venv/\n")
    return venv_bin / "mpac-bridge"


@pytest.fixture
async def host(vscode_extension: Path) -> AsyncIterator[Host]:
    h = Host({"PATH": PLAIN_PATH, "MPAC_USER": "nobody"})
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def settings(sidecar: RunningSidecar, **extra: object) -> dict[str, object]:
    return {
        "mpacBridge.coordinatorUrl": sidecar.url,
        "mpacBridge.sessionId": SESSION,
        "mpacBridge.user": "ann",
        "mpacBridge.watch": "off",
        **{f"mpacBridge.{k}": v for k, v in extra.items()},
    }


async def test_diagnostics_code_actions_commands_and_status_bar(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient, host: Host
) -> None:
    venv_script = with_venv(repo)
    activated = await host.call("activate", folder=str(repo), settings=settings(sidecar))
    assert activated["contexts"] == {"mpacBridge.active": True}
    assert f"starting {venv_script} lsp (from the workspace's .venv)" in host.log()
    # the status bar: the agent fixture is in the session
    assert await host.until(
        lambda: host.status["text"] == "$(organization) 1 agent · 0 intents · 0 conflicts"
    ), host.status
    assert "you are human:ann@editor" in host.status["tooltip"]

    app = str(repo / "src" / "app.py")
    uri = (await host.call("open", path=app))["uri"]
    assert (
        await agent.announce("Refactor the app entry point", ["src/app.py"], intent_id="i-v")
    ).ok
    assert await host.until(lambda: [d["code"] for d in host.diagnostics(uri)] == ["intent"]), (
        host.of("diagnostics")
    )
    [d] = host.diagnostics(uri)
    assert (
        d["severity"] == 1 and d["line"] == 0 and d["source"] == "mpac-bridge"
    )  # vscode.DiagnosticSeverity.Warning
    assert (
        "bob (agent:bob) is working on this file: Refactor the app entry point (intent i-v"
        in d["message"]
    )
    assert await host.until(
        lambda: host.status["text"] == "$(organization) 1 agent · 1 intent · 0 conflicts"
    )

    # the quick fixes come from the server through the client's code action provider
    actions = await host.call("codeActions", path=app)
    assert [a["title"] for a in actions] == ["Claim this file", "Show who is working here"]
    assert actions[0]["command"] == {"command": "mpac.claim", "arguments": [uri]}

    # "who is editing this file?": the server's text in one modal, no second copy from the server
    await host.call("command", command="mpacBridge.whoIsEditing")
    [who] = [m for m in host.messages() if m["message"].startswith("Who is editing")]
    assert who["message"] == "Who is editing src/app.py" and who["options"][0]["modal"] is True
    assert (
        "bob (agent:bob): Refactor the app entry point (intent i-v, active"
        in who["options"][0]["detail"]
    )
    assert not [m for m in host.messages() if m["message"].startswith("src/app.py:")]

    # the status bar item lists who holds what; picking the row opens the file
    await host.call("answer", pick=1)
    assert (await host.call("state"))["status"]["command"] == "mpacBridge.showSession"
    await host.call("command", command="mpacBridge.showSession")
    state = await host.call("state")
    labels = [i["label"] for i in state["quickPicks"][-1]["items"]]
    assert labels == ["Who holds what", "$(hubot) bob (agent:bob)"]
    assert {"command": "showTextDocument", "args": [uri]} in state["commandsRun"]

    # claim another file from the Explorer; an agent announcing over it makes a conflict
    util = str(repo / "src" / "util.py")
    claimed = await host.call("command", command="mpacBridge.claimFile", args=[{"uri": util}])
    assert claimed["ok"] is True
    assert any(
        m["message"].startswith("mpac-bridge: you now hold src/util.py")
        for m in host.messages("info")
    )
    assert await agent.wait_until(
        lambda v: any(i["principal_id"] == "human:ann@editor" for i in v.intents.values()), 20
    )
    assert (await agent.announce("Touch every module", ["src/*.py"], intent_id="i-all")).ok
    assert await host.until(
        lambda: host.status["text"].endswith("· 1 conflict") and host.status["warning"]
    ), host.status
    released = await host.call("command", command="mpacBridge.releaseFile", args=[{"uri": util}])
    assert released["ok"] is True and released["released"]
    assert await agent.wait_until(lambda v: not v.intents_of("human:ann@editor"), 20)

    # the dashboard: `mpac-bridge dashboard` in a terminal, in the folder, on the same session
    await host.call("command", command="mpacBridge.openDashboard")
    [terminal] = (await host.call("state"))["terminals"]
    assert terminal["shown"] is True
    assert terminal["options"]["shellPath"] == str(venv_script)
    assert terminal["options"]["shellArgs"] == ["dashboard", "--as", "ann"]
    assert terminal["options"]["cwd"] == str(repo)
    assert terminal["options"]["env"] == {
        "MPAC_COORDINATOR_URL": sidecar.url,
        "MPAC_SESSION_ID": SESSION,
    }

    # the withdrawn intents clear the diagnostic
    assert (await agent.withdraw("i-v")).ok and (await agent.withdraw("i-all")).ok
    assert await host.until(lambda: host.diagnostics(uri) == [])
    assert not host.messages("error"), host.messages("error")


async def test_a_killed_server_is_restarted_and_a_setting_change_restarts_it(
    repo: Path, sidecar: RunningSidecar, agent: SessionClient, host: Host
) -> None:
    with_venv(repo)
    await host.call("activate", folder=str(repo), settings=settings(sidecar))
    assert await host.until(lambda: host.status["text"].startswith("$(organization) 1 agent"))
    uri = (await host.call("open", path=str(repo / "src" / "app.py")))["uri"]
    [pid] = host.server_pids()
    os.kill(pid, signal.SIGKILL)
    assert await host.until(lambda: "restarting it in 250 ms (restart 1 of 4)" in host.log()), (
        host.log()
    )
    assert await host.until(lambda: bool(host.server_pids()) and host.server_pids() != [pid])
    assert await host.until(lambda: host.status["text"].startswith("$(organization) 1 agent"))
    # the restarted server has the open document again: an announce shows on it
    assert (await agent.announce("After the crash", ["src/app.py"], intent_id="i-after")).ok
    assert await host.until(lambda: [d["code"] for d in host.diagnostics(uri)] == ["intent"]), (
        host.log()
    )
    assert not host.messages("error"), host.messages("error")

    # a changed setting restarts the server with the new initialization options
    await host.call("settings", values={"mpacBridge.user": "cy"})
    assert await host.until(lambda: "you are human:cy@editor" in host.status.get("tooltip", "")), (
        host.status
    )
    assert await agent.wait_until(lambda v: "human:cy@editor" in v.participants, 20)


async def test_a_server_that_keeps_dying_is_given_up_with_one_notification(
    tmp_path: Path, repo: Path, host: Host
) -> None:
    crash = tmp_path / "crashing-mpac-bridge"
    crash.write_text("#!/bin/sh\necho 'boom' >&2\nexit 3\n")
    crash.chmod(crash.stat().st_mode | stat.S_IXUSR)
    await host.call("activate", folder=str(repo), settings={"mpacBridge.command": str(crash)})
    assert await host.until(lambda: bool(host.messages("error")), 60), host.log()
    [gave_up] = host.messages("error")  # the library's own pop-ups went to the log
    assert gave_up["message"].startswith(
        "The mpac-bridge language server stopped 5 times in 3 minutes"
    )
    assert gave_up["options"] == ["Restart", "Show Log"]
    log = host.log()
    assert [f"(restart {n} of 4)" in log for n in (1, 2, 3, 4)] == [True] * 4
    assert "boom" in log  # the server's stderr is in the output
    assert await host.until(lambda: host.status["text"] == "$(circle-slash) mpac-bridge stopped"), (
        host.status
    )
    # a server command now says the server is not running instead of failing silently
    await host.call("command", command="mpacBridge.showSession")
    assert (
        host.messages("warning")[-1]["message"]
        == "mpac-bridge: the language server is not running."
    )


async def test_not_found_says_how_to_install(repo: Path, host: Host) -> None:
    await host.call("activate", folder=str(repo), settings={})
    [m] = host.messages("error")
    assert m["message"].startswith(
        "mpac-bridge was not found (not in mpacBridge.command, the workspace's .venv or PATH)"
    )
    assert "pipx install" in m["message"] and m["options"] == ["Open Settings"]
    assert host.status["text"] == "$(warning) mpac-bridge not found"
    # the dashboard cannot run either, and says the same
    await host.call("command", command="mpacBridge.openDashboard")
    assert (await host.call("state"))["terminals"] == []
    assert len(host.messages("error")) == 2


async def test_activate_does_nothing_for_a_folder_without_git(tmp_path: Path, host: Host) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    activated = await host.call("activate", folder=str(plain), settings={})
    assert activated["contexts"] == {}
    state = await host.call("state")
    assert state.get("status") is None and state["messages"] == []
