"""The token table: parsing with clear errors, lookup, session scoping, roles from the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.server.tokens import TokenTable, TokenTableError

TABLE = {
    "alice-token-123": {"allowed_sessions": ["alpha"], "roles": ["contributor"]},
    "lead-token-890": {
        "allowed_sessions": ["*"],
        "roles": ["arbiter"],
        "principal_id": "human:lead",
    },
}


def test_verdicts() -> None:
    table = TokenTable.parse(TABLE)
    ok = table.verdict("alice-token-123", "alpha")
    assert ok.accepted and tuple(ok.roles) == ("contributor",) and ok.principal_id is None
    other = table.verdict("alice-token-123", "beta")
    assert not other.accepted and "beta" in other.reason
    lead = table.verdict("lead-token-890", "anything")
    assert lead.accepted and lead.principal_id == "human:lead" and tuple(lead.roles) == ("arbiter",)
    for bad in (None, "", "alice-token-12", "alice-token-1234", "ALICE-TOKEN-123"):
        assert not table.verdict(bad, "alpha").accepted


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "non-empty JSON object"),
        ({}, "non-empty JSON object"),
        ({"short": {}}, "at least 8"),
        ({"long-enough-token": "x"}, "must be an object"),
        ({"long-enough-token": {"allowed_sessions": "alpha"}}, "allowed_sessions"),
        ({"long-enough-token": {"roles": [1]}}, "roles"),
    ],
)
def test_bad_tables_are_refused_with_a_reason(data: object, words: str) -> None:
    with pytest.raises(TokenTableError, match=words):
        TokenTable.parse(data)


def test_load_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TABLE))
    assert TokenTable.load(str(path)).verdict("alice-token-123", "alpha").accepted  # type: ignore[union-attr]
    monkeypatch.delenv("MPAC_TOKEN_TABLE", raising=False)
    assert TokenTable.load(None) is None
    monkeypatch.setenv("MPAC_TOKEN_TABLE", json.dumps(TABLE))
    assert TokenTable.load(None) is not None
    with pytest.raises(TokenTableError, match="not valid JSON"):
        TokenTable.load(None, env="{nope")
    with pytest.raises(TokenTableError, match="cannot read"):
        TokenTable.load(str(tmp_path / "missing.json"))
