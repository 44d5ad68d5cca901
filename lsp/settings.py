"""Settings: initialization options first, then the environment, then defaults.

Initialization options (all optional; camelCase as editors send them):
  coordinatorUrl, token, sessionId   a remote coordinator instead of the repository's sidecar
  user                               your name: the principal is human:<user>@editor
  autoAnnounce                       announce an intent on files you start editing (default false)
  autoAnnounceIdleSec                withdraw that intent after this many idle seconds (default 120)
  debounceMs                         per-file publish window (default 50)
  watch                              "auto" (client watching when it can register it), "server", "client", "off"
Environment: MPAC_COORDINATOR_URL, MPAC_COORDINATOR_TOKEN, MPAC_SESSION_ID, MPAC_USER.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.remote import SESSION_VAR, TOKEN_VAR, URL_VAR

WATCH_MODES = ("auto", "server", "client", "off")


def _clean_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name.strip()) or "you"


def default_user(env: Mapping[str, str]) -> str:
    name = env.get("MPAC_USER") or env.get("USER") or env.get("LOGNAME")
    if not name:
        try:
            name = getpass.getuser()
        except Exception:
            name = "you"
    return _clean_name(name)


@dataclass
class Settings:
    coordinator_url: str | None = None
    token: str | None = None
    session_id: str | None = None
    user: str = "you"
    auto_announce: bool = False
    auto_announce_idle_sec: float = 120.0
    debounce_ms: float = 50.0
    watch: str = "auto"

    @property
    def principal_id(self) -> str:
        return f"human:{self.user}@editor"

    @classmethod
    def load(cls, options: Any, env: Mapping[str, str]) -> tuple[Settings, list[str]]:
        """Settings from initialization options and the environment, with a warning per bad value
        (a bad value falls back to its default; it never stops the server)."""
        opts = options if isinstance(options, dict) else {}
        # editors often nest server options under the server's name
        if isinstance(opts.get("mpac"), dict):
            opts = {**opts, **opts["mpac"]}
        warnings: list[str] = []
        s = cls(user=default_user(env))

        def text(key: str, env_key: str | None = None) -> str | None:
            value = opts.get(key)
            if value is not None and not isinstance(value, str):
                warnings.append(f"initialization option {key} must be a string; ignored")
                value = None
            return value or (env.get(env_key) if env_key else None) or None

        s.coordinator_url = text("coordinatorUrl", URL_VAR)
        s.token = text("token", TOKEN_VAR)
        s.session_id = text("sessionId", SESSION_VAR)
        if (user := text("user")) is not None:
            s.user = _clean_name(user)
        if "autoAnnounce" in opts:
            if isinstance(opts["autoAnnounce"], bool):
                s.auto_announce = opts["autoAnnounce"]
            else:
                warnings.append("initialization option autoAnnounce must be true or false; ignored")
        for key, attr, low in (
            ("autoAnnounceIdleSec", "auto_announce_idle_sec", 0.05),
            ("debounceMs", "debounce_ms", 0.0),
        ):
            if key in opts:
                value = opts[key]
                if (
                    isinstance(value, (int, float))
                    and not isinstance(value, bool)
                    and low <= value <= 86_400
                ):
                    setattr(s, attr, float(value))
                else:
                    warnings.append(
                        f"initialization option {key} must be a number between {low:g} and 86400; ignored"
                    )
        if "watch" in opts:
            if opts["watch"] in WATCH_MODES:
                s.watch = opts["watch"]
            else:
                warnings.append(
                    f"initialization option watch must be one of {', '.join(WATCH_MODES)}; ignored"
                )
        return s, warnings
