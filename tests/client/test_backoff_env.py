"""Reconnect backoff, remote-mode construction from the environment, and id helpers (no sockets)."""

from __future__ import annotations

import ssl

import pytest

from bridge.client import Backoff, client_from_env, ids


def test_backoff_grows_to_the_cap_with_jitter_inside_bounds() -> None:
    b = Backoff(initial=0.1, cap=5.0, jitter=0.5, rng=lambda: 0.0)
    delays = [b.next_delay() for _ in range(12)]
    assert delays[0] == pytest.approx(0.05)  # lowest point of the jittered first step
    assert delays == sorted(delays)
    assert max(delays) == pytest.approx(2.5)  # capped at 5.0, minus full jitter spread
    top = Backoff(initial=0.1, cap=5.0, jitter=0.5, rng=lambda: 0.999999)
    assert max(top.next_delay() for _ in range(12)) == pytest.approx(5.0, rel=1e-3)


def test_flapping_connections_do_not_reset_the_delay() -> None:
    b = Backoff(initial=0.1, cap=5.0, healthy_after=10.0, jitter=0.0)
    seen = []
    now = 0.0
    for _ in range(8):  # connect, drop 1 s later, again and again
        seen.append(b.next_delay())
        b.up(now)
        now += 1.0
        b.down(now)
    assert seen == sorted(seen) and seen[-1] == 5.0


def test_a_healthy_connection_resets_the_delay() -> None:
    b = Backoff(initial=0.1, cap=5.0, healthy_after=10.0, jitter=0.0)
    for _ in range(6):
        b.next_delay()
    b.up(100.0)
    b.down(111.0)
    assert b.next_delay() == pytest.approx(0.1)


def test_client_from_env_reads_url_and_token() -> None:
    c = client_from_env(
        principal_id="agent:x",
        environ={
            "MPAC_COORDINATOR_URL": "ws://h:1/session/s9",
            "MPAC_COORDINATOR_TOKEN": "tok-123",
        },
    )
    assert c.url == "ws://h:1/session/s9" and c.token == "tok-123" and c.session_id == "s9"
    assert c.ssl_context is None


def test_client_from_env_default_url_and_errors() -> None:
    c = client_from_env("ws://local:2", principal_id="agent:x", environ={})
    assert c.url == "ws://local:2" and c.token is None
    with pytest.raises(ValueError, match="MPAC_COORDINATOR_URL"):
        client_from_env(principal_id="agent:x", environ={})
    with pytest.raises(ValueError, match="ws://"):
        client_from_env(principal_id="agent:x", environ={"MPAC_COORDINATOR_URL": "http://h:1"})


def test_wss_gets_a_verifying_tls_context() -> None:
    c = client_from_env(
        principal_id="agent:x", environ={"MPAC_COORDINATOR_URL": "wss://h:1/session/s"}
    )
    assert isinstance(c.ssl_context, ssl.SSLContext)
    assert c.ssl_context.verify_mode == ssl.CERT_REQUIRED and c.ssl_context.check_hostname


def test_ids_are_prefixed_and_distinct() -> None:
    made = {ids.intent_id() for _ in range(200)}
    assert len(made) == 200 and all(i.startswith("intent-") for i in made)
    assert ids.op_id().startswith("op-") and ids.deferral_id().startswith("defer-")
    assert ids.instance_id("agent:a").startswith("agent:a#")
