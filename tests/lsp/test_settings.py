"""Settings from initialization options and the environment; bad values fall back with a warning."""

from __future__ import annotations

from lsp.settings import Settings


def test_defaults_from_the_environment() -> None:
    s, warnings = Settings.load(
        None, {"USER": "ann", "MPAC_COORDINATOR_URL": "ws://h:1", "MPAC_COORDINATOR_TOKEN": "t"}
    )
    assert warnings == []
    assert s.principal_id == "human:ann@editor"
    assert (s.coordinator_url, s.token, s.session_id) == ("ws://h:1", "t", None)
    assert (s.auto_announce, s.auto_announce_idle_sec, s.debounce_ms, s.watch) == (
        False,
        120.0,
        50.0,
        "auto",
    )


def test_options_win_over_the_environment_and_names_are_cleaned() -> None:
    s, warnings = Settings.load(
        {
            "mpac": {
                "coordinatorUrl": "ws://o:2",
                "user": "Ann Lee",
                "autoAnnounce": True,
                "autoAnnounceIdleSec": 30,
                "debounceMs": 10,
                "watch": "server",
                "sessionId": "s1",
            }
        },
        {"MPAC_COORDINATOR_URL": "ws://h:1", "MPAC_USER": "x"},
    )
    assert warnings == []
    assert (s.coordinator_url, s.session_id, s.principal_id) == (
        "ws://o:2",
        "s1",
        "human:Ann-Lee@editor",
    )
    assert (s.auto_announce, s.auto_announce_idle_sec, s.debounce_ms, s.watch) == (
        True,
        30.0,
        10.0,
        "server",
    )


def test_bad_values_are_ignored_with_a_warning() -> None:
    s, warnings = Settings.load(
        {
            "coordinatorUrl": 5,
            "autoAnnounce": "yes",
            "autoAnnounceIdleSec": -1,
            "debounceMs": True,
            "watch": "inotify",
        },
        {"USER": "ann"},
    )
    assert len(warnings) == 5
    assert (
        s.coordinator_url is None
        and s.auto_announce is False
        and s.debounce_ms == 50.0
        and s.watch == "auto"
    )
    s, warnings = Settings.load(["not", "a", "dict"], {"USER": "ann"})
    assert warnings == [] and s.user == "ann"
