"""SessionView: the late-join state and live messages mix without type errors."""

from __future__ import annotations

from bridge.client.view import SessionView
from bridge.core import Coordinator, CoordinatorConfig
from tests.core.helpers import T0, fs, msg


def test_late_join_state_and_live_announces_sort_together() -> None:
    coord = Coordinator(CoordinatorConfig(), "s1", T0)
    coord.handle(msg("HELLO", "agent:a", {"display_name": "a"}), T0)
    coord.handle(
        msg(
            "INTENT_ANNOUNCE", "agent:a", {"intent_id": "i1", "objective": "o", "scope": fs("a.py")}
        ),
        T0,
    )
    joined = coord.handle(msg("HELLO", "agent:b", {"display_name": "b"}), T0 + 1)
    view = SessionView()
    view.load_session_info(joined.outbound[0].message)
    live = coord.handle(
        msg(
            "INTENT_ANNOUNCE", "agent:a", {"intent_id": "i2", "objective": "o", "scope": fs("b.py")}
        ),
        T0 + 2,
    )
    for out in live.outbound:
        view.apply(out.message, T0 + 2)
    assert [i["intent_id"] for i in view.live_intents()] == ["i1", "i2"]
    assert [i["intent_id"] for i in view.intents_of("agent:a")] == ["i1", "i2"]
    assert isinstance(view.intents["i1"]["expires_at"], float)
