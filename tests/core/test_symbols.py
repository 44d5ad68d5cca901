"""The coordinator with symbol scopes (issue 19): the race lock per symbol, symbol vs file in both
directions, holders naming symbols, commits on a symbol's file, the granularity setting."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.core import Coordinator, CoordinatorConfig
from bridge.protocol.symbols import symbol_scope

from .helpers import T0, Session, errors, msg, types


def sym(*ids: str) -> dict[str, Any]:
    return symbol_scope(ids, "s1")


def team(granularity: str = "symbol") -> Session:
    s = Session(
        CoordinatorConfig(unavailability_timeout_sec=100_000, symbol_granularity=granularity)
    )
    for pid in ("agent:a", "agent:b", "agent:c"):
        s.join(pid)
    return s


def claim(s: Session, pid: str, iid: str, scope: dict[str, Any]) -> Any:
    return s.send(pid, "INTENT_ANNOUNCE", {"intent_id": iid, "objective": iid, "scope": scope})


def holders(r: Any) -> list[dict[str, Any]]:
    return r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["holders"]


def test_different_symbols_of_one_file_are_both_ok_without_a_conflict() -> None:
    s = team()
    assert claim(s, "agent:a", "ia", sym("app.py::f")).accepted
    r = claim(s, "agent:b", "ib", sym("app.py::g", "app.py::Router.add"))
    assert r.accepted and "CONFLICT_REPORT" not in types(r)
    assert not s.coord.state.conflicts


def test_the_same_symbol_is_race_locked_and_holders_name_it() -> None:
    s = team()
    claim(s, "agent:a", "ia", sym("app.py::Router"))
    r = claim(
        s, "agent:b", "ib", sym("./app.py::Router::add")
    )  # nested in Router, spelled otherwise
    assert errors(r) == ["STALE_INTENT"] and "ib" not in s.coord.state.intents
    [h] = holders(r)
    assert (
        h["intent_id"] == "ia"
        and h["files"] == ["app.py"]
        and h["symbols"] == ["app.py::Router", "app.py::Router.add"]
    )


def test_a_file_and_a_symbol_in_it_lock_each_other_both_ways() -> None:
    s = team()
    claim(s, "agent:a", "ia", sym("app.py::f"))
    r = s.announce("agent:b", "ib", "app.py")  # file after symbol
    assert errors(r) == ["STALE_INTENT"] and holders(r)[0]["symbols"] == ["app.py::f"]
    assert s.announce("agent:b", "ib2", "other.py").accepted
    s.announce("agent:c", "ic", "lib.py")
    r = claim(s, "agent:a", "ia2", sym("lib.py::h"))  # symbol after file
    assert errors(r) == ["STALE_INTENT"] and holders(r)[0]["files"] == ["lib.py"]
    assert holders(r)[0]["symbols"] == ["lib.py::h"]  # what of the request the holder's file covers


def test_a_glob_over_a_symbols_file_is_an_advisory_conflict() -> None:
    s = team()
    claim(s, "agent:a", "ia", sym("src/app.py::f"))
    r = s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "ib",
            "objective": "all",
            "scope": {"kind": "resource_path", "pattern": "src/**"},
        },
    )
    assert r.accepted and "CONFLICT_REPORT" in types(r)


def test_file_granularity_reads_symbols_as_whole_files() -> None:
    s = team("file")
    assert claim(s, "agent:a", "ia", sym("app.py::f")).accepted
    r = claim(s, "agent:b", "ib", sym("app.py::g"))
    assert errors(r) == ["STALE_INTENT"]
    assert claim(s, "agent:b", "ib2", sym("lib.py::g")).accepted


def test_session_info_publishes_the_granularity_and_bad_values_are_refused() -> None:
    for g in ("symbol", "file"):
        coord = Coordinator(CoordinatorConfig(symbol_granularity=g), "s1", T0)
        out = coord.handle(
            msg("HELLO", "agent:x", {"display_name": "x", "roles": ["contributor"]}), T0
        ).outbound
        info = next(o.message for o in out if o.message["message_type"] == "SESSION_INFO")
        assert info["payload"]["extensions"]["mpac-bridge"]["symbol_granularity"] == g
    with pytest.raises(ValueError, match="symbol_granularity"):
        CoordinatorConfig(symbol_granularity="line")


def test_commits_of_a_symbol_intent_are_accepted_on_its_files_only() -> None:
    s = team()
    claim(s, "agent:a", "ia", sym("app.py::f", "lib.py::*"))

    def commit(op: str, target: str) -> Any:
        return s.send(
            "agent:a",
            "OP_COMMIT",
            {
                "op_id": op,
                "intent_id": "ia",
                "target": target,
                "op_kind": "replace",
                "state_ref_before": None,
                "state_ref_after": "sha256:" + "1" * 64,
            },
        )

    assert commit("o1", "./app.py").accepted
    assert commit("o2", "lib.py").accepted
    r = commit("o3", "other.py")
    assert (
        errors(r) == ["AUTHORIZATION_FAILED"]
        and "not a file of the symbols" in r.outbound[0].message["payload"]["description"]
    )
