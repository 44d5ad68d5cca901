"""PostgresStore beyond the common contract: leases, fencing, the schema version, credentials."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from bridge.store import LeaseLost, StoreError, StoreUnavailable
from tests.store.test_conformance import claim_eventually

psycopg = pytest.importorskip("psycopg")

from bridge.store import pgschema  # noqa: E402
from bridge.store.pglink import StoreUrlError, parse_store_url, safe_url  # noqa: E402
from bridge.store.postgres import LeaseHeld, NodeIdentity, PostgresStore  # noqa: E402


def node(name: str, url: str, ttl: float = 5.0) -> PostgresStore:
    return PostgresStore(
        url, NodeIdentity(name, uuid.uuid4().hex[:8], f"/node/{name}"), lease_ttl=ttl
    )


def wait_until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)  # polling the database's clock for a lease expiry


def rows(store: PostgresStore, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return store.main.run(lambda c: c.execute(sql, args).fetchall())


def test_a_live_holder_keeps_its_lease_until_it_expires_then_it_is_fenced(pg_url: str) -> None:
    a, b = node("a", pg_url, ttl=1.0), node("b", pg_url, ttl=1.0)
    try:
        assert a.claim("s") == 1
        assert a.append("s", "handle", 1.0, "from a") == 1
        with pytest.raises(LeaseHeld) as held:
            b.claim("s")
        assert held.value.holder.holder_name == "a" and held.value.holder.url == "/node/a"
        assert held.value.holder.alive and not held.value.holder.takeable
        wait_until(lambda: b.lease_info("s").expires_in < 0)  # a stopped renewing (think SIGSTOP)
        assert b.claim("s") == 2
        _snap, entries = b.load("s")
        assert [e.raw for e in entries] == ["from a"]
        # a still believes it holds epoch 1: the database refuses its writes
        with pytest.raises(LeaseLost, match="node b holds it at epoch 2"):
            a.append("s", "handle", 2.0, "late from a")
        with pytest.raises(LeaseLost):
            a.snapshot("s", 1, {"stale": True})
        assert b.append("s", "handle", 3.0, "from b") == 2
        journal = rows(
            b, "SELECT seq, node, epoch, raw FROM mpac_journal WHERE session_id='s' ORDER BY seq"
        )
        assert [(r[0], r[1].split("/")[0], r[2], r[3]) for r in journal] == [
            (1, "a", 1, "from a"),
            (2, "b", 2, "from b"),
        ]
        assert b.load("s")[0] is None  # a's snapshot never landed
        assert a.renew() == {}  # a forgot the session when it was refused
    finally:
        a.close()
        b.close()


def test_renewal_reports_leases_taken_over(pg_url: str) -> None:
    a, b = node("a", pg_url, ttl=1.0), node("b", pg_url, ttl=1.0)
    try:
        a.claim("s1")
        a.claim("s2")
        assert a.renew() == {}
        wait_until(lambda: b.lease_info("s2").expires_in < 0)
        b.claim("s2")
        assert a.renew() == {"s2": 1}
    finally:
        a.close()
        b.close()


def test_appends_racing_a_takeover_are_all_seen_by_the_new_holder(pg_url: str) -> None:
    """Every append the old holder got an answer for is in what the new holder loads: the FOR
    SHARE lock orders a takeover after appends in flight, and appends after it are refused."""
    a, b = node("a", pg_url, ttl=0.5), node("b", pg_url, ttl=0.5)
    acked: list[int] = []
    refused = threading.Event()
    try:
        a.claim("s")

        def write() -> None:
            for n in range(100_000):
                try:
                    acked.append(a.append("s", "handle", float(n), f"a{n}"))
                except LeaseLost:
                    refused.set()
                    return

        t = threading.Thread(target=write)
        t.start()
        claim_eventually(b, "s")
        _snap, entries = b.load("s")
        t.join(30)
        assert refused.is_set() and acked
        assert [e.seq for e in entries] == acked  # nothing acknowledged is missing, nothing extra
        assert b.append("s", "tick", 1.0) == acked[-1] + 1
    finally:
        a.close()
        b.close()


def test_a_dead_holders_lease_is_taken_at_once(pg_url: str) -> None:
    a, b = node("a", pg_url, ttl=60.0), node("b", pg_url, ttl=60.0)
    try:
        a.claim("s")
        with pytest.raises(LeaseHeld):
            b.claim("s")
        a.side.close()  # what the kernel does to a killed process's socket
        wait_until(lambda: not b.lease_info("s").alive)
        assert b.claim("s") == 2
        with pytest.raises(LeaseLost):
            a.append("s", "tick", 1.0)
    finally:
        a.close()
        b.close()


def test_a_clean_close_releases_every_lease_and_a_never_written_session_leaves_no_row(
    pg_url: str,
) -> None:
    a, b = node("a", pg_url), node("b", pg_url)
    try:
        a.claim("kept")
        a.append("kept", "handle", 1.0, "x")
        a.claim("empty")
        a.release("empty")
        assert b.lease_info("empty") is None
        a.close()
        assert b.lease_info("kept").holder is None
        assert b.claim("kept") == 2
    finally:
        b.close()


def test_schema_is_created_once_and_a_newer_schema_is_refused(pg_url: str) -> None:
    a = node("a", pg_url)
    a.close()
    a = node("a", pg_url)  # the second open finds the current version and changes nothing
    try:
        assert rows(a, "SELECT version FROM mpac_schema") == [(pgschema.SCHEMA_VERSION,)]
        a.main.run(lambda c: c.execute("UPDATE mpac_schema SET version = version + 1"))
    finally:
        a.close()
    with pytest.raises(
        StoreError,
        match=r"schema is version 2, newer than this mpac-bridge understands \(version 1\); upgrade",
    ):
        node("b", pg_url)


def test_an_older_schema_is_migrated_step_by_step(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node("a", pg_url).close()  # version 1
    monkeypatch.setattr(
        pgschema,
        "MIGRATIONS",
        [*pgschema.MIGRATIONS, "ALTER TABLE mpac_nodes ADD COLUMN zone text"],
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pgschema.migrate(conn, 2) == 1
        assert conn.execute("SELECT version FROM mpac_schema").fetchall() == [(2,)]
        conn.execute("SELECT zone FROM mpac_nodes")
        assert pgschema.migrate(conn, 2) == 2  # nothing left to do


def test_a_role_without_create_runs_on_a_current_schema(pg_url: str, pg_cluster: Any) -> None:
    node("a", pg_url).close()
    dbname = pg_url.rsplit("/", 1)[1]
    role = f"dml_{dbname}"
    pg_cluster.psql(
        f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role};"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};"
        f" GRANT pg_read_all_stats TO {role}",
        dbname,
    )
    pg_cluster.psql(
        f"REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE CREATE ON DATABASE {dbname} FROM PUBLIC",
        dbname,
    )
    url = pg_cluster.url(user=role, dbname=dbname)
    s = node("x", url)
    try:
        assert s.claim("s") == 1 and s.append("s", "tick", 1.0) == 1
    finally:
        s.close()


PASSWORD = "Sup3r-s3cret-pa55"


@pytest.fixture
def pw_url(pg_cluster: Any, pg_url: str) -> str:
    dbname = pg_url.rsplit("/", 1)[1]
    pg_cluster.psql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mpac_pw') THEN "
        f"CREATE ROLE mpac_pw LOGIN PASSWORD '{PASSWORD}'; END IF; END $$;"
        f" GRANT ALL ON DATABASE {dbname} TO mpac_pw; ALTER DATABASE {dbname} OWNER TO mpac_pw"
    )
    return pg_cluster.url(user="mpac_pw", password=PASSWORD, dbname=dbname)


def test_credentials_never_appear_in_errors(pw_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    s = node("a", pw_url)  # the right password works
    assert PASSWORD not in s.describe() and "***" in s.describe()
    s.close()
    wrong = pw_url.replace(PASSWORD, PASSWORD + "x")
    with pytest.raises(StoreUnavailable) as bad:
        node("a", wrong)
    assert "password authentication failed" in str(bad.value)
    port = pw_url.split(":")[3].split("/")[0]
    down = pw_url.replace(f":{port}/", ":1/")
    with pytest.raises(StoreUnavailable) as unreachable:
        node("a", down)
    for text in (str(bad.value), str(unreachable.value), caplog.text):
        assert PASSWORD not in text and PASSWORD + "x" not in text
    assert safe_url(pw_url) == pw_url.replace(PASSWORD, "***")


@pytest.mark.parametrize(
    "url", ["postgres://u:p%zzss@h/db", "mysql://u:pss@h/db", "postgresql://u:pss@h:notaport/db"]
)
def test_malformed_store_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(StoreUrlError) as exc:
        parse_store_url(url)
    assert "pss" not in str(exc.value) and "p%zzss" not in str(exc.value)


def test_nodes_under_different_roles_judge_each_others_liveness_by_pid(
    pg_url: str, pg_cluster: Any
) -> None:
    """pg_stat_activity hides another role's backend_start: a live holder must still count as
    alive (no takeover before expiry), and a dead one as dead."""
    node("setup", pg_url).close()
    dbname = pg_url.rsplit("/", 1)[1]
    urls = []
    for role in (f"ra_{dbname}", f"rb_{dbname}"):
        pg_cluster.psql(
            f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role};"
            f" GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            dbname,
        )
        urls.append(pg_cluster.url(user=role, dbname=dbname))
    a, b = node("a", urls[0], ttl=60.0), node("b", urls[1], ttl=60.0)
    try:
        a.claim("s")
        assert b.lease_info("s").alive
        with pytest.raises(LeaseHeld):
            b.claim("s")
        a.side.close()
        wait_until(lambda: not b.lease_info("s").alive)
        assert b.claim("s") == 2
    finally:
        a.close()
        b.close()
