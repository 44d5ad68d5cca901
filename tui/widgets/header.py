"""The session header: session id, profiles, connection state, counts, granted roles."""

from __future__ import annotations

from textual.widgets import Static

from bridge.client import SessionView

STATE_STYLE = {"connected": "green", "reconnecting": "yellow", "connecting": "yellow"}


def header_text(view: SessionView, me: str, state: str) -> str:
    pol = view.policies
    profiles = "/".join(str(pol.get(k) or "?") for k in ("security_profile", "compliance_profile", "execution_model"))
    style = STATE_STYLE.get(state, "red")
    live = sum(1 for p in view.participants.values() if p.get("connected", True))
    roles = ", ".join(view.granted_roles) or "none"
    return (
        f"[b]{view.session_id or '(no session)'}[/]  {profiles}  [{style}]● {state}[/]\n"
        f"{me} as [b]{roles}[/]  ·  {live} participants  ·  {len(view.intents)} intents  ·  "
        f"[{'bold red' if view.conflicts else 'green'}]{len(view.conflicts)} conflicts[/]"
    )


class SessionHeader(Static):
    def show(self, view: SessionView, me: str, state: str) -> None:
        self.update(header_text(view, me, state))
