"""The session header: session id, profiles, connection state, counts, granted roles."""

from __future__ import annotations

from textual.widgets import Static

from bridge.client import Session

STATE_STYLE = {"connected": "green", "reconnecting": "yellow", "connecting": "yellow"}


def header_text(session: Session, state: str) -> str:
    profiles = "/".join(p or "?" for p in session.policies.profiles)
    style = STATE_STYLE.get(state, "red")
    n = session.counts()
    roles = ", ".join(session.granted_roles) or "none"
    return (
        f"[b]{session.session_id or '(no session)'}[/]  {profiles}  [{style}]● {state}[/]\n"
        f"{session.me} as [b]{roles}[/]  ·  {n.connected} participants  ·  {n.intents} intents  ·  "
        f"[{'bold red' if n.conflicts else 'green'}]{n.conflicts} conflicts[/]"
    )


class SessionHeader(Static):
    def show(self, session: Session, state: str) -> None:
        self.update(header_text(session, state))
