"""Isolation: multi-session mode with tokens. No client ever receives a message from a session it
was not admitted to, and a rejected client receives nothing but its one error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from bridge.client import JoinRefused, SessionClient
from tests.core.helpers import msg
from tests.support.sidecar import sidecar


async def isolation(tmp_path: Path, sessions: int, per_session: int) -> dict:
    table = {
        f"token-{s}-{c}-xxxxxxxx": {"allowed_sessions": [f"s{s}"], "roles": ["contributor"]}
        for s in range(sessions)
        for c in range(per_session)
    }
    (tmp_path / "tokens.json").write_text(json.dumps(table))
    async with sidecar(
        "--multi-session", "--token-table", str(tmp_path / "tokens.json"), data_dir=tmp_path / "d"
    ) as sc:
        clients: list[tuple[str, SessionClient, asyncio.Queue]] = []
        for s in range(sessions):
            for c in range(per_session):
                client = SessionClient(
                    sc.session_url(f"s{s}"), f"agent:s{s}c{c}", token=f"token-{s}-{c}-xxxxxxxx"
                )
                await client.connect()
                clients.append((f"s{s}", client, client.subscribe()))
        rejected = 0
        intruder_msgs = []
        for s in range(sessions):  # a token of session s tries every other session
            other = (s + 1) % sessions
            try:
                await SessionClient(
                    sc.session_url(f"s{other}"),
                    f"agent:intruder{s}",
                    token=f"token-{s}-0-xxxxxxxx",
                    reconnect=False,
                ).connect()
            except JoinRefused as exc:
                assert exc.code == "CREDENTIAL_REJECTED"
                rejected += 1
            async with connect(sc.session_url(f"s{other}")) as ws:  # raw: no token at all
                await ws.send(
                    json.dumps(
                        msg(
                            "HELLO",
                            f"agent:raw{s}",
                            {"display_name": "raw"},
                            session=f"s{other}",
                            now=__import__("time").time(),
                        )
                    )
                )
                try:
                    async for raw in ws:
                        intruder_msgs.append(json.loads(raw))
                except Exception:
                    pass
        for sid, client, _q in clients:
            assert (await client.announce(f"work in {sid}", [f"{client.principal_id}.py"])).ok
        for sid, client, _q in clients:  # everyone in a session sees its peers' announces
            ok = await client.wait_until(
                lambda v, s=sid: (
                    sum(
                        1 for i in v.intents.values() if i["principal_id"].startswith(f"agent:{s}c")
                    )
                    == per_session
                ),
                20,
            )
            assert ok
        leaks = 0
        total = 0
        for sid, _client, q in clients:
            while not q.empty():
                m = q.get_nowait()
                if m.get("message_type", "").startswith("_"):
                    continue
                total += 1
                if m.get("session_id") != sid:
                    leaks += 1
        for _sid, client, _q in clients:
            await client.close()
        return {
            "sessions": sessions,
            "clients": len(clients),
            "messages": total,
            "leaks": leaks,
            "rejected": rejected,
            "intruder_msgs": intruder_msgs,
        }


def check(r: dict, label: str) -> None:
    print(
        f"\n{label}: {r['sessions']} sessions, {r['clients']} clients, {r['messages']} messages checked, "
        f"{r['rejected']} cross-session logins refused, leaks {r['leaks']}"
    )
    assert r["leaks"] == 0 and r["rejected"] == r["sessions"]
    assert all(m["message_type"] == "PROTOCOL_ERROR" for m in r["intruder_msgs"])
    assert len(r["intruder_msgs"]) == r["sessions"]  # exactly one error each, nothing else


async def test_isolation_short(tmp_path: Path) -> None:
    check(await isolation(tmp_path, sessions=4, per_session=3), "isolation (short)")


@pytest.mark.slow
async def test_isolation_soak(tmp_path: Path) -> None:
    check(await isolation(tmp_path, sessions=20, per_session=5), "isolation (soak)")
